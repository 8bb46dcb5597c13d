"""History plots (matplotlib is an optional extra: ``pip install symprop[plot]``)."""

from __future__ import annotations

import io
import os

from symprop.errors import FileError, SympropError
from symprop.io import write_atomically


def plot_history(history, path, title: str = "") -> None:
    """Loss (and validation loss) per epoch, plus accuracy where there is one, to a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SympropError("plotting needs matplotlib: pip install 'symprop[plot]'") from None
    metric = next((k for k in ("accuracy", "r2") if k in history), None)
    columns = 2 if metric else 1
    figure, axes = plt.subplots(1, columns, figsize=(5 * columns, 3.6), squeeze=False)
    epochs = range(1, history.epochs + 1)
    panels = [("loss", "val_loss")] + ([(metric, f"val_{metric}")] if metric else [])
    for axis, (train_key, val_key) in zip(axes[0], panels, strict=True):
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
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=110, format="png")
    plt.close(figure)
    try:
        write_atomically(path, buffer.getvalue())
    except OSError as exc:  # named by the user's path, not write_atomically's temporary file
        raise FileError(f"cannot write the plot to {os.fspath(path)}: "
                        f"{exc.strerror or exc}") from None
