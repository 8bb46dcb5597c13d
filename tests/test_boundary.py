"""Decision-boundary plots: the pixels of each region are the colour of the class the network
gives that point (with the other features at their means, through the scaler), the points in
their classes' colours, hidden units' lines where w.x + b = 0; the CLI's --plot-boundary."""

from __future__ import annotations

import json

import numpy as np
import pytest

import symprop as sp
from symprop.runtime.boundary import FIGURE_INCHES, class_colours, region_colours

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from tests.cli_subprocess import assert_cli_error, run_cli  # noqa: E402


@pytest.fixture(scope="module")
def iris_model():
    """A trained iris network, its raw training and test rows and its scaler."""
    X, y = sp.load_dataset("iris")
    X_train, X_test, y_train, y_test = sp.train_test_split(X, y, 0.2, seed=0)
    scaler = sp.Standardizer().fit(X_train)
    net = sp.Network([sp.Dense(4, 8, "relu"), sp.Dense(8, 3, "softmax")], loss="ce",
                     dtype="float64", seed=0)
    net.fit(scaler.transform(X_train), y_train, epochs=60, batch_size=16,
            optimizer=sp.Adam(lr=0.02), verbose=False)
    return net, scaler, X_train, X_test, y_train, y_test


def pixels(figure) -> np.ndarray:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3] / 255.0


def near(image: np.ndarray, colour, tolerance: float = 1.5 / 255) -> np.ndarray:
    return (np.abs(image - np.asarray(colour)) <= tolerance).all(axis=-1)


def test_each_region_is_painted_in_the_colour_of_the_class_the_network_gives_it(iris_model):
    net, scaler, X_train, X_test, y_train, y_test = iris_model
    figure = net.plot_boundary(X_train, y_train, X_test, y_test, columns=(2, 3),
                               scaler=scaler)
    image = pixels(figure)
    axis = figure.axes[0]
    (x0, x1), (y0, y1) = axis.get_xlim(), axis.get_ylim()
    rng = np.random.default_rng(0)
    inner = 0.02  # not on the axes' frame
    samples = np.column_stack([rng.uniform(x0 + inner * (x1 - x0), x1 - inner * (x1 - x0), 400),
                               rng.uniform(y0 + inner * (y1 - y0), y1 - inner * (y1 - y0), 400)])
    shown = np.vstack([X_train, X_test])[:, 2:4]
    to_pixels = axis.transData.transform
    points_px, samples_px = to_pixels(shown), to_pixels(samples)
    legends = [axis.get_legend().get_window_extent().padded(6)]
    checked = 0
    for (px, py), (u, v) in zip(samples_px, samples, strict=True):
        if np.min(np.hypot(*(points_px - (px, py)).T)) < 12 or \
                any(box.contains(px, py) for box in legends):
            continue  # under a point or the legend
        probe = np.tile(X_train.mean(axis=0), (9, 1))  # the other features at their means
        du, dv = (x1 - x0) / 60, (y1 - y0) / 60
        probe[:, 2] = u + du * np.repeat([-1, 0, 1], 3)
        probe[:, 3] = v + dv * np.tile([-1, 0, 1], 3)
        classes = net.predict_classes(scaler.transform(probe))
        if len(set(classes)) > 1:
            continue  # at a boundary, where a pixel may go either way
        pixel = image[image.shape[0] - 1 - int(py), int(px)]
        assert near(pixel, region_colours(3)[classes[0]]).all(), (u, v, classes[0], pixel)
        checked += 1
    assert checked > 200


def test_the_png_has_its_size_and_every_class_its_region_and_points(iris_model, tmp_path):
    net, scaler, X_train, X_test, y_train, y_test = iris_model
    path = tmp_path / "boundary.png"
    assert net.plot_boundary(X_train, y_train, X_test, y_test, columns=(2, 3),
                             scaler=scaler, path=path) is None
    image = imread(path)[..., :3]
    assert image.shape[:2] == (round(FIGURE_INCHES[1] * 110), round(FIGURE_INCHES[0] * 110))
    total = image.shape[0] * image.shape[1]
    for region, point in zip(region_colours(3), class_colours(3), strict=True):
        assert near(image, region).sum() > 0.03 * total  # each class owns part of the plane
        assert near(image, point).sum() > 50  # and its points are drawn in its colour


def test_two_features_hidden_unit_lines_lie_where_w_x_plus_b_is_zero():
    X, y = sp.load_dataset("moons", n_samples=200)
    net = sp.Network([sp.Dense(2, 6, "tanh"), sp.Dense(6, 1, "sigmoid")], loss="bce",
                     dtype="float64", seed=3)
    net.fit(X, y, epochs=30, batch_size=16, optimizer=sp.Adam(lr=0.05), verbose=False)
    figure = net.plot_boundary(X, y, hidden_units=True, resolution=200)
    W, b = net.params[0]
    contours = [c for c in figure.axes[0].collections if hasattr(c, "levels")]
    assert 1 <= len(contours) <= 6
    spacing = max(np.ptp(X[:, 0]), np.ptp(X[:, 1])) / 200
    for contour in contours:
        vertices = np.vstack([path.vertices for path in contour.get_paths()])
        values = vertices @ W + b  # the line of one unit: one column near zero everywhere
        unit = np.argmin(np.abs(values).max(axis=0))
        assert np.abs(values[:, unit]).max() < 2 * spacing * np.abs(W[:, unit]).sum()
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == \
        ["class 0", "class 1"]
    # trained on scaled features, drawn in the data's units: the lines go through the scaler
    raw = X * [3.0, 0.5] + [10.0, -4.0]
    scaler = sp.Standardizer().fit(raw)
    figure = net.plot_boundary(raw, y, hidden_units=True, scaler=scaler, resolution=200)
    contours = [c for c in figure.axes[0].collections if hasattr(c, "levels")]
    assert contours
    for contour in contours:
        vertices = np.vstack([path.vertices for path in contour.get_paths()])
        values = scaler.transform(vertices) @ W + b
        unit = np.argmin(np.abs(values).max(axis=0))
        assert np.abs(values[:, unit]).max() < 2 * spacing * np.abs(W[:, unit]).sum()


@pytest.mark.parametrize("call, message", [
    (lambda n, X, y: n.plot_boundary(X, y, columns=(1, 1)), "two different features"),
    (lambda n, X, y: n.plot_boundary(X, y, columns=(0, 4)), "column 4 is not a feature"),
    (lambda n, X, y: n.plot_boundary(X, y, columns=(0,)), "two feature indices"),
    (lambda n, X, y: n.plot_boundary(X, y + 3), "class labels 0 to 2"),
    (lambda n, X, y: n.plot_boundary(X, y[:-1]), "one label per row"),
    (lambda n, X, y: n.plot_boundary(X[:, :3], y), "has 3 features"),
    (lambda n, X, y: n.plot_boundary(X, y, X[:5]), "X_test needs its labels"),
    (lambda n, X, y: n.plot_boundary(X, y, resolution=5), "resolution"),
    (lambda n, X, y: n.plot_boundary(X, y, class_names=["a"]), "class_names has 1 names; "
     "the network has 3 classes"),
    (lambda n, X, y: n.plot_boundary(X, y, feature_names="abcd"), "must be a list of 4"),
    (lambda n, X, y: n.plot_boundary(X, y, feature_names=5), "must be a list of 4"),
    (lambda n, X, y: n.plot_boundary(X, y, hidden_units="no"), "True or False"),
    (lambda n, X, y: n.plot_boundary(X, y, y_test=y), "y_test needs its points"),
    (lambda n, X, y: n.plot_boundary(X, np.eye(2)[y % 2]), "2 columns of one-hot"),
    (lambda n, X, y: n.plot_boundary(X, y, scaler=5), "scaler must be a fitted scaler"),
    (lambda n, X, y: n.plot_boundary(X, y, scaler=sp.Standardizer().fit(X[:, :3])),
     "scaler.transform failed on points of 4 features"),
])
def test_bad_arguments_are_clear_errors(call, message):
    X, y = sp.load_dataset("iris")
    net = sp.Network([sp.Dense(4, 3, "softmax")], loss="ce", seed=0)
    with pytest.raises(ValueError, match=message):
        call(net, X, y)


def test_what_has_no_boundary_or_no_hidden_layer_is_refused():
    X, y = sp.load_dataset("iris")
    regression = sp.Network([sp.Dense(4, 1, "identity")], loss="mse", seed=0)
    with pytest.raises(sp.SympropError, match="loss is 'mse'"):
        regression.plot_boundary(X, y)
    deep = sp.Network([sp.Dense(4, 4, "relu"), sp.Dense(4, 4, "relu"),
                       sp.Dense(4, 3, "softmax")], loss="ce", seed=0)
    with pytest.raises(sp.SympropError, match="one hidden layer"):
        deep.plot_boundary(X, y, hidden_units=True)
    with pytest.raises(sp.ShapeError, match="two features"):
        sp.Network([sp.Dense(1, 1, "sigmoid")], loss="bce").plot_boundary(X[:, :1], y > 0)


def same_image(first, second) -> bool:
    return np.array_equal(imread(first), imread(second))


def test_cli_plot_boundary_is_the_apis_plot_of_its_model_split_and_scaler(tmp_path):
    """iris: the petal columns, raw units through the training part's scaler, hidden
    units, the names; pixel for pixel what net.plot_boundary draws of the saved model."""
    from symprop.runtime.data import CLASS_NAMES, FEATURE_NAMES

    path, model = tmp_path / "iris.png", tmp_path / "iris.npz"
    run = run_cli("train", "--epochs", "20", "--json", "--plot-boundary", path,
                  "--boundary-units", "--save", model, "--loss", "CE")  # an alias of ce
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["plot_boundary"] == str(path) and summary["rows"] == {"train": 120,
                                                                         "test": 30}
    assert imread(path).shape[:2] == (572, 704)
    X, y = sp.load_dataset("iris")
    X_train, X_test, y_train, y_test = sp.train_test_split(X, y, 0.2, seed=0)  # the CLI's
    scaler = sp.Standardizer().fit(X_train)
    sp.load(model).plot_boundary(X_train, y_train, X_test, y_test, columns=(2, 3),
                                 scaler=scaler, hidden_units=True,
                                 feature_names=FEATURE_NAMES["iris"],
                                 class_names=CLASS_NAMES["iris"], path=tmp_path / "api.png",
                                 title="iris: 4-8:relu-3:softmax")
    assert same_image(path, tmp_path / "api.png")


def test_cli_plot_boundary_of_a_csv_picks_columns_by_name_before_index(tmp_path):
    """Columns named "1" and "0" are those columns, not indices; a CSV file named iris
    gets no iris defaults (columns, class names)."""
    rows = ["1,b,0,label"] + [f"{i % 7},{(i * 3) % 5},{i % 2},{'yes' if i % 7 > 3 else 'no'}"
                              for i in range(40)]
    data = tmp_path / "iris"
    data.write_text("\n".join(rows) + "\n")
    out, model = tmp_path / "csv.png", tmp_path / "csv.npz"
    run = run_cli("train", "--csv", data, "--label", "label", "--arch", "3-4:relu-1:sigmoid",
                  "--loss", "bce", "--epochs", "5", "--json", "--plot-boundary", out,
                  "--boundary-columns", "0,1", "--save", model)
    assert run.returncode == 0, run.stderr
    X, y, names = sp.load_csv(data, "label")
    X_train, X_test, y_train, y_test = sp.train_test_split(X, y, 0.2, seed=0)
    sp.load(model).plot_boundary(X_train, y_train, X_test, y_test, columns=(2, 0),
                                 scaler=sp.Standardizer().fit(X_train), feature_names=names,
                                 path=tmp_path / "api.png", title=f"{data}: 3-4:relu-1:sigmoid")
    assert same_image(out, tmp_path / "api.png")
    default = run_cli("train", "--csv", data, "--label", "label", "--arch",
                      "3-4:relu-1:sigmoid", "--loss", "bce", "--epochs", "1",
                      "--plot-boundary", tmp_path / "default.png")
    assert default.returncode == 0, default.stderr  # columns 0, 1: not iris's 2, 3


@pytest.mark.parametrize("options, message", [
    (["--loss", "mse", "--arch", "4-1:identity"], "--plot-boundary draws class regions"),
    (["--boundary-columns", "0,9"], "--boundary-columns 0,9: column 9"),
    (["--boundary-columns", "0,petal"], "'petal' is not a feature index or name"),
    (["--boundary-columns", "0"], "give two features"),
    (["--folds", "3"], "--plot-boundary needs one trained model"),
    (["--boundary-units", "--arch", "4-8:relu-bn-3:softmax"], "one hidden layer"),
    (["--boundary-columns", "\u00b2,0"], "is not a feature index or name"),
])
def test_cli_bad_boundary_options_are_refused_before_training(tmp_path, options, message):
    """Every one refused before any training (no model saved), in one line."""
    model = tmp_path / "m.npz"
    save = [] if "--folds" in options else ["--save", model]  # --folds refuses --save too
    run = run_cli("train", "--plot-boundary", tmp_path / "b.png", *save, *options)
    assert_cli_error(run, message)
    assert not model.exists()


def test_names_and_titles_with_dollar_signs_are_shown_as_written_not_as_tex(tmp_path):
    """A CSV column or file name with $...$ would be read by matplotlib as mathematics
    (failing at drawing on TeX it cannot parse): it is shown as written."""
    X, y = sp.load_dataset("moons", n_samples=60)
    net = sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce", seed=0)
    history = net.fit(X, y, epochs=2, verbose=False)
    figure = net.plot_boundary(X, y, feature_names=[r"$\frac{a", "cost ($)"],
                               class_names=["$x^2$", "b"], title=r"/data/$HOME\$x.csv")
    pixels(figure)  # drawing parses every text: bad TeX would raise here
    axis = figure.axes[0]
    assert axis.get_xlabel() == r"\$\frac{a" and axis.get_ylabel() == r"cost (\$)"
    assert [t.get_text() for t in axis.get_legend().get_texts()][0] == r"\$x^2\$"
    assert [t.get_text() for t in net.plot_boundary(X, y, class_names=["_a", "b"]).axes[0]
            .get_legend().get_texts()] == ["_a", "b"]  # matplotlib would hide "_a"
    history.plot(tmp_path / "h.png", title=r"$\frac{")  # drawn and written, no error
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")


def test_the_grid_worked_out_in_pieces_gives_the_same_regions_and_lines(monkeypatch):
    """The grid is predicted GRID_POINTS points at a time (memory bounded by that times the
    features): pieces that do not divide the grid change nothing."""
    from symprop.runtime import boundary

    X, y = sp.load_dataset("iris")
    scaler = sp.Standardizer().fit(X)
    net = sp.Network([sp.Dense(4, 6, "relu"), sp.Dense(6, 3, "softmax")], loss="ce",
                     dtype="float64", seed=1)
    net.fit(scaler.transform(X), y, epochs=20, optimizer=sp.Adam(lr=0.05), verbose=False)

    def drawn():
        figure = net.plot_boundary(X, y, columns=(2, 3), scaler=scaler, hidden_units=True,
                                   resolution=97)
        axis = figure.axes[0]
        lines = [np.vstack([p.vertices for p in c.get_paths()])
                 for c in axis.collections if hasattr(c, "levels")]
        return np.asarray(axis.get_images()[0].get_array()), lines

    whole_regions, whole_lines = drawn()
    monkeypatch.setattr(boundary, "GRID_POINTS", 1000)  # 97 x 97 points in 10 pieces
    pieces_regions, pieces_lines = drawn()
    np.testing.assert_array_equal(pieces_regions, whole_regions)
    assert len(pieces_lines) == len(whole_lines) > 0
    for piece, whole in zip(pieces_lines, whole_lines, strict=True):
        np.testing.assert_array_equal(piece, whole)
