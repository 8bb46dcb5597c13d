"""Targets as pass/fail lines, the Markdown report and the JSON file."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.machine import summary
from benchmarks.timing import GENERATIONS

COLUMNS = ("case", "contender", "time / step", "max/min", "samples/s", "GFLOP/s", "% of GEMM",
           "peer / symprop", "peak RSS MiB", "added MiB", "max abs diff")
STARTUP_COLUMNS = ("run", "interpreter", "import numpy", "import numba", "import symprop",
                   "build (after imports)", "module + gradients", "first fit",
                   "import symprop -> fit end", "process wall")


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _busy(machine: dict) -> bool:
    loads = [machine["load_average"][0], *machine.get("load_average_end", [0])[:1]]
    return max(loads) > 0.5 * (machine["cores"] or 1)


def _fixed(seconds: float | None) -> str:
    if not seconds:
        return "not measurable (below the noise)"
    return f"~{fmt_time(seconds)} (1-step fit minus the time per step)"


def _entry(results: dict, case: str, contender: str) -> dict:
    for item in results["cases"]:
        if item["case"] == case:
            return item["results"].get(contender, {})
    return {}


def _machine_peak(results: dict) -> float | None:
    """The FMA peak of all usable cores (the micro-kernel's rate a core times the cores)."""
    peak = results.get("fma_peak")
    if not peak:
        return None
    return peak["gflops_per_core"] * results["machine"]["usable_cores"]


def targets(results: dict) -> list[dict]:
    """DESIGN.md's and the issues' performance targets, each PASS, FAIL or SKIP (not
    measured)."""
    gemm = results["gemm"]["gflops"]
    startup = results.get("startup") or {}

    def ratio(case, peer):
        return _entry(results, case, peer).get("ratio_vs_symprop")

    large = _entry(results, "large", "symprop").get("gflops")
    peak = _machine_peak(results)
    checks = [
        ("tiny: PyTorch eager time / symprop time >= 100", ratio("tiny", "pytorch"), 100, "x"),
        ("tiny: scikit-learn time / symprop time > 1", ratio("tiny", "scikit-learn"), 1, "x"),
        ("medium: PyTorch eager time / symprop time >= 10", ratio("medium", "pytorch"), 10, "x"),
        ("large: PyTorch eager time / symprop time > 1", ratio("large", "pytorch"), 1, "x"),
        ("large: symprop GFLOP/s / GEMM GFLOP/s >= 0.85",
         large / gemm if large is not None else None, 0.85, ""),
        ("large: symprop GFLOP/s / FMA peak of the cores >= 0.9",
         large / peak if large is not None and peak else None, 0.9, ""),
        ("start-up cold: build after imports <= 3 s",
         (startup.get("cold") or {}).get("build_s"), 3.0, "s"),
        ("start-up warm: build after imports <= 0.5 s",
         (startup.get("warm") or {}).get("build_s"), 0.5, "s"),
        ("deriving every built-in < 2 s",
         (startup.get("derive") or {}).get("derive_all_builtins_s"), 2.0, "s"),
        ("first `symprop train` on empty caches <= 3 s wall",
         (startup.get("cli_cold") or {}).get("wall_s"), 3.0, "s"),
        ("warm `symprop train` <= 1 s wall", (startup.get("cli_warm") or {}).get("wall_s"),
         1.0, "s"),
        ("a new architecture's compile (its build on a used cache - warm build) <= 2 s",
         _compile_s(startup), 2.0, "s"),
        ("tiny: JAX (jit of a lax.scan epoch) time / symprop time >= 3", ratio("tiny", "jax"),
         3, "x"),
        ("medium: JAX time / symprop time >= 2", ratio("medium", "jax"), 2, "x"),
        ("large: JAX time / symprop time >= 1.1", ratio("large", "jax"), 1.1, "x"),
    ] + [
        (f"{case}: fit with its defaults within 5% of the kernels' own time (kernels' time / "
         "fit's >= 0.95)", ratio(case, "symprop-kernels"), 0.95, "")
        for case in ("tiny", "medium", "large")
    ] + [
(f"{run['case']}, {run['rows']:,} rows: fit's peak RSS / (data + 1.5 x (model + "
          f"Adam state) + 300 MiB) <= 1", run["peak_mib"] / run["bound_mib"], 1.0, "ratio")
         for run in results.get("memory_bound") or [] if "peak_mib" in run]
    out = []
    for text, value, threshold, unit in checks:
        if value is None:
            status = "SKIP"
        elif unit in ("s", "ratio"):
            status = "PASS" if value <= threshold else "FAIL"
        elif text.endswith("> 1"):
            status = "PASS" if value > threshold else "FAIL"
        else:
            status = "PASS" if value >= threshold else "FAIL"
        shown = "-" if value is None else (fmt_time(value) if unit == "s" else
                                           f"{value:.2f}{'' if unit == 'ratio' else unit}")
        out.append({"target": text, "value": value, "threshold": threshold, "status": status,
                    "line": f"[{status}] {text}: {shown}"})
    return out


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def case_rows(results: dict) -> list[str]:
    gemm = results["gemm"]["gflops"]
    lines = [_row(COLUMNS), _row(["---"] * len(COLUMNS))]
    for item in results["cases"]:
        for name, entry in item["results"].items():
            if entry["status"] != "ok":
                lines.append(_row([item["case"], name, entry["status"]]
                                  + [""] * (len(COLUMNS) - 3)))
                continue
            memory = entry.get("memory") or {}
            ratio = entry.get("ratio_vs_symprop")
            diff = entry.get("max_abs_diff")
            lines.append(_row([
                item["case"], name, fmt_time(entry["step_s"]),
                f"{max(entry['step_s_all']) / min(entry['step_s_all']):.2f}",
                _num(entry["samples_per_s"], 0),
                _num(entry["gflops"], 2), f"{100 * entry['gflops'] / gemm:.1f}%",
                "-" if ratio is None else ("1.00 (ref)" if name == "symprop" else
                                           f"{ratio:.2f}x"),
                memory.get("error") or _num(memory.get("peak_mib")),
                _num(memory.get("added_mib")), "-" if diff is None else f"{diff:.1e}"]))
    return lines


def startup_rows(startup: dict) -> list[str]:
    lines = [_row(STARTUP_COLUMNS), _row(["---"] * len(STARTUP_COLUMNS))]
    for run in ("cold", "warm", "new_arch"):
        if run not in startup:  # results from before the new-architecture runs
            continue
        entry = startup[run]
        problem = entry.get("error") or entry.get("skipped")
        if problem:
            lines.append(_row([run, problem] + [""] * (len(STARTUP_COLUMNS) - 2)))
            continue
        keys = ("interpreter_s", "import_numpy_s", "import_numba_s", "import_symprop_s",
                "build_s", "module_s", "first_fit_s", "import_symprop_to_fit_end_s",
                "process_wall_s")
        lines.append(_row([run.replace("_", " ")] + [fmt_time(entry[k]) for k in keys]))
    return lines


def _peak_line(results: dict) -> str:
    """The FMA peak beside the GEMM rate, and the GEMM's share of it."""
    peak = results.get("fma_peak")
    if not peak:
        return ""
    cores = results["machine"]["usable_cores"]
    total = peak["gflops_per_core"] * cores
    width = ", compiled for AVX-512's full width" if peak.get("widest_vectors") else ""
    return (f"; float32 FMA peak {peak['gflops_per_core']:.1f} GFLOP/s a core (a micro-kernel "
            f"of {peak['chains']} independent FMA chains{width}), {total:.1f} on {cores} "
            f"cores: the GEMM reaches {100 * results['gemm']['gflops'] / total:.0f}% of it")


def _compile_s(startup: dict) -> float | None:
    """What a network new to the cache costs over one found in it (the report's of old, which
    had no new-architecture runs: cold build - warm build)."""
    new = startup.get("new_arch") or startup.get("cold") or {}
    warm = startup.get("warm") or {}
    if "build_s" not in new or "build_s" not in warm:
        return None
    return new["build_s"] - warm["build_s"]


def memory_bound_rows(runs: list[dict]) -> list[str]:
    rows = [_row(["case", "rows", "data MiB", "model + Adam state MiB", "bound MiB",
                  "peak RSS MiB", "peak / bound"]), _row(["---"] * 7)]
    for run in runs:
        if "error" in run:
            rows.append(_row([run.get("case", "?"), "-", run["error"], "", "", "", ""]))
            continue
        rows.append(_row([run["case"], f"{run['rows']:,}", _num(run["data_mib"]),
                          _num(run["model_mib"] + run["state_mib"], 2), _num(run["bound_mib"]),
                          _num(run["peak_mib"]), f"{run['peak_mib'] / run['bound_mib']:.2f}"]))
    return rows


def markdown(results: dict) -> str:
    machine, gemm, config = results["machine"], results["gemm"], results["config"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    out = [f"# symprop benchmarks ({machine['date']})", "",
           f"- machine: {summary(machine)}", f"- versions: {versions}",
           f"- float32 GEMM ({gemm['n']}x{gemm['n']}, best of {gemm['repeats']}): "
           f"{gemm['gflops']:.1f} GFLOP/s" + _peak_line(results),
           f"- load average (1 min) at the start / end: {machine['load_average'][0]:.2f} / "
           f"{machine.get('load_average_end', [float('nan')])[0]:.2f} on {machine['cores']} "
           "cores" + (" -- other processes competed for the cores: expect noisy times, "
                      "multi-threaded PyTorch suffers most" if _busy(machine) else ""),
           f"- timing: median of {config['repeats']} repeats per contender, each contender "
           f"in a process of its own (made anew {min(GENERATIONS, config['repeats'])} times, "
           "the repeats shared among them), "
           "interleaved within each repeat and their order rotated; GFLOP/s counts "
           "6 x params x batch per step", ""]
    out += ["## Training step", ""] + case_rows(results) + [""]
    out.append("max/min: slowest over fastest repeat (noise). "
               "peer / symprop > 1: symprop is faster. Peak RSS: a fresh child process per "
               "contender and case (imports, data, warm-up, one timed run); added: peak minus "
               "the RSS after Python + numpy + the data. max abs diff: parameters after "
               f"{results['cases'][0]['check_steps'] if results['cases'] else 0} steps "
               "from the same weights, against the NumPy loop (on the GPU suite, against "
               "the first peer: PyTorch CUDA).")
    out.append("")
    for item in results["cases"]:
        sym = item["results"].get("symprop", {})
        if sym.get("status") == "ok":
            out.append(f"- {item['case']} ({item['description']}, {item['steps']} steps): "
                       f"symprop first fit (build or cache load + compile) "
                       f"{fmt_time(sym.get('first_fit_s'))}; a 1-step fit() "
                       f"{fmt_time(sym.get('one_step_fit_s'))}, i.e. fixed cost per call "
                       f"{_fixed(sym.get('fixed_cost_per_call_s'))}"
                       + (f"; batches split over {sym['threads']} threads"
                          if sym.get("threads", 1) > 1 else ""))
    if results.get("memory_bound"):
        out += ["", "## fit's peak memory (issue 17's bound)", ""]
        out += memory_bound_rows(results["memory_bound"])
        out += ["", "A fresh process per row: numpy and the data (float32 X, int64 labels), "
                "then symprop and one `fit` epoch with Adam (otherwise its defaults: shuffled "
                "batches of the case's size); peak = VmHWM restarted after making the data; the "
                "kernels load from the cache a first process filled. Bound: data + 1.5 x "
                "(model + Adam's two moments) + 300 MiB."]
    startup = results.get("startup")
    if startup:
        cold_runs = len(startup.get("cold_runs") or [1])
        out += ["", f"## Start-up ({startup['network']}, {startup['loss']}; median of "
                f"{cold_runs} cold and {len(startup['warm_runs'])} warm processes)",
                ""] + startup_rows(startup)
        if startup.get("cold_runs"):
            out += ["", "cold runs (build): " + ", ".join(
                fmt_time(run.get("build_s")) for run in startup["cold_runs"])]
        out += ["", "build = after the imports until the first fit returns (network, "
                "module, first gradients, first fit); the start-up targets use it. new arch: "
                "a network new to the warm runs' cache (first hidden layer 1-3 units wider), "
                "one process each."]
        cli = [(run, startup.get(f"cli_{run}") or {}) for run in ("cold", "warm")]
        if any("wall_s" in entry for _, entry in cli):
            out += ["", "`python -m symprop train` (iris, 200 epochs, the README's main job), "
                    "wall time of the whole process, median of 3: " + "; ".join(
                        f"{run} {fmt_time(entry['wall_s'])} (runs: "
                        + ", ".join(fmt_time(w) for w in entry["runs"]) + ")"
                        for run, entry in cli if "wall_s" in entry)
                    + ". cold: empty symprop and Numba caches; warm: the last cold run's."]
        floor = startup.get("numba_floor") or {}
        if "first_call_s" in floor:
            out += ["", "Numba's floor under any warm start on this machine: the first call of "
                    "a cached trivial `@njit` function in a fresh process (after importing "
                    f"numpy and numba) takes {fmt_time(floor['first_call_s'])} (median of "
                    f"{len(floor['runs'])}): Numba's one-time target set-up (without its "
                    "SciPy BLAS probe, as symprop sets it up)."]
        derive = startup.get("derive") or {}
        if "derive_all_builtins_s" in derive:
            out += ["", f"Deriving every built-in (activations, losses, canonical deltas) in a "
                    f"fresh process: {derive['derive_all_builtins_s']:.2f} s after importing "
                    f"symprop and its derive stage with SymPy ({derive['import_s']:.2f} s)."]
    out += ["", "## Targets", ""] + [f"- {t['line']}" for t in results["targets"]]
    return "\n".join(out) + "\n"


def _clean(value):
    """JSON-safe: non-finite floats become null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def write(results: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "latest.md", folder / "latest.json"
    md.write_text(markdown(results), encoding="utf-8")
    js.write_text(json.dumps(_clean(results), indent=2, allow_nan=False) + "\n",
                  encoding="utf-8")
    return md, js
