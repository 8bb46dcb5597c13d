"""`symprop train`: load data, standardise, split, build, fit, report."""

from __future__ import annotations

import sys
import time

from symprop.blocks import parse_network
from symprop.errors import SympropError
from symprop.io import check_file_target
from symprop.runtime.data import (
    SUGGESTED,
    Standardizer,
    check_seed,
    load_csv,
    load_dataset,
    train_test_split,
)
from symprop.runtime.network import Network
from symprop.runtime.network_parts import layers_from_specs
from symprop.runtime.optimizers import make_optimizer


def _data(args):
    if args.csv:
        if args.dataset:
            raise SympropError("give --dataset or --csv, not both")
        if args.target and not args.label:  # the old spelling, still understood
            print("symprop: --target is now --label (it names the CSV's label column)",
                  file=sys.stderr)
            args.label = args.target
        if not args.label:
            raise SympropError("--csv needs --label COLUMN")
        X, y, _ = load_csv(args.csv, args.label)
        return args.csv, X, y, None
    name = args.dataset or "iris"
    X, y = load_dataset(name)
    return name, X, y, SUGGESTED.get(name)


def model_path(path: str) -> str:
    """The file ``net.save(path)`` writes (it adds .npz where it is missing)."""
    return path if path.endswith(".npz") else path + ".npz"


def configuration(args) -> tuple:
    """(name, X, y, architecture, loss) of a train command: its data, and the architecture
    and loss given or the data set's suggestion, the architecture checked against the
    data's width."""
    name, X, y, suggestion = _data(args)
    arch = args.arch or (suggestion[0] if suggestion else None)
    loss = args.loss or (suggestion[1] if suggestion else None)
    if arch is None or loss is None:
        raise SympropError("with --csv, give --arch and --loss")
    width = parse_network(arch)[0].n_in
    if width != X.shape[1]:
        raise SympropError(f"--arch {arch}: the input width {width} does not match "
                           f"the {X.shape[1]} features of {name}")
    return name, X, y, arch, loss


def train_from_args(args) -> dict:
    """Train as the arguments say and return the summary. The model is saved before the
    plot is drawn, so a failing --plot cannot lose it: the plot's error comes back in the
    summary's "plot_error" for the caller to report after the summary."""
    check_seed(args.seed, "--seed")
    if args.save:  # refused before training, not after it; save() refuses a folder as
        # given (before adding .npz), so both are checked
        for path in dict.fromkeys([args.save, model_path(args.save)]):
            check_file_target("--save", path, example="model.npz")
    name, X, y, arch, loss = configuration(args)
    specs = parse_network(arch)
    classification = loss in ("ce", "bce")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, args.test_size, seed=args.seed, stratify=classification)
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    net = Network(layers_from_specs(specs), loss=loss, dtype=args.dtype, seed=args.seed,
                  target=getattr(args, "device", "cpu"))
    options = {"lr": args.lr}
    if args.optimizer.lower() == "sgd":
        options["momentum"] = args.momentum
    elif args.momentum:
        raise SympropError(f"--momentum applies to sgd, not {args.optimizer}")
    if args.weight_decay:
        options["weight_decay"] = args.weight_decay
    optimizer = make_optimizer(args.optimizer, **options)
    start = time.perf_counter()
    history = net.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                      optimizer=optimizer, validation_split=args.validation_split,
                      patience=args.patience, verbose=not args.json,
                      track_gradients=args.track_gradients)
    seconds = time.perf_counter() - start
    summary = {
        "dataset": name, "architecture": arch, "loss": loss, "optimizer": repr(optimizer),
        "epochs": history.epochs, "seconds": round(seconds, 3),
        "train": net.evaluate(X_train, y_train), "test": net.evaluate(X_test, y_test),
        "history": {k: _rounded(values) for k, values in history.history.items()},
    }
    if args.save:
        net.save(args.save)
        summary["model"] = model_path(args.save)
    if args.plot:
        from symprop.runtime.plotting import plot_history

        try:
            plot_history(history, args.plot, f"{name}: {arch}")
            summary["plot"] = args.plot
        except SympropError as exc:  # no matplotlib, a path that cannot take the file
            named = args.plot in str(exc)
            summary["plot_error"] = f"--plot{'' if named else ' ' + args.plot}: {exc}"
    return summary


def _rounded(values: list) -> list:
    """History values to 6 decimals; grad_norm's per-layer lists to 6 significant digits
    (a vanishing gradient's 1e-12 must not print as 0)."""
    return [[float(f"{v:.6g}") for v in value] if isinstance(value, list) else round(value, 6)
            for value in values]

