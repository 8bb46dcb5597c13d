"""target="cuda": the generated @cuda.jit module against the CPU module, in a separate
process under Numba's CUDA simulator (CI has no GPU; the flag must be set before numba is
imported) and, where a GPU is present, on it; and the errors where no GPU is present."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symprop as sp
from symprop.errors import SympropError

HERE = Path(__file__).parent


def no_gpu() -> bool:
    from numba import cuda

    return not cuda.is_available()


@pytest.fixture(scope="module", params=["simulator", "gpu"])
def checked(request):
    """The checks' measurements, from the simulator (always) and from a real GPU (where one
    is present: the same assertions then hold for the compiled kernels, cuBLAS included)."""
    if request.param == "gpu" and no_gpu():
        pytest.skip("no GPU here: the checks ran in the simulator only")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if request.param == "simulator":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    run = subprocess.run([sys.executable, str(HERE / "cuda_sim_checks.py")], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    found["mode"] = request.param
    return found


def test_the_checks_ran_where_asked(checked):
    assert checked["simulator"] is (checked["mode"] == "simulator")


def test_float64_adam_training_matches_the_cpu(checked):
    """Shuffled batches (one short), Adam, clipping, validation data: same weights, losses,
    predictions and gradients as the CPU, to float64 rounding."""
    assert checked["adam_f64_moved"] > 1e-2  # training changed the weights
    for key in ("adam_f64_param_diff", "adam_f64_loss_diff", "adam_f64_predict_diff",
                "adam_f64_gradient_diff"):
        assert checked[key] < 1e-12, key
    cpu, gpu = checked["adam_f64_running_accuracy"]
    assert cpu == gpu and len(cpu) == 2 and 0 < sum(cpu)


def test_small_networks_train_through_the_fused_epoch_kernel(checked):
    assert checked["adam_f64_fused"] is True and checked["layered_was_fused"] is True


def test_per_layer_kernels_train_like_the_cpu(checked):
    """The path of networks too big for the fused kernel (cuBLAS or the tiled product)."""
    assert checked["layered_cupy_param_diff"] < 1e-12
    assert checked["layered_tiled_param_diff"] < 1e-12
    # the running loss, MAE and R^2 from the outputs the per-layer path kept
    assert checked["layered_cupy_running_diff"] < 1e-12
    assert checked["layered_tiled_running_diff"] < 1e-12
    # On a GPU with CuPy (the GPU extra installs it) the products go through cuBLAS.
    assert checked["layered_used_cupy"] is (checked["mode"] == "gpu"
                                            and checked["cupy_installed"])


def test_a_confident_rows_cross_entropy_keeps_its_digits(checked):
    """Both the fused epoch kernel and the per-layer loss kernel (one row function)."""
    expected = checked["confident_rows_expected"]
    for path, loss in checked["confident_rows_losses"].items():
        assert abs(loss - expected) < 1e-6 * expected, (path, loss, expected)


@pytest.mark.parametrize("path", ["fused", "layered"])
def test_float32_adam_takes_the_cpus_scalars(checked, path):
    """float32 on both sides, 1 - beta2 made in double: with a beta2 that is 1 in float32,
    a loop computing 1 - beta2 itself would step about 1e4 times too far."""
    assert checked[f"adam_f32_{path}_param_diff"] < 1e-5


def test_float32_momentum_training_matches_the_cpu(checked):
    assert checked["momentum_f32_param_diff"] < 1e-5
    cpu, gpu = checked["momentum_f32_eval"]
    assert gpu["loss"] == pytest.approx(cpu["loss"], rel=1e-5)
    assert gpu["accuracy"] == cpu["accuracy"]


def test_normalization_layers_and_residual_blocks_train_like_the_cpu(checked):
    """BatchNorm (batch statistics, running mean and variance), LayerNorm and a residual
    block through the per-layer kernels: weights, losses, running statistics, eval-mode
    predictions and gradients as on the CPU."""
    assert checked["blocks_fused"] is False  # not the chain-only fused epoch kernel
    assert checked["blocks_running_moved"] > 1e-2
    for key in ("blocks_param_diff", "blocks_running_diff", "blocks_loss_diff",
                "blocks_predict_diff", "blocks_gradient_diff"):
        assert checked[key] < 1e-12, key


def test_non_finite_loss_stops_at_the_same_batch_with_the_same_weights(checked):
    cpu, gpu = checked["nan_messages"]
    assert "epoch 1, batch 2 of 3" in cpu
    assert gpu == cpu
    assert checked["nan_param_diff"] < 1e-12


def test_an_update_that_overflows_restores_the_weights_from_before_it(checked):
    """Fused and per-layer paths: the same batch and message as the CPU, and the weights
    from after the first batch (restored and replayed), equal to the CPU's."""
    assert checked["update_fused_was_fused"]
    for path in ("fused", "layered"):
        cpu, gpu = checked[f"update_{path}_messages"]
        assert cpu == gpu and "update of epoch 1, batch 2 of 2" in cpu, (path, cpu, gpu)
        assert "non-finite" in cpu and "before that batch" in cpu
        assert checked[f"update_{path}_param_diff"] < 1e-12
        assert checked[f"update_{path}_expected_diff"] < 1e-12


def test_the_replay_from_an_earlier_epochs_copy_matches_the_cpu(checked):
    cpu, gpu = checked["replay_messages"]
    assert cpu == gpu and "epoch 3, batch 2 of 2" in cpu
    assert checked["replay_param_diff"] < 1e-12
    assert checked["replay_expected_diff"] < 1e-12


def test_standalone_cuda_module_matches_the_cpu(checked):
    assert checked["standalone_gradient_diff"] < 1e-12
    loss, expected = checked["standalone_loss"]
    assert loss == pytest.approx(expected, rel=1e-12)
    assert checked["standalone_imports_cupy"] is False
    # train_epoch on numpy arrays: trained weights and momentum come back into them.
    assert checked["standalone_train_moved"] > 1e-3
    assert checked["standalone_train_diff"] < 1e-12
    cpu_returns, cuda_returns = checked["standalone_train_returns"]
    assert cuda_returns == cpu_returns == [3, 3, 0]


def test_gpu_benchmark_contender_runs(checked):
    rows = checked["benchmark_rows"]
    assert rows["symprop-cuda"]["status"] == "ok" and rows["symprop-cuda"]["ratio"] == 1.0
    assert rows["symprop-cuda"]["step_s"] > 0
    # Without a GPU, PyTorch's CUDA contenders say why they did not run; with one, they run.
    for name in ("pytorch-cuda", "torch.compile-cuda"):
        if checked["mode"] == "gpu":
            assert rows[name]["status"] == "ok", rows[name]
        else:
            assert rows[name]["status"] == "ok" or "cuda" in rows[name]["status"].lower()


@pytest.mark.skipif(not no_gpu(), reason="a GPU is present")
def test_cuda_without_a_gpu_says_what_is_missing():
    with pytest.raises(SympropError, match="no.*GPU|GPU.*none|driver"):
        sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce", target="cuda")


def test_dropout_on_the_device(checked):
    """Training-only masks (gradients and predictions equal the CPU's), reproducible from the
    seed, changing training, keeping about `keep` of the units scaled by 1/keep."""
    assert checked["dropout_gradient_diff"] < 1e-12
    assert checked["dropout_predict_diff"] < 1e-12
    assert checked["dropout_same_seed_diff"] == 0.0
    assert checked["dropout_vs_plain_diff"] > 1e-3
    assert abs(checked["dropout_kept"] - 0.7) < 0.08  # 512 draws: 4 standard deviations
    assert checked["dropout_scales"] == [0.0, round(1 / 0.7, 9)]
    # Two dropout layers, the second wider: one set of streams, no replayed masks.
    assert checked["dropout_layers_masks"] == [6, 16, 32]  # 3 batches x 2 layers
    assert checked["dropout_layers_same_draws"] is False
    assert checked["dropout_wider_streams_replay"] is False  # re-made streams: new seed


def test_kernels_cli_writes_a_standalone_cuda_module(tmp_path):
    from symprop.cli import main

    assert main(["kernels", "4-8:relu-3:softmax", "--loss", "ce", "--target", "cuda",
                 "--out", str(tmp_path)]) == 0
    source = (tmp_path / "network.py").read_text()
    assert "@cuda.jit" in source and 'target="cuda"' in source
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"math", "numpy", "numba"}, imported


def test_fused_kernel_is_chosen_by_shared_memory_size():
    from symprop.architecture import parse_architecture
    from symprop.codegen.build import network_source

    def fused(arch):
        source = network_source(parse_architecture(arch), "ce", "sgd", {}, "float32", "auto",
                                "x", target="cuda")
        return "FUSED = True" in source, "def epoch_fused" in source

    assert fused("20-32:relu-10:softmax") == (True, True)  # ~15 KB of shared memory
    assert fused("784-512:relu-10:softmax") == (False, False)  # MBs of weights: per layer
    # 12 narrow layers: little shared memory, but 5 + 24 parameter arrays + 24 Adam moments
    # would overflow the kernel's 4 KiB argument block.
    deep = "4-" + "-".join(["4:tanh"] * 11) + "-2:softmax"
    assert fused(deep) == (True, True)  # SGD: 29 arrays
    adam = network_source(parse_architecture(deep), "ce", "adam", {}, "float32", "auto", "x",
                          target="cuda")
    assert "FUSED = False" in adam and "def epoch_fused" not in adam


def test_validation_with_the_training_inputs_uses_its_own_targets(checked):
    cpu, gpu = checked["validation_histories"]
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(gpu[key], cpu[key], rtol=1e-10)
    assert cpu["val_loss"] != cpu["loss"]  # the targets differ, so the losses do


def test_train_command_on_the_device_matches_the_cpu(tmp_path):
    """`symprop train --device cuda` (in the simulator): the same split, weights and losses
    as the CPU's run, to float32 rounding, and the model saved from the device loads."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    runs = {}
    for device in ("cpu", "cuda"):
        device_env = {**env, "NUMBA_ENABLE_CUDASIM": "1"} if device == "cuda" else env
        run = subprocess.run([sys.executable, "-m", "symprop", "train", "--device", device,
                              "--epochs", "1", "--json", "--save", str(tmp_path / device)],
                             env=device_env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        runs[device] = json.loads(run.stdout)
    assert runs["cpu"]["device"] == "cpu" and runs["cuda"]["device"] == "cuda"
    for part in ("train", "test"):
        for key, value in runs["cpu"][part].items():
            assert abs(runs["cuda"][part][key] - value) < 1e-5, (part, key)
    assert abs(runs["cuda"]["history"]["loss"][0] - runs["cpu"]["history"]["loss"][0]) < 1e-5
    saved = [sp.load(tmp_path / f"{device}.npz").params for device in ("cpu", "cuda")]
    for (W_cpu, b_cpu), (W_gpu, b_gpu) in zip(*saved, strict=True):
        np.testing.assert_allclose(W_gpu, W_cpu, atol=1e-5)
        np.testing.assert_allclose(b_gpu, b_cpu, atol=1e-5)
