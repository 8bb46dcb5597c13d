"""Generated modules of networks with normalization layers and residual blocks, against
PyTorch (float64): gradients of one batch, and SGD epochs (losses, weights, running
statistics, then predictions from the running statistics).

Work in progress: the modules are built from the plan directly (the runtime's Network does
not take these layers yet)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from symprop.blocks import NormSpec, ResidualSpec, parse_network
from symprop.codegen.plan import make_plan
from symprop.codegen.printed import update_code_for
from symprop.codegen.render import render_network

NETWORKS = [("4-6:tanh-bn-[6:relu-6:relu]-3:softmax", "ce"),
            ("3-5:relu-ln-[5:tanh]-1:sigmoid", "bce"),
            ("3-ln-4:sigmoid-bn(momentum=0.3)-[4:tanh-bn-[4:relu]]-2:identity", "mse")]
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=1)}


def module_for(text, loss, tmp_path):
    update = update_code_for("sgd", {"momentum": False, "nesterov": False,
                                     "weight_decay": False}, "float64")
    plan = make_plan(parse_network(text), loss, update, "float64", "auto", None, False, False)
    path = tmp_path / f"net_{abs(hash(text))}.py"
    path.write_text(render_network(plan, "test"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return plan, module


def initial(plan, seed=0):
    """Parameters in the plan's order (gamma, beta not at 1, 0: a real test of them) and
    the running statistics."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, 0.7, eval(shape)) for _, _, _, shape in plan.param_layout]
    running = [np.zeros(norm.n) if name.startswith("RM") else np.ones(norm.n)
               for norm in plan.norms for name in norm.running]
    return params, running


class TorchNet:
    """The same network in PyTorch, from the same specs and arrays (float64)."""

    def __init__(self, nodes, params, running):
        self.nodes, self.tensors = nodes, [torch.tensor(p, requires_grad=True)
                                           for p in params]
        self.running = [torch.tensor(r) for r in running]

    def forward(self, X, training=True):
        taken, stats = iter(self.tensors), iter(self.running)
        return self._run(self.nodes, torch.tensor(X), taken, stats, training)

    def _run(self, nodes, h, taken, stats, training):
        for node in nodes:
            if isinstance(node, ResidualSpec):
                h = h + self._run(node.body, h, taken, stats, training)
            elif isinstance(node, NormSpec):
                gamma, beta = next(taken), next(taken)
                if node.kind == "batchnorm":
                    h = torch.nn.functional.batch_norm(
                        h, next(stats), next(stats), gamma, beta, training=training,
                        momentum=node.momentum, eps=node.eps)
                else:
                    h = torch.nn.functional.layer_norm(h, (node.n,), gamma, beta, node.eps)
            else:
                W, b = next(taken), next(taken)
                h = ACTIVATIONS[node.activation](h @ W + b)
        return h


def torch_loss(out, Y, loss):
    if loss == "ce":
        return -(Y * torch.log(out)).sum(dim=1).mean()
    if loss == "bce":
        return torch.nn.functional.binary_cross_entropy(out, Y)
    return ((out - Y) ** 2).mean()


def data(plan, loss, rows=7, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, plan.n_in))
    if loss == "ce":
        Y = np.eye(plan.n_out)[rng.integers(plan.n_out, size=rows)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(rows, plan.n_out)).astype(float)
    else:
        Y = rng.normal(size=(rows, plan.n_out))
    return X, Y


@pytest.mark.parametrize("text, loss", NETWORKS)
def test_gradients_equal_torch(tmp_path, text, loss):
    plan, module = module_for(text, loss, tmp_path)
    params, running = initial(plan)
    X, Y = data(plan, loss)
    grads = [np.empty_like(p) for p in params]
    total = module.gradients(X, Y, *params, *running, *grads)
    net = TorchNet(parse_network(text), params, [r.copy() for r in running])
    expected = torch_loss(net.forward(X), torch.tensor(Y), loss)
    expected.backward()
    assert total == pytest.approx(expected.item(), rel=1e-10)
    for (name, *_), got, tensor in zip(plan.param_layout, grads, net.tensors, strict=True):
        np.testing.assert_allclose(got, tensor.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    for array, start in zip(running, initial(plan)[1], strict=True):
        np.testing.assert_array_equal(array, start)  # gradients leave them alone


@pytest.mark.parametrize("text, loss", NETWORKS)
def test_sgd_epochs_follow_torch(tmp_path, text, loss):
    plan, module = module_for(text, loss, tmp_path)
    params, running = initial(plan, seed=2)
    X, Y = data(plan, loss, rows=24, seed=3)
    net = TorchNet(parse_network(text), params, [r.copy() for r in running])
    optimizer = torch.optim.SGD(net.tensors, lr=0.05)
    lr, batch = 0.05, 8
    batch_losses = np.empty(3)
    for _ in range(3):
        perm = np.arange(24)
        module.train_epoch(X, Y, perm, batch, 0, 0.0, batch_losses, *params, *running, lr, 0.0)
        expected = []
        for start in range(0, 24, batch):
            optimizer.zero_grad()
            value = torch_loss(net.forward(X[start:start + batch]),
                               torch.tensor(Y[start:start + batch]), loss)
            value.backward()
            optimizer.step()
            expected.append(value.item())
        np.testing.assert_allclose(batch_losses, expected, rtol=1e-8)
    for got, tensor in zip(params, net.tensors, strict=True):
        np.testing.assert_allclose(got, tensor.detach().numpy(), rtol=1e-8, atol=1e-12)
    for got, tensor in zip(running, net.running, strict=True):
        np.testing.assert_allclose(got, tensor.numpy(), rtol=1e-10)
    out = np.empty((24, plan.n_out))
    module.evaluate(X, Y, out, True, 24, *params, *running)
    with torch.no_grad():
        predicted = net.forward(X, training=False).numpy()
    np.testing.assert_allclose(out, predicted, rtol=1e-9, atol=1e-12)
