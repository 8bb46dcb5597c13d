"""`symprop train`: its options (each with its help and default) and what it prints. The
work itself is symprop.runtime.cli_train's (one split) and symprop.sweeps.crossval's
(--folds)."""

from __future__ import annotations

import argparse

from symprop.errors import SympropError


def add_parser(commands) -> None:
    train = commands.add_parser(
        "train", help="train a network on a built-in data set or a CSV file",
        description="Train a compiled network. Defaults: the iris project of the notes "
                    "(4-8:relu-3:softmax, cross-entropy, Adam 0.01, 200 epochs, batch 16).")
    train.add_argument("--dataset", default=None,
                       help="iris (default), digits, wine, breast_cancer, moons, circles, "
                            "make_classification")
    train.add_argument("--csv", help="a CSV file with a header row (instead of --dataset)")
    train.add_argument("--label", metavar="COLUMN", help="the label (target) column of --csv")
    train.add_argument("--target", help=argparse.SUPPRESS)  # the old spelling of --label
    train.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                       help="train on the CPU or on an NVIDIA GPU (pip install "
                            "'symprop[cuda]')")
    train.add_argument("--arch", help="architecture (default: the data set's suggestion): "
                                      "widths and activations joined by '-', e.g. "
                                      "4-8:relu-3:softmax; 'bn' and 'ln' add batch or layer "
                                      "normalization, '[...]' a residual block: "
                                      "4-16:relu-bn-[16:relu-16:relu]-3:softmax")
    train.add_argument("--loss", help="loss (default: the data set's suggestion)")
    train.add_argument("--optimizer", default="adam", help="sgd | adam | rmsprop")
    train.add_argument("--lr", type=float, default=0.01, help="learning rate")
    train.add_argument("--momentum", type=float, default=0.0, help="sgd's momentum")
    train.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    train.add_argument("--epochs", type=int, default=200, help="passes over the training data")
    train.add_argument("--batch-size", type=int, default=16, help="rows per update")
    train.add_argument("--test-size", type=float, default=0.2,
                       help="the share of rows held out for the test (stratified)")
    train.add_argument("--validation-split", type=float, default=0.0,
                       help="the share of training rows measured after each epoch")
    train.add_argument("--patience", type=int, default=None,
                       help="stop after this many epochs without a better validation (or "
                            "training) loss, keeping the best weights")
    train.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                       help="the arrays' float type")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the split, the initial weights and the shuffling")
    train.add_argument("--folds", type=int, default=1,
                       help="K >= 2: stratified K-fold cross-validation instead of one split: "
                            "each fold's test values and their mean +/- standard deviation")
    train.add_argument("--plot", help="write the loss curve to this PNG")
    train.add_argument("--plot-boundary", metavar="FILE",
                       help="write the decision boundary to this PNG: the class regions over "
                            "two features (the others at their means), training points as "
                            "dots, test points as stars")
    train.add_argument("--boundary-columns", metavar="A,B",
                       help="the two features of --plot-boundary, by CSV column name or "
                            "index (default: iris's petal length and width; else 0,1)")
    train.add_argument("--boundary-units", action="store_true",
                       help="with --plot-boundary, for a network with one hidden layer: each "
                            "hidden unit's line w.x + b = 0")
    train.add_argument("--track-gradients", action="store_true",
                       help="record each layer's gradient norm per epoch (in the --json "
                            "history as grad_norm, and a panel of the --plot)")
    train.add_argument("--save", help="save the trained model to this .npz")
    train.add_argument("--json", action="store_true", help="print one JSON summary line")
    train.set_defaults(handler=run_train)


def run_cross_validation(args) -> int:
    import json

    from symprop.runtime.cli_train import configuration
    from symprop.sweeps import crossval

    if args.folds < 2:  # argparse made it an int
        raise SympropError(f"--folds must be at least 2 (or 1: one split), not {args.folds}")
    crossval.check_options(args)
    name, X, y, arch, loss, _ = configuration(args)
    config = {"arch": arch, "loss": loss, "optimizer": args.optimizer.lower(), "lr": args.lr,
              "batch_size": args.batch_size, "epochs": args.epochs}
    summary = crossval.cross_validate(name, X, y, config, args.folds, args.seed)
    print(json.dumps(summary) if args.json else "\n".join(crossval.lines(summary)))
    return 0


def run_train(args) -> int:
    from symprop.runtime.cli_train import train_from_args

    if args.folds != 1:
        return run_cross_validation(args)
    summary = train_from_args(args)
    if args.json:
        import json

        print(json.dumps(summary))
    else:
        print(f"{summary['dataset']}: {summary['architecture']} ({summary['loss']}, "
              f"{summary['optimizer']}), {summary['epochs']} epochs in "
              f"{summary['seconds']:.2f} s")
        for part in ("train", "test"):
            values = ", ".join(f"{k} ({summary['loss']}) {v:.4f}" if k == "loss" else
                               f"{k} {v:.4f}" for k, v in summary[part].items())
            print(f"  {part:5s} {values}")
        # the progress bar showed each epoch's running values, as its batches saw them
        print("  (final weights, evaluation mode; the progress bar showed running values)")
        if "accuracy" in summary["test"]:  # how much one split's accuracy can say
            tests = summary["rows"]["test"]
            print(f"  ({tests} test rows: each is {1 / tests:.3f} of accuracy; --folds 5 "
                  "gives the accuracy's spread over splits)")
        for key in ("plot", "plot_boundary", "model"):
            if summary.get(key):
                print(f"  {key.replace('_', ' ')}: {summary[key]}")
    if summary.get("plot_error"):
        # Reported after the summary, which says where the model was saved.
        saved = f"; the model was saved to {summary['model']}" if summary.get("model") else ""
        raise SympropError(summary["plot_error"] + saved)
    return 0
