"""Normalization layers derived in index form: BatchNorm, LayerNorm and RMSNorm.

Each normalizes a group of values by statistics of the group itself: BatchNorm one feature
over the ``m`` samples of a batch, LayerNorm and RMSNorm the ``n`` features of one sample.
Because every statistic depends on every value of the group, each output depends on every
input, and the backward pass is a sum over the whole group (the multivariable chain rule
over a fan-out). The derivations here differentiate the indexed forms for a general group
size with SymPy (``Sum``/``Indexed`` with a symbolic size; ``d x_j / d x_i`` is the
Kronecker delta, printed ``[i = j]``), sift the deltas, apply the zero-mean identity
``sum_j (x_j - mu) = 0`` as a named step, and arrive at the compact closed forms of the
input gradient, e.g. for BatchNorm

    dJ/dx_i = gamma / (m sigma_eps) (m g_i - sum_j g_j - xhat_i sum_j g_j xhat_j),

``sigma_eps = sqrt(sigma^2 + eps)``. Every closed form is checked against SymPy
differentiating the fully written-out forward pass for groups of 2, 3 and 4 values
(:mod:`symprop.derive.norm_checks`). The symbols are module constants (:data:`BATCH`,
:data:`LAYER`, :data:`RMS`), so the runtime can lambdify the results.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import sympy as sp

from symprop.derive.derivation import Derivation, TeX, Update, notation, partial, prose
from symprop.derive.limits import bounded
from symprop.derive.network_layout import scaled
from symprop.derive.printers import latex as tex
from symprop.derive.printers import unicode
from symprop.derive.simplify import collapse_delta_sums, distribute_sums
from symprop.derive.written import InOrder, Times, shown, value

__all__ = ["BATCH", "LAYER", "RMS", "NormNotation", "batchnorm_derivation",
           "layernorm_derivation", "rmsnorm_derivation"]


def _indexed(text: str, tex: str) -> sp.IndexedBase:
    return sp.IndexedBase(notation(text, tex, real=True), real=True)


X, XHAT, Y, G = (_indexed("x", "x"), _indexed("xhat", r"\hat{x}"), _indexed("y", "y"),
                 _indexed("g", "g"))
MU = notation("mean", r"\mu", real=True)  # not "mu": that name is the momentum
SIGMA2 = notation("sigma2", r"\sigma^{2}", nonnegative=True)
SIGMA = notation("sigma_eps", r"\sigma_{\epsilon}", positive=True)  # sqrt(sigma^2 + eps)
RMS_ = notation("r", "r", positive=True)  # RMSNorm's root mean square, eps inside
EPS = notation("eps", r"\epsilon", positive=True)
j = sp.Symbol("j", integer=True, positive=True)
DEVIATION = shown("(x_j - mean)", r"\left(x_{j} - \mu\right)", X[j] - MU)


class NormNotation(NamedTuple):
    """The symbols of one normalization: the group size (``m`` or ``n``), the index of the
    value differentiated (``i`` or ``k``; sums run over ``j``), the scale and shift (a symbol
    for BatchNorm's one feature, indexed per feature otherwise), the loss, the scale of the
    normalized values (``sigma_eps`` or ``r``) and whether the mean is subtracted."""

    size: sp.Symbol
    index: sp.Symbol
    gamma: sp.Basic
    beta: sp.Basic
    loss: str
    scale: sp.Symbol
    centered: bool

    def gamma_at(self, index):
        return self.gamma[index] if isinstance(self.gamma, sp.IndexedBase) else self.gamma

    def beta_at(self, index):
        return self.beta[index] if isinstance(self.beta, sp.IndexedBase) else self.beta

    def total(self, body):
        return sp.Sum(body, (j, 1, self.size))


BATCH = NormNotation(sp.Symbol("m", integer=True, positive=True),
                     sp.Symbol("i", integer=True, positive=True),
                     notation("gamma", r"\gamma", real=True), notation("beta", r"\beta",
                                                                     real=True),
                     "J", SIGMA, True)
_N = notation("n", "n", integer=True, positive=True)
_K = sp.Symbol("k", integer=True, positive=True)
LAYER = NormNotation(_N, _K, _indexed("gamma", r"\gamma"), _indexed("beta", r"\beta"), "L",
                     SIGMA, True)
RMS = NormNotation(_N, _K, LAYER.gamma, LAYER.beta, "L", RMS_, False)


def closed_form(nn: NormNotation, written: bool = False) -> sp.Expr:
    """The input gradient's closed form, e.g. ``gamma/(m sigma_eps) (m g_i - sum_j g_j -
    xhat_i sum_j g_j xhat_j)`` for BatchNorm; ``written``: its terms in the textbook's order
    (for printing; :func:`value` gives the mathematics back)."""
    size, index = nn.size, nn.index
    one_gamma = not isinstance(nn.gamma, sp.IndexedBase)  # a factor of the whole sum
    at = (lambda _: 1) if one_gamma else nn.gamma_at
    gg = at(j) * G[j]  # the gradient reaching xhat_j (gamma_j g_j), gamma outside for one
    terms = [size * at(index) * G[index], *([-nn.total(gg)] if nn.centered else []),
             -XHAT[index] * nn.total(gg * XHAT[j])]
    if written:
        return Times((nn.gamma if one_gamma else 1) / _product(size, nn.scale), InOrder(*terms))
    return (nn.gamma if one_gamma else 1) / (size * nn.scale) * sp.Add(*terms)


def _product(*factors) -> sp.Symbol:
    """``m sigma_eps`` printed in that order (SymPy would print ``sigma_eps m``)."""
    return shown(" ".join(map(str, factors)), " ".join(tex(f) for f in factors),
                 sp.Mul(*factors), "(" + "".join(unicode(f) for f in factors) + ")")


def _d(num: str, den: str, num_tex: str, den_tex: str) -> sp.Symbol:
    return partial(num, den, num_tex, den_tex)


def _same(a: sp.Expr, b: sp.Expr, what: str) -> None:
    # Every derived form must land exactly on the one printed: split the sums, sift the
    # brackets and expand the difference to 0.
    def plain(e):
        return sp.expand(collapse_delta_sums(distribute_sums(sp.expand(value(sp.sympify(e))))))

    if sp.expand(plain(a) - plain(b)) != 0:
        raise AssertionError(f"the {what} derived as {a}, not {b}")


def _statistics(d: Derivation, nn: NormNotation, group: str) -> None:
    size, n_tex = nn.size, tex(nn.size)
    if not nn.centered:
        d.add("Root mean square", (nn.scale, sp.sqrt(InOrder(
                  scaled(1 / size, nn.total(X[j] ** 2)), EPS))),
              prose(f"of the {group}; no mean is subtracted and there is no shift: RMSNorm "
                    "only rescales. $\\epsilon > 0$ keeps the division defined for an "
                    "all-zero group"))
        return
    d.add("Mean", sp.Eq(MU, scaled(1 / size, nn.total(X[j])), evaluate=False),
          prose(f"of the {group}, $j = 1, \\ldots, {n_tex}$"))
    d.add("Variance", sp.Eq(SIGMA2, scaled(1 / size, nn.total((X[j] - MU) ** 2)),
                            evaluate=False),
          prose(f"the biased variance, dividing by ${n_tex}$, as PyTorch normalizes with"))


def _forward(d: Derivation, nn: NormNotation, group: str) -> None:
    _statistics(d, nn, group)
    index = nn.index
    if nn.centered:
        d.add("Normalize", (XHAT[j], (X[j] - MU) / sp.sqrt(InOrder(SIGMA2, EPS)),
                            (X[j] - MU) / SIGMA),
              prose("zero mean and unit variance; $\\epsilon > 0$ ($10^{-5}$ in PyTorch) keeps "
                    "the division defined for a constant group, and "
                    "$\\sigma_{\\epsilon} = \\sqrt{\\sigma^{2} + \\epsilon}$ is the "
                    "standard deviation it divides by"))
    else:
        d.add("Normalize", (XHAT[j], X[j] / nn.scale), prose("unit root mean square"))
    shift = nn.beta_at(j) if nn.centered else 0
    per = ("one learned scale and shift for the feature, shared by the samples"
           if not isinstance(nn.gamma, sp.IndexedBase) else
           "a learned scale per feature" + (" and a shift" if nn.centered else ""))
    d.add("Scale" + (" and shift" if nn.centered else ""),
          sp.Eq(Y[j], InOrder(nn.gamma_at(j) * XHAT[j], shift) if nn.centered
                else nn.gamma_at(j) * XHAT[j], evaluate=False),
          (per, "; the gradient from the layer above is ", TeX(
              rf"g_{{j}} = \partial {nn.loss} / \partial y_{{j}}")))
    del index


def _derivative_of_statistics(d: Derivation, nn: NormNotation) -> sp.Expr:
    """d scale / d x_i derived; returns it in the normalized values (xhat_i / size)."""
    size, index = nn.size, nn.index
    s = sp.Symbol("s", positive=True)  # stands for the scale in its defining formula
    x_i = tex(X[index])
    if not nn.centered:
        mean_square = nn.total(X[j] ** 2) / size
        raw = sp.diff(mean_square, X[index])
        dr = collapse_delta_sums(raw) / (2 * nn.scale)
        d.add(("Derivative of ", nn.scale),
              (_d("r", f"x_{index}", "r", x_i), Times(1 / (2 * nn.scale), scaled(
                  1 / size, nn.total(2 * X[j] * sp.KroneckerDelta(index, j)))),
               X[index] / _product(size, nn.scale), XHAT[index] / size),
              prose(f"$r = \\sqrt{{s}}$ with $s$ the mean square: "
                    f"$\\partial r / \\partial {x_i} = \\frac{{1}}{{2 r}} \\partial s / "
                    f"\\partial {x_i}$, and the bracket from $\\partial x_{{j}}^{{2}} / "
                    f"\\partial {x_i}$ keeps only $j = {tex(index)}$"))
        _same(dr, X[index] / (size * nn.scale), "derivative of the root mean square")
        return XHAT[index] / size
    dmu_raw = sp.diff(nn.total(X[j]) / size, X[index])
    dmu = collapse_delta_sums(dmu_raw)
    _same(dmu, 1 / size, "derivative of the mean")
    shown_raw = scaled(1 / size, nn.total(sp.KroneckerDelta(index, j)))
    _same(dmu_raw, shown_raw, "derivative of the mean")
    d.add("Derivative of the mean", (_d("mu", f"x_{index}", r"\mu", x_i), shown_raw, dmu),
          prose(f"term by term: $\\partial x_{{j}} / \\partial {x_i} = [{tex(index)} "
                "= j]$, and the bracket sifts out the one term it is 1 on"))
    deviations = distribute_sums(nn.total(X[j] - MU))
    d.add("The zero-mean identity", (nn.total(DEVIATION),
                                     InOrder(nn.total(X[j]), -_product(size, MU)),
                                     0),
          prose(f"the deviations from the mean sum to zero, since $\\sum_{{j}} x_{{j}} = "
                f"{tex(size)} \\mu$ by the definition of $\\mu$"))
    _same(deviations.subs(nn.total(X[j]), size * MU), 0, "zero-mean identity")
    # sigma^2 depends on x_i directly and through mu: the total derivative adds both paths.
    variance = nn.total((X[j] - MU) ** 2) / size
    total = sp.diff(variance, X[index]) + sp.diff(variance, MU) * dmu
    split = collapse_delta_sums(distribute_sums(total))
    _same(split, 2 * (X[index] - MU) / size - 2 / size**2 * nn.total(X[j]) + 2 * MU / size,
          "derivative of the variance")
    shown = scaled(2 / size, nn.total(DEVIATION * InOrder(sp.KroneckerDelta(index, j),
                                                           -1 / size)))
    two_sums = InOrder(Times(2 / size, X[index] - MU),
                       -scaled(2 / size**2, nn.total(DEVIATION)))
    dvar = Times(2 / size, X[index] - MU)
    _same(total, shown.subs(DEVIATION, X[j] - MU), "derivative of the variance")
    d.add("Derivative of the variance",
          (_d("sigma2", f"x_{index}", r"\sigma^{2}", x_i), shown, two_sums, dvar),
          prose(f"the chain rule through ${x_i}$ itself and through $\\mu$ (with "
                f"$\\partial \\mu / \\partial {x_i} = \\frac{{1}}{{{tex(size)}}}$) on "
                "each square; the bracket sifts out one term of the first sum and the "
                "zero-mean identity removes the second"))
    dsig = (X[index] - MU) / (size * SIGMA)
    _same(sp.diff(sp.sqrt(s), s).subs(s, SIGMA**2) * value(dvar), dsig, "derivative of sigma")
    d.add(("Derivative of ", SIGMA),
          (_d("sigma_eps", f"x_{index}", r"\sigma_{\epsilon}", x_i),
           scaled(1 / (2 * SIGMA), _d("sigma2", f"x_{index}", r"\sigma^{2}", x_i)),
           (X[index] - MU) / _product(size, SIGMA),
           XHAT[index] / size),
          prose("$\\sigma_{\\epsilon} = \\sqrt{\\sigma^{2} + \\epsilon}$: the chain rule "
                "with $(\\sqrt{s})' = \\frac{1}{2 \\sqrt{s}}$; then "
                f"${x_i} - \\mu = \\sigma_{{\\epsilon}} {tex(XHAT[index])}$"))
    return XHAT[index] / size


def _bracket(nn: NormNotation) -> sp.Expr:
    """``[i = j] - 1/m - xhat_i xhat_j / m`` (no ``1/m`` without centring), as written."""
    size, index = nn.size, nn.index
    return InOrder(sp.KroneckerDelta(index, j), *([-1 / size] if nn.centered else []),
                   -XHAT[index] * XHAT[j] / size)


def _derivative_of_normalized(d: Derivation, nn: NormNotation, dscale) -> sp.Expr:
    size, index, scale, centered = nn.size, nn.index, nn.scale, nn.centered
    # x_hat_j depends on x_i directly, through mu and through the scale: add the three paths.
    xhat_j = (X[j] - MU) / scale if centered else X[j] / scale
    dmu = 1 / size if centered else 0
    total = (sp.diff(xhat_j, X[index]) + sp.diff(xhat_j, MU) * dmu
             + sp.diff(xhat_j, scale) * dscale)
    back = {X[j]: (MU if centered else 0) + scale * XHAT[j]}  # x_j in the normalized value
    form = Times(1 / scale, _bracket(nn))
    _same(total.subs(back), form, "derivative of the normalized value")
    top = InOrder(sp.KroneckerDelta(index, j), -dmu) if centered else sp.KroneckerDelta(
        index, j)
    quotient = InOrder(Times(1 / scale, top), -(DEVIATION if centered else X[j]) * XHAT[index]
                       / _product(size, scale**2))
    _same(total, quotient, "quotient rule")
    d.add("Derivative of the normalized value",
          (_d("xhat_j", f"x_{index}", r"\hat{x}_{j}", tex(X[index])), quotient, form),
          prose("the quotient rule, through $x_{j}$ itself ($\\partial x_{j} / \\partial "
                f"{tex(X[index])} = [{tex(index)} = j]$)"
                + (", through $\\mu$" if centered else "")
                + f" and through ${tex(scale)}$, with the derivatives above; then "
                + ("$x_{j} - \\mu = \\sigma_{\\epsilon} \\hat{x}_{j}$" if centered else
                   "$x_{j} = r \\hat{x}_{j}$")))
    return value(form)


def _backward(d: Derivation, nn: NormNotation, dxhat) -> sp.Expr:
    size, index, loss = nn.size, nn.index, nn.loss
    x_i = tex(X[index])
    one_gamma = not isinstance(nn.gamma, sp.IndexedBase)
    dl_dx = _d(loss, f"x_{index}", loss, x_i)
    signal = G[j] if one_gamma else nn.gamma_at(j) * G[j]  # what reaches xhat_j, gamma aside
    dxhat_j = notation(f"dxhat_j/dx_{index}",
                       rf"\frac{{\partial \hat{{x}}_{{j}}}}{{\partial {x_i}}}")
    summed = nn.total(sp.Mul(sp.UnevaluatedExpr(signal), dxhat_j, evaluate=False))
    d.add("Chain rule over the whole group",
          (dl_dx, nn.total(sp.Mul(sp.UnevaluatedExpr(G[j]), _d("y_j", f"x_{index}", "y_{j}",
                                                              x_i), evaluate=False)),
           sp.Mul(nn.gamma, summed, evaluate=False) if one_gamma else summed),
          prose(f"${x_i}$ reaches ${loss}$ through every output $y_{{j}}$ (the statistics "
                "make each output depend on every input), so the multivariable chain rule "
                "sums over all of them; $\\partial y_{j} / \\partial \\hat{x}_{j} = "
                f"{tex(nn.gamma_at(j))}$"))
    factor = (nn.gamma if one_gamma else 1) / nn.scale
    inner = nn.total(Times(signal, _bracket(nn)))
    terms = [G[index] if one_gamma else nn.gamma_at(index) * G[index],
             *([-scaled(1 / size, nn.total(signal))] if nn.centered else []),
             -scaled(XHAT[index] / size, nn.total(signal * XHAT[j]))]
    split = Times(factor, InOrder(*terms))
    result = closed_form(nn)
    derived = factor * collapse_delta_sums(distribute_sums(nn.total(signal * dxhat * nn.scale)))
    for form in (Times(factor, inner), split, result):
        _same(derived, form, "input gradient")
    d.add("Split the sum and sift",
          (dl_dx, Times(factor, inner), split, closed_form(nn, written=True)),
          prose("substitute the derivative of the normalized value; linearity splits the "
                "sum into one sum a term, the factors free of $j$ come out, and the bracket "
                f"keeps only $j = {tex(index)}$; then "
                f"$\\frac{{1}}{{{tex(size)}}}$ is taken out"))
    return result


def _parameters(d: Derivation, nn: NormNotation) -> tuple:
    loss, index = nn.loss, nn.index
    if not isinstance(nn.gamma, sp.IndexedBase):
        dgamma, dbeta = nn.total(G[j] * XHAT[j]), nn.total(G[j])
        d.add("Gradients of the scale and the shift",
              (_d(loss, "gamma", loss, r"\gamma"), dgamma),
              prose("$\\gamma$ scales every $\\hat{x}_{j}$ of the feature: sum over the "
                    "outputs it feeds"))
        d.add("... and of the shift", (_d(loss, "beta", loss, r"\beta"), dbeta),
              prose("$\\partial y_{j} / \\partial \\beta = 1$ for every $j$"))
        return dgamma, dbeta
    k_tex = tex(index)
    dgamma = G[index] * XHAT[index]
    d.add("Gradient of the scale", (_d(loss, f"gamma_{index}", loss, rf"\gamma_{{{k_tex}}}"),
                                    dgamma),
          prose(f"$\\gamma_{{{k_tex}}}$ feeds only $y_{{{k_tex}}}$; a batch sums this over "
                "its samples (their error signals carry the batch mean's factor)"))
    if not nn.centered:
        return dgamma, None
    dbeta = G[index]
    d.add("... and of the shift", (_d(loss, f"beta_{index}", loss, rf"\beta_{{{k_tex}}}"),
                                   dbeta), "likewise summed over the samples of a batch")
    return dgamma, dbeta


def _checked(d: Derivation, nn: NormNotation, sizes=(2, 3, 4)) -> None:
    from symprop.derive.norm_checks import check_closed_form

    for size in sizes:
        check_closed_form(nn, size)
    what = ("$m$ samples" if nn is BATCH else "$n$ features")
    d.add("Checked", notation("verified", r"\checkmark"),
          prose(f"the closed form was compared with SymPy differentiating the forward pass "
                f"written out for {what} with ${tex(nn.size)} = "
                f"{', '.join(map(str, sizes))}$: symbolic inputs and gradients, exactly "
                "equal at random rational points"))


def _derive(d: Derivation, nn: NormNotation, group: str) -> Derivation:
    _forward(d, nn, group)
    if nn is BATCH:
        _running(d)
    dscale = _derivative_of_statistics(d, nn)
    dxhat = _derivative_of_normalized(d, nn, dscale)
    dx = _backward(d, nn, dxhat)
    params = _parameters(d, nn)
    _checked(d, nn)
    d.result = (dx, *params)
    return d


def _running(d: Derivation) -> None:
    rho, m = notation("rho", r"\rho", positive=True), BATCH.size
    mean = notation("mu_run", r"\mu_{\text{run}}", real=True)
    var = notation("sigma2_run", r"\sigma^{2}_{\text{run}}", nonnegative=True)
    d.add("Running mean, for evaluation", Update(mean, InOrder((1 - rho) * mean, rho * MU)),
          prose("an exponential average of the batch means, with $\\rho$ PyTorch's momentum "
                "(0.1 by default); evaluation normalizes with the running statistics in "
                "place of the batch's"))
    d.add("Running variance, unbiased", Update(var, InOrder((1 - rho) * var, sp.Mul(
              rho, sp.UnevaluatedExpr(m / (m - 1)), SIGMA2, evaluate=False))),
          prose("the running variance averages the unbiased estimate "
                "$\\frac{m}{m - 1} \\sigma^{2}$, as PyTorch does, while training normalizes "
                "with the biased $\\sigma^{2}$; neither is differentiated"))


@bounded("the BatchNorm derivation")
@cache
def batchnorm_derivation() -> Derivation:
    """BatchNorm for one feature over a batch of ``m`` samples: the forward pass (training
    statistics, running statistics) and the backward pass derived for general ``m``.
    ``result`` is ``(dJ/dx_i, dJ/dgamma, dJ/dbeta)`` in the symbols of :data:`BATCH`."""
    d = Derivation("Batch normalization: forward pass and gradients")
    d.notes.append(prose(
        "One feature (one column of the batch) over the $m$ samples of a batch, "
        "$i, j = 1, \\ldots, m$. The batch statistics couple the samples, so the loss "
        "differentiated is the batch's training loss $J$, and "
        "$g_{i} = \\partial J / \\partial y_{i}$ is the gradient from the layer above. Every "
        "feature is normalized the same way, independently."))
    return _derive(d, BATCH, "feature's values over the batch")


@bounded("the LayerNorm derivation")
@cache
def layernorm_derivation() -> Derivation:
    """LayerNorm over the ``n`` features of one sample, derived for general ``n``.
    ``result`` is ``(dL/dx_k, dL/dgamma_k, dL/dbeta_k)`` in the symbols of :data:`LAYER`."""
    d = Derivation("Layer normalization: forward pass and gradients")
    d.notes.append(prose(
        "The $n$ features of one sample, $k, j = 1, \\ldots, n$: statistics per sample, the "
        "same in training and evaluation (no running statistics), and a scale $\\gamma_{k}$ "
        "and shift $\\beta_{k}$ per feature. $g_{k} = \\partial L / \\partial y_{k}$ is the "
        "gradient from the layer above."))
    return _derive(d, LAYER, "sample's $n$ features")


@bounded("the RMSNorm derivation")
@cache
def rmsnorm_derivation() -> Derivation:
    """RMSNorm over the ``n`` features of one sample (no mean, no shift), derived for general
    ``n``. ``result`` is ``(dL/dx_k, dL/dgamma_k, None)`` in the symbols of :data:`RMS`."""
    d = Derivation("RMS normalization: forward pass and gradients")
    d.notes.append(prose(
        "The $n$ features of one sample, $k, j = 1, \\ldots, n$, divided by their root mean "
        "square and scaled per feature by $\\gamma_{k}$; "
        "$g_{k} = \\partial L / \\partial y_{k}$ is the gradient from the layer above."))
    return _derive(d, RMS, "sample's $n$ features")
