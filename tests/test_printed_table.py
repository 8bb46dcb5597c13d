"""The table of printed built-ins (symprop/codegen/printed.py): current, equal to live
derivation, ignored when stale, and what keeps SymPy out of a first build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symprop.architecture import parse_architecture
from symprop.codegen import printed
from symprop.codegen.build import network_source
from symprop.codegen.kernels import activation_code

REGENERATE = "regenerate it: python -m symprop.codegen.printed"


@pytest.fixture
def live(monkeypatch):
    """Everything derived live, as without the table."""
    monkeypatch.setattr(printed, "ENABLED", False)


def test_the_shipped_table_matches_the_sources():
    table = json.loads(printed.TABLE.read_text(encoding="utf-8"))
    assert table["fingerprint"] == printed.fingerprint(), REGENERATE


def test_the_shipped_table_is_what_derivation_prints_now():
    derived = json.loads(json.dumps(printed.derive_table()))
    shipped = json.loads(printed.TABLE.read_text(encoding="utf-8"))
    assert derived == shipped, REGENERATE
    kinds = {key.split("|")[0] for key in shipped["entries"]}
    assert kinds == {"activation", "loss", "update"}


def test_the_table_holds_every_trainable_built_in():
    """Nothing left out quietly: every trainable built-in activation, and every built-in loss
    after it, for both float types (a refusal of the printed names once dropped a third)."""
    from symprop.catalog import ACTIVATIONS, LOSSES

    entries = json.loads(printed.TABLE.read_text(encoding="utf-8"))["entries"]
    for float_type in ("float32", "float64"):
        for name, entry in ACTIVATIONS.items():
            if entry.trainable:
                assert f"activation|{name}|{float_type}" in entries, name
                for loss in LOSSES:
                    assert f"loss|{loss}|{name}|{float_type}" in entries, (loss, name)


NETWORKS = [
    ("20-32:relu-1:sigmoid", "bce", "sgd", {}),
    ("4-8:leaky_relu-6:selu-3:softmax", "ce", "adam", {"weight_decay": 0.1}),
    ("3-5:silu-2:tanh", "huber", "sgd", {"momentum": 0.9, "nesterov": True}),
    ("3-5:gelu-4:softplus", "log_cosh", "rmsprop", {}),
    ("3-4:mish-2:softmax", "mse", "sgd", {"weight_decay": 0.01}),
    ("3-4:elu-2:relu", "bce", "sgd", {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_get_the_same_source_with_and_without_the_table(dtype, monkeypatch):
    for arch, loss, optimizer, options in NETWORKS:
        layers = parse_architecture(arch)
        tabled = network_source(layers, loss, optimizer, options, dtype)
        monkeypatch.setattr(printed, "ENABLED", False)
        derived = network_source(layers, loss, optimizer, options, dtype)
        monkeypatch.setattr(printed, "ENABLED", True)
        assert tabled == derived, arch


def test_table_entries_take_the_layer_suffix_and_hyperparameter_values():
    tabled = printed.activation_code_for("lrelu", "float32", "_2", {"alpha": 0.2})
    assert tabled == activation_code("leaky_relu", "float32", "_2", {"alpha": 0.2})
    assert tabled.hyper == ["hp_alpha_2"] and tabled.hyper_values == [0.2]
    assert printed.SUFFIX not in json.dumps(tabled.__dict__)


def test_a_stale_or_unreadable_table_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setattr(printed, "fingerprint", lambda: "other sources")
    printed._entries.cache_clear()
    try:
        assert printed._entries() == {}
        bad = tmp_path / "table.json"
        bad.write_text("{not json")
        monkeypatch.setattr(printed, "TABLE", bad)
        printed._entries.cache_clear()
        assert printed._entries() == {}
        # Live derivation answers instead.
        assert printed.activation_code_for("tanh", "float64") == activation_code("tanh",
                                                                                "float64")
    finally:
        monkeypatch.undo()
        printed._entries.cache_clear()
    assert printed._entries()  # the real table again


def test_formulas_and_named_layers_are_derived_live(live):
    code = printed.activation_code_for("z * tanh(z)", "float32", "_1")
    assert code == activation_code("z * tanh(z)", "float32", "_1")


CHILD = """
import sys
import symprop as sp
net = sp.Network([sp.Dense(4, 8, {hidden!r}), sp.Dense(8, 3, "softmax")], loss="ce")
net._module(sp.Adam(0.01))
print("sympy" in sys.modules)
"""


@pytest.mark.parametrize(("hidden", "imports_sympy"), [("relu", False), ("z * tanh(z)", True)])
def test_a_first_build_of_built_ins_does_not_import_sympy(hidden, imports_sympy, tmp_path):
    env = {**os.environ, "SYMPROP_CACHE_DIR": str(tmp_path / "kernels"),
           "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-c", CHILD.format(hidden=hidden)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == str(imports_sympy)
