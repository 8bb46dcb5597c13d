"""Architecture strings live in :mod:`symprop.architecture` (shared by every stage)."""

from symprop.architecture import LayerSpec, check_chain, format_architecture, parse_architecture

__all__ = ["LayerSpec", "check_chain", "format_architecture", "parse_architecture"]
