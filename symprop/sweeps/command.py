"""`symprop sweep`: its options, and running it from them."""

from __future__ import annotations

import json
import sys

from symprop.errors import SympropError

EXAMPLE = ("symprop sweep --dataset iris --dataset wine --arch 4-8:relu-3:softmax "
           "--arch '4-8:x*tanh(log(1+exp(x)))-3:softmax' --lr 0.01,0.1 --epochs 30 "
           "--seeds 2 --folds 3 --results runs.jsonl")


def add_parser(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="train many configurations (x seeds x folds) on Dask",
        description="Train every combination of the listed architectures and "
                    "hyperparameters on every data set, for every seed and cross-validation "
                    "fold, on an embedded Dask cluster (or --scheduler's). Each finished run "
                    "is appended to --results as one JSON line; the end prints per "
                    "configuration the mean and standard deviation over seeds and folds, "
                    "best first. Lists are comma-separated.",
        epilog=f"example: {EXAMPLE}")
    sweep.add_argument("--dataset", action="append", default=[],
                       help="a built-in data set (repeatable): iris, digits, wine, "
                            "breast_cancer, moons, circles, make_classification")
    sweep.add_argument("--csv", action="append", default=[], metavar="FILE",
                       help="a CSV file with a header row (repeatable)")
    sweep.add_argument("--label", action="append", default=[], metavar="COLUMN",
                       help="the label column of the --csv files (once for all, or once each)")
    sweep.add_argument("--arch", action="append", required=True,
                       help="an architecture (repeatable), e.g. 4-8:relu-3:softmax; its input "
                            "width (and a softmax output's width) follow each data set")
    sweep.add_argument("--loss", default="auto",
                       help="losses (default auto: ce after softmax, bce after sigmoid, "
                            "else mse)")
    sweep.add_argument("--optimizer", default="adam", help="optimizers (default: adam)")
    sweep.add_argument("--lr", default="0.01", help="learning rates (default: 0.01)")
    sweep.add_argument("--batch-size", default="16", help="batch sizes (default: 16)")
    sweep.add_argument("--epochs", default="30", help="epoch counts (default: 30)")
    sweep.add_argument("--seeds", type=int, default=1,
                       help="seeds per configuration, 0..N-1 (default: 1)")
    sweep.add_argument("--folds", type=int, default=5,
                       help="stratified cross-validation folds (default: 5; 1: one 80/20 "
                            "split)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="worker processes of the embedded cluster (default: the cores)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on this Dask cluster instead, e.g. tcp://HOST:8786")
    sweep.add_argument("--results", required=True, metavar="FILE",
                       help="the JSON-lines file each finished run is appended to")
    sweep.add_argument("--resume", action="store_true",
                       help="skip the runs --results already holds")
    sweep.add_argument("--plot", metavar="FILE",
                       help="write the validation metric against --plot-x to this PNG")
    sweep.add_argument("--plot-x", default="lr", choices=("lr", "batch_size", "epochs"),
                       help="the hyperparameter on the plot's x axis (default: lr)")
    sweep.add_argument("--json", action="store_true",
                       help="print the summary as JSON lines (one per configuration)")
    sweep.set_defaults(handler=run)


def run(args) -> int:
    from symprop.io import check_file_target
    from symprop.sweeps import sweep

    if args.plot:  # refused before the sweep, not after it
        check_file_target("--plot", args.plot, example="sweep.png")

    grid = {"arch": args.arch, "loss": _items("--loss", args.loss, str),
            "optimizer": _items("--optimizer", args.optimizer, str),
            "lr": _items("--lr", args.lr, float),
            "batch_size": _items("--batch-size", args.batch_size, int),
            "epochs": _items("--epochs", args.epochs, int)}
    result = sweep(grid, _datasets(args), folds=args.folds, seeds=args.seeds,
                   results=args.results, workers=args.workers, scheduler=args.scheduler,
                   resume=args.resume, verbose=not args.json)
    if args.json:
        from symprop.sweeps.summary import summarize

        for row in summarize(result.runs):
            print(json.dumps(row))
    else:
        print(result.table())
        print(f"results: {args.results} ({len(result.runs)} runs, {len(result.failed)} "
              "failed)")
    if args.plot:
        result.plot(args.plot, x=args.plot_x)
        if not args.json:
            print(f"plot: {args.plot}")
    sys.stdout.flush()
    return 0


def _items(option: str, text: str, kind) -> list:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise SympropError(f"{option} {text!r}: an empty item in the comma-separated list")
    try:
        return [kind(item) for item in items]
    except ValueError:
        raise SympropError(f"{option} {text!r}: not a list of "
                           f"{'integers' if kind is int else 'numbers'}") from None


def _datasets(args):
    if not args.csv:
        if args.label:
            raise SympropError("--label names the label column of --csv files")
        return args.dataset or ["iris"]
    from symprop.runtime.data import load_csv, load_dataset

    labels = args.label * len(args.csv) if len(args.label) == 1 else args.label
    if len(labels) != len(args.csv):
        raise SympropError("give --label once for all --csv files, or once for each")
    data = {name: load_dataset(name) for name in args.dataset}
    for path, label in zip(args.csv, labels, strict=True):
        X, y, _ = load_csv(path, label)
        data[path] = (X, y)
    return data
