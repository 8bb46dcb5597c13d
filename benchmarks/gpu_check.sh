#!/usr/bin/env bash
# The GPU checks of target="cuda" in one run, on a machine with an NVIDIA GPU and numba-cuda,
# CuPy and PyTorch installed (no network needed: symprop runs from this checkout):
#
#     bash benchmarks/gpu_check.sh OUT [CASES]
#
# 1. what the machine has (GPU, driver, package versions)      -> OUT/gpu_env.txt
# 2. tests/test_cuda_target.py on the GPU: the simulator's checks, now on the compiled
#    kernels and cuBLAS (the simulator's own run is left to CI)  -> OUT/gpu_tests.txt
# 3. python -m benchmarks.gpu $BENCH_ARGS (default --quick; BENCH_ARGS= for the full suite),
#    CASES (default tiny,large,wide)               -> OUT/gpu_latest.{md,json}, OUT/gpu_bench.txt
# 4. python -m benchmarks.gpu_profile large: where a step's time goes -> OUT/gpu_profile.txt
# Each step has its own time limit, so a step that hangs leaves the others their time.
set -u
out=${1:?usage: bash benchmarks/gpu_check.sh OUT [CASES]}
cases=${2:-tiny,large,wide}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export SYMPROP_CACHE_DIR=${SYMPROP_CACHE_DIR:-$(mktemp -d)}
python=${PYTHON:-python3}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  "$python" - <<'EOF'
import importlib.metadata as meta
import platform
print("python", platform.python_version())
for name in ("numpy", "numba", "numba-cuda", "llvmlite", "cupy-cuda13x", "cupy-cuda12x",
             "torch", "sympy", "jinja2", "scikit-learn"):
    try:
        print(name, meta.version(name))
    except meta.PackageNotFoundError:
        pass
from numba import cuda
print("numba sees", cuda.get_current_device().name, "cc", cuda.get_current_device().compute_capability)
EOF
} 2>&1 | tee "$out/gpu_env.txt"

start=$SECONDS
timeout "${TEST_LIMIT:-240}" "$python" -m pytest -p no:cacheprovider -q -rs \
  tests/test_cuda_target.py -k "not simulator" 2>&1 | tee "$out/gpu_tests.txt"
echo "tests: ${PIPESTATUS[0]} (exit status) in $((SECONDS - start)) s" | tee -a "$out/gpu_tests.txt"

start=$SECONDS
timeout "${BENCH_LIMIT:-300}" "$python" -m benchmarks.gpu ${BENCH_ARGS---quick} --cases "$cases" \
  --out "$out" 2>&1 | tee "$out/gpu_bench.txt"
echo "benchmark: ${PIPESTATUS[0]} (exit status) in $((SECONDS - start)) s" | tee -a "$out/gpu_bench.txt"

start=$SECONDS
timeout "${PROFILE_LIMIT:-90}" "$python" -m benchmarks.gpu_profile large 2>&1 | tee "$out/gpu_profile.txt"
echo "profile: ${PIPESTATUS[0]} (exit status) in $((SECONDS - start)) s" | tee -a "$out/gpu_profile.txt"
