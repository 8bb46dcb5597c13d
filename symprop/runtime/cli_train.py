"""`symprop train`: load data, standardise, split, build, fit, report."""

from __future__ import annotations

import time

from symprop.architecture import parse_architecture
from symprop.errors import SympropError
from symprop.runtime.data import (
    SUGGESTED,
    Standardizer,
    load_csv,
    load_dataset,
    train_test_split,
)
from symprop.runtime.layers import Dense
from symprop.runtime.network import Network
from symprop.runtime.optimizers import make_optimizer


def _data(args):
    if args.csv:
        if args.dataset:
            raise SympropError("give --dataset or --csv, not both")
        if not args.target:
            raise SympropError("--csv needs --target COLUMN")
        X, y, _ = load_csv(args.csv, args.target)
        return args.csv, X, y, None
    name = args.dataset or "iris"
    X, y = load_dataset(name)
    return name, X, y, SUGGESTED.get(name)


def train_from_args(args) -> dict:
    name, X, y, suggestion = _data(args)
    arch = args.arch or (suggestion[0] if suggestion else None)
    loss = args.loss or (suggestion[1] if suggestion else None)
    if arch is None or loss is None:
        raise SympropError("with --csv, give --arch and --loss")
    specs = parse_architecture(arch)
    if specs[0].n_in != X.shape[1]:
        raise SympropError(f"--arch {arch}: the input width {specs[0].n_in} does not match "
                           f"the {X.shape[1]} features of {name}")
    classification = loss in ("ce", "bce")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, args.test_size, seed=args.seed, stratify=classification)
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    net = Network([Dense(s.n_in, s.n_out, s.activation) for s in specs], loss=loss,
                  dtype=args.dtype, seed=args.seed)
    options = {"lr": args.lr}
    if args.optimizer.lower() == "sgd":
        options["momentum"] = args.momentum
    if args.weight_decay:
        options["weight_decay"] = args.weight_decay
    optimizer = make_optimizer(args.optimizer, **options)
    start = time.perf_counter()
    history = net.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                      optimizer=optimizer, validation_split=args.validation_split,
                      patience=args.patience, verbose=not args.json)
    seconds = time.perf_counter() - start
    summary = {
        "dataset": name, "architecture": arch, "loss": loss, "optimizer": repr(optimizer),
        "epochs": history.epochs, "seconds": round(seconds, 3),
        "train": net.evaluate(X_train, y_train), "test": net.evaluate(X_test, y_test),
        "history": {k: [round(v, 6) for v in values] for k, values in history.history.items()},
    }
    if args.plot:
        from symprop.runtime.plotting import plot_history

        plot_history(history, args.plot, f"{name}: {arch}")
        summary["plot"] = args.plot
    if args.save:
        net.save(args.save)
        summary["model"] = args.save if args.save.endswith(".npz") else args.save + ".npz"
    return summary
