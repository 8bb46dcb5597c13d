"""The notation of a network derivation, and its rules restated in the runtime's layout.

:class:`NetworkNotation` holds the printable symbols of one network in the notes' column-vector
notation (``W^(l)`` of shape ``n_l x n_(l-1)``, one sample). :func:`runtime_layout` restates
the rules in the batch-major layout the runtime computes with: one row per sample,
``Z = A W + b`` with ``W`` of shape ``(n_in, n_out)``, the transpose of the notes' ``W^(l)``,
and the batch-mean factor folded into the output error signal.
"""

from __future__ import annotations

import sympy as sp

from symprop.derive.delta import batch_mean_factor
from symprop.derive.derivation import (
    Derivation,
    matrix_notation,
    notation,
    operator_latex,
    partial,
    prose,
)
from symprop.derive.printers import latex, unicode
from symprop.derive.symbols import YHAT, Y, k, m, y, yhat


def scaled(factor, expr):
    """``factor expr`` printed in that order (``\\frac{1}{3 m} \\sum_{i} ...``): the factor
    kept whole, ahead of what it scales."""
    return sp.Mul(sp.UnevaluatedExpr(factor), expr, evaluate=False)


class NetworkNotation:
    """The symbols of one network: ``W[l]``, ``b[l]``, ``z[l]``, ``a[l]`` (``a[0]`` is ``x``),
    ``delta[l]`` as matrix symbols with their real shapes, the prediction and target vectors,
    and the activation derivatives as vectors (``slope``), diagonal matrices (``diag``) or, for
    softmax, its Jacobian (``jacobian``)."""

    def __init__(self, widths: list[int], acts):
        self.widths, self.depth = widths, len(widths) - 1
        # Built-ins print under their own (upright) name; a formula as f, as the notes do.
        self.labels = [act.name if act.formula is None else "f" for act in acts]
        layers = range(1, self.depth + 1)

        def column(name: str, tex: str, l: int):
            return matrix_notation(f"{name}{l}", tex.replace("#", str(l)), widths[l], 1)

        self.W = {l: matrix_notation(f"W{l}", f"W^{{({l})}}", widths[l], widths[l - 1])
                  for l in layers}
        self.b = {l: column("b", "b^{(#)}", l) for l in layers}
        self.z = {l: column("z", "z^{(#)}", l) for l in layers}
        self.a = {l: column("a", "a^{(#)}", l) for l in layers}
        self.a[0] = matrix_notation("x", "x", widths[0], 1)
        self.delta = {l: column("delta", r"\delta^{(#)}", l) for l in layers}
        self.yhat = matrix_notation("yhat (vector)", r"\hat{y}", widths[-1], 1)
        self.y = matrix_notation("y (vector)", "y", widths[-1], 1)

    def _slope_latex(self, l: int) -> str:
        label = self.labels[l - 1]
        return rf"{operator_latex(label) or label}'\left(z^{{({l})}}\right)"

    def slope(self, l: int):
        """The vector f'(z^(l)) of layer l's activation derivatives."""
        return matrix_notation(f"{self.labels[l - 1]}'(z^({l}))", self._slope_latex(l),
                               self.widths[l], 1)

    def diag(self, l: int):
        """diag(f'(z^(l))): the elementwise product with f'(z^(l)) as a matrix product."""
        return matrix_notation(f"diag {self.labels[l - 1]}'(z^({l}))",
                               rf"\operatorname{{diag}}\left({self._slope_latex(l)}\right)",
                               self.widths[l], self.widths[l])

    def jacobian(self, l: int):
        """The softmax Jacobian diag(a^(l)) - a^(l) (a^(l))^T of layer l."""
        n = self.widths[l]
        diagonal = matrix_notation(f"diag a{l}", rf"\operatorname{{diag}}\left(a^{{({l})}}"
                                   r"\right)", n, n)
        return sp.MatAdd(diagonal, -self.a[l] * self.a[l].T)


def _linear_in_error(result) -> sp.Expr | None:
    """``c`` where the per-unit output delta is ``c (yhat - y)`` with ``c`` free of both
    (``yhat - y``, ``2 (yhat - y)``), else None."""
    c = sp.expand(result).coeff(yhat)
    if c == 0 or c.has(yhat, y) or sp.expand(result - c * (yhat - y)) != 0:
        return None
    return c


def vector_delta(result, net: NetworkNotation):
    """The output error signal as a vector: (its display, the form to use inside a
    product). ``c (yhat - y)`` as matrix algebra; any other per-unit delta as its formula,
    read unit by unit (in parentheses inside a product)."""
    per_unit = result.subs({YHAT[k]: yhat, Y[k]: y})
    c = _linear_in_error(per_unit)
    if c is not None:
        error = sp.MatAdd(net.yhat, -net.y)
        vector = error if c == 1 else sp.MatMul(c, error)
        return vector, vector
    rows = net.widths[-1]
    tex = latex(per_unit)
    text = unicode(per_unit)  # printed from the expression, not read back from its LaTeX
    shown = matrix_notation(f"output delta: {per_unit}", tex, rows, 1, text)
    inside = matrix_notation(f"(output delta: {per_unit})", rf"\left({tex}\right)", rows, 1,
                             f"({text})")
    return shown, inside


def runtime_layout(d: Derivation, net: NetworkNotation, the_loss, result) -> None:
    """The rules in the runtime's batch-major layout, for every layer l."""
    n_prev, n_l, n_next = (notation(text, tex, integer=True, positive=True) for text, tex in
                           (("n_lm1", "n_{l-1}"), ("n_l", "n_{l}"), ("n_lp1", "n_{l+1}")))
    depth, n_out = net.depth, net.widths[-1]

    def bold(name: str, l: str, rows, cols):
        return matrix_notation(f"{name}rt{l}", rf"\mathbf{{{name}}}^{{({l})}}", rows, cols)

    W, W_next = bold("W", "l", n_prev, n_l), bold("W", "l+1", n_l, n_next)
    b = bold("b", "l", 1, n_l)
    A_prev = matrix_notation("A_lm1", "A^{(l-1)}", m, n_prev)
    Z = matrix_notation("Z_l", "Z^{(l)}", m, n_l)
    Delta, Delta_next = (matrix_notation(f"Delta_{s}", rf"\Delta^{{({t})}}", m, n)
                         for s, t, n in (("l", "l", n_l), ("lp1", "l+1", n_next)))
    ones = matrix_notation("ones_m", r"\mathbf{1}", m, 1)
    d.add("Runtime layout: forward pass", (Z, A_prev * W + ones * b),
          prose("one row per sample: $A^{(l-1)} \\in \\mathbb{R}^{m \\times n_{l-1}}$ "
                "($A^{(0)} = X$), $\\mathbf{W}^{(l)} = (W^{(l)})^{T} \\in \\mathbb{R}^{n_{l-1} "
                "\\times n_{l}}$ as the runtime stores it, and $\\mathbf{b}^{(l)} = "
                "(b^{(l)})^{T}$ added to every row ($\\mathbf{1}$ is a column of $m$ ones)"))
    factor = batch_mean_factor(the_loss, n_out)
    Delta_out = matrix_notation(f"Delta_{depth}", rf"\Delta^{{({depth})}}", m, n_out)
    per_unit = result.subs({YHAT[k]: yhat, Y[k]: y})
    c = _linear_in_error(per_unit)
    if c is not None:
        error = sp.MatAdd(matrix_notation("Yhat", r"\hat{Y}", m, n_out),
                          -matrix_notation("Y", "Y", m, n_out))
        rows, factor = error, factor * c  # one coefficient: 2/(3m), not 1/(3m) 2
    else:
        rows = matrix_notation(f"rows delta_i^({depth})T",
                               rf"\left[(\delta^{{({depth})}}_{{i}})^{{T}}\right]_{{i=1}}^{{m}}",
                               m, n_out)
    d.add("Runtime layout: output error signal", (Delta_out, sp.MatMul(factor, rows)),
          prose("row $i$ is sample $i$'s output error signal, transposed, times the batch-mean "
                f"factor ${sp.latex(batch_mean_factor(the_loss, n_out))}$: the runtime "
                "applies the factor here, once, so "
                "every gradient below is already a gradient of $J$"))
    d.add("Runtime layout: recursion",
          (Delta, sp.HadamardProduct(Delta_next * W_next.T,
                                     matrix_notation("Fprime_l", "F'^{(l)}", m, n_l))),
          prose("row $i$ of $F'^{(l)}$ holds $f'(z^{(l)}_{i})$ of sample $i$, transposed (for a "
                "softmax layer, each row of $\\Delta^{(l+1)} (\\mathbf{W}^{(l+1)})^{T}$ goes "
                "through the softmax Jacobian instead)"))
    d.add("Runtime layout: weight gradient", (partial("J", "Wrt_l", "J", r"\mathbf{W}^{(l)}"),
                                              A_prev.T * Delta),
          prose("the sum over the samples of $a^{(l-1)}_{i} (\\delta^{(l)}_{i})^{T}$, the "
                "transpose of the batch mean above, with the factor inside $\\Delta$"))
    d.add("Runtime layout: bias gradient", (partial("J", "brt_l", "J", r"\mathbf{b}^{(l)}"),
                                            ones.T * Delta),
          prose("the column sums of $\\Delta^{(l)}$"))
