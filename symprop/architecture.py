"""Architecture strings such as ``4-8:relu-3:softmax``.

Widths joined by ``-``; every width after the first (the input) carries ``:activation``.
Parsing is shared by every stage (derive, codegen, runtime, CLI), so it lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

from symprop.errors import ShapeError, SympropError


@dataclass(frozen=True)
class LayerSpec:
    """One dense layer: widths, activation (name or formula), its hyperparameters."""

    n_in: int
    n_out: int
    activation: str
    hyper: tuple[tuple[str, float], ...] = ()
    name: str | None = None  # a label for a formula activation

    def __str__(self) -> str:
        return f"{self.n_in}->{self.n_out}:{self.activation}"

    def make_activation(self):
        from symprop.derive.activations import activation

        return activation(self.activation, name=self.name, **dict(self.hyper))


def parse_architecture(text: str) -> list[LayerSpec]:
    """``"4-8:relu-3:softmax"`` -> two LayerSpecs; a clear error names the bad token."""
    if not isinstance(text, str) or not text.strip():
        raise SympropError("an architecture is a string like 4-8:relu-3:softmax")
    tokens = [t.strip() for t in text.strip().split("-")]
    if len(tokens) < 2:
        raise SympropError(f"architecture {text!r} needs an input width and at least one layer, "
                           "e.g. 4-8:relu-3:softmax")
    widths, activations = [], []
    for position, token in enumerate(tokens):
        width, _, act = token.partition(":")
        if not width.isdigit() or int(width) < 1:
            raise ShapeError(f"architecture {text!r}: token {token!r} does not start with a "
                             "positive integer width")
        if position == 0 and act:
            raise SympropError(f"architecture {text!r}: the input width {width} takes no "
                               "activation")
        if position > 0 and not act:
            raise SympropError(f"architecture {text!r}: layer {position} ({token!r}) needs "
                               f"an activation, e.g. {width}:relu")
        widths.append(int(width))
        activations.append(act)
    return [LayerSpec(widths[n - 1], widths[n], activations[n]) for n in range(1, len(widths))]


def format_architecture(layers: list[LayerSpec]) -> str:
    parts = [str(layers[0].n_in)] + [f"{layer.n_out}:{layer.activation}" for layer in layers]
    return "-".join(parts)


def check_chain(layers: list[LayerSpec]) -> None:
    """Each layer's input width must equal the previous layer's output width."""
    if not layers:
        raise ShapeError("a network needs at least one layer")
    for number, (before, after) in enumerate(zip(layers, layers[1:], strict=False), start=2):
        if before.n_out != after.n_in:
            raise ShapeError(f"layer {number} takes {after.n_in} inputs but layer {number - 1} "
                             f"gives {before.n_out} outputs")
