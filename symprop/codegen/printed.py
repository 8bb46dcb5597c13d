"""The printed code of the built-in activations, losses and optimizers, derived ahead of time.

A network's first build (an empty cache) spent half a second importing SymPy and deriving.
For networks made of built-ins only, the same printed lines come from a table instead
(``printed_builtins.json`` beside this file, written by ``python -m symprop.codegen.printed``)
and SymPy is not imported at all. The table records a fingerprint of the sources that print
those lines; where it does not match the installed sources it is ignored and everything is
derived live: a stale table costs time, never correctness. Formulas, named layers and
anything else the table lacks are always derived live. ``tests/test_printed_table.py``
checks that the table is current and agrees with live derivation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path

from symprop.architecture import LayerSpec
from symprop.catalog import ACTIVATIONS, LOSSES, resolve_activation, resolve_loss
from symprop.codegen.code import ActivationCode, LossCode, UpdateCode

TABLE = Path(__file__).with_name("printed_builtins.json")
# Stands for a layer's suffix (_1, _2, ...) in the names stored: itself a piece of an
# identifier, since the printer takes no other names (hp_alpha__layer__, tf__layer___0).
SUFFIX = "__layer__"
ENABLED = True  # tests turn the table off to compare with live derivation

_PACKAGE = Path(__file__).resolve().parent.parent
# What prints the lines the table holds (not the templates, which only place them).
_SOURCES = ("catalog.py", "codegen/code.py", "codegen/kernels.py", "codegen/names.py",
            "codegen/printer.py",
            "codegen/stable.py")


def fingerprint() -> str:
    """A hash of the sources that print the table's lines and of SymPy's version (read from
    its metadata: importing SymPy is what the table saves)."""
    digest = hashlib.sha256(metadata.version("sympy").encode())
    paths = [_PACKAGE / name for name in _SOURCES] + sorted((_PACKAGE / "derive").glob("*.py"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def _entries() -> dict:
    try:
        table = json.loads(TABLE.read_text(encoding="utf-8"))
        current = table.get("fingerprint") == fingerprint()
    except (OSError, ValueError, AttributeError, metadata.PackageNotFoundError):
        return {}  # no table, an unreadable one, or sources to compare it with: derive live
    return table["entries"] if current and isinstance(table.get("entries"), dict) else {}


def _lookup(key: str, suffix: str) -> dict | None:
    entry = _entries().get(key) if ENABLED else None
    if entry is None:
        return None
    # The suffix sits inside names only (hp_alpha__layer__, tf__layer___0): a plain replace.
    return json.loads(json.dumps(entry).replace(SUFFIX, suffix))


def _pairs(lines) -> list[tuple[str, str]]:
    return [tuple(line) for line in lines]


def activation_code_for(spec: str, float_type: str, suffix: str = "", hyper: dict | None = None,
                        name: str | None = None) -> ActivationCode:
    """``kernels.activation_code``, from the table where it holds the activation."""
    builtin = resolve_activation(spec, hyper) if name is None else None
    entry = builtin and _lookup(f"activation|{builtin[0]}|{float_type}", suffix)
    if not entry:
        from symprop.codegen.kernels import activation_code

        return activation_code(spec, float_type, suffix, hyper, name)
    return ActivationCode(**{**entry, "forward": _pairs(entry["forward"]),
                             "backward": _pairs(entry["backward"]),
                             "hyper_values": [value for _, value in builtin[1]]})


def loss_code_for(loss: str, output: LayerSpec, float_type: str,
                  act_suffix: str = "") -> LossCode:
    """``kernels.loss_code`` for ``output``'s activation, from the table where it can."""
    found = resolve_loss(loss)
    builtin = (resolve_activation(output.activation, dict(output.hyper))
               if output.name is None else None)
    entry = found and builtin and _lookup(f"loss|{found[0]}|{builtin[0]}|{float_type}",
                                          act_suffix)
    if not entry:
        from symprop.codegen.kernels import loss_code

        return loss_code(loss, output.make_activation(), float_type, act_suffix)
    return LossCode(**{**entry, "value": _pairs(entry["value"]),
                       "delta": _pairs(entry["delta"]), "reads": set(entry["reads"]),
                       "hyper_values": [value for _, value in found[1]]})


def rule_options(structure: dict) -> dict:
    """Options that select an update rule's code path: any nonzero value does (the value
    itself is a kernel argument)."""
    return {key: (0.5 if on else 0.0) if key != "nesterov" else on
            for key, on in structure.items()}


def _update_key(optimizer: str, structure: dict, float_type: str) -> str:
    return f"update|{optimizer.lower()}|{json.dumps(sorted(structure.items()))}|{float_type}"


def update_code_for(optimizer: str, structure: dict, float_type: str) -> UpdateCode:
    """``kernels.update_code`` of the optimizer's rule, from the table where it can."""
    entry = _lookup(_update_key(optimizer, structure, float_type), "")
    if not entry:
        from symprop.codegen.kernels import update_code
        from symprop.derive.optimizers import update_rule

        return update_code(update_rule(optimizer, **rule_options(structure)), float_type)
    return UpdateCode(**{**entry, "invariant": _pairs(entry["invariant"]),
                         "lines": _pairs(entry["lines"])})


def _structures(optimizer: str) -> list[dict]:
    flags = [False, True]
    if optimizer != "sgd":
        return [{"weight_decay": wd} for wd in flags]
    return [{"momentum": mom, "nesterov": nest, "weight_decay": wd}
            for mom in flags for nest in flags for wd in flags]


def derive_table() -> dict:
    """Every built-in activation, loss after each built-in activation and optimizer code
    path, printed for each float type; combinations that do not derive are left out."""
    from symprop.codegen.kernels import activation_code, loss_code, update_code
    from symprop.codegen.plan import FLOAT_TYPES
    from symprop.derive.activations import activation
    from symprop.derive.optimizers import RULES, update_rule
    from symprop.errors import SympropError, UnsafeSourceError

    def stored(code) -> dict:
        entry = dataclasses.asdict(code)
        entry.pop("hyper_values", None)
        if "reads" in entry:
            entry["reads"] = sorted(entry["reads"])
        return entry

    entries = {}
    # Refusals of the maths are skipped (step is not trainable); a refusal of the generated
    # code's names is a bug, never an entry quietly missing.
    for float_type in FLOAT_TYPES:
        for act in ACTIVATIONS:
            try:
                code = activation_code(act, float_type, SUFFIX)
            except UnsafeSourceError:
                raise
            except SympropError:  # not trainable (step)
                continue
            entries[f"activation|{act}|{float_type}"] = stored(code)
            for loss in LOSSES:
                try:
                    code = loss_code(loss, activation(act), float_type, SUFFIX)
                except UnsafeSourceError:
                    raise
                except SympropError:
                    continue
                entries[f"loss|{loss}|{act}|{float_type}"] = stored(code)
        for optimizer in RULES:
            for structure in _structures(optimizer):
                try:
                    rule = update_rule(optimizer, **rule_options(structure))
                except SympropError:
                    continue
                entries[_update_key(optimizer, structure, float_type)] = stored(
                    update_code(rule, float_type))
    return {"fingerprint": fingerprint(), "entries": dict(sorted(entries.items()))}


if __name__ == "__main__":
    table = derive_table()
    TABLE.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{TABLE}: {len(table['entries'])} entries")
