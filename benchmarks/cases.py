"""The benchmark cases: architecture, loss, batch, optimizer and the seeded synthetic data.

Every contender of a case gets the same rows, in the same order, the same initial weights
and the same number of SGD steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    widths: tuple[int, ...]          # input width, then each layer's width
    activations: tuple[str, ...]     # one per layer; the last is the output activation
    loss: str                        # "bce" (sigmoid output) or "ce" (softmax output)
    batch: int
    lr: float
    steps: int                       # timed SGD steps per repeat
    quick_steps: int                 # the same with --quick
    dtype: str = "float32"

    @property
    def layers(self) -> list[tuple[int, int, str]]:
        return [(self.widths[i], self.widths[i + 1], self.activations[i])
                for i in range(len(self.activations))]

    @property
    def architecture(self) -> str:
        return "-".join(str(w) for w in self.widths)

    @property
    def n_classes(self) -> int:
        return 2 if self.loss == "bce" else self.widths[-1]

    @property
    def n_params(self) -> int:
        """Weights plus biases."""
        return sum(n_in * n_out + n_out for n_in, n_out, _ in self.layers)

    @property
    def flops_per_step(self) -> float:
        """6 x params x samples: 2 for the forward product, 4 for the two backward ones."""
        return 6.0 * self.n_params * self.batch

    def describe(self) -> str:
        acts = "/".join(self.activations)
        return f"{self.architecture} {acts}, {self.loss}, batch {self.batch}, SGD lr {self.lr}"


CASES: dict[str, Case] = {
    "tiny": Case("tiny", (20, 32, 1), ("relu", "sigmoid"), "bce", 32, 0.05, 4000, 500),
    "medium": Case("medium", (64, 128, 64, 10), ("relu", "relu", "softmax"), "ce", 64, 0.05,
                   1000, 200),
    "large": Case("large", (784, 512, 512, 10), ("relu", "relu", "softmax"), "ce", 256, 0.05,
                  40, 10),
}


def make_data(case: Case, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features (float32, C order) and integer labels from a random linear teacher:
    0/1 for bce, 0..K-1 for ce."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, case.widths[0]), dtype=np.float32)
    if case.loss == "bce":
        w = rng.standard_normal(case.widths[0])
        y = (X @ w > 0).astype(np.int64)
    else:
        W = rng.standard_normal((case.widths[0], case.widths[-1]))
        y = np.argmax(X @ W + 0.5 * rng.standard_normal((rows, case.widths[-1])), axis=1)
    return np.ascontiguousarray(X), y.astype(np.int64)


def init_params(case: Case, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-initialised (W, b) per layer, W shaped (n_in, n_out), b zeros, in the case dtype."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out, _ in case.layers:
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        params.append((W.astype(case.dtype), np.zeros(n_out, dtype=case.dtype)))
    return params


def one_hot(y: np.ndarray, classes: int, dtype: str = "float32") -> np.ndarray:
    out = np.zeros((len(y), classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def select(names: str | None, quick: bool) -> list[Case]:
    """Cases named in a comma-separated list (default: all; tiny and medium with --quick)."""
    if not names:
        names = "tiny,medium" if quick else ",".join(CASES)
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in CASES:
            raise SystemExit(f"unknown case {name!r}; choose from {', '.join(CASES)}")
        chosen.append(CASES[name])
    return chosen
