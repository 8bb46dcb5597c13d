"""Decision boundaries: a classifier's class regions over two of its input features (the
others held at their means), the data points on top, and for a network with one hidden
layer, optionally the line where each hidden unit's pre-activation is zero.

Made with matplotlib's object API, as the history plots are (see plotting.py).
"""

from __future__ import annotations

import textwrap

import numpy as np

from symprop.errors import DataError, ShapeError, SympropError
from symprop.runtime.checks import as_features
from symprop.runtime.layers import Dense
from symprop.runtime.plotting import new_figure, plain_text, save_png

FIGURE_INCHES = (6.4, 5.2)  # 704 x 572 pixels at the 110 dpi plots are written with
REGION_WHITE = 0.7  # a region's colour: its class's colour mixed with this much white
GRID_POINTS = 1 << 15  # grid points predicted at a time (times the features: the memory)
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")


def class_colours(classes: int) -> list[tuple[float, float, float]]:
    """One RGB colour per class: matplotlib's tab10 up to ten classes, spread over a
    colour map beyond."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    if classes <= len(TAB10):
        return [to_rgb(colour) for colour in TAB10[:classes]]
    return [to_rgb(colormaps["turbo"](i / (classes - 1))) for i in range(classes)]


def region_colours(classes: int) -> list[tuple[float, float, float]]:
    """The light colour each class's region is painted in (its points keep the full one)."""
    return [tuple(REGION_WHITE + (1 - REGION_WHITE) * c for c in colour)
            for colour in class_colours(classes)]


def plot_boundary(net, X, y, X_test=None, y_test=None, *, columns=None, scaler=None,
                  hidden_units: bool = False, feature_names=None, class_names=None,
                  resolution: int = 300, path=None, title: str = ""):
    """See ``Network.plot_boundary``."""
    if not net.is_classifier:
        raise SympropError(f"plot_boundary draws a classifier's class regions; this network's "
                           f"loss is {net.loss!r} (a regression)")
    classes = net.n_out if net.n_out > 1 else 2
    columns = check_columns(columns, net.n_in)
    X, labels = _points(net, X, y, classes, "X", "y")
    if X_test is None and y_test is not None:
        raise SympropError("y_test needs its points, X_test")
    tests = None if X_test is None else _points(net, X_test, y_test, classes, "X_test",
                                                "y_test")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or \
            not 10 <= resolution <= 2000:
        raise SympropError(f"resolution must be an integer in [10, 2000], not {resolution!r}")
    if not isinstance(hidden_units, bool):
        raise SympropError(f"hidden_units must be True or False, not {hidden_units!r}")
    if hidden_units:
        check_one_hidden_layer(net)
    names = _names(feature_names, net.n_in, "feature_names", "feature")
    legend_names = _names(class_names, classes, "class_names", "class")
    shown = np.vstack([X] + ([tests[0]] if tests else []))[:, columns]
    (x0, x1), (y0, y1) = (_padded(shown[:, 0]), _padded(shown[:, 1]))
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, resolution),
                                 np.linspace(y0, y1, resolution))
    regions, fields = _grid_values(net, X.mean(axis=0), columns, grid_x, grid_y, scaler,
                                   hidden_units)

    from matplotlib.colors import ListedColormap

    figure = new_figure(FIGURE_INCHES)
    axis = figure.subplots()
    axis.imshow(regions, origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
                interpolation="nearest", cmap=ListedColormap(region_colours(classes)),
                vmin=-0.5, vmax=classes - 0.5)
    if hidden_units:
        _hidden_unit_lines(axis, fields, grid_x, grid_y)
    _scatter(axis, X[:, columns], labels, tests and (tests[0][:, columns], tests[1]),
             legend_names)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_xlabel(names[columns[0]])
    axis.set_ylabel(names[columns[1]])
    held = "; the other features at their means" if net.n_in > 2 else ""
    axis.set_title(plain_text((title or net.architecture) + held), fontsize="medium")
    figure.tight_layout()
    if path is None:
        return figure
    save_png(figure, path)
    return None


def _grid_values(net, means, columns, grid_x, grid_y, scaler, hidden_units: bool):
    """The class the network gives each grid point (the two columns set, the other features
    at ``means``, then through the scaler) and, with ``hidden_units``, each first-layer
    unit's pre-activation w.x + b there (points by units, float32). Worked out GRID_POINTS
    points at a time, so memory grows with the grid, not with the grid times the features."""
    xs, ys = grid_x.ravel(), grid_y.ravel()
    regions = np.empty(xs.size, dtype=np.int64)
    W, b = (array.astype(np.float64) for array in net.params[0])
    fields = np.empty((xs.size, W.shape[1]), dtype=np.float32) if hidden_units else None
    for lo in range(0, xs.size, GRID_POINTS):
        hi = min(lo + GRID_POINTS, xs.size)
        inputs = np.tile(means, (hi - lo, 1))
        inputs[:, columns[0]], inputs[:, columns[1]] = xs[lo:hi], ys[lo:hi]
        inputs = _scaled(scaler, inputs)  # the network's inputs; the axes show the data's
        regions[lo:hi] = net.predict_classes(inputs)
        if fields is not None:
            fields[lo:hi] = inputs @ W + b
    return regions.reshape(grid_x.shape), fields


def check_columns(columns, width: int) -> tuple[int, int]:
    """Two different feature indices in [0, width): the plot's x and y."""
    if width < 2:
        raise ShapeError("a decision boundary is drawn over two features; the network "
                         f"takes {width}")
    if columns is None:
        return (0, 1)
    items = list(columns) if isinstance(columns, list | tuple | np.ndarray) else None
    if items is None or len(items) != 2 or not all(
            isinstance(c, int | np.integer) and not isinstance(c, bool) for c in items):
        raise SympropError(f"columns must be two feature indices, e.g. (0, 1), not {columns!r}")
    first, second = (int(c) for c in items)
    for column in (first, second):
        if not 0 <= column < width:
            raise SympropError(f"column {column} is not a feature index of the network's "
                               f"{width} inputs (0 to {width - 1})")
    if first == second:
        raise SympropError(f"columns must be two different features, not {first} twice")
    return first, second


def _points(net, X, y, classes: int, x_name: str, y_name: str):
    """(X as float64, integer class labels) of points to plot, checked like fit's data."""
    if y is None:
        raise SympropError(f"{x_name} needs its labels ({y_name})")
    features = as_features(X, net.n_in, np.float64, x_name)
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot rows
        if labels.shape[1] != classes:
            raise ShapeError(f"{y_name} has {labels.shape[1]} columns of one-hot labels; the "
                             f"network has {classes} classes")
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ShapeError(f"{y_name} has shape {np.shape(y)}; {x_name} has "
                         f"{features.shape[0]} rows, so {y_name} needs one label per row")
    if labels.dtype.kind == "f" and np.isfinite(labels).all() and \
            (labels == np.round(labels)).all():
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iub" or labels.size and (labels.min() < 0 or
                                                          labels.max() >= classes):
        raise DataError(f"{y_name} must hold class labels 0 to {classes - 1} (the network "
                        f"has {classes} classes)")
    return features, labels.astype(np.int64)


def _names(names, count: int, what: str, kind: str) -> list[str]:
    """Labels for the axes or the legend: as given (shortened where long, shown as
    written), else numbered."""
    if names is None:
        return [f"{kind} {i}" for i in range(count)]
    if isinstance(names, str) or not isinstance(names, list | tuple | np.ndarray):
        raise SympropError(f"{what} must be a list of {count} names, not {names!r}")
    if len(names) != count:
        plural = "classes" if kind == "class" else kind + "s"
        raise SympropError(f"{what} has {len(names)} names; the network has {count} {plural}")
    return [plain_text(textwrap.shorten(str(name), 60, placeholder="...") or str(name))
            for name in names]


def _scaled(scaler, inputs: np.ndarray) -> np.ndarray:
    """The grid's points through ``scaler.transform`` (None: as they are), refused with a
    clear error where it is not a fitted scaler of these features."""
    if scaler is None:
        return inputs
    transform = getattr(scaler, "transform", None)
    if not callable(transform):
        raise SympropError(f"scaler must be a fitted scaler with a transform method (such as "
                           f"sp.Standardizer), not {scaler!r}")
    try:
        scaled = np.asarray(transform(inputs), dtype=np.float64)
    except SympropError:
        raise
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise SympropError(f"scaler.transform failed on points of {inputs.shape[1]} "
                           f"features: {exc}") from None
    if scaled.shape != inputs.shape:
        raise ShapeError(f"scaler.transform turned points of shape {inputs.shape} into "
                         f"{scaled.shape}; it must keep the network's {inputs.shape[1]} "
                         "features")
    return scaled


def _padded(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    margin = 0.08 * (high - low) if high > low else 0.5
    return low - margin, high + margin


def check_one_hidden_layer(net, what: str = "hidden_units") -> None:
    """Hidden-unit lines are drawn for a network of two Dense layers only (``what``: the
    option asking for them, named in the error)."""
    if len(net.layers) != 2 or not all(isinstance(layer, Dense) for layer in net.layers):
        raise SympropError(f"{what} draws the hidden units of a network with one hidden "
                           f"layer (two Dense layers); {net.architecture} is not one")


def _hidden_unit_lines(axis, fields, grid_x, grid_y) -> None:
    """Where each hidden unit's pre-activation w.x + b (``fields``: grid points by units)
    is zero: the line a ReLU unit turns on at, and the midpoint of a sigmoid or tanh unit.
    Drawn as the zero contour over the grid, so it is right in the axes' units whatever
    scaling the network's inputs had."""
    from matplotlib.lines import Line2D

    units = fields.shape[1]
    drawn = 0
    for unit in range(units):
        field = fields[:, unit].reshape(grid_x.shape)
        if field.min() < 0 < field.max():  # a unit whose line crosses the plot
            axis.contour(grid_x, grid_y, field, levels=[0.0], colors="0.25",
                         linestyles="dashed", linewidths=0.9)
            drawn += 1
    axis.add_artist(axis.legend(
        handles=[Line2D([], [], color="0.25", linestyle="dashed", linewidth=0.9)],
        labels=[f"hidden units: w.x + b = 0 ({drawn} of {units} cross the plot)"],
        loc="lower right", fontsize="small", framealpha=0.85))


def _scatter(axis, train, labels, tests, class_names) -> None:
    """Training points as circles, test points as stars, both in their class's colour."""
    from matplotlib.lines import Line2D

    colours = class_colours(len(class_names))
    handles, names = [], list(class_names)  # passed as they are: matplotlib's own legend
    for number in range(len(class_names)):  # would drop a name that starts with "_"
        chosen = train[labels == number]
        handles.append(axis.scatter(chosen[:, 0], chosen[:, 1], s=26, color=colours[number],
                                    edgecolors="black", linewidths=0.6, zorder=3))
    if tests:
        points, test_labels = tests
        axis.scatter(points[:, 0], points[:, 1], s=110, marker="*",
                     color=[colours[k] for k in test_labels], edgecolors="black",
                     linewidths=0.7, zorder=4)
        handles.append(Line2D([], [], marker="*", linestyle="", markersize=11,
                              markerfacecolor="white", markeredgecolor="black"))
        names.append("test points")
    axis.legend(handles, names, loc="upper left", fontsize="small", framealpha=0.85)
