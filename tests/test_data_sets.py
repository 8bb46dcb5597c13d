"""Built-in data sets: read from scikit-learn's bundled files without importing it, equal to
scikit-learn's own loaders, and the fallback to those loaders where a file is not found."""

import subprocess
import sys

import numpy as np
import pytest
import sklearn.datasets

import symprop as sp
from symprop.errors import DataError
from symprop.runtime import data

LOADERS = {"iris": "load_iris", "digits": "load_digits", "wine": "load_wine",
           "breast_cancer": "load_breast_cancer"}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_bundled_data_equal_scikit_learns_loaders(name):
    X, y = sp.load_dataset(name)
    X_ref, y_ref = getattr(sklearn.datasets, LOADERS[name])(return_X_y=True)
    assert X.dtype == np.float64 and X.shape == X_ref.shape
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert np.issubdtype(y.dtype, np.integer)


def test_a_missing_bundled_file_falls_back_to_scikit_learn(monkeypatch):
    monkeypatch.setattr(data, "_bundled", lambda file_name: None)
    X, y = sp.load_dataset("iris")
    X_ref, y_ref = sklearn.datasets.load_iris(return_X_y=True)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_bundled_reader_refuses_a_file_whose_counts_disagree(tmp_path, monkeypatch):
    # A file whose header line does not describe its rows is not trusted: None, so the
    # caller asks scikit-learn.
    package = tmp_path / "sklearn"
    (package / "datasets" / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "datasets" / "data" / "iris.csv").write_text("3,2,a,b\n1,2,0\n3,4,1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, module)
    assert data._bundled("iris.csv") is None
    (package / "datasets" / "data" / "iris.csv").write_text("2,2,a,b\n1,2,0\n3,4,1\n")
    X, y = data._bundled("iris.csv")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0, 1])


def test_loading_iris_does_not_import_scikit_learn():
    code = ("import sys, symprop; symprop.load_dataset('iris'); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_generated_two_feature_sets_for_decision_boundaries():
    """moons, circles and make_classification with two features: planes a boundary plot
    shows whole; make_classification's default set is scikit-learn's own."""
    from sklearn.datasets import make_classification

    for name, options in (("moons", {}), ("circles", {}),
                          ("make_classification", {"n_features": 2})):
        X, y = data.load_dataset(name, **options)
        assert X.shape[1] == 2 and X.dtype == np.float64
        assert sorted(np.unique(y)) == [0, 1] and abs(np.mean(y) - 0.5) < 0.05
    radius = np.hypot(*data.load_dataset("circles", noise=0.0)[0].T)
    _, y = data.load_dataset("circles", noise=0.0)
    np.testing.assert_allclose(radius[y == 0], 1.0)  # the outer circle, and the inner one
    np.testing.assert_allclose(radius[y == 1], 0.5)
    X, y = data.load_dataset("make_classification")
    X_sk, y_sk = make_classification(n_samples=1000, n_features=20, n_classes=2,
                                     random_state=42)
    np.testing.assert_array_equal(X, X_sk)
    np.testing.assert_array_equal(y, y_sk)


def test_a_generator_option_it_does_not_take_is_a_data_error():
    with pytest.raises(DataError, match="data set moons: .*bogus"):
        data.load_dataset("moons", bogus=1)
    with pytest.raises(DataError, match="data set circles"):
        data.load_dataset("circles", factor=2.0)
