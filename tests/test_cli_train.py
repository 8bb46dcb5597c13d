"""`symprop train` and `symprop kernels` end to end."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symprop as sp
from symprop.blocks import parse_network
from symprop.runtime.network_parts import layers_from_specs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def env(kernel_cache):
    return {**os.environ, "PYTHONPATH": str(ROOT), "SYMPROP_CACHE_DIR": str(kernel_cache)}


def symprop(env, *args):
    return subprocess.run([sys.executable, "-m", "symprop", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_train_says_how_much_one_split_can_tell_and_where_the_spread_is(env):
    run = symprop(env, "train", "--epochs", "20")
    assert run.returncode == 0, run.stderr
    test_line = next(line for line in run.stdout.splitlines() if line.strip().startswith("test"))
    assert re.search(r"accuracy 0\.\d{4}$", test_line)
    assert "(30 test rows: each is 0.033 of accuracy; --folds 5 gives the accuracy's spread " \
           "over splits)" in run.stdout


def test_train_iris_json_plot_save(env, tmp_path):
    run = symprop(env, "train", "--json", "--plot", str(tmp_path / "loss.png"),
                  "--save", str(tmp_path / "model.npz"))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["dataset"] == "iris" and summary["architecture"] == "4-8:relu-3:softmax"
    assert summary["epochs"] == 200 and len(summary["history"]["loss"]) == 200
    assert summary["test"]["accuracy"] >= 0.85 and summary["train"]["accuracy"] > 0.95
    assert (tmp_path / "loss.png").stat().st_size > 1000
    import symprop as sp

    net = sp.load(tmp_path / "model.npz")
    assert net.architecture == "4-8:relu-3:softmax" and net.loss == "ce"


def test_train_tracks_gradients(env):
    """--track-gradients: one norm a layer and epoch in the JSON history, small ones kept to
    significant digits rather than rounded to 0."""
    run = symprop(env, "train", "--json", "--epochs", "3", "--track-gradients",
                  "--arch", "4-6:sigmoid-6:sigmoid-6:sigmoid-3:softmax")
    assert run.returncode == 0, run.stderr
    norms = json.loads(run.stdout)["history"]["grad_norm"]
    assert len(norms) == 3 and all(len(row) == 4 and min(row) > 0 for row in norms)


def test_train_with_normalization_and_a_residual_block(env, tmp_path):
    run = symprop(env, "train", "--json", "--epochs", "20",
                  "--arch", "4-8:relu-bn-[8:relu-ln-8:tanh]-3:softmax")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["architecture"] == "4-8:relu-bn-[8:relu-ln-8:tanh]-3:softmax"
    assert summary["train"]["accuracy"] > 0.8
    saved = symprop(env, "train", "--epochs", "1", "--arch", "4-8:relu-bn-3:softmax",
                    "--save", str(tmp_path / "m.npz"))
    assert saved.returncode == 0, saved.stderr
    import symprop as sp

    assert sp.load(tmp_path / "m.npz").architecture == "4-8:relu-bn-3:softmax"


def test_train_prints_summary(env):
    run = symprop(env, "train", "--epochs", "20", "--dataset", "wine", "--optimizer", "sgd",
                  "--lr", "0.05", "--momentum", "0.9")
    assert run.returncode == 0, run.stderr
    assert "wine: 13-16:relu-3:softmax" in run.stdout
    assert "test  loss" in run.stdout and "accuracy" in run.stdout
    assert "final weights" in run.stdout and "running values" in run.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--dataset", "irs"], "did you mean 'iris'"),
    (["--arch", "5-8:relu-3:softmax"], "does not match the 4 features"),
    (["--optimizer", "adamw"], "unknown optimizer"),
    (["--epochs", "0"], "epochs must be a positive integer"),
    (["--csv", "missing.csv", "--label", "y", "--arch", "2-1:sigmoid", "--loss", "bce"],
     "cannot read"),
])
def test_train_errors_are_one_line(env, args, fragment):
    run = symprop(env, "train", *args)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symprop: error:"), run.stderr
    assert fragment in lines[0]


def test_train_from_csv(env, tmp_path):
    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 7 > 3 else 'no'}"
                            for i in range(60)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    run = symprop(env, "train", "--csv", str(tmp_path / "data.csv"), "--label", "label",
                  "--arch", "2-8:relu-1:sigmoid", "--loss", "bce", "--epochs", "30", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["train"]["accuracy"] > 0.8
    # the old spelling still works, and says what it is now
    old = symprop(env, "train", "--csv", str(tmp_path / "data.csv"), "--target", "label",
                  "--arch", "2-8:relu-1:sigmoid", "--loss", "bce", "--epochs", "30", "--json")
    assert old.returncode == 0 and json.loads(old.stdout) == json.loads(run.stdout) | {
        "seconds": json.loads(old.stdout)["seconds"]}
    assert "--target is now --label" in old.stderr


def test_version_list_help_and_one_line_usage_errors(env):
    from symprop import __version__

    assert symprop(env, "--version").stdout.strip() == f"symprop {__version__}"
    listed = symprop(env, "list").stdout
    for name in ("relu", "leaky_relu", "[alpha=0.01]", "huber", "[delta=1]", "adam",
                 "beta1=0.9", "iris", "4-8:relu-3:softmax (ce)", "a formula in x"):
        assert name in listed, name
    only = symprop(env, "list", "losses").stdout
    assert "ce" in only and "relu" not in only and only.startswith("losses:")
    shown = " ".join(symprop(env, "train", "--help").stdout.split())  # unwrapped
    assert "(default: 200)" in shown and "--label COLUMN" in shown and "--device" in shown
    # a default of 0 is said too (0 == False: the formatter tests by identity)
    assert "the shuffling (default: 0)" in shown and "sgd's momentum (default: 0.0)" in shown
    kernels = " ".join(symprop(env, "kernels", "--help").stdout.split())
    assert "train's default too) (default: adam)" in kernels
    for bad in (["train", "--epochs", "x"], ["nonsense"], ["sweep", "--arch"], []):
        run = symprop(env, *bad)
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, bad
        assert "error:" in run.stderr and "--help" in run.stderr


def run_alone(env, folder, code: str) -> subprocess.CompletedProcess:
    """Python ``code`` run in ``folder`` (where exported modules are), symprop's checkout
    off the path; it must succeed."""
    clean = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                            text=True, env=clean, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def test_kernels_writes_standalone_modules(env, tmp_path):
    run = symprop(env, "kernels", "4-8:relu-3:softmax", "--loss", "ce", "--target", "cpu",
                  "--optimizer", "adam", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    for name in ("network.py", "activations.py"):
        source = (tmp_path / name).read_text()
        assert "relu" in source and "Generated by symprop" in source
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
        assert imported <= {"math", "numpy", "numba"}, imported
    # The network module runs on its own, with no symprop on the path.
    check = ("import numpy as np, network; X = np.ones((2, 4), np.float32); "
             "Y = np.eye(3, dtype=np.float32)[[0, 2]]; "
             "p = [np.full((4, 8), .1, np.float32), np.zeros(8, np.float32), "
             "np.full((8, 3), .1, np.float32), np.zeros(3, np.float32)]; "
             "g = [np.empty_like(a) for a in p]; print(network.gradients(X, Y, *p, *g))")
    result = run_alone(env, tmp_path, check)
    assert abs(float(result.stdout) - 1.0986122886681098) < 1e-5  # log 3: uniform softmax


def usage_data(doc: str) -> str:
    """Python that makes the arrays a module's usage section names, from the shapes it
    lists: data, weights (gamma ones, biases and betas zeros), running statistics."""
    shapes = re.findall(r"(\w+) \(([\d, ]+)\)", doc[doc.index("shapes"):].splitlines()[0])
    lines = ["import numpy as np", "rng = np.random.default_rng(0)",
             "X = rng.standard_normal((40, 4)).astype(np.float32)",
             "Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 40)]",
             "hp_lr, hp_beta1, hp_beta2, hp_eps, hp_weight_decay = 0.01, 0.9, 0.999, 1e-8, 0"]
    for name, shape in shapes:
        fill = {"W": "0.3 * rng.standard_normal(({}))", "g": "np.ones(({}))"}.get(
            name[0], "np.zeros(({}))").format(shape)
        lines.append(f"{name} = ({fill}).astype(np.float32)")
        if name[0] == "g":  # a batch normalization's running mean and variance
            lines += [f"RM{name[1:]} = np.zeros(({shape}), np.float32)",
                      f"RV{name[1:]} = np.ones(({shape}), np.float32)"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("arch", ["4-8:relu-3:softmax", "4-8:relu-bn-[8:relu]-3:softmax"])
def test_an_exported_modules_usage_runs_as_written_without_symprop(env, tmp_path, arch):
    # the code block of the module's docstring, run as it stands after the data it names
    run = symprop(env, "kernels", arch, "--loss", "ce", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    doc = ast.get_docstring(ast.parse((tmp_path / "network.py").read_text()))
    usage = doc[doc.index("Usage"):].splitlines()[1:]
    code = "\n".join(line[4:] for line in usage if line.startswith("    ")
                     and not line.strip().startswith(("X = ...", "Y = ...")))
    check = (usage_data(doc) + code + "\nassert status == 0 and batches == 2 and step == 2"
             "\nprint(mean_loss)")
    result = run_alone(env, tmp_path, check)
    assert 0 < float(result.stdout) < 5


def test_derive_and_kernels_with_normalization_layers(env, tmp_path):
    derived = symprop(env, "derive", "net", "4-8:relu-bn-[8:relu]-3:softmax", "--loss", "ce",
                      "--format", "text")
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.startswith("Backpropagation for 4-8:relu-bn-[8:relu]-3:softmax")
    cuda = symprop(env, "kernels", "4-8:relu-bn-[8:relu]-3:softmax", "--target", "cuda",
                   "--out", str(tmp_path / "k"))
    assert cuda.returncode == 0, cuda.stderr
    source = (tmp_path / "k" / "network.py").read_text()
    assert "def batchnorm_forward(" in source and "launch_sum_8(" in source


def test_exported_block_network_runs_without_symprop(env, tmp_path):
    """The exported module of a network with BatchNorm, LayerNorm and a residual block
    imports nothing of symprop and gives the gradients Network gives."""
    arch = "4-8:relu-bn-[8:tanh-ln]-3:softmax"
    run = symprop(env, "kernels", arch, "--loss", "ce", "--dtype", "float64",
                  "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert "Parameters in argument order: W1, b1, g2, be2, W2, b2, g5, be5, W3, b3" in (
        tmp_path / "network.py").read_text()
    net = sp.Network(layers_from_specs(parse_network(arch)), loss="ce", dtype="float64",
                     seed=2)
    rng = np.random.default_rng(0)
    net.set_params([(rng.normal(0, 0.5, W.shape), rng.normal(0, 0.3, b.shape))
                    for W, b in net.params])
    X, y = rng.normal(size=(6, 4)), np.array([0, 1, 2, 1, 0, 2])
    arrays = [array for pair in net.params for array in pair] + list(net._running)
    np.savez(tmp_path / "arrays.npz", X=X, Y=np.eye(3)[y],
             **{f"a{number}": array for number, array in enumerate(arrays)})
    check = ("import numpy as np, network; f = np.load('arrays.npz'); "
             f"a = [f[f'a{{i}}'] for i in range({len(arrays)})]; "
             "g = [np.empty_like(p) for p in a[:-2]]; "
             "network.gradients(f['X'], f['Y'], *a, *g); np.savez('grads.npz', *g)")
    run_alone(env, tmp_path, check)
    exported = np.load(tmp_path / "grads.npz")
    expected = [array for pair in net.gradients(X, y) for array in pair]
    for number, array in enumerate(expected):
        np.testing.assert_allclose(exported[f"arr_{number}"], array, rtol=1e-12, atol=1e-15)


def test_train_folds_reports_each_fold_and_their_mean_and_spread(env):
    import statistics

    from symprop.sweeps.grid import expand
    from symprop.sweeps.task import train_run

    run = symprop(env, "train", "--folds", "5", "--epochs", "40", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["folds"] == 5 and len(summary["per_fold"]) == 5
    assert sum(rows["validation"] for rows in summary["rows"]) == 150  # each row tested once
    accuracy = [fold["accuracy"] for fold in summary["per_fold"]]
    assert summary["mean"]["accuracy"] == pytest.approx(statistics.fmean(accuracy))
    assert summary["std"]["accuracy"] == pytest.approx(statistics.stdev(accuracy))
    # each fold's value is that fold's own evaluation, as the sweep's run computes it
    X, y = sp.load_dataset("iris")
    config = {"arch": "4-8:relu-3:softmax", "loss": "ce", "optimizer": "adam", "lr": 0.01,
              "batch_size": 16, "epochs": 40}
    own = [train_run(r, (X, y))["validation"] for r in expand(config, ["iris"], [0], 5)]
    for got, want in zip(summary["per_fold"], own, strict=True):
        assert got == pytest.approx(want, rel=1e-6)
    text = symprop(env, "train", "--folds", "5", "--epochs", "40").stdout
    assert f"accuracy {summary['mean']['accuracy']:.4f} +/- " in text and "over 5 folds" in text
    for bad, message in ((["--folds", "1x"], "invalid int"), (["--folds", "0"], "at least 2"),
                         (["--folds", "3", "--plot", "x.png"], "--plot needs one trained")):
        refused = symprop(env, "train", *bad)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
