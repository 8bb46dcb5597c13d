"""The ``symprop`` command line (also ``python -m symprop``).

Every error of bad input (a SympropError) and every failing file operation (an OSError) is
one line ``symprop: error: ...`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from symprop.errors import FileError, SympropError
from symprop.io import write_atomically

FORMATS = ("latex", "markdown", "text")


class DefaultsShown(argparse.HelpFormatter):
    """Each option's default after its help, where it has one worth saying (not None, or
    False of a flag; a 0 is said: 0 == False, so the test is by identity)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (default is not None and default is not False and default != argparse.SUPPRESS
                and "%(default)" not in text and action.option_strings):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (symprop's rule for bad input) and defaults in help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from symprop import __version__

    parser = Parser(
        prog="symprop",
        description="Symbolic derivation plus code generation for neural networks.")
    parser.add_argument("--version", action="version", version=f"symprop {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    derive = commands.add_parser(
        "derive", help="print a derivation step by step",
        description="Derive an activation (name or formula in x), a loss, the output delta "
                    "of a loss after an activation, or a whole network's backpropagation.",
        epilog="examples: symprop derive sigmoid | symprop derive bce --activation sigmoid | "
               "symprop derive 'x*tanh(log(1 + exp(x)))' --name mish | "
               "symprop derive net 4-8:relu-3:softmax --loss ce --standalone")
    derive.add_argument("what", help="activation name or formula, loss name, optimizer "
                                     "(sgd, momentum, nesterov, adam, rmsprop), or 'net'")
    derive.add_argument("arch", nargs="?", help="architecture for 'net', e.g. 4-8:relu-3:softmax")
    derive.add_argument("--activation", help="output activation: derive the output delta")
    derive.add_argument("--loss", help="loss of the network (with 'net')")
    derive.add_argument("--name", help="a name for a formula")
    derive.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="hyperparameter value, e.g. --param alpha=0.1 (repeatable)")
    derive.add_argument("--format", choices=FORMATS, default=None,
                        help="latex: a fragment to \\input into a document with amsmath and "
                             "amssymb; markdown: $-delimited maths; text: Unicode maths "
                             "(default: text on a terminal, else latex)")
    _document_options(derive)
    derive.set_defaults(handler=run_derive)

    kernels = commands.add_parser(
        "kernels", help="write the generated kernel modules of a network to a folder",
        description="Generate readable, standalone Numba modules (they import only numpy, "
                    "numba and math) for a network: the fused training module and the "
                    "elementwise activation kernels.")
    kernels.add_argument("arch", help="architecture, e.g. 4-8:relu-3:softmax")
    kernels.add_argument("--loss", default="mse", help="loss (symprop list losses)")
    kernels.add_argument("--optimizer", default="adam",
                         help="sgd | adam | rmsprop (train's default too)")
    kernels.add_argument("--momentum", type=float, default=0.0, help="sgd's momentum")
    kernels.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    kernels.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                         help="the arrays' float type")
    kernels.add_argument("--matmul", default="auto", choices=("auto", "loops", "blas"),
                         help="products by loops, by BLAS, or chosen by layer size")
    kernels.add_argument("--target", "--device", dest="target", default="cpu",
                         choices=("cpu", "cuda"), help="the device the kernels run on")
    kernels.add_argument("--out", required=True, help="folder to write the modules into")
    kernels.set_defaults(handler=run_kernels)

    explain = commands.add_parser(
        "explain", help="a worked example in numbers: one training step, every value",
        description="One training step of a network on one sample (or a few), printed step "
                    "by step with the actual numbers: forward pass, loss, backward pass, "
                    "update. The network is built from ARCH (weights from --seed) or loaded "
                    "from --weights.",
        epilog="example: symprop explain 2-2:relu-1:sigmoid --loss bce --input=0.5,-1 "
               "--target 1 --format text  (write --input=-1,2 when the first value is "
               "negative; ';' separates samples: --input '1,2;3,4' --target '0;1')")
    explain.add_argument("arch", help="architecture, e.g. 2-2:relu-1:sigmoid")
    explain.add_argument("--loss", help="loss (default mse, or the model's with --weights)")
    explain.add_argument("--input", required=True, metavar="X",
                         help="the sample's inputs, comma-separated (';' between samples)")
    explain.add_argument("--target", required=True, metavar="Y",
                         help="its targets, comma-separated (for ce also a class label)")
    explain.add_argument("--weights", help="a model file saved by symprop (its architecture "
                                           "must be ARCH)")
    explain.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    explain.add_argument("--optimizer", default="sgd", help="sgd | adam | rmsprop")
    explain.add_argument("--lr", type=float, default=0.1, help="learning rate")
    explain.add_argument("--momentum", type=float, default=0.0, help="sgd's momentum")
    explain.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    explain.add_argument("--format", choices=FORMATS, default=None,
                         help="text on a terminal, else latex (a fragment for amsmath)")
    _document_options(explain)
    explain.set_defaults(handler=run_explain)

    handbook = commands.add_parser(
        "handbook", help="every built-in derivation in one LaTeX book",
        description="Build the handbook: the notation, then every built-in activation, loss "
                    "(and logit form), output delta, optimizer rule, the dense layer, two "
                    "networks and a worked example in numbers, one LaTeX document with a "
                    "table of contents.",
        epilog="examples: symprop handbook -o handbook.pdf (needs pdflatex) | "
               "symprop handbook -o handbook.tex | symprop handbook > handbook.tex")
    handbook.add_argument("-o", "--output", metavar="FILE",
                          help="FILE.pdf: compile with pdflatex (twice, for the table of "
                               "contents) and write the PDF; any other name: the LaTeX "
                               "(atomically); default: the LaTeX on stdout")
    handbook.set_defaults(handler=run_handbook)

    from symprop.cli_train_command import add_parser as add_train_parser

    add_train_parser(commands)
    from symprop.cli_list import add_parser as add_list_parser
    from symprop.sweeps.command import add_parser as add_sweep_parser

    add_sweep_parser(commands)
    add_list_parser(commands)
    return parser


def _parse_params(pairs: list[str]) -> dict[str, float]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SympropError(f"--param {pair!r}: expected NAME=VALUE, e.g. alpha=0.1")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise SympropError(f"--param {pair!r}: {value!r} is not a number") from None
    return params


def _format(args) -> str:
    """--format, or text where a person reads the terminal and latex where it goes on."""
    if args.format:
        return args.format
    terminal = args.output is None and not args.standalone and sys.stdout.isatty()
    return "text" if terminal else "latex"


def _document_options(parser) -> None:
    """--standalone and -o of the commands that print a derivation."""
    parser.add_argument("--standalone", action="store_true",
                        help="a whole LaTeX document that compiles with pdflatex")
    parser.add_argument("-o", "--output", help="write to this file (atomically) instead of "
                                               "stdout")


def find_derivation(args) -> object:
    from symprop.derive import activation, loss, output_delta
    from symprop.derive.losses import ALIASES as LOSS_ALIASES
    from symprop.derive.losses import BUILTINS as LOSSES
    from symprop.derive.network import network_derivation
    from symprop.derive.optimizers import DERIVED as OPTIMIZERS
    from symprop.derive.optimizers import optimizer_derivation

    params = _parse_params(args.param)
    what = args.what.strip()
    if what == "net":
        if not args.arch:
            raise SympropError("derive net needs an architecture, e.g. 4-8:relu-3:softmax")
        return network_derivation(args.arch, args.loss or "mse")  # bn, ln, [...] too
    if args.arch:
        raise SympropError(f"unexpected argument {args.arch!r} (only 'net' takes an "
                           "architecture)")
    if what.lower() in OPTIMIZERS:  # sgd, momentum, nesterov, adam, rmsprop: the update rule
        if args.activation:
            raise SympropError(f"{what!r} is an optimizer: --activation does not apply")
        return optimizer_derivation(what, **params)
    if what.lower() in LOSSES or what.lower() in LOSS_ALIASES:
        if args.activation:
            return output_delta(loss(what, **params), args.activation)
        return loss(what, **params).derivation()
    if args.activation:
        # A custom loss formula in yhat and y with an output activation.
        return output_delta(loss(what, name=args.name, **params), args.activation)
    return activation(what, name=args.name, **params).derivation()


def render(derivation, fmt: str, standalone: bool) -> str:
    """The derivation in the chosen format: ``latex`` is the text-mode fragment, to ``\\input``
    into a document that loads amsmath and amssymb; ``--standalone``, a whole document that
    compiles with pdflatex."""
    if standalone:
        return derivation.latex_document()
    if fmt == "latex":
        return derivation.latex(mode="text") + "\n"
    return derivation.markdown() if fmt == "markdown" else derivation.text()


def run_derive(args) -> int:
    derivation = with_values(find_derivation(args), _parse_params(args.param))
    write_output(render(derivation, _format(args), args.standalone), args.output)
    return 0


VALUES_NOTE = "Hyperparameters: "


def with_values(derivation, params: dict[str, float]):
    """The derivation stating the --param values: activations and losses state their own;
    any other (an output delta) gets the note, on a copy (derivations may be cached)."""
    import dataclasses

    import sympy

    from symprop.derive.values import values_prose

    if not params or any(isinstance(note, tuple) and note[:1] == (VALUES_NOTE,)
                         for note in derivation.notes):
        return derivation
    # The derivation's own symbols, printed as it prints them (Huber's delta as kappa).
    own = {s.name: s for s in getattr(derivation.result, "free_symbols", ())}
    note = values_prose({own.get(name, sympy.Symbol(name)): value
                         for name, value in params.items()}, VALUES_NOTE)
    return dataclasses.replace(derivation, notes=[*derivation.notes, note])


def _parse_rows(option: str, text: str) -> list[list[float]]:
    """``"0.5,-1"`` -> [[0.5, -1.0]]; ``;`` separates samples."""
    rows = []
    for row in text.split(";"):
        values = []
        for item in row.split(","):
            try:
                value = float(item)
            except ValueError:
                value = None
            if value is None or value != value or value in (float("inf"), float("-inf")):
                raise SympropError(f"{option} {text!r}: {item.strip()!r} is not a finite number "
                                   "(values are comma-separated, samples ';'-separated)")
            values.append(value)
        rows.append(values)
    if len({len(row) for row in rows}) != 1:
        raise SympropError(f"{option} {text!r}: every sample needs as many values")
    return rows


def explained_network(args):
    """The network of ``symprop explain``: ARCH with --loss, or --weights checked against it."""
    from symprop.architecture import parse_architecture
    from symprop.runtime import Dense, Network, load

    specs = parse_architecture(args.arch)
    built = Network([Dense(s.n_in, s.n_out, s.activation) for s in specs],
                    loss=args.loss or "mse", dtype="float64", seed=args.seed)
    if not args.weights:
        return built
    net = load(args.weights)
    if net.architecture != built.architecture:
        raise SympropError(f"--weights {args.weights}: the model is {net.architecture}, not "
                           f"{built.architecture}")
    if args.loss and net.loss != built.loss:
        raise SympropError(f"--weights {args.weights}: the model's loss is {net.loss}, not "
                           f"{built.loss}")
    return net


def run_explain(args) -> int:
    import numpy as np

    from symprop.runtime.optimizers import make_optimizer

    net = explained_network(args)
    inputs = _parse_rows("--input", args.input)
    targets = _parse_rows("--target", args.target)
    if len(inputs[0]) != net.n_in:
        raise SympropError(f"--input {args.input!r}: {len(inputs[0])} values a sample, but "
                           f"{net.architecture} takes {net.n_in}")
    if len(targets) != len(inputs):
        raise SympropError(f"--target {args.target!r}: {len(targets)} samples, but --input has "
                           f"{len(inputs)}")
    y = np.array(targets)
    options = {"lr": args.lr}
    if args.momentum or args.weight_decay:
        options.update(weight_decay=args.weight_decay,
                       **({"momentum": args.momentum} if args.momentum else {}))
    optimizer = make_optimizer(args.optimizer, **options)
    derivation = net.explain(np.array(inputs), y[:, 0] if y.shape[1] == 1 else y, optimizer)
    write_output(render(derivation, _format(args), args.standalone), args.output)
    return 0


def run_handbook(args) -> int:
    from symprop.derive.handbook import compile_pdf, find_pdflatex, handbook

    if args.output is not None and args.output.lower().endswith(".pdf"):
        find_pdflatex()  # before the seconds of building the book
        write_atomically(args.output, compile_pdf(handbook()))
    else:
        write_output(handbook(), args.output)
    return 0


def run_kernels(args) -> int:
    from symprop import __version__
    from symprop.blocks import dense_layers, parse_network
    from symprop.codegen.build import activations_source, network_source
    from symprop.runtime.optimizers import make_optimizer

    nodes = parse_network(args.arch)
    layers = dense_layers(nodes)
    options = {"momentum": args.momentum, "weight_decay": args.weight_decay}
    if args.optimizer.lower() != "sgd" and args.momentum:
        raise SympropError(f"--momentum applies to sgd, not {args.optimizer}")
    # the values are checked as training would check them (finite, >= 0), though only
    # which are nonzero shapes the exported code
    make_optimizer(args.optimizer, **{key: value for key, value in options.items()
                                      if key == "weight_decay" or args.optimizer.lower() == "sgd"})
    network = network_source(nodes, args.loss, args.optimizer, options, args.dtype,
                             args.matmul, __version__, target=args.target, exported=True)
    files = [("network.py", network)]
    if args.target == "cpu":  # the elementwise activation kernels are a CPU module
        files.append(("activations.py", activations_source(
            sorted({layer.activation for layer in layers}), args.dtype, __version__)))
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise FileError(f"--out {args.out}: cannot create the folder: "
                        f"{exc.strerror or exc}") from None
    for name, text in files:
        path = os.path.join(args.out, name)
        write_atomically(path, text.encode())
        print(path)
    return 0


def write_output(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    write_atomically(path, text.encode())


def describe_os_error(exc: OSError) -> str:
    """An OSError in words, naming the path it is about. For a rename (an atomic write's
    temporary file onto the user's path) that is the destination, ``filename2``."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    reason = exc.strerror or str(exc)
    if path is None:
        return reason
    return f"{os.fsdecode(path) if isinstance(path, str | bytes) else path}: {reason}"


def _one_line(message: str) -> str:
    return " ".join(str(message).split("\n")).strip()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SympropError as exc:
        message = str(exc)
    except OSError as exc:
        message = describe_os_error(exc)
    except KeyboardInterrupt:
        print("symprop: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in symprop: still one line, said to be one
        print(_one_line(f"symprop: internal error (please report it): "
                        f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return 3
    print(_one_line(f"symprop: error: {message}"), file=sys.stderr)
    return 2


def program() -> None:
    """The `symprop` command (and `python -m symprop`): main() on the command line, then
    exit. The objects still alive are frozen first: the interpreter's last garbage
    collection would otherwise trace everything Numba's compiler left behind, 0.2 s after
    a first build. Not in main(), which tests and callers run in their own processes."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    program()
