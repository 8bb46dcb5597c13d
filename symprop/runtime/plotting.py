"""History plots (matplotlib is an optional extra: ``pip install symprop[plot]``).

Figures are made with matplotlib's object API (``matplotlib.figure.Figure``), never pyplot:
no backend is switched (a notebook keeps its inline one, and shows a returned figure), and
no figure stays registered after it is written.
"""

from __future__ import annotations

import functools
import io
import os

from symprop.errors import FileError, SympropError

LOSS_NAMES = {"mse": "mean squared error", "mae": "mean absolute error",
              "bce": "binary cross-entropy", "ce": "cross-entropy", "huber": "Huber loss",
              "log_cosh": "log-cosh loss"}


def plot_history(history, path=None, title: str = ""):
    """Loss (and validation loss) per epoch, plus accuracy (or R^2) where there is one and
    each layer's gradient norm where fit tracked them; the best epoch marked (and said to
    be restored where early stopping restored it). A PNG at ``path``, or the figure when
    ``path`` is None (a notebook shows it)."""
    metric = next((k for k in ("accuracy", "r2") if k in history), None)
    gradients = "grad_norm" in history
    columns = 1 + bool(metric) + gradients
    figure = new_figure((5 * columns, 3.6))
    axes = figure.subplots(1, columns, squeeze=False)[0]
    epochs = range(1, history.epochs + 1)
    loss = getattr(history, "loss", None)
    loss_label = (plain_text(f"loss ({loss}: {LOSS_NAMES.get(loss, loss)})") if loss
                  else "loss")
    panels = [("loss", loss_label)] + ([(metric, metric)] if metric else [])
    if gradients:
        _gradient_panel(axes[-1], epochs, history["grad_norm"])
    for axis, (key, label) in zip(axes, panels, strict=False):
        axis.plot(epochs, history[key], label=f"train {key}")
        if f"val_{key}" in history:
            axis.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
        _mark_best(axis, history)
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    for axis in axes:
        _integer_epochs(axis)
    if title:
        figure.suptitle(plain_text(title))
    figure.tight_layout()
    if path is None:
        return figure
    save_png(figure, path)
    return None


def plain_text(text) -> str:
    """``text`` to be shown as written: matplotlib reads $...$ as mathematics (and fails
    at drawing on TeX it cannot parse), and a title or label may hold a file name or a CSV
    column name."""
    return str(text).replace("$", r"\$")


def _mark_best(axis, history) -> None:
    """A dashed line at the best epoch of the monitored loss, where early stopping (or any
    run longer than one epoch) has one: restored, if fit went back to its weights."""
    best = getattr(history, "best_epoch", None)
    if best is None or history.epochs < 2:
        return
    restored = history.stopped_epoch is not None and getattr(history, "restored", False)
    axis.axvline(best, color="grey", linestyle="--", linewidth=1,
                 label=f"best epoch {best}" + (" (restored)" if restored else ""))


def _integer_epochs(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def new_figure(size: tuple[float, float]):
    """A matplotlib Figure of ``size`` inches that a notebook shows as an image whatever its
    backend, or a clear error without matplotlib."""
    return _shown_figure_class()(figsize=size)


@functools.cache
def _shown_figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise SympropError("plotting needs matplotlib: pip install 'symprop[plot]'") from None

    class ShownFigure(Figure):
        """A Figure with IPython's rich display: a returned figure shows as a PNG."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, dpi=110, format="png")
            return buffer.getvalue()

    return ShownFigure


def save_png(figure, path) -> None:
    """The figure as a PNG at ``path``, written whole or not at all."""
    from symprop.io import write_atomically

    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=110, format="png")
    try:
        write_atomically(path, buffer.getvalue())
    except OSError as exc:  # named by the user's path, not write_atomically's temporary file
        raise FileError(f"cannot write the plot to {os.fspath(path)}: "
                        f"{exc.strerror or exc}") from None


def _gradient_panel(axis, epochs, norms) -> None:
    """Each layer's gradient norm per epoch on a log scale, where vanishing gradients show as
    the first layers' lines lying decades below the last ones'."""
    import matplotlib

    layers = len(norms[0])
    colours = matplotlib.colormaps["viridis"]
    for layer in range(layers):
        colour = colours(0.9 * layer / max(layers - 1, 1))  # the last one still visible
        axis.plot(epochs, [max(row[layer], 1e-30) for row in norms], color=colour,
                  label=f"layer {layer + 1}" if layers <= 8 or layer in (0, layers - 1)
                  else None)
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("gradient norm")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize="small")
