"""``python -m benchmarks.gpu``: symprop's target="cuda" against PyTorch CUDA, eager and
torch.compile, on the same data, weights and SGD steps (the CPU suite's method).

    python -m benchmarks.gpu                 # tiny, large and wide
    python -m benchmarks.gpu --quick         # fewer steps and repeats
    python -m benchmarks.gpu --cases tiny --repeats 3 --out /tmp/gpu

Cases: tiny and large as on the CPU, and wide (784-4096-4096-10, batch 1024); large and wide
run about one MNIST-sized epoch (60,000 rows) per timed fit. symprop's time per step includes
what its ``fit`` costs a caller: copying the numpy rows and the weights to the device once
per call, and the weights back at the end of the epoch; PyTorch's data sits on the device
already. Without a GPU (or without torch's or numba's CUDA) nothing is measured and the
report says why. Written to ``gpu_latest.md`` and ``gpu_latest.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from benchmarks import contenders, timing
from benchmarks.cases import CASES, Case
from benchmarks.machine import machine_info, summary
from benchmarks.report import fmt_time

# large and wide time one fit call of about one MNIST-sized epoch (60,000 rows), the unit
# in which a fit's fixed costs (the weights to the device and back, the rows to the device)
# are paid in training; tiny keeps the CPU suite's 4000 steps.
GPU_CASES = {
    "tiny": CASES["tiny"],
    "large": replace(CASES["large"], steps=234, quick_steps=40),
    "wide": Case("wide", (784, 4096, 4096, 10), ("relu", "relu", "softmax"), "ce", 1024, 0.05,
                 58, 10),
}
REFERENCE = contenders.SympropCuda.name


def missing_gpu() -> str | None:
    """Why this machine cannot run the GPU suite, or None."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA GPU: torch.cuda.is_available() is False"
    try:
        from numba import cuda
    except ImportError:
        return "numba's CUDA target (numba-cuda) does not import"
    if not cuda.is_available():
        return "numba.cuda.is_available() is False"
    return None


def markdown(results: dict) -> str:
    lines = [f"# symprop GPU benchmarks ({results['machine']['date']})", "",
             f"- GPU: {results.get('gpu', '-')}", f"- host: {summary(results['machine'])}",
             "- timing: median of the repeats, contenders interleaved; GFLOP/s counts "
             "6 x params x batch per step", ""]
    if "skipped" in results:
        return "\n".join(lines + [f"Nothing measured: {results['skipped']}.", ""])
    lines += ["| case | contender | time / step | samples/s | GFLOP/s | peer / symprop-cuda |",
              "| --- | --- | --- | --- | --- | --- |"]
    for item in results["cases"]:
        for name, entry in item["results"].items():
            if entry.get("status") != "ok":
                lines.append(f"| {item['case']} | {name} | {entry.get('status')} |  |  |  |")
                continue
            ratio = entry.get("ratio_vs_symprop")
            lines.append(f"| {item['case']} | {name} | {fmt_time(entry['step_s'])} | "
                         f"{entry['samples_per_s']:,.0f} | {entry['gflops']:.1f} | "
                         f"{'-' if ratio is None else f'{ratio:.2f}x'} |")
    return "\n".join(lines) + "\n"


def main(argv=None, log=print) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", default=",".join(GPU_CASES))
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "local"),
                        help="folder of gpu_latest.md/.json (benchmarks/results: the kept ones)")
    args = parser.parse_args(argv)
    results: dict = {"machine": machine_info(), "cases": []}
    out = Path(args.out)
    reason = missing_gpu()
    if reason is not None:
        results["skipped"] = reason
    else:
        import torch

        results["gpu"] = torch.cuda.get_device_name()
        repeats = args.repeats or (3 if args.quick else 7)
        names = [n.strip() for n in args.cases.split(",") if n.strip()]
        unknown = [n for n in names if n not in GPU_CASES]
        if unknown:
            raise SystemExit(f"unknown case(s) {unknown}; choose from {', '.join(GPU_CASES)}")
        for name in names:
            case = GPU_CASES[name]
            steps = case.quick_steps if args.quick else case.steps
            results["cases"].append(timing.run_case(case, steps, repeats, contenders.GPU,
                                                    memory=False, log=log,
                                                    reference=REFERENCE))
            write(results, out)  # each case as it ends: a run cut short keeps what it measured
    text = write(results, out)
    log(text)
    return results


def write(results: dict, out: Path) -> str:
    """The Markdown table and the JSON under ``out``; returns the table."""
    text = markdown(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_latest.md").write_text(text)
    (out / "gpu_latest.json").write_text(json.dumps(results, indent=1, default=str))
    return text


if __name__ == "__main__":
    main()
