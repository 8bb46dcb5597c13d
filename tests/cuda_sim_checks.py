"""target="cuda" against target="cpu", run under Numba's CUDA simulator.

Run by tests/test_cuda_target.py in its own process with NUMBA_ENABLE_CUDASIM=1 (the flag
must be set before numba is imported). Prints one JSON object of measured differences; the
test asserts on them. Sizes stay tiny: the simulator runs every GPU thread as a Python thread.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import symprop as sp
from symprop.architecture import parse_architecture
from symprop.codegen.build import network_source
from symprop.errors import TrainingError


def max_param_diff(a, b) -> float:
    """Largest difference of two networks' parameters, relative where they exceed 1."""
    return max(float((np.abs(x - y) / np.maximum(1.0, np.abs(x))).max())
               for pa, pb in zip(a.params, b.params, strict=True)
               for x, y in zip(pa, pb, strict=True))


def gradient_diff(cpu, gpu, X, y) -> float:
    """Largest difference of the two networks' gradients on (X, y)."""
    grads = [net.gradients(X, y) for net in (cpu, gpu)]
    return max(float(np.abs(a - b).max()) for ga, gb in zip(*grads, strict=True)
               for a, b in zip(ga, gb, strict=True))


def pair(layers, loss, dtype, seed=1):
    return [sp.Network([sp.Dense(*spec) for spec in layers], loss=loss, dtype=dtype,
                       target=target, seed=seed) for target in ("cpu", "cuda")]


def adam_float64(results):
    """Shuffled mini-batches (one short), Adam, global-norm clipping, validation data."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((14, 4)), rng.integers(0, 3, 14)
    cpu, gpu = pair([(4, 6, "tanh"), (6, 3, "softmax")], "ce", "float64")
    options = dict(epochs=2, batch_size=8, optimizer=sp.Adam(0.05), verbose=False,
                   clip_norm=0.5, metrics_each_epoch=False, validation_data=(X[:4], y[:4]))
    initial = cpu.params[0][0]
    histories = [net.fit(X, y, **options) for net in (cpu, gpu)]
    results["adam_f64_param_diff"] = max_param_diff(cpu, gpu)
    results["adam_f64_fused"] = bool(gpu._module(sp.Adam(0.05)).FUSED)
    results["adam_f64_loss_diff"] = max(abs(a - b) for key in ("loss", "val_loss")
                                        for a, b in zip(histories[0][key], histories[1][key],
                                                            strict=True))
    # the running accuracy: each row's output as its batch saw it, kept on the device
    results["adam_f64_running_accuracy"] = [history["accuracy"] for history in histories]
    results["adam_f64_predict_diff"] = float(np.abs(cpu.predict(X) - gpu.predict(X)).max())
    results["adam_f64_gradient_diff"] = gradient_diff(cpu, gpu, X, y)
    results["adam_f64_moved"] = float(np.abs(cpu.params[0][0] - initial).max())


def layered_training(results):
    """The per-layer kernels (what networks too big for epoch_fused train with), by turning
    the fused epoch off in this process's module: the same weights as the CPU. On a GPU with
    CuPy, once with cuBLAS and once with the generated tiled product."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 3)), np.eye(2)[rng.integers(0, 2, 10)]
    for name in ("cupy", "tiled"):
        cpu, gpu = pair([(3, 5, "softplus"), (5, 2, "softmax")], "mse", "float64")
        module = gpu._module(sp.Adam(0.05))
        results["layered_was_fused"] = bool(module.FUSED)
        results["layered_used_cupy"] = bool(module.USE_CUPY)
        module.FUSED = False
        module.USE_CUPY = module.USE_CUPY and name == "cupy"
        try:
            histories = [net.fit(X, y, epochs=2, batch_size=4, optimizer=sp.Adam(0.05),
                                 verbose=False, clip_norm=0.3) for net in (cpu, gpu)]
        finally:
            module.FUSED, module.USE_CUPY = True, results["layered_used_cupy"]
        results[f"layered_{name}_param_diff"] = max_param_diff(cpu, gpu)
        results[f"layered_{name}_running_diff"] = max(
            abs(a - b) for key in ("loss", "mae", "r2")
            for a, b in zip(histories[0][key], histories[1][key], strict=True))


def momentum_float32(results):
    """float32, SGD with momentum and weight decay, an elementwise output (sigmoid, bce)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    cpu, gpu = pair([(3, 5, "elu"), (5, 1, "sigmoid")], "bce", "float32")
    optimizer = dict(lr=0.1, momentum=0.9, weight_decay=0.01)
    for net in (cpu, gpu):
        net.fit(X, y, epochs=2, batch_size=6, optimizer=sp.SGD(**optimizer), verbose=False,
                metrics_each_epoch=False)
    results["momentum_f32_param_diff"] = max_param_diff(cpu, gpu)
    evaluations = [net.evaluate(X, y) for net in (cpu, gpu)]
    results["momentum_f32_eval"] = evaluations


def adam_float32(results):
    """float32 Adam with a beta2 that rounds to 1 in float32: the device's update takes the
    CPU's float32 scalars and its 1 - beta2 made in double, in the fused epoch and in the
    per-layer kernels."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3)).astype(np.float32)
    y = rng.integers(0, 2, 12)
    optimizer = dict(lr=0.01, beta2=1 - 1e-8)
    for path in ("fused", "layered"):
        cpu, gpu = pair([(3, 5, "tanh"), (5, 2, "softmax")], "ce", "float32")
        module = gpu._module(sp.Adam(**optimizer))
        module.FUSED = path == "fused"
        try:
            for net in (cpu, gpu):
                net.fit(X, y, epochs=2, batch_size=6, optimizer=sp.Adam(**optimizer),
                        verbose=False, metrics_each_epoch=False)
        finally:
            module.FUSED = True
        results[f"adam_f32_{path}_param_diff"] = max_param_diff(cpu, gpu)


def non_finite_loss(results):
    """A loss that overflows mid-epoch stops both targets at the same batch, same weights."""
    X = np.linspace(-1, 1, 12).reshape(6, 2)
    y = np.linspace(0, 1, 6)
    messages, nets = [], pair([(2, 3, "relu"), (3, 1, "identity")], "mse", "float64", seed=3)
    for net in nets:
        try:  # the simulator computes with numpy scalars, which warn as they overflow
            net.fit(X, y, epochs=1, batch_size=2, optimizer=sp.SGD(1e200), verbose=False,
                    shuffle=False, metrics_each_epoch=False)
            messages.append("no error")
        except TrainingError as exc:
            messages.append(str(exc))
    results["nan_messages"] = messages
    results["nan_param_diff"] = max_param_diff(*nets)


def non_finite_update(results):
    """Adam's second moment overflows (a gradient of 1e200 under a finite mae loss) in the
    second batch: both targets stop there, on the fused and the per-layer path, with the
    weights from after the first batch (fit restores its copy and replays the first)."""
    X = np.array([[0.5, -1.0], [1.0, 0.25], [1e200, 2e200], [3e200, 1e200]])
    y = np.array([0.5, -0.5, 1.0, 0.0])
    options = dict(epochs=1, batch_size=2, optimizer=sp.Adam(1e-3), verbose=False,
                   shuffle=False, metrics_each_epoch=False)
    for path in ("fused", "layered"):
        nets = pair([(2, 3, "relu"), (3, 1, "identity")], "mae", "float64", seed=3)
        reference = pair([(2, 3, "relu"), (3, 1, "identity")], "mae", "float64", seed=3)[0]
        reference.fit(X[:2], y[:2], **options)  # the first batch alone
        module = nets[1]._module(sp.Adam(1e-3))
        was_fused = bool(module.FUSED)
        module.FUSED = was_fused and path == "fused"
        messages = []
        try:
            for net in nets:
                try:
                    net.fit(X, y, **options)
                    messages.append("no error")
                except TrainingError as exc:
                    messages.append(str(exc))
        finally:
            module.FUSED = was_fused
        results[f"update_{path}_was_fused"] = was_fused
        results[f"update_{path}_messages"] = messages
        results[f"update_{path}_param_diff"] = max_param_diff(*nets)
        results[f"update_{path}_expected_diff"] = max(max_param_diff(net, reference)
                                                      for net in nets)


def replay_from_an_earlier_epoch(results):
    """fit's copy taken in epoch 1 outlives two epochs' syncs (on the GPU: the host arrays,
    copied before the first sync) and the replay after a failure reported in epoch 3 brings
    both targets to the same weights, those after epoch 3's first batch."""
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    options = dict(batch_size=4, optimizer=sp.Adam(0.05), verbose=False,
                   metrics_each_epoch=False)
    nets = pair([(3, 4, "tanh"), (4, 2, "softmax")], "ce", "float64", seed=2)
    reference = pair([(3, 4, "tanh"), (4, 2, "softmax")], "ce", "float64", seed=2)[0]
    messages = []
    from symprop.runtime import training

    # the wrapper counts calls as epochs: the CPU's fit one epoch a call, as the GPU's
    several, training._epochs_at_once = training._epochs_at_once, lambda *args: 1
    for net, stop_before in ((nets[0], False), (nets[1], False), (reference, True)):
        module = net._module(sp.Adam(0.05))
        real, calls = module.train_epoch, []

        def failing(X, Y, perm, batch_size, *args, _real=real, _calls=calls,
                    _stop=stop_before, **kwargs):
            _calls.append(len(perm))
            if len(_calls) != 3:
                return _real(X, Y, perm, batch_size, *args, **kwargs)
            rows = batch_size if _stop else 2 * batch_size
            batches, step, _ = _real(X, Y, perm[:rows], batch_size, *args, **kwargs)
            return (batches, step, 0) if _stop else (1, step, 2)

        module.train_epoch = failing
        try:
            net.fit(X, y, epochs=3 if stop_before else 5, **options)
            messages.append("no error")
        except TrainingError as exc:
            messages.append(str(exc))
        finally:
            module.train_epoch = real
    training._epochs_at_once = several
    results["replay_messages"] = messages[:2]
    results["replay_param_diff"] = max_param_diff(*nets)
    results["replay_expected_diff"] = max(max_param_diff(net, reference) for net in nets)


def load_standalone(target, momentum=False):
    """The module `symprop kernels` writes for a 3-4-2 network, imported from a file."""
    layers = parse_architecture("3-4:sigmoid-2:softmax")
    source = network_source(layers, "ce", "sgd", {"momentum": momentum}, "float64", "auto",
                            "test", target=target, direct_blas=False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"standalone_{target}_network.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return source, module


def standalone_module(results):
    """The module `symprop kernels --target cuda` writes runs alone and agrees with the CPU."""
    source, module = load_standalone("cuda")
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((5, 3)), np.eye(2)[rng.integers(0, 2, 5)]
    params = [rng.standard_normal(s) for s in ((3, 4), (4,), (4, 2), (2,))]
    grads = [np.empty_like(p) for p in params]
    loss = module.gradients(X, Y, *params, *grads)
    net = sp.Network([sp.Dense(3, 4, "sigmoid"), sp.Dense(4, 2, "softmax")], loss="ce",
                     dtype="float64")
    net.set_params([(params[0], params[1]), (params[2], params[3])])
    expected = net.gradients(X, Y.argmax(axis=1))
    results["standalone_gradient_diff"] = max(
        float(np.abs(g - e).max())
        for g, e in zip(grads, [a for p in expected for a in p], strict=True))
    results["standalone_loss"] = [loss, net.evaluate(X, Y.argmax(axis=1))["loss"]]
    results["standalone_imports_cupy"] = "cupy" in source

    # train_epoch on host (numpy) arrays, as a user of the exported module calls it: the
    # trained weights and momentum must come back into those arrays, as on the CPU.
    _, cpu_module = load_standalone("cpu", momentum=True)
    _, cuda_module = load_standalone("cuda", momentum=True)
    trained = []
    for mod in (cpu_module, cuda_module):
        weights = [p.copy() for p in params]
        velocity = [np.zeros_like(p) for p in params]
        losses = np.zeros(3)
        out = mod.train_epoch(X, Y, np.array([4, 0, 3, 1, 2]), 2, 0, 0.0, losses, *weights,
                              *velocity, 0.5, 0.9, 0.0)
        trained.append((weights, velocity, losses, [int(v) for v in out]))
    (cw, cv, cl, co), (gw, gv, gl, go) = trained
    results["standalone_train_diff"] = max(
        float(np.abs(a - b).max()) for a, b in zip(cw + cv + [cl], gw + gv + [gl], strict=True))
    results["standalone_train_moved"] = max(float(np.abs(a - b).max())
                                            for a, b in zip(gw, params, strict=True))
    results["standalone_train_returns"] = [co, go]


def dropout(results):
    """Dropout on the device: masks applied in training only (gradients and predictions
    equal the CPU's), reproducible from the seed, keeping about `keep` of the units."""
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)

    def gpu_net(rate, seed=7):
        return sp.Network([sp.Dense(3, 6, "relu", dropout=rate), sp.Dense(6, 2, "softmax")],
                          loss="ce", dtype="float64", target="cuda", seed=seed)

    cpu = sp.Network([sp.Dense(3, 6, "relu", dropout=0.5), sp.Dense(6, 2, "softmax")],
                     loss="ce", dtype="float64", seed=7)
    first, second, plain = gpu_net(0.5), gpu_net(0.5), gpu_net(0.0)
    grads = [net.gradients(X, y) for net in (cpu, first)]
    results["dropout_gradient_diff"] = max(
        float(np.abs(a - b).max()) for ga, gb in zip(*grads, strict=True)
        for a, b in zip(ga, gb, strict=True))
    for net in (first, second, plain):
        net.fit(X, y, epochs=2, batch_size=4, optimizer=sp.SGD(0.1), verbose=False,
                metrics_each_epoch=False)
    results["dropout_same_seed_diff"] = max_param_diff(first, second)
    results["dropout_vs_plain_diff"] = max_param_diff(first, plain)
    cpu.set_params(first.params)
    results["dropout_predict_diff"] = float(np.abs(cpu.predict(X) - first.predict(X)).max())
    module = first._module(sp.SGD(0.1))
    A = np.ones((64, 8))
    AD, M = module.cuda.to_device(np.zeros_like(A)), module.cuda.to_device(np.zeros_like(A))
    module.dropout_mask[8, 64](module.cuda.to_device(A), AD, M, 64, 0.7,
                               module._rng_states(64 * 8))
    mask = M.copy_to_host()
    # A larger batch in a later fit needs more streams: new ones must not replay the old.
    module.seed_rng(5)
    narrow = module._rng_states(4).copy_to_host()
    wider = module._rng_states(8).copy_to_host()
    results["dropout_wider_streams_replay"] = bool((wider[:4] == narrow).all())
    results["dropout_kept"] = float((mask > 0).mean())
    results["dropout_scales"] = sorted({round(float(v), 9) for v in mask.ravel()})

    # A wider layer after a narrower one: its masks must not replay the narrower layer's
    # (streams re-created from the seed for the wider layer once did exactly that).
    wide = sp.Network([sp.Dense(3, 4, "relu", dropout=0.5), sp.Dense(4, 8, "relu", dropout=0.5),
                       sp.Dense(8, 2, "softmax")], loss="ce", dtype="float64", target="cuda",
                      seed=3)
    module, masks = wide._module(sp.SGD(0.1)), []
    kernel = module.dropout_mask

    class Recording:  # dropout_mask[grid, block](...), keeping each mask it draws
        def __getitem__(self, launch):
            def launched(A, AD, M, nb, keep, states):
                kernel[launch](A, AD, M, nb, keep, states)
                masks.append(M.copy_to_host()[:nb].ravel())
            return launched

    module.dropout_mask = Recording()
    try:
        wide.fit(X, y, epochs=1, batch_size=4, optimizer=sp.SGD(0.1), verbose=False,
                 metrics_each_epoch=False, shuffle=False)
    finally:
        module.dropout_mask = kernel
    first, second = masks[0], masks[1]  # batch 1: layer 1 (4 wide), then layer 2 (8 wide)
    results["dropout_layers_masks"] = [len(masks), int(first.size), int(second.size)]
    results["dropout_layers_same_draws"] = bool(np.array_equal(first, second[:first.size]))


def validation_same_inputs(results):
    """Validation data with the training inputs but other targets: the device copies fit()
    reuses must be those of the validation pair, not of the training pair (same X)."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((10, 3))
    y_train, y_val = rng.integers(0, 2, 10), rng.integers(0, 2, 10)
    cpu, gpu = pair([(3, 4, "tanh"), (4, 2, "softmax")], "ce", "float64")
    histories = [net.fit(X, y_train, epochs=2, batch_size=5, optimizer=sp.SGD(0.1),
                         verbose=False, validation_data=(X, y_val), shuffle=False)
                 for net in (cpu, gpu)]
    results["validation_histories"] = [{key: h[key] for key in ("loss", "val_loss")}
                                       for h in histories]


def blocks(results):
    """BatchNorm, LayerNorm and a residual block on the device: Adam through shuffled
    batches (one short), then gradients, running statistics and eval-mode predictions, as
    the CPU gives them (float64)."""
    from symprop.blocks import parse_network
    from symprop.runtime.network_parts import layers_from_specs

    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((11, 3)), rng.integers(0, 2, 11)
    specs = parse_network("3-4:tanh-bn(momentum=0.3)-[4:relu-ln]-ln-2:softmax")
    cpu, gpu = (sp.Network(layers_from_specs(specs), loss="ce", dtype="float64",
                           target=target, seed=2) for target in ("cpu", "cuda"))
    histories = [net.fit(X, y, epochs=2, batch_size=4, optimizer=sp.Adam(0.05),
                         verbose=False) for net in (cpu, gpu)]
    results["blocks_param_diff"] = max_param_diff(cpu, gpu)
    results["blocks_running_diff"] = max(float(np.abs(a - b).max())
                                         for a, b in zip(cpu._running, gpu._running,
                                                         strict=True))
    results["blocks_running_moved"] = float(np.abs(cpu._running[0]).max())
    results["blocks_loss_diff"] = max(abs(a - b) for a, b in
                                      zip(histories[0]["loss"], histories[1]["loss"],
                                          strict=True))
    results["blocks_predict_diff"] = float(np.abs(cpu.predict(X) - gpu.predict(X)).max())
    results["blocks_gradient_diff"] = gradient_diff(cpu, gpu, X, y)
    results["blocks_fused"] = bool(gpu._module(sp.Adam(0.05)).FUSED)


def confident_rows(results):
    """The epoch's cross-entropy of rows whose right logit leads by 30 (a loss of 2 e^-30,
    4e-13), from the fused epoch kernel and from the per-layer kernels: top + log(sum)
    kept 0.6% of it; log1p of the other columns' share keeps it to rounding."""
    gap = 30.0
    X, y = np.ones((4, 1)), np.full(4, 2)  # the right logit last: the others come first
    net = sp.Network([sp.Dense(1, 3, "softmax")], loss="ce", dtype="float64", target="cuda")
    net.set_params([(np.array([[0.0, 0.0, gap]]), np.zeros(3))])
    module = net._module(sp.SGD(1e-3))
    losses = {}
    for path in ("fused", "layered"):
        module.FUSED = path == "fused"
        try:
            history = net.fit(X, y, epochs=1, batch_size=4, optimizer=sp.SGD(1e-3),
                              verbose=False, metrics_each_epoch=False)
        finally:
            module.FUSED = True
        losses[path] = history["loss"][0]
    results["confident_rows_losses"] = losses
    results["confident_rows_expected"] = float(np.log1p(2 * np.exp(-gap)))


def benchmark_contender(results):
    """The GPU benchmark's symprop-cuda contender, through the suite's own timing code."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import contenders, timing
    from benchmarks.cases import Case

    simulated = Case("simulated", (3, 4, 1), ("relu", "sigmoid"), "bce", 4, 0.05, 2, 2)
    case = timing.run_case(simulated, steps=2, repeats=1, classes=contenders.GPU,
                           memory=False, log=lambda *args: None, reference="symprop-cuda")
    results["benchmark_rows"] = {name: {"status": entry["status"],
                                        "ratio": entry.get("ratio_vs_symprop"),
                                        "step_s": entry.get("step_s")}
                                 for name, entry in case["results"].items()}


CHECKS = {"adam_float64": adam_float64, "layered_training": layered_training,
          "momentum_float32": momentum_float32, "adam_float32": adam_float32,
          "non_finite_loss": non_finite_loss, "non_finite_update": non_finite_update,
          "replay_from_an_earlier_epoch": replay_from_an_earlier_epoch,
          "standalone_module": standalone_module,
          "dropout": dropout, "validation_same_inputs": validation_same_inputs,
          "blocks": blocks, "confident_rows": confident_rows,
          "benchmark_contender": benchmark_contender}

if __name__ == "__main__":
    from numba import config

    warnings.simplefilter("ignore", RuntimeWarning)
    found = {"simulator": bool(config.ENABLE_CUDASIM),
             "cupy_installed": importlib.util.find_spec("cupy") is not None}
    for name in sys.argv[1:] or CHECKS:
        CHECKS[name](found)
    print(json.dumps(found))
