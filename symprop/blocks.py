"""Networks beyond a chain of dense layers: normalization layers and residual blocks.

A network is a sequence of *nodes*: a dense layer (:class:`~symprop.architecture.LayerSpec`),
a normalization layer (:class:`NormSpec`: batch or layer normalization of the units it gets)
or a residual block (:class:`ResidualSpec`: a sequence of nodes whose output is added to its
input). Like ``architecture``, this is shared by every stage, so it imports nothing of them.

Architecture strings extend the dense syntax: ``bn`` and ``ln`` are a batch or layer
normalization of the previous width, ``[...]`` a residual block, ``-`` still joins nodes::

    20-32:relu-bn-[32:relu-32:relu]-1:sigmoid

(20 inputs; a dense layer of 32 relu units; batch normalization of them; a residual block of
two 32-unit relu layers whose output is added to its input; a sigmoid output).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symprop.architecture import MAX_LAYERS, LayerSpec, check_width, parse_architecture
from symprop.errors import ShapeError, SympropError

NORM_KINDS = {"bn": "batchnorm", "ln": "layernorm"}
MAX_DEPTH = 8  # residual blocks nested in residual blocks: far beyond any textbook network


class SameWidth:
    """A node whose output has as many units as its input, ``n`` (a normalization, a
    residual sum)."""

    n: int

    @property
    def n_in(self) -> int:
        return self.n

    @property
    def n_out(self) -> int:
        return self.n


@dataclass(frozen=True)
class NormSpec(SameWidth):
    """Normalization of ``n`` units: ``kind`` "batchnorm" (statistics over the batch, per
    unit; running statistics for prediction) or "layernorm" (over the units of each sample),
    then a learned scale gamma and shift beta per unit."""

    kind: str
    n: int
    eps: float = 1e-5
    momentum: float = 0.1  # batchnorm's running statistics (PyTorch's convention)

    def __post_init__(self):
        if self.kind not in NORM_KINDS.values():
            raise SympropError(f"a normalization is one of {', '.join(NORM_KINDS.values())}, "
                               f"not {self.kind!r}")
        check_width(f"{self.label} width", self.n)
        # stored as floats: a numpy scalar would print as np.float64(...) in the token
        object.__setattr__(self, "eps", check_eps(self.label, self.eps))
        if self.kind == "batchnorm":
            object.__setattr__(self, "momentum", check_momentum(self.label, self.momentum))

    @property
    def label(self) -> str:
        return "BatchNorm" if self.kind == "batchnorm" else "LayerNorm"

    @property
    def token(self) -> str:
        """The node in an architecture string (``bn``), its options where not the defaults."""
        short = next(key for key, kind in NORM_KINDS.items() if kind == self.kind)
        options = [] if self.eps == 1e-5 else [f"eps={self.eps!r}"]
        if self.kind == "batchnorm" and self.momentum != 0.1:
            options.append(f"momentum={self.momentum!r}")
        return short + (f"({','.join(options)})" if options else "")


@dataclass(frozen=True)
class ResidualSpec:
    """A residual block: ``body`` (nodes) applied to x, then x added: y = x + F(x)."""

    body: tuple

    @property
    def n_in(self) -> int:
        return self.body[0].n_in

    @property
    def n_out(self) -> int:
        return self.body[-1].n_out


def check_eps(what: str, eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not (
            math.isfinite(eps) and eps > 0):
        raise SympropError(f"{what}: eps must be a positive number, not {eps!r}")
    return float(eps)


def check_momentum(what: str, momentum) -> float:
    if isinstance(momentum, bool) or not isinstance(momentum, int | float) or not (
            0 <= momentum <= 1):
        raise SympropError(f"{what}: momentum must be in [0, 1] (the weight of the new "
                           f"batch's statistics, as in PyTorch), not {momentum!r}")
    return float(momentum)


# -- walking a network ------------------------------------------------------------------------
def dense_layers(nodes) -> list[LayerSpec]:
    """The dense layers of a network, depth first."""
    found = []
    for node in nodes:
        if isinstance(node, ResidualSpec):
            found += dense_layers(node.body)
        elif isinstance(node, LayerSpec):
            found.append(node)
    return found


def count_nodes(nodes) -> int:
    return sum(count_nodes(node.body) + 1 if isinstance(node, ResidualSpec) else 1
               for node in nodes)


def describe(node, number: int) -> str:
    """How an error names a node: its number in the network, depth first, and what it is."""
    if isinstance(node, ResidualSpec):
        return f"residual block {number} ({format_nodes(node.body, node.n_in)})"
    if isinstance(node, NormSpec):
        return f"node {number} ({node.label}({node.n}))"
    return f"node {number} (dense {node.n_in} -> {node.n_out}, {node.activation})"


def check_nodes(nodes, depth: int = 0, start: int = 1) -> int:
    """Widths agree along the network and around every residual block; returns the number
    of the next node. Errors name the node (numbered depth first) and what to change."""
    if not nodes:
        raise ShapeError("a network (and a residual block) needs at least one layer")
    if depth > MAX_DEPTH:
        raise ShapeError(f"residual blocks nested more than {MAX_DEPTH} deep")
    if depth == 0 and count_nodes(nodes) > MAX_LAYERS:
        raise ShapeError(f"a network of {count_nodes(nodes)} layers and blocks: symprop "
                         f"builds at most {MAX_LAYERS}")
    number = start
    for index, node in enumerate(nodes):
        if not isinstance(node, LayerSpec | NormSpec | ResidualSpec):
            raise SympropError(f"node {number} is not a layer or a block: {node!r}")
        if index and nodes[index - 1].n_out != node.n_in:
            raise ShapeError(f"{describe(node, number)} takes {node.n_in} inputs but "
                             f"{describe(nodes[index - 1], number - 1)} gives "
                             f"{nodes[index - 1].n_out}")
        if isinstance(node, ResidualSpec):
            check_nodes(node.body, depth + 1, number + 1)
            if node.n_in != node.n_out:
                raise ShapeError(f"{describe(node, number)} maps {node.n_in} units to "
                                 f"{node.n_out}: a residual block adds its output to its "
                                 "input, so both must have the same width")
            number += count_nodes(node.body)
        number += 1
    return number


# -- architecture strings ---------------------------------------------------------------------
def split_top_level(text: str) -> list[str]:
    """``text`` split at the ``-`` outside brackets and parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth < 0:
                raise SympropError(f"architecture {text!r}: a closing {char!r} without its "
                                   "opening one")
        if char == "-" and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth:
        raise SympropError(f"architecture {text!r}: a bracket or parenthesis is not closed")
    parts.append("".join(current).strip())
    return parts


def parse_network(text: str) -> list:
    """An architecture string with ``bn``, ``ln`` and ``[...]`` residual blocks -> nodes."""
    if not isinstance(text, str) or not text.strip():
        raise SympropError("an architecture is a string like 4-8:relu-bn-[8:relu]-3:softmax")
    tokens = split_top_level(text.strip())
    if len(tokens) < 2:
        raise SympropError(f"architecture {text!r} needs an input width and at least one "
                           "layer, e.g. 4-8:relu-3:softmax")
    if not (tokens[0].isascii() and tokens[0].isdigit()):
        raise ShapeError(f"architecture {text!r}: it starts with the input width, not "
                         f"{tokens[0]!r}")
    width = check_width("the input width", int(tokens[0]))
    nodes, _ = _parse_tokens(tokens[1:], width, text, 0)
    check_nodes(nodes)
    return nodes


def _parse_tokens(tokens: list[str], width: int, text: str, depth: int) -> tuple[list, int]:
    nodes = []
    for token in tokens:
        if not token:
            raise SympropError(f"architecture {text!r}: an empty node (two '-' in a row, or "
                               "an empty residual block [])")
        if token.startswith("[") and token.endswith("]"):
            if depth >= MAX_DEPTH:
                raise ShapeError(f"architecture {text!r}: blocks nested more than {MAX_DEPTH}"
                                 " deep")
            body, out = _parse_tokens(split_top_level(token[1:-1]), width, text, depth + 1)
            nodes.append(ResidualSpec(tuple(body)))
            width = out
        elif token.split("(")[0] in NORM_KINDS:
            nodes.append(_norm_token(token, width, text))
        else:
            (layer,) = parse_architecture(f"{width}-{token}")
            nodes.append(layer)
            width = layer.n_out
    if not nodes:
        raise SympropError(f"architecture {text!r}: an empty residual block []")
    return nodes, width


def _norm_token(token: str, width: int, text: str) -> NormSpec:
    """``bn``, ``ln`` or ``bn(momentum=0.2,eps=1e-3)``: options are numbers, nothing else."""
    name, _, rest = token.partition("(")
    options = {}
    if rest:
        if not rest.endswith(")"):
            raise SympropError(f"architecture {text!r}: {token!r} is not name(option=value,"
                               "...)")
        for item in filter(None, rest[:-1].split(",")):
            key, _, value = item.partition("=")
            key = key.strip()
            allowed = ("eps", "momentum") if name == "bn" else ("eps",)
            if key not in allowed:
                raise SympropError(f"architecture {text!r}: {name} takes "
                                   f"{' and '.join(allowed)}, not {key!r}")
            try:
                options[key] = float(value)
            except ValueError:
                raise SympropError(f"architecture {text!r}: {key} must be a number, not "
                                   f"{value.strip()!r}") from None
    return NormSpec(NORM_KINDS[name], width, **options)


def format_nodes(nodes, n_in: int | None = None, dense_token=None) -> str:
    """The architecture string of ``nodes`` (``n_in`` first where given); each dense layer
    as ``dense_token(spec)`` where given (the generated modules' headers pass their labels,
    never the text a user typed for a formula), else ``width:activation``."""
    token = dense_token or (lambda spec: f"{spec.n_out}:{spec.activation}")
    parts = [] if n_in is None else [str(n_in)]
    for node in nodes:
        if isinstance(node, ResidualSpec):
            parts.append(f"[{format_nodes(node.body, dense_token=token)}]")
        elif isinstance(node, NormSpec):
            parts.append(node.token)
        else:
            parts.append(token(node))
    return "-".join(parts)
