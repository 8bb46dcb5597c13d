"""Every kind of derivation the package prints, for the rendering tests: built-in activations
and user formulas, losses and their logit forms, the output delta of every loss x activation
pair, softmax, network derivations, the calculus helpers and the optimizer rules."""

from __future__ import annotations

from functools import cache

import symprop as sp
from symprop.derive.activations import known_activations
from symprop.derive.losses import known_losses, logit_forms
from symprop.derive.network import dense_layer_rules, network_derivation
from symprop.derive.optimizers import update_rule
from symprop.errors import SympropError

FORMULAS = {"mish": "x*tanh(log(1 + exp(x)))", "mysig": "1/(1+exp(-x))",
            "cube": "x**3", "scaled": "x/(1 + exp(-beta*x))"}
NETWORKS = [("4-8:relu-3:softmax", "ce"), ("4-16:relu-8:tanh-3:softmax", "ce"),
            ("4-5:relu-3:relu-1:sigmoid", "bce"), ("2-3:sigmoid-1:identity", "mse"),
            ("3-4:softmax-2:leaky_relu", "huber"),
            ("4-6:tanh-bn-[6:relu-6:relu]-3:softmax", "ce"),
            ("3-5:relu-ln-[5:tanh]-1:sigmoid", "bce")]
OPTIMIZERS = [("sgd", {}), ("sgd", {"momentum": 0.9}),
              ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
              ("adam", {}), ("adam", {"weight_decay": 0.01}), ("rmsprop", {})]
GRAPH = {"d": "b*c", "e": "a + d", "f": "d*a", "g": "e**f"}


def _canonical(names, make):
    """One name per distinct object (aliases such as 'logistic' and 'sigmoid' print the
    same derivation)."""
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(make(name).name, []).append(name)
    return sorted(own if own in aliases else min(aliases, key=len)
                  for own, aliases in seen.items())


def activations() -> list[str]:
    return _canonical(known_activations(), sp.activation)


def losses() -> list[str]:
    return _canonical(known_losses(), sp.loss)


@cache
def corpus() -> dict[str, sp.Derivation]:
    """Name -> derivation, for every kind the package prints."""
    found: dict[str, sp.Derivation] = {}
    for name in activations():
        found[f"activation {name}"] = sp.activation(name).derivation()
    for name, formula in FORMULAS.items():
        params = {"beta": 1.5} if "beta" in formula else {}
        found[f"formula {name}"] = sp.activation(formula, name=name, **params).derivation()
    for name in losses():
        found[f"loss {name}"] = sp.loss(name).derivation()
    for (loss_name, act_name), derivation in logit_forms().items():
        found[f"logit form {loss_name} {act_name}"] = derivation
    for loss_name in losses():
        for act_name in activations():
            try:
                found[f"delta {loss_name} {act_name}"] = sp.output_delta(loss_name, act_name)
            except SympropError:
                continue  # a pair the package refuses (step has no useful gradient)
    found["dense layer rules"] = dense_layer_rules()
    for arch, loss_name in NETWORKS:
        found[f"network {arch} {loss_name}"] = network_derivation(arch, loss_name)
    for name, options in OPTIMIZERS:
        label = " ".join(f"{k}={v}" for k, v in options.items())
        found[f"optimizer {name} {label}".rstrip()] = update_rule(name, **options).derivation()
    found.update(calculus())
    found["norm batchnorm"] = sp.batchnorm_derivation()
    found["norm layernorm"] = sp.layernorm_derivation()
    found["norm rmsnorm"] = sp.rmsnorm_derivation()
    found["residual"] = sp.residual_derivation()
    return found


def calculus() -> dict[str, sp.Derivation]:
    from symprop.derive import calculus as calc
    from symprop.derive.descent import gradient_descent_derivation
    from symprop.derive.graph import computation_graph

    return {
        "calculus gradient": calc.gradient_derivation("x**2 + 4*y**2", ["x", "y"],
                                                      at={"x": 1, "y": 1}),
        "calculus jacobian": calc.jacobian_derivation(["x**2 + y", "2*x + 3*y"], ["x", "y"]),
        "calculus descent": gradient_descent_derivation(
            "(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0}, lr=0.1, steps=2),
        "calculus graph": computation_graph(GRAPH, ["a", "b", "c"]).derivation(),
    }


# The standalone documents the pdflatex test compiles (the list).
DOCUMENTS = ["activation sigmoid", "formula mish", "loss bce", "delta ce softmax",
             "delta bce sigmoid", "network 4-8:relu-3:softmax ce",
             "network 4-16:relu-8:tanh-3:softmax ce", "calculus gradient", "calculus graph",
             "calculus descent", "optimizer adam weight_decay=0.01", "norm batchnorm",
             "norm layernorm", "norm rmsnorm", "residual",
             "network 4-6:tanh-bn-[6:relu-6:relu]-3:softmax ce"]
