"""Every example runs, and prints the numbers the notes promise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def env(kernel_cache):
    return {**os.environ, "PYTHONPATH": str(ROOT), "SYMPROP_CACHE_DIR": str(kernel_cache)}


def run(env, script, *args, cwd=None):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args],
                            capture_output=True, text=True, env=env, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_numpy_loop_matches(env):
    out = run(env, "01_numpy_loop.py")
    worst = float(out.strip().splitlines()[-1].split(":")[-1])
    assert worst < 1e-9


def test_pytorch_example(env):
    out = run(env, "02_pytorch_example.py")
    accuracies = [float(line.split()[3]) for line in out.splitlines() if "test accuracy" in line]
    assert len(accuracies) == 2 and abs(accuracies[0] - accuracies[1]) <= 0.02
    assert accuracies[0] > 0.75


def test_iris_project(env, tmp_path):
    out = run(env, "03_iris.py", str(tmp_path / "loss.png"))
    accuracy = float(out.split("test accuracy")[1].split()[0])
    assert accuracy > 0.9
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_three_layer_network(env):
    out = run(env, "04_three_layer.py")
    assert "δ⁽²⁾ = (W⁽³⁾ᵀδ⁽³⁾) ⊙ relu'(z⁽²⁾)" in out
    assert "δ⁽³⁾ = ∂L/∂z⁽³⁾ = ŷ − y" in out
    assert float(out.split("test accuracy")[1].split()[0]) > 0.9


def test_backprop_by_hand(env):
    out = run(env, "05_backprop_by_hand.py")
    assert "dL/dw = -4   dL/dv = -24" in out
    assert "w = 3.4   v = 2.9" in out


def test_vanishing_gradients_and_their_remedies(env, tmp_path):
    """The notes' story: 20 sigmoid layers barely train, their first layer's gradient some
    1e-12 of the last one's; batch normalization or residual blocks train the same depth."""
    out = run(env, "06_vanishing_gradients.py", str(tmp_path / "norms.png"))
    found = {line.split(":")[0].strip(): line for line in out.strip().splitlines()}
    accuracy = {name: float(line.split("accuracy")[1].split(",")[0])
                for name, line in found.items()}
    ratio = {name: float(line.split()[-1]) for name, line in found.items()}
    assert accuracy["plain"] < 0.6 and ratio["plain"] < 1e-8
    assert accuracy["batch norm"] > 0.85 and accuracy["residual"] > 0.8
    assert ratio["batch norm"] > 1e-2 and ratio["residual"] > 1e-2
    assert (tmp_path / "norms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_iris_bonus_challenges(env, tmp_path):
    """Architectures by 5-fold accuracy with its spread, dropout curbing the validation loss
    of a wide network on 45 rows, learning rates from too slow to diverging, and the best
    architecture's decision boundary."""
    out = run(env, "07_iris_bonus_challenges.py", str(tmp_path))
    accuracy = {line.split("accuracy")[0].strip(): line.split("accuracy")[1].split()
                for line in out.splitlines() if "+/-" in line}
    assert len(accuracy) == 4
    notes = accuracy["4-8:relu-3:softmax (the notes')"]
    assert float(notes[0]) > 0.9 and 0 < float(notes[2]) < 0.1
    validation = {line.split(":")[0].strip(): float(line.split("validation loss")[1].split()[0])
                  for line in out.splitlines() if line.strip().startswith("dropout 0.")}
    assert validation["dropout 0.5"] < 0.7 * validation["dropout 0.0"]
    losses = {line.split()[1]: line for line in out.splitlines()
              if line.strip().startswith("lr ")}
    final = {lr: float(line.split("epochs")[1].split(",")[0]) for lr, line in losses.items()
             if "diverged" not in line}
    assert final["0.001"] > final["0.01"] > final["0.1"] and "diverged" in losses["20"]
    for name in ("iris_dropout.png", "iris_learning_rates.png", "iris_boundary.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
