"""Exception types of symprop.

Every error that bad input can cause is a subclass of :class:`SympropError`, which is itself a
``ValueError`` so that callers who only know the standard library still catch it.
"""

from __future__ import annotations

import difflib


class SympropError(ValueError):
    """Base class of every error symprop raises for bad input."""


class UnknownNameError(SympropError):
    """An activation, loss, optimizer or data set name that symprop does not know."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]):
        self.kind, self.name, self.known = kind, name, sorted(known)
        close = difflib.get_close_matches(str(name).lower(), self.known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(
            f"unknown {kind} {name!r}{hint} (known: {', '.join(self.known)})"
        )


class FormulaError(SympropError):
    """A formula that is malformed, hostile, or not usable where it is asked for."""


class MissingHyperparameterError(FormulaError):
    """A formula uses a symbol that has no value."""


class NotDifferentiableError(FormulaError):
    """A formula whose derivative does not exist, or is useless, where it matters."""


class ShapeError(SympropError):
    """Arrays or layer widths that do not fit together."""


class DataError(SympropError):
    """Input data that cannot be used: NaN/inf, empty, wrong dtype, bad labels."""


class TrainingError(SympropError):
    """Training that cannot go on, e.g. a loss that became NaN."""


class CacheError(SympropError):
    """A kernel cache or model file that is corrupt or partly written."""


class ModelFileError(CacheError):
    """A model file that is not a valid symprop model: malformed metadata, arrays that do not
    match the architecture or their digests, or sizes beyond what the architecture needs."""


class CachePermissionError(CacheError):
    """A kernel cache folder that other users could write (or that another user owns):
    symprop refuses to import code from it."""


class FileError(SympropError):
    """A user's file or folder that cannot be read or written (missing, a folder where a
    file should be, no permission, a full disk); the message names the path."""


class UnsafeSourceError(SympropError):
    """Generated source that fails the structural check of what symprop generates; it is
    never written, imported or exported."""
