"""A NumPy evaluation of the backward rules ``sp.network_derivation`` states for networks with
normalization layers and residual blocks: the reference the generated kernels will be checked
against (its gradients are checked against PyTorch in tests/test_network_derivation_blocks.py).

Batch-major: one row per sample. Nodes are numbered depth first as in
:func:`symprop.blocks.check_nodes`; ``params[q]`` holds node q's parameters, ``W`` in the
derivation's shape ``(n_out, n_in)``, ``b``, or ``gamma`` and ``beta``. BatchNorm normalizes with
the batch statistics (training mode). The loss's batch-mean factor is folded into the output
error signal, so every gradient below is one of the training loss J (the rules are linear).
"""

from __future__ import annotations

import numpy as np

from symprop.architecture import LayerSpec
from symprop.blocks import NormSpec, ResidualSpec
from symprop.derive.network_blocks import number_nodes

ACTIVATIONS = {
    "identity": (lambda z: z, lambda z, a: np.ones_like(a)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (a > 0).astype(float)),
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def init_params(nodes, rng) -> dict:
    params = {}
    for node in number_nodes(nodes):
        spec = node.spec
        if isinstance(spec, LayerSpec):
            params[node.q] = {"W": rng.normal(0, 0.6, (spec.n_out, spec.n_in)),
                              "b": rng.normal(0, 0.2, spec.n_out)}
        elif isinstance(spec, NormSpec):
            params[node.q] = {"gamma": rng.uniform(0.5, 1.5, spec.n),
                              "beta": rng.normal(0, 0.2, spec.n)}
    return params


def forward(nodes, params, x) -> tuple[np.ndarray, dict]:
    """The output and what the backward pass needs, per node number."""
    cache: dict = {}
    out = _forward_seq(nodes, params, x, 1, cache)
    return out, cache


def _forward_seq(nodes, params, h, q, cache):
    for spec in nodes:
        if isinstance(spec, ResidualSpec):
            body = _forward_seq(spec.body, params, h, q + 1, cache)
            cache[q] = {"input": h}
            h = h + body
            q += _count(spec.body) + 1
            continue
        if isinstance(spec, LayerSpec):
            z = h @ params[q]["W"].T + params[q]["b"]
            a = softmax(z) if spec.activation == "softmax" else ACTIVATIONS[spec.activation][0](z)
            cache[q] = {"input": h, "z": z, "a": a}
            h = a
        else:
            axis = 0 if spec.kind == "batchnorm" else 1  # over the batch, or the sample's units
            mu = h.mean(axis=axis, keepdims=True)
            sigma = np.sqrt(h.var(axis=axis, keepdims=True) + spec.eps)  # biased variance
            xhat = (h - mu) / sigma
            cache[q] = {"input": h, "xhat": xhat, "sigma": sigma}
            h = params[q]["gamma"] * xhat + params[q]["beta"]
        q += 1
    return h


def _count(nodes) -> int:
    return sum(_count(n.body) + 1 if isinstance(n, ResidualSpec) else 1 for n in nodes)


def loss_and_output_delta(name: str, yhat, y) -> tuple[float, np.ndarray]:
    """J and dJ/dz of the output layer (the output delta times the batch-mean factor):
    ce after softmax, bce after sigmoid, mse after identity."""
    m, n = yhat.shape
    if name == "ce":
        return float(-(y * np.log(yhat)).sum() / m), (yhat - y) / m
    if name == "bce":
        J = -(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)).sum() / (m * n)
        return float(J), (yhat - y) / (m * n)
    if name == "mse":
        return float(((yhat - y) ** 2).sum() / (m * n)), 2 * (yhat - y) / (m * n)
    raise ValueError(f"no reference for loss {name!r}")


def backward(nodes, params, cache, delta_out) -> dict:
    """The gradients of J: ``grads[q]`` with the keys of ``params[q]``."""
    grads: dict = {}
    _backward_seq(nodes, params, cache, 1, None, delta_out, grads)
    return grads


def _numbers(nodes, q):
    found = []
    for spec in nodes:
        found.append(q)
        q += _count(spec.body) + 1 if isinstance(spec, ResidualSpec) else 1
    return found


def _backward_seq(nodes, params, cache, start, g, delta_out, grads):
    """g: the gradient at the sequence's output (None: the network's output layer, whose
    error signal is delta_out). Returns the gradient at the sequence's input."""
    for spec, q in reversed(list(zip(nodes, _numbers(nodes, start), strict=True))):
        c = cache[q]
        if isinstance(spec, ResidualSpec):  # the skip path plus the body's path
            g = g + _backward_seq(spec.body, params, cache, q + 1, g, None, grads)
        elif isinstance(spec, LayerSpec):
            if g is None:
                delta = delta_out
            elif spec.activation == "softmax":  # J^T g per sample, J symmetric
                a = c["a"]
                delta = a * g - a * (a * g).sum(axis=1, keepdims=True)
            else:
                delta = g * ACTIVATIONS[spec.activation][1](c["z"], c["a"])
            grads[q] = {"W": delta.T @ c["input"], "b": delta.sum(axis=0)}
            g = delta @ params[q]["W"]
        else:
            xhat, sigma, gamma = c["xhat"], c["sigma"], params[q]["gamma"]
            grads[q] = {"gamma": (g * xhat).sum(axis=0), "beta": g.sum(axis=0)}
            if spec.kind == "batchnorm":  # gamma/(m sigma) (m g_i - sum_j g_j - xhat_i sum ..)
                size = g.shape[0]
                g = gamma / (size * sigma) * (size * g - g.sum(axis=0) - xhat * (
                    g * xhat).sum(axis=0))
            else:  # per sample: gamma_k g_k in place of g, sums over the units
                gg = gamma * g
                size = g.shape[1]
                g = 1 / (size * sigma) * (size * gg - gg.sum(axis=1, keepdims=True) - xhat * (
                    gg * xhat).sum(axis=1, keepdims=True))
    return g
