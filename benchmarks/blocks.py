"""Training steps of networks with batch normalization and residual blocks: symprop's fit
against PyTorch eager, each contender in its own process, rounds interleaved.

    python -m benchmarks.blocks [--rounds 3] [--quick]

Each process builds the network from the same seed-free recipe, warms up (compilation,
allocation), then times SGD steps on the same synthetic data: PyTorch's epochs, symprop's
fit calls of FIT_EPOCHS epochs each (as a user trains: fit's set-up shared by its epochs,
its per-epoch work included). The parent prints the time per step of each and symprop's
speed-up with its spread over rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

CASES = {  # name: (architecture, loss, batch, rows per epoch)
    "tiny_blocks": ("20-32:relu-bn-[32:relu-32:relu]-1:sigmoid", "bce", 32, 4096),
    "medium_blocks": ("64-128:relu-bn-[128:relu-128:relu]-10:softmax", "ce", 64, 4096),
}
EPOCHS, QUICK_EPOCHS = 5, 2  # timed samples per process
FIT_EPOCHS = 5


def data(arch: str, loss: str, rows: int):
    rng = np.random.default_rng(0)
    n_in, n_out = int(arch.split("-")[0]), int(arch.rsplit("-", 1)[1].split(":")[0])
    X = rng.standard_normal((rows, n_in)).astype(np.float32)
    labels = rng.integers(0, 2 if loss == "bce" else n_out, size=rows)
    return X, labels


def time_symprop(arch, loss, batch, X, y, epochs) -> list[float]:
    import symprop as sp
    from symprop.blocks import parse_network
    from symprop.runtime.network_parts import layers_from_specs

    net = sp.Network(layers_from_specs(parse_network(arch)), loss=loss, seed=0)
    options = dict(batch_size=batch, optimizer=sp.SGD(lr=0.05), verbose=False)
    net.fit(X, y, epochs=1, **options)  # compile and warm up
    steps = FIT_EPOCHS * (X.shape[0] // batch)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.fit(X, y, epochs=FIT_EPOCHS, **options)
        times.append((time.perf_counter() - start) / steps)
    return times


def time_torch(arch, loss, batch, X, y, epochs) -> list[float]:
    import torch

    from symprop.blocks import NormSpec, ResidualSpec, parse_network

    torch.set_num_threads(2)

    def module(nodes):
        parts = []
        for node in nodes:
            if isinstance(node, ResidualSpec):
                parts.append(Residual(module(node.body)))
            elif isinstance(node, NormSpec):
                parts.append(torch.nn.BatchNorm1d(node.n) if node.kind == "batchnorm"
                             else torch.nn.LayerNorm(node.n))
            else:
                parts.append(torch.nn.Linear(node.n_in, node.n_out))
                act = {"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(),
                       "softmax": torch.nn.Identity()}[node.activation]
                parts.append(act)
        return torch.nn.Sequential(*parts)

    class Residual(torch.nn.Module):
        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return x + self.body(x)

    net = module(parse_network(arch))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    criterion = torch.nn.BCELoss() if loss == "bce" else torch.nn.CrossEntropyLoss()
    Xt = torch.tensor(X)
    Yt = torch.tensor(y, dtype=torch.float32)[:, None] if loss == "bce" else torch.tensor(y)

    def epoch():
        for start in range(0, X.shape[0] - batch + 1, batch):
            optimizer.zero_grad()
            criterion(net(Xt[start:start + batch]), Yt[start:start + batch]).backward()
            optimizer.step()

    epoch()  # warm up
    steps = X.shape[0] // batch
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append((time.perf_counter() - start) / steps)
    return times


CONTENDERS = {"symprop": time_symprop, "pytorch": time_torch}


def worker(contender: str, case: str, epochs: int) -> None:
    arch, loss, batch, rows = CASES[case]
    X, y = data(arch, loss, rows)
    print(json.dumps(CONTENDERS[contender](arch, loss, batch, X, y, epochs)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("CONTENDER", "CASE"))
    args = parser.parse_args(argv)
    epochs = QUICK_EPOCHS if args.quick else EPOCHS
    if args.worker:
        worker(*args.worker, epochs)
        return
    for case in CASES:
        medians = {name: [] for name in CONTENDERS}
        for round_number in range(args.rounds):
            order = list(CONTENDERS)[round_number % 2:] + list(CONTENDERS)[:round_number % 2]
            for name in order:
                out = subprocess.run([sys.executable, "-m", "benchmarks.blocks", "--worker",
                                      name, case] + (["--quick"] if args.quick else []),
                                     capture_output=True, text=True, check=True).stdout
                medians[name].append(statistics.median(json.loads(out.splitlines()[-1])))
        ratios = [t / s for s, t in zip(medians["symprop"], medians["pytorch"], strict=True)]
        print(f"{case} ({CASES[case][0]}, batch {CASES[case][2]}): symprop "
              f"{statistics.median(medians['symprop']) * 1e6:.1f} us/step, PyTorch eager "
              f"{statistics.median(medians['pytorch']) * 1e6:.1f} us/step, speed-up "
              f"{statistics.median(ratios):.1f}x (rounds {min(ratios):.1f}-{max(ratios):.1f})")


if __name__ == "__main__":
    main()
