"""net.gradients against PyTorch autograd (float64, rel 1e-9) through every built-in
activation, and for every loss/output pair symprop supports.

One deep chain holds all built-in elementwise activations as hidden layers (one compiled
module covers them all); the loss/output pairs use a short chain, one structure each.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import symprop as sp  # noqa: E402

HIDDEN = [("relu", {}), ("leaky_relu", {"alpha": 0.2}), ("elu", {"alpha": 0.7}),
          ("selu", {}), ("tanh", {}), ("sigmoid", {}), ("softplus", {}), ("softsign", {}),
          ("gelu", {}), ("gelu_tanh", {}), ("silu", {"beta": 1.5}), ("mish", {}),
          ("identity", {})]
TORCH = {
    "relu": lambda z, h: F.relu(z),
    "leaky_relu": lambda z, h: F.leaky_relu(z, h["alpha"]),
    "elu": lambda z, h: F.elu(z, h["alpha"]),
    "selu": lambda z, h: F.selu(z),
    "tanh": lambda z, h: torch.tanh(z),
    "sigmoid": lambda z, h: torch.sigmoid(z),
    "softplus": lambda z, h: F.softplus(z),
    "softsign": lambda z, h: F.softsign(z),
    "gelu": lambda z, h: F.gelu(z),
    "gelu_tanh": lambda z, h: F.gelu(z, approximate="tanh"),
    "silu": lambda z, h: z * torch.sigmoid(h["beta"] * z),
    "mish": lambda z, h: F.mish(z),
    "identity": lambda z, h: z,
    "softmax": lambda z, h: torch.softmax(z, dim=1),
}
PAIRS = [("softmax", "ce"), ("sigmoid", "bce"), ("identity", "mse"), ("identity", "mae"),
         ("tanh", "huber"), ("softmax", "mse"), ("identity", "log_cosh")]
WIDTH, N_IN, K, ROWS = 5, 4, 3, 12


def torch_loss(name, out, Y):
    if name == "ce":
        return -(Y * torch.log(out)).sum(dim=1).mean()
    if name == "bce":
        return F.binary_cross_entropy(out, Y)
    if name == "mse":
        return F.mse_loss(out, Y)
    if name == "mae":
        return F.l1_loss(out, Y)
    if name == "huber":
        return F.huber_loss(out, Y, delta=1.0)
    return torch.log(torch.cosh(out - Y)).mean()


SHORT = [("relu", {}), ("tanh", {})]
CASES = [(HIDDEN, "softmax", "ce")] + [(SHORT, output, loss) for output, loss in PAIRS]


@pytest.mark.parametrize(("hidden", "output", "loss"), CASES,
                         ids=["every-activation"] + [f"{a}-{b}" for a, b in PAIRS])
def test_gradients_match_torch(hidden, output, loss):
    rng = np.random.default_rng(7)
    layers, width = [], N_IN
    for name, hyper in hidden:
        layers.append(sp.Dense(width, WIDTH, name, **hyper))
        width = WIDTH
    layers.append(sp.Dense(width, K, output))
    net = sp.Network(layers, loss=loss, dtype="float64", seed=3)
    # Weights large enough that every activation works away from its linear part.
    net.set_params([(rng.normal(0, 0.9, W.shape), rng.normal(0, 0.3, b.shape))
                    for W, b in net.params])
    X = rng.normal(size=(ROWS, N_IN))
    if loss == "ce":
        y = rng.integers(0, K, ROWS)
        Y = np.eye(K)[y]
    elif loss == "bce":
        y = Y = rng.integers(0, 2, (ROWS, K)).astype(float)
    else:
        y = Y = rng.normal(size=(ROWS, K)) * (0.3 if output == "softmax" else 1.0)
    ours = net.gradients(X, y)

    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in net.params]
    values = torch.tensor(X)
    for (W, b), (name, hyper) in zip(params, hidden + [(output, {})], strict=True):
        values = TORCH[name](values @ W + b, hyper)
    torch_loss(loss, values, torch.tensor(Y)).backward()
    for layer, ((dW, db), (W, b)) in enumerate(zip(ours, params, strict=True), start=1):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-9, atol=1e-13,
                                   err_msg=f"dW of layer {layer}")
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-9, atol=1e-13,
                                   err_msg=f"db of layer {layer}")
