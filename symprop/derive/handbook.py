"""The handbook: every built-in derivation of symprop in one LaTeX book (``sp.handbook()``,
``symprop handbook``).

One section a part (notation, activations, losses, output deltas, optimizers, the dense
layer, networks, a worked example in numbers), one subsection a derivation. Each subsection
is the derivation's own text-mode fragment (``Derivation.latex(title=False)``: the heading
carries the title, so the fragment's bold title would only repeat it), printed for the page
of :data:`~symprop.derive.derivation.PREAMBLE`, the preamble every standalone document of
the package uses. Nothing here takes user input: the contents are the package's own names.
"""

from __future__ import annotations

from types import SimpleNamespace

from symprop.derive.breaking import DOCUMENT_WIDTH
from symprop.derive.derivation import PREAMBLE, Derivation, conventions_latex
from symprop.derive.layout import escape_latex

# The pairs a textbook derives first: each loss with the activation it is made for, whose
# output delta simplifies to yhat - y (bce/sigmoid and ce/softmax through the logit form).
NATURAL_PAIRS = (("mse", "identity"), ("bce", "sigmoid"), ("ce", "softmax"))
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "rmsprop")
NETWORKS = (("4-8:relu-3:softmax", "ce"), ("2-3:tanh-1:sigmoid", "bce"))
# The notes' seed 003: x = 2 -> [w = 3] -> relu -> [v = 0.5] -> output, squared error
# against 5, one SGD step with lr 0.1. Biases start at 0, so every number is the notes'.
WORKED = {"layers": "1-1:relu-1:identity", "loss_spec": "mse",
          "params": [([[3.0]], [0.0]), ([[0.5]], [0.0])], "X": [[2.0]], "Y_target": [[5.0]]}

# Front matter numbered in roman: the body's page numbers then do not depend on how long the
# table of contents is, so two pdflatex runs give a right one.
TITLE_PAGE = r"""\title{The symprop handbook\\[0.5em]
\large Every derivation behind the generated kernels, step by step}
\author{symprop %VERSION%}
\date{}
\begin{document}
\pagenumbering{roman}
\maketitle
\begin{abstract}
Every formula symprop compiles into a Numba kernel is derived here with SymPy, each step
named and checked: the activations and their derivatives, the losses and their gradients,
the output delta of each loss after each activation, the optimizers' update rules, the
backward pass of a dense layer and of whole networks, and one training step worked in
numbers. The derivations are generated, not typed: this is what \texttt{symprop derive}
prints, collected.
\end{abstract}
\clearpage
\setcounter{tocdepth}{2}
{\small\setlength{\parskip}{0pt}\tableofcontents}
\clearpage
\pagenumbering{arabic}
"""


def canonical(names, make) -> list[str]:
    """One name per distinct object, sorted: aliases (``logistic`` for ``sigmoid``) make the
    same derivation, which the book prints once, under the object's own name if it is one of
    them, else the shortest."""
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(make(name).name, []).append(name)
    return sorted(own if own in aliases else min(aliases, key=len)
                  for own, aliases in seen.items())


def subsection(short: str, derivation: Derivation, level: str = "subsection") -> str:
    """One derivation under a heading: its full title as the heading, ``short`` in the table
    of contents (fifteen "Activation ...: derivative and its form in the output" lines would
    bury the names)."""
    return (rf"\{level}[{escape_latex(short)}]{{{escape_latex(derivation.title)}}}" + "\n"
            + derivation.latex(width=DOCUMENT_WIDTH, title=False))


def entry(short: str, item) -> str:
    """A subsection: one derivation, or a group of them (a list of (short, derivation)) as
    subsubsections, which the table of contents leaves out (it would run to pages)."""
    if isinstance(item, Derivation):
        return subsection(short, item)
    return "\n".join([f"\\subsection{{{escape_latex(short)}}}"]
                     + [subsection(name, d, "subsubsection") for name, d in item])


def section(title: str, intro: str, items: list[tuple[str, object]]) -> str:
    """A part of the book: a section, a sentence on what it holds, an entry an item. A part
    starts a new page, so that the table of contents points at the top of one."""
    body = "\n".join(entry(short, item) for short, item in items)
    return f"\\clearpage\n\\section{{{title}}}\n{intro}\n\n{body}"


def notation_part() -> str:
    return ("\\clearpage\n\\section{Notation}\nEvery derivation in this book, and every one "
            "\\texttt{symprop derive} prints, follows these conventions.\n\n"
            "\\begin{description}\n" + conventions_latex() + "\n\\end{description}\n")


def activation_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.activations import activation, known_activations

    return [(name, activation(name).derivation())
            for name in canonical(known_activations(), activation)]


def loss_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.losses import known_losses, logit_forms, loss

    items = [(name, loss(name).derivation()) for name in canonical(known_losses(), loss)]
    items += [(f"{name} from the logits ({act})", derivation)
              for (name, act), derivation in logit_forms().items()]
    return items


def delta_items() -> list[tuple[str, object]]:
    """The natural pairs, a subsection each; then, a subsection a loss, the loss after every
    other activation (a subsubsection each). A pair the package refuses (the step function
    has no useful gradient) is left out."""
    from symprop.derive.activations import activation, known_activations
    from symprop.derive.delta import output_delta
    from symprop.derive.losses import known_losses, loss
    from symprop.errors import SympropError

    def derived(name: str, act: str) -> Derivation | None:
        try:
            return output_delta(name, act)
        except SympropError:
            return None

    items: list[tuple[str, object]] = [(f"{name} after {act}", output_delta(name, act))
                                       for name, act in NATURAL_PAIRS]
    activations = canonical(known_activations(), activation)
    for name in canonical(known_losses(), loss):
        group = [(f"{name} after {act}", d) for act in activations
                 if (name, act) not in NATURAL_PAIRS and (d := derived(name, act)) is not None]
        if group:
            items.append((f"{name} after the other activations", group))
    return items


def optimizer_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.optimizers import optimizer_derivation

    return [(name, optimizer_derivation(name)) for name in OPTIMIZERS]


def network_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.network import dense_layer_rules, network_derivation

    items = [("one dense layer", dense_layer_rules())]
    items += [(f"{arch}, loss {loss}", network_derivation(arch, loss)) for arch, loss in NETWORKS]
    return items


def normalization_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.norms import (
        batchnorm_derivation,
        layernorm_derivation,
        rmsnorm_derivation,
    )
    from symprop.derive.residual import residual_derivation

    return [("batch normalization", batchnorm_derivation()),
            ("layer normalization", layernorm_derivation()),
            ("RMS normalization", rmsnorm_derivation()),
            ("a residual connection", residual_derivation())]


def worked_items() -> list[tuple[str, Derivation]]:
    from symprop.derive.explain import explain_network

    # The optimizer as explain_network reads one (a rule name, its options, its values):
    # symprop.SGD(lr=0.1) would do the same, but the derive stage does not import the runtime.
    sgd = SimpleNamespace(rule="sgd", options={}, lr=0.1)
    return [("seed 003: one neuron a layer", explain_network(optimizer=sgd, **WORKED))]


PARTS = (
    ("Activations", "Each built-in activation, its derivative, and the derivative written in "
                    "the activation's output where it can be (what the backward pass reuses).",
     activation_items),
    ("Losses", "Each built-in loss per sample and its gradient with respect to the "
               "prediction; then the logit forms the kernels compute for binary and "
               "categorical cross-entropy.", loss_items),
    ("Output deltas", "The error signal of the output layer, "
                      "$\\delta = \\partial L / \\partial z$, for each loss after each "
                      "activation: first the natural pairs, whose delta is "
                      "$\\hat{y} - y$, then every other pair symprop derives.", delta_items),
    ("Optimizers", "The update rule of each optimizer, derived from plain gradient descent.",
     optimizer_items),
    ("Networks", "Backpropagation through one dense layer, then through whole networks.",
     network_items),
    ("Normalization and residual connections",
     "The remedies for vanishing and exploding gradients that change the network: "
     "normalization layers, derived over the batch (batch normalization) or over the units "
     "of one sample (layer and RMS normalization), and the skip connection of a residual "
     "block.", normalization_items),
    ("A training step in numbers", "One training step of the smallest network, every value "
                                   "of it: $x = 2$, weights $w = 3$ and $v = 0.5$, target 5, "
                                   "one step of SGD.", worked_items),
)


def handbook() -> str:
    """The handbook as one LaTeX document (it compiles with pdflatex, twice for the table of
    contents): the notation, then every built-in derivation, one subsection each."""
    from symprop import __version__

    parts = [notation_part()]
    parts += [section(title, intro, make()) for title, intro, make in PARTS]
    return (PREAMBLE + TITLE_PAGE.replace("%VERSION%", __version__) + "\n".join(parts)
            + "\n\\end{document}\n")


PDFLATEX_SECONDS = 300  # a run takes about a second; a hung one must not hang symprop


def find_pdflatex() -> str:
    """The path of pdflatex, or a SympropError saying it is missing (checked before the
    handbook is built, so that the error comes at once)."""
    import shutil

    from symprop.errors import SympropError

    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise SympropError("pdflatex is not installed (it comes with TeX Live or MiKTeX); "
                           "write the LaTeX with -o FILE.tex instead")
    return pdflatex


def compile_pdf(text: str) -> bytes:
    """The PDF of a LaTeX document: pdflatex twice (the second run typesets the table of
    contents the first wrote) in a temporary folder, without shell escape. A SympropError
    when pdflatex is missing or fails (with the log's first error)."""
    import subprocess
    import tempfile
    from pathlib import Path

    from symprop.errors import SympropError

    pdflatex = find_pdflatex()
    with tempfile.TemporaryDirectory(prefix="symprop-handbook-") as folder:
        (Path(folder) / "handbook.tex").write_text(text, encoding="utf-8")
        command = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                   "handbook.tex"]
        for _ in range(2):
            try:
                run = subprocess.run(command, cwd=folder, capture_output=True,
                                     timeout=PDFLATEX_SECONDS, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise SympropError(f"pdflatex took more than {PDFLATEX_SECONDS} s") from None
            if run.returncode != 0:
                log = Path(folder) / "handbook.log"
                lines = log.read_text(errors="replace").splitlines() if log.exists() else []
                first = next((line for line in lines if line.startswith("!")), "no log")
                raise SympropError(f"pdflatex failed (exit {run.returncode}): {first}")
        return (Path(folder) / "handbook.pdf").read_bytes()


__all__ = ["compile_pdf", "find_pdflatex", "handbook"]
