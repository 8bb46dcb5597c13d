"""The notes' vanishing gradients, and two of their remedies: a deep sigmoid network barely
trains; the same depth with batch normalization, or with residual blocks, does. Each layer's
gradient norm per epoch (fit's track_gradients) shows why.

    python examples/06_vanishing_gradients.py [plot.png]
"""

import sys

import numpy as np

import symprop as sp

DEPTH, WIDTH = 20, 16
X, y = sp.load_dataset("moons", n_samples=400, noise=0.2, seed=0)


def plain():
    return [sp.Dense(2, WIDTH, "sigmoid")] + [sp.Dense(WIDTH, WIDTH, "sigmoid")
                                              for _ in range(DEPTH - 2)]


def normalized():
    layers = [sp.Dense(2, WIDTH, "sigmoid")]
    for _ in range(DEPTH - 2):
        layers += [sp.BatchNorm(WIDTH), sp.Dense(WIDTH, WIDTH, "sigmoid")]
    return layers


def residual():
    return [sp.Dense(2, WIDTH, "sigmoid")] + [sp.Residual([sp.Dense(WIDTH, WIDTH, "sigmoid")])
                                              for _ in range(DEPTH - 2)]


results = {}
for name, make in (("plain", plain), ("batch norm", normalized), ("residual", residual)):
    net = sp.Network(make() + [sp.Dense(WIDTH, 1, "sigmoid")], loss="bce", seed=0)
    history = net.fit(X, y, epochs=40, batch_size=32, optimizer=sp.SGD(lr=0.5), verbose=False,
                      track_gradients=True)
    norms = np.array(history["grad_norm"])
    results[name] = history
    print(f"{name:>10}: accuracy {history['accuracy'][-1]:.3f}, first/last layer gradient "
          f"norm {norms[-1, 0] / norms[-1, -1]:.1e}")

if len(sys.argv) > 1:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 3.6), sharey=True)
    for axis, (name, history) in zip(axes, results.items(), strict=True):
        norms = np.array(history["grad_norm"])
        axis.semilogy(range(1, norms.shape[1] + 1), norms[-1], marker=".")
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axis.set_title(f"{name}: accuracy {history['accuracy'][-1]:.2f}")
        axis.set_xlabel("layer (with parameters)")
    axes[0].set_ylabel("gradient norm, last epoch")
    figure.tight_layout()
    figure.savefig(sys.argv[1], dpi=100)
