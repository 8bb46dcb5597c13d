"""``python -m benchmarks``: symprop side by side with PyTorch eager, scikit-learn and NumPy.

    python -m benchmarks                   # all cases, memory and start-up (a few minutes)
    python -m benchmarks --quick           # tiny + medium, fewer steps, under a minute
    python -m benchmarks --cases tiny --repeats 3 --no-memory --no-startup --out /tmp/b
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks import cases as case_table
from benchmarks import contenders, machine, report, startup, timing

# Untracked (.gitignore): a run never rewrites the results kept in the repository, which
# `--out benchmarks/results` updates on purpose.
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "local"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny + medium, fewer steps and repeats, small start-up network")
    parser.add_argument("--cases", help=f"comma-separated, from {', '.join(case_table.CASES)}")
    parser.add_argument("--contenders",
                        help=f"comma-separated, from {', '.join(contenders.BY_NAME)} "
                             "(symprop always runs: it is the reference of the ratios)")
    parser.add_argument("--repeats", type=int, help="timed repeats (default 7, quick 3)")
    parser.add_argument("--steps", type=int, help="SGD steps per timed run (default per case)")
    parser.add_argument("--gemm-size", type=int, help="n of the GEMM probe (default 2048, "
                                                      "quick 1024)")
    parser.add_argument("--torch-threads", type=int,
                        help="torch.set_num_threads(N) before timing (default: torch's own)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for latest.md and latest.json (default: "
                             "benchmarks/results/local, untracked; benchmarks/results: the "
                             "kept ones)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up runs")
    args = parser.parse_args(argv)
    for name in ("repeats", "steps", "gemm_size", "torch_threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


# fit's peak memory against issue 17's bound: an MNIST-sized epoch of large, 2M rows of tiny
MEMORY_BOUND_RUNS = [("large", 60_000), ("tiny", 2_000_000)]


def memory_bound(case: str, rows: int, log=print) -> dict:
    from benchmarks.memory import fit_bound

    log(f"[{case}] peak memory of fit on {rows:,} rows, against its bound ...")
    return fit_bound(case, rows)


def main(argv=None, log=print) -> dict:
    """Run the suite, print the report, write it under ``--out``; returns the results."""
    args = parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    chosen = case_table.select(args.cases, args.quick)
    classes = contenders.select(args.contenders)
    info = machine.machine_info()
    log(f"machine: {machine.summary(info)}")
    gemm = machine.gemm_rate(args.gemm_size or (1024 if args.quick else 2048),
                             repeats=3 if args.quick else 5)
    log(f"float32 GEMM {gemm['n']}x{gemm['n']}: {gemm['gflops']:.1f} GFLOP/s")
    peak = machine.fma_peak(rounds=1_000_000 if args.quick else 4_000_000)
    log(f"float32 FMA peak: {peak['gflops_per_core']:.1f} GFLOP/s a core")
    results = {"machine": info, "gemm": gemm, "fma_peak": peak, "cases": [], "startup": None,
               "config": {"quick": args.quick, "repeats": repeats,
                          "contenders": [c.name for c in classes],
                          "torch_threads": args.torch_threads or "default",
                          "memory": not args.no_memory, "startup": not args.no_startup}}
    for case in chosen:
        steps = args.steps or (case.quick_steps if args.quick else case.steps)
        results["cases"].append(timing.run_case(case, steps, repeats, classes,
                                                memory=not args.no_memory, log=log,
                                                torch_threads=args.torch_threads))
    if not args.no_memory and not args.quick:
        results["memory_bound"] = [memory_bound(name, rows, log)
                                   for name, rows in MEMORY_BOUND_RUNS]
    if not args.no_startup:
        results["startup"] = startup.measure(quick=args.quick, log=log)
    info["load_average_end"] = list(os.getloadavg())
    results["targets"] = report.targets(results)
    log("")
    log(report.markdown(results))
    md, js = report.write(results, args.out)
    log(f"written: {md}, {js}")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
