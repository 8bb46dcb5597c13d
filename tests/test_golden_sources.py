"""The generated modules of a dozen Dense networks and four with normalization layers and
residual blocks, pinned byte for byte.

Reworking the planner or the templates (the layers issue turns the list of Dense layers into a
plan of operations) must not change what a Dense-only network compiles to unless a change is
meant. Each case's source is rendered without the cache and compared, by SHA-256, with
tests/golden/sources.json; a failure names the cases that changed.

After an intended change: ``SYMPROP_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sources.py``
rewrites the file, and the commit says why the generated code changed. To see a difference,
render a case before and after with :func:`render_case` and diff the two."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

import pytest

from symprop.blocks import parse_network
from symprop.codegen.build import network_source

GOLDEN = Path(__file__).parent / "golden" / "sources.json"

NETWORKS = {  # name: (architecture, loss, optimizer, its options, dropout flags)
    "tiny_bce": ("20-32:relu-1:sigmoid", "bce", "sgd", {}, None),
    "iris_ce": ("4-8:relu-3:softmax", "ce", "adam", {}, None),
    "medium_ce": ("64-128:relu-64:tanh-10:softmax", "ce", "sgd", {"momentum": 0.9}, None),
    "large_ce": ("784-512:relu-512:relu-10:softmax", "ce", "sgd", {}, None),
    "regression_mse": ("3-16:tanh-16:elu-2:identity", "mse", "rmsprop", {}, None),
    "huber_leaky": ("5-7:leaky_relu-1:identity", "huber", "sgd",
                    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, None),
    "dropout": ("8-32:relu-32:relu-3:softmax", "ce", "adam", {}, [True, True, False]),
    "formula": ("2-6:x*tanh(log(1+exp(x)))-1:sigmoid", "bce", "adam", {"weight_decay": 0.1},
                None),
    "softmax_hidden": ("6-5:softmax-4:sigmoid", "mse", "sgd", {}, None),
    "deep_sigmoid": ("4-" + "-".join(["6:sigmoid"] * 8) + "-1:sigmoid", "bce", "sgd", {},
                     None),
    "log_cosh": ("3-4:softplus-2:identity", "log_cosh", "sgd", {}, None),
    "mae_gelu": ("3-9:gelu-1:identity", "mae", "adam", {}, None),
    # normalization layers and residual blocks (symprop/blocks.py's syntax)
    "batchnorm_residual": ("20-32:relu-bn-[32:relu-32:relu]-1:sigmoid", "bce", "sgd",
                           {"momentum": 0.9}, None),
    "layernorm_residual": ("16-32:tanh-ln-[32:relu-ln]-4:softmax", "ce", "adam", {}, None),
    "blocks_dropout": ("8-16:relu-bn-[16:relu]-3:softmax", "ce", "rmsprop", {},
                       [True, True, False]),
    # large enough for the split path (SHARDED) where the cached CPU module may take it
    "blocks_split": ("64-128:relu-bn-[128:relu-ln]-10:softmax", "ce", "sgd", {}, None),
}

TARGETS = {  # name: options of network_source, as the cache and the exporter use them
    "cpu_export": {"target": "cpu"},
    "cpu_cached": {"target": "cpu", "direct_blas": True, "split_batches": True},
    "cpu_float64": {"target": "cpu", "dtype": "float64", "matmul": "loops"},
    "cuda_cached": {"target": "cuda", "cublas": True},
    "cuda_export": {"target": "cuda"},
}


def render_case(network: str, target: str) -> str:
    """The source of one case, exactly as the test renders it."""
    arch, loss, optimizer, options, dropout = NETWORKS[network]
    return network_source(parse_network(arch), loss, optimizer, options,
                          dropout=dropout, version="golden", **TARGETS[target])


@cache
def digests() -> dict[str, str]:
    return {f"{network}/{target}": hashlib.sha256(
        render_case(network, target).encode()).hexdigest()
        for network in NETWORKS for target in TARGETS}


def test_generated_sources_are_unchanged():
    now = digests()
    if os.environ.get("SYMPROP_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {GOLDEN}")
    pinned = json.loads(GOLDEN.read_text())
    assert set(pinned) == set(now), "the cases changed: rewrite the file (see the docstring)"
    changed = sorted(case for case in now if now[case] != pinned[case])
    assert not changed, (f"{len(changed)} generated modules changed: {', '.join(changed)}; "
                         "if meant, rewrite tests/golden/sources.json (see the docstring)")


def test_the_cases_differ_from_each_other():
    """The pins can fail: each case renders a module of its own (a planner that ignored the
    loss, the optimizer or the target would collapse some of them)."""
    values = list(digests().values())
    assert len(set(values)) == len(values)
