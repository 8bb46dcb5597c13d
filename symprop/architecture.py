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


# Far beyond any network symprop trains (a layer of 2^24 x 2^24 weights would not fit in
# memory), and small enough that no width overflows an index or an allocation request.
MAX_WIDTH = 1 << 24
# Layers of one network: Numba compiles a network's run() whole, about half a second per
# layer, and Python's compiler recursed out on the module of 500 layers.
MAX_LAYERS = 128


def check_width(what: str, width) -> int:
    """A layer width: a positive int (not a bool) of at most MAX_WIDTH."""
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
        shown = repr(width) if not isinstance(width, int) or width < 10**9 else "this large"
        raise ShapeError(f"{what} must be a positive integer of at most {MAX_WIDTH}, not "
                         f"{shown}")
    return width


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_architecture(text: str) -> list[LayerSpec]:
    """``"4-8:relu-3:softmax"`` -> two LayerSpecs; a clear error names the bad token."""
    if not isinstance(text, str) or not text.strip():
        raise SympropError("an architecture is a string like 4-8:relu-3:softmax")
    shown = _shorten(text)
    tokens = [t.strip() for t in text.strip().split("-")]
    if len(tokens) < 2:
        raise SympropError(f"architecture {shown!r} needs an input width and at least one "
                           "layer, e.g. 4-8:relu-3:softmax")
    if len(tokens) > MAX_LAYERS + 1:
        raise ShapeError(f"architecture {shown!r} has {len(tokens) - 1} layers, more than "
                         f"the {MAX_LAYERS} symprop builds")
    widths, activations = [], []
    for position, token in enumerate(tokens):
        width, _, act = token.partition(":")
        # isdigit alone takes superscripts and other digits int() refuses
        if token in ("bn", "ln") or token.startswith(("bn(", "ln(", "[")):
            raise SympropError(f"architecture {shown!r}: normalization layers and residual "
                               "blocks are not supported here (worked examples take "
                               "dense layers; training, derivations, model files and "
                               "exported kernels take them)")
        if not (width.isascii() and width.isdigit()) or int(width) < 1:
            raise ShapeError(f"architecture {shown!r}: token {_shorten(token, 30)!r} does not "
                             "start with a positive integer width")
        check_width(f"architecture {shown!r}: the width of token {position + 1}", int(width))
        if position == 0 and act:
            raise SympropError(f"architecture {shown!r}: the input width {width} takes no "
                               "activation")
        if position > 0 and not act:
            raise SympropError(f"architecture {shown!r}: layer {position} "
                               f"({_shorten(token, 30)!r}) needs an activation, e.g. "
                               f"{width}:relu")
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
    if len(layers) > MAX_LAYERS:
        raise ShapeError(f"a network of {len(layers)} layers: symprop builds at most "
                         f"{MAX_LAYERS}")
    for number, (before, after) in enumerate(zip(layers, layers[1:], strict=False), start=2):
        if before.n_out != after.n_in:
            raise ShapeError(f"layer {number} takes {after.n_in} inputs but layer {number - 1} "
                             f"gives {before.n_out} outputs")
