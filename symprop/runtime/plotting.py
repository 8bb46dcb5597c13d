"""History plots (matplotlib is an optional extra: ``pip install symprop[plot]``)."""

from __future__ import annotations

import io
import os

from symprop.errors import FileError, SympropError
from symprop.io import write_atomically


def plot_history(history, path, title: str = "") -> None:
    """Loss (and validation loss) per epoch, plus accuracy where there is one, to a PNG."""
    plt = pyplot()
    metric = next((k for k in ("accuracy", "r2") if k in history), None)
    gradients = "grad_norm" in history
    columns = 1 + bool(metric) + gradients
    figure, axes = plt.subplots(1, columns, figsize=(5 * columns, 3.6), squeeze=False)
    epochs = range(1, history.epochs + 1)
    panels = [("loss", "val_loss")] + ([(metric, f"val_{metric}")] if metric else [])
    if gradients:
        _gradient_panel(axes[0][-1], epochs, history["grad_norm"])
    for axis, (train_key, val_key) in zip(axes[0], panels, strict=False):
        axis.plot(epochs, history[train_key], label=f"train {train_key}")
        if val_key in history:
            axis.plot(epochs, history[val_key], label=f"validation {train_key}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(train_key)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    save_png(figure, path)


def pyplot():
    """matplotlib.pyplot on the Agg backend (files, no window), or a clear error."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SympropError("plotting needs matplotlib: pip install 'symprop[plot]'") from None
    return plt


def save_png(figure, path) -> None:
    """The figure as a PNG at ``path`` (written whole or not at all), then closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=110, format="png")
    pyplot().close(figure)
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
