"""`symprop train`: load data, standardise, split, build, fit, report."""

from __future__ import annotations

import sys
import time

from symprop.blocks import parse_network
from symprop.catalog import resolve_loss
from symprop.errors import SympropError
from symprop.io import check_file_target
from symprop.runtime.data import (
    BOUNDARY_COLUMNS,
    CLASS_NAMES,
    FEATURE_NAMES,
    SUGGESTED,
    Standardizer,
    check_seed,
    load_csv,
    load_dataset,
    train_test_split,
)
from symprop.runtime.network import CLASSIFICATION, Network
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
        X, y, features = load_csv(args.csv, args.label)
        return args.csv, X, y, None, features
    name = _builtin(args)
    X, y = load_dataset(name)
    return name, X, y, SUGGESTED.get(name), FEATURE_NAMES.get(name)


def model_path(path: str) -> str:
    """The file ``net.save(path)`` writes (it adds .npz where it is missing)."""
    return path if path.endswith(".npz") else path + ".npz"


def configuration(args) -> tuple:
    """(name, X, y, architecture, loss, feature names or None) of a train command: its
    data, and the architecture and loss given or the data set's suggestion, the
    architecture checked against the data's width."""
    name, X, y, suggestion, features = _data(args)
    arch = args.arch or (suggestion[0] if suggestion else None)
    loss = args.loss or (suggestion[1] if suggestion else None)
    if arch is None or loss is None:
        raise SympropError("with --csv, give --arch and --loss")
    width = parse_network(arch)[0].n_in
    if width != X.shape[1]:
        raise SympropError(f"--arch {arch}: the input width {width} does not match "
                           f"the {X.shape[1]} features of {name}")
    found = resolve_loss(loss)  # an alias (CE, cross_entropy) as its built-in name
    return name, X, y, arch, found[0] if found else loss, features


def boundary_columns(args, loss: str, features, width: int) -> tuple[int, int] | None:
    """The two feature indices --plot-boundary draws over (--boundary-columns: feature
    names or indices; default: the built-in data set's suggestion or the first two),
    checked before any training; None without --plot-boundary."""
    from symprop.runtime.boundary import check_columns

    given = getattr(args, "boundary_columns", None)
    if getattr(args, "plot_boundary", None) is None:
        for option, value in (("--boundary-columns", given),
                              ("--boundary-units", getattr(args, "boundary_units", False))):
            if value:
                raise SympropError(f"{option} belongs to --plot-boundary: give both")
        return None
    if loss not in CLASSIFICATION:
        raise SympropError(f"--plot-boundary draws class regions; loss {loss} is a "
                           "regression")
    if given is None:
        return check_columns(None if args.csv else BOUNDARY_COLUMNS.get(_builtin(args)),
                             width)
    parts = [part.strip() for part in given.split(",")]
    if len(parts) != 2:
        raise SympropError(f"--boundary-columns {given}: give two features, e.g. 0,1")
    try:
        return check_columns([_column(part, features, given) for part in parts], width)
    except SympropError as exc:
        if given in str(exc):
            raise
        raise type(exc)(f"--boundary-columns {given}: {exc}") from None


def _builtin(args) -> str:
    """The built-in data set a train command names (iris by default)."""
    return (args.dataset or "iris").lower()


def _column(part: str, features, given: str) -> int:
    """A feature by name (first: a CSV column may be named "1") or by index."""
    if features and part in features:
        return list(features).index(part)
    if part.isascii() and part.isdecimal():
        return int(part)
    known = f" (features: {', '.join(features)})" if features else ""
    raise SympropError(f"--boundary-columns {given}: {part!r} is not a feature index or "
                       f"name{known}")


def train_from_args(args) -> dict:
    """Train as the arguments say and return the summary. The model is saved before the
    plot is drawn, so a failing --plot cannot lose it: the plot's error comes back in the
    summary's "plot_error" for the caller to report after the summary."""
    check_seed(args.seed, "--seed")
    if args.save:  # refused before training, not after it; save() refuses a folder as
        # given (before adding .npz), so both are checked
        for path in dict.fromkeys([args.save, model_path(args.save)]):
            check_file_target("--save", path, example="model.npz")
    for option, path, example in (("--plot", args.plot, "loss.png"),
                                  ("--plot-boundary", getattr(args, "plot_boundary", None),
                                   "boundary.png")):
        if path == "":
            raise SympropError(f"{option} needs a file name, e.g. {example}")
        if path is not None:
            check_file_target(option, path, example=example)
    name, X, y, arch, loss, features = configuration(args)
    columns = boundary_columns(args, loss, features, X.shape[1])
    specs = parse_network(arch)
    classification = loss in CLASSIFICATION
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, args.test_size, seed=args.seed, stratify=classification)
    raw = (X_train, X_test)  # the boundary plot's axes are in the data's units
    scaler = Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    net = Network(layers_from_specs(specs), loss=loss, dtype=args.dtype, seed=args.seed,
                  target=getattr(args, "device", "cpu"))
    if columns is not None and getattr(args, "boundary_units", False):
        from symprop.runtime.boundary import check_one_hidden_layer

        check_one_hidden_layer(net, "--boundary-units")  # before training, not after it
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
        "device": net.target,
        "train": net.evaluate(X_train, y_train), "test": net.evaluate(X_test, y_test),
        "rows": {"train": len(X_train), "test": len(X_test)},
        "history": {k: _rounded(values) for k, values in history.history.items()},
    }
    if args.save:
        net.save(args.save)
        summary["model"] = model_path(args.save)
    if args.plot:
        from symprop.runtime.plotting import plot_history

        _draw(summary, "plot", args.plot,
              lambda: plot_history(history, args.plot, f"{name}: {arch}"))
    if columns is not None:
        _draw(summary, "plot_boundary", args.plot_boundary,
              lambda: net.plot_boundary(raw[0], y_train, raw[1], y_test,
                                        columns=columns, scaler=scaler,
                                        hidden_units=getattr(args, "boundary_units", False),
                                        feature_names=features,
                                        class_names=None if args.csv else CLASS_NAMES.get(
                                            _builtin(args)), path=args.plot_boundary,
                                        title=f"{name}: {arch}"))
    return summary


def _draw(summary: dict, key: str, path: str, draw) -> None:
    """Draw a plot the summary names; its error (no matplotlib, a path that cannot take the
    file) is kept in the summary's "plot_error" for the caller to report after the summary,
    so a failing plot costs neither the trained model nor the other plot."""
    option = "--" + key.replace("_", "-")
    try:
        draw()
        summary[key] = path
    except SympropError as exc:
        shown = f"{option}{'' if path in str(exc) else ' ' + path}: {exc}"
        summary["plot_error"] = "; ".join(filter(None, [summary.get("plot_error"), shown]))


def _rounded(values: list) -> list:
    """History values to 6 decimals; grad_norm's per-layer lists to 6 significant digits
    (a vanishing gradient's 1e-12 must not print as 0)."""
    return [[float(f"{v:.6g}") for v in value] if isinstance(value, list) else round(value, 6)
            for value in values]

