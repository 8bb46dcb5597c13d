"""Smoke test of the benchmark suite (``python -m benchmarks``) on a tiny configuration.

No timing assertions: machines are noisy. It checks the plumbing: a row per contender with
positive times and a ratio to symprop, every contender computing the same SGD updates,
a Markdown table and valid JSON, and the pass/fail logic of the targets.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` run without PYTHONPATH=. or `python -m`
    sys.path.insert(0, str(ROOT))

from benchmarks import contenders, report  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402


def test_tiny_case_end_to_end(tmp_path):
    results = main(["--cases", "tiny", "--steps", "5", "--repeats", "1", "--no-memory",
                    "--no-startup", "--gemm-size", "128", "--out", str(tmp_path)],
                   log=lambda *args: None)
    (case,) = results["cases"]
    rows = case["results"]
    assert set(rows) == set(contenders.BY_NAME)
    ran = [name for name, cls in contenders.BY_NAME.items() if contenders.importable(cls) is None]
    assert "symprop" in ran and "numpy" in ran
    for name in ran:
        entry = rows[name]
        assert entry["status"] == "ok", f"{name}: {entry['status']}"
        assert entry["step_s"] > 0 and entry["samples_per_s"] > 0 and entry["gflops"] > 0
        assert entry["ratio_vs_symprop"] > 0
        # Same data, same initial weights, same SGD steps: float32 rounding apart, equal.
        assert entry["max_abs_diff"] < 1e-4, name
        assert entry["agreement_reference"] == "numpy"
    for name in set(rows) - set(ran):
        assert rows[name]["status"] != "ok"
    assert rows["symprop"]["ratio_vs_symprop"] == 1.0
    assert rows["symprop"]["one_step_fit_s"] > 0

    markdown = (tmp_path / "latest.md").read_text()
    assert "peer / symprop" in markdown
    for name in rows:
        assert f"| tiny | {name} |" in markdown
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["cases"][0]["results"]["symprop"]["ratio_vs_symprop"] == 1.0
    assert data["machine"]["versions"]["numpy"]
    assert data["gemm"]["gflops"] > 0
    # the FMA peak of a core, from the micro-kernel: a GEMM on the usable cores stays under
    # the cores' peak (with room for timing noise on a tiny probe)
    peak = data["fma_peak"]["gflops_per_core"] * data["machine"]["usable_cores"]
    assert 0 < data["gemm"]["gflops"] < 1.2 * peak
    assert "FMA peak" in markdown
    assert any("FMA peak" in t["target"] for t in data["targets"])
    assert {t["status"] for t in data["targets"]} <= {"PASS", "FAIL", "SKIP"}


def test_targets_pass_fail_skip():
    def case(name, torch_ratio, sklearn_ratio=None, gflops=None):
        rows = {"symprop": {"status": "ok", "ratio_vs_symprop": 1.0, "gflops": gflops},
                "pytorch": {"status": "ok", "ratio_vs_symprop": torch_ratio}}
        if sklearn_ratio is not None:
            rows["scikit-learn"] = {"status": "ok", "ratio_vs_symprop": sklearn_ratio}
        return {"case": name, "results": rows}

    results = {"gemm": {"gflops": 100.0},
               "cases": [case("tiny", 150.0, 0.5), case("large", 1.2, gflops=90.0)],
               "startup": {"cold": {"build_s": 2.0}, "warm": {"build_s": 0.7},
                           "derive": {"derive_all_builtins_s": 2.5},
                           "cli_cold": {"wall_s": 3.2}, "cli_warm": {"wall_s": 0.6}}}
    # tiny vs torch, tiny vs sklearn, medium (absent), large vs torch, large GEMM share,
    # large FMA-peak share (no peak measured), cold start, warm start, deriving every
    # built-in, symprop train cold and warm, compile (cold - warm build: 1.3 s), then the
    # JAX ratios and fit against its kernels (neither measured here)
    statuses = [t["status"] for t in report.targets(results)]
    assert statuses == ["PASS", "FAIL", "SKIP", "PASS", "PASS", "SKIP", "PASS", "FAIL", "FAIL",
                        "FAIL", "PASS", "PASS"] + ["SKIP"] * 6
    # measured: tiny JAX 3.5x passes and fit at 0.9 of its kernels fails; large JAX 1.09x
    # fails and fit at 0.96 passes
    results["cases"][0]["results"].update(
        jax={"status": "ok", "ratio_vs_symprop": 3.5},
        **{"symprop-kernels": {"status": "ok", "ratio_vs_symprop": 0.9}})
    results["cases"][1]["results"].update(
        jax={"status": "ok", "ratio_vs_symprop": 1.09},
        **{"symprop-kernels": {"status": "ok", "ratio_vs_symprop": 0.96}})
    by_text = {t["target"].split(":")[0] + (" jax" if "JAX" in t["target"] else " fit"
                                            if "within 5%" in t["target"] else ""): t["status"]
               for t in report.targets(results)}
    assert (by_text["tiny jax"], by_text["large jax"], by_text["tiny fit"],
            by_text["large fit"]) == ("PASS", "FAIL", "FAIL", "PASS")
    # with a peak: 90 GFLOP/s of 2 cores x 60 = 75%, short of 90%
    results.update(fma_peak={"gflops_per_core": 60.0}, machine={"usable_cores": 2})
    assert report.targets(results)[5]["status"] == "FAIL"
    results["fma_peak"]["gflops_per_core"] = 50.0  # 90%
    assert report.targets(results)[5]["status"] == "PASS"
    # with new-architecture runs the compile is theirs: 3.0 - 0.7 s
    results["startup"]["new_arch"] = {"build_s": 3.0}
    (compile_target,) = [t for t in report.targets(results)
                         if "new architecture" in t["target"]]
    assert compile_target["status"] == "FAIL"


def test_new_architectures_are_new_to_the_cache():
    from benchmarks.startup import NETWORK, NEW_ARCHITECTURES, new_architecture

    specs = [new_architecture(NETWORK, k) for k in range(1, NEW_ARCHITECTURES + 1)]
    layers = [json.dumps(spec["layers"]) for spec in specs]
    assert len(set(layers + [json.dumps(NETWORK["layers"])])) == NEW_ARCHITECTURES + 1
    for spec in specs:  # each still a chain: every layer takes the one before's width
        widths = spec["layers"]
        assert all(a[1] == b[0] for a, b in zip(widths, widths[1:], strict=False))


def test_time_format():
    assert report.fmt_time(12.5e-6) == "12.5 us"
    assert report.fmt_time(0.25) == "250.00 ms"
    assert report.fmt_time(3.0) == "3.00 s"
    assert report.fmt_time(None) == "-"


def test_gpu_suite_without_a_gpu_says_why(tmp_path):
    from benchmarks import gpu

    if gpu.missing_gpu() is None:
        import pytest

        pytest.skip("a GPU is present: the suite would measure")
    results = gpu.main(["--out", str(tmp_path)], log=lambda *args: None)
    assert results["cases"] == [] and "CUDA" in results["skipped"]
    text = (tmp_path / "gpu_latest.md").read_text()
    assert "Nothing measured" in text
    assert json.loads((tmp_path / "gpu_latest.json").read_text())["skipped"]


def test_gpu_profile_without_a_gpu_says_why(capsys):
    from benchmarks import gpu, gpu_profile

    if gpu.missing_gpu() is not None:
        gpu_profile.main([])
        assert capsys.readouterr().out.startswith("nothing to profile: no CUDA GPU")
    # The GPU cases time about one MNIST-sized epoch (60,000 rows) per fit.
    for name in ("large", "wide"):
        case = gpu.GPU_CASES[name]
        assert 55_000 < case.steps * case.batch < 61_000, name


class _FixedContender:
    """A contender whose parameters after any run are fixed: enough for agreement()."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def reset(self, params):
        pass

    def run(self, steps):
        return 0.0

    def params(self):
        return [(np.full((2, 2), self.value), np.full(2, self.value))]


def test_agreement_uses_the_first_peer_without_numpy():
    from benchmarks.timing import agreement

    # The GPU suite has no NumPy loop: symprop-cuda is checked against PyTorch CUDA.
    ready = [_FixedContender("symprop-cuda", 1.0), _FixedContender("torch-cuda", 1.5),
             _FixedContender("torch-compiled", 1.25)]
    against, diffs = agreement(ready, None, reference="symprop-cuda")
    assert against == "torch-cuda"
    assert diffs == {"symprop-cuda": 0.5, "torch-cuda": 0.0, "torch-compiled": 0.25}
    # With the NumPy loop present it is the reference, wherever it is in the list.
    ready.append(_FixedContender("numpy", 1.0))
    against, diffs = agreement(ready, None, reference="symprop-cuda")
    assert against == "numpy" and diffs["symprop-cuda"] == 0.0 and diffs["torch-cuda"] == 0.5
    assert agreement(ready[:1], None, reference="symprop-cuda") == (None, {})


def test_compile_profile_names_the_compiled_functions():
    import subprocess

    command = [sys.executable, "-m", "benchmarks.compile_profile", "3-4:tanh-1:sigmoid"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("3-4:tanh-1:sigmoid (bce): derive + render ")
    timed = {line.split()[-1]: float(line.split()[0]) for line in lines[2:]
             if line[:7].strip().replace(".", "").isdigit()}
    assert timed["run"] > 0 and "forward_tanh_narrow4" in timed  # run compiled its kernels
    assert timed["run"] >= timed["forward_tanh_narrow4"]  # inclusive times
    assert any(line.endswith("LLVM within run (exclusive)") for line in lines)
    assert lines[-1].startswith("run()'s slowest passes (inclusive): ")


def test_startup_reports_the_median_run():
    from benchmarks.startup import _median_run

    runs = [{"build_s": 3.0}, {"error": "child exited 1"}, {"build_s": 1.0}, {"build_s": 2.5}]
    assert _median_run(runs) == {"build_s": 2.5}  # failed runs do not count
    assert _median_run([{"error": "a"}, {"error": "b"}]) == {"error": "a"}


def test_fit_memory_bound_measured_in_a_child_and_reported():
    from benchmarks.memory import FIXED_MIB, fit_bound

    run = fit_bound("tiny", 4096)
    assert "error" not in run, run
    assert run["rows"] == 4096 and run["peak_reset"] in (True, False)
    assert run["data_mib"] == (4096 * 20 * 4 + 4096 * 8) / 2**20  # float32 X, int64 labels
    assert run["state_mib"] == 2 * run["model_mib"] > 0  # Adam: two moments
    assert run["bound_mib"] == (run["data_mib"] + 1.5 * (run["model_mib"] + run["state_mib"])
                                + FIXED_MIB)
    # the child's peak is at least what it held before fit: Python, numpy and the data
    assert run["peak_mib"] >= run["baseline_mib"] > run["data_mib"]
    assert run["within"] == (run["peak_mib"] <= run["bound_mib"])
    results = {"gemm": {"gflops": 1.0}, "cases": [], "memory_bound": [run]}
    (target,) = [t for t in report.targets(results) if "peak RSS" in t["target"]]
    assert target["status"] == ("PASS" if run["within"] else "FAIL")
    table = "\n".join(report.memory_bound_rows([run]))
    assert "4,096" in table and f"{run['peak_mib']:.1f}" in table


def test_shuffled_against_in_order_fit(capsys):
    import pytest

    from benchmarks import shuffled

    result = shuffled.main(["--rows", "640", "--repeats", "1"])
    assert set(result) == {"in_order", "shuffled"}
    assert all(np.isfinite(seconds) and seconds > 0 for seconds in result.values())
    printed = capsys.readouterr().out
    assert "shuffle=True" in printed and "shuffled / in order:" in printed
    with pytest.raises(SystemExit):
        shuffled.main(["--rows", "0"])


def test_crosscore_measures_shared_and_local_lines(capsys):
    """benchmarks.crosscore on a few hundred floats and steps: a cost a line for each phase
    shared and local where Numba has two threads (it says so and measures nothing where it
    has one)."""
    import numba
    import pytest

    from benchmarks import crosscore

    result = crosscore.main(["--floats", "256", "--steps", "50", "--repeats", "1"])
    printed = capsys.readouterr().out
    if numba.get_num_threads() < 2 or not result:
        assert "crosscore:" in printed
        return
    assert set(result) == {"read, shared", "read, local", "write, shared", "write, local"}
    assert all(value > 0 for value in result.values())
    assert "ns a line" in printed and "write  shared" in printed
    with pytest.raises(SystemExit):
        crosscore.main(["--floats", "8"])


def test_each_contender_runs_in_processes_of_its_own():
    """A contender prepared in a child (its own data and weights, from the same seeds) is
    driven through the pipe as the contender itself would be; run_case makes fresh
    processes GENERATIONS times, the repeats shared among them."""
    import os

    from benchmarks import timing
    from benchmarks.cases import Case, init_params
    from benchmarks.processes import ContenderProcess

    case = Case("small", (3, 4, 1), ("relu", "sigmoid"), "bce", 4, 0.05, 2, 2)
    first = ContenderProcess(contenders.NumpyLoop, case, rows=8)
    second = ContenderProcess(contenders.NumpyLoop, case, rows=8)
    try:
        pids = {first._child.pid, second._child.pid}
        assert len(pids) == 2 and os.getpid() not in pids
        first.reset()
        assert [(W.shape, b.shape) for W, b in first.params()] == [((3, 4), (4,)), ((4, 1), (1,))]
        for (W, b), (W0, b0) in zip(first.params(), init_params(case), strict=True):
            np.testing.assert_array_equal(W, W0)  # the child's weights: the same seed's
            np.testing.assert_array_equal(b, b0)
        assert first.run(2) > 0
        moved = first.params()
        assert any(not np.array_equal(W, W0) for (W, _), (W0, _) in zip(moved, init_params(case),
                                                                        strict=True))
        second.reset()
        second.run(2)
        for (W, b), (W2, b2) in zip(moved, second.params(), strict=True):
            np.testing.assert_array_equal(W, W2)  # the same rows, the same steps
            np.testing.assert_array_equal(b, b2)
    finally:
        first.close()
        second.close()
    assert first._child.returncode == 0

    results = timing.run_case(case, steps=2, repeats=timing.GENERATIONS + 1,
                              classes=[contenders.Symprop, contenders.NumpyLoop],
                              memory=False, log=lambda *args: None)["results"]
    for name in ("symprop", "numpy"):
        assert len(results[name]["step_s_all"]) == timing.GENERATIONS + 1
        assert results[name]["max_abs_diff"] < 1e-6
    assert results["symprop"]["one_step_fit_s"] > 0


def test_a_contender_process_that_fails_says_why():
    import pytest

    from benchmarks.cases import Case
    from benchmarks.processes import ContenderProcess

    class Nonesuch:
        name = "nonesuch"

    case = Case("small", (3, 4, 1), ("relu", "sigmoid"), "bce", 4, 0.05, 2, 2)
    with pytest.raises(RuntimeError, match=r"exited 1: .*KeyError: 'nonesuch'"):
        ContenderProcess(Nonesuch, case, rows=8)


def test_a_contender_process_that_does_not_reply_in_time_is_killed():
    """A child that takes longer than its reply time (here: any, to prepare) is killed and
    reported as failed; the suite does not wait on it."""
    import pytest

    from benchmarks.cases import Case
    from benchmarks.processes import ContenderProcess

    case = Case("small", (3, 4, 1), ("relu", "sigmoid"), "bce", 4, 0.05, 2, 2)
    began = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"no reply within 0.01 s \(killed\)"):
        ContenderProcess(contenders.NumpyLoop, case, rows=8, reply_seconds=0.01)
    assert time.perf_counter() - began < 30


def test_interleaved_rotates_on_from_the_repeats_before():
    """run_case's later processes carry on the rotation where the earlier ones stopped, so
    that every contender leads in turn over the whole case."""
    from benchmarks.timing import interleaved

    order = []

    class Logged(_FixedContender):
        def collect(self):
            pass

        def run(self, steps):
            order.append(self.name)
            return 1.0

    ready = [Logged(name, 0.0) for name in "abc"]
    times = interleaved(ready, None, steps=2, repeats=2, first_repeat=3)
    assert order == ["a", "b", "c", "b", "c", "a"]
    assert times == {"a": [0.5, 0.5], "b": [0.5, 0.5], "c": [0.5, 0.5]}
    assert interleaved([], None, steps=2, repeats=2) == {}


def test_the_fma_peak_is_measured_at_the_widest_vectors():
    """On an AVX-512 host the micro-kernel's child compiles 512-bit FMAs (LLVM's default on
    Intel's is 256-bit: half the units' rate); the peak is the best chain count's rate."""
    import os
    import subprocess

    import llvmlite.binding as llvm

    from benchmarks import machine

    env = machine.widest_vectors_env()
    assert bool(env) == bool(llvm.get_host_cpu_features().get("avx512f"))
    peak = machine.fma_peak(rounds=20_000, repeats=1)
    assert set(peak["rates"]) == set(machine.FMA_CHAINS)
    assert peak["gflops_per_core"] == max(peak["rates"].values()) > 0
    if not env:
        return
    code = ("import numpy as np; from benchmarks.machine import _fma_kernel; "
            "k = _fma_kernel(256); k(2, np.ones(256, np.float32)); "
            "print(any('zmm' in line and 'vfmadd' in line "
            "for line in list(k.inspect_asm().values())[0].splitlines()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=300)
    assert done.stdout.strip() == "True", done.stderr
