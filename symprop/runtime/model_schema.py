"""The schema of a model file's metadata (the ``__meta__`` member of the ``.npz``, JSON).

A model file is untrusted input, so its metadata is checked field by field before anything is
built from it: types (an integer is an ``int``, not a bool, a float or a string), lengths,
ranges, and the architecture as a whole (the widths chain, the parameter count is bounded).
Every problem raises :class:`~symprop.errors.ModelFileError` naming the file and the field, as
a JSON path such as ``layers[0].n_in``. Formulas (activations, the loss) are only checked here
for their length and characters: they go through symprop's own parser and limits when the
layers and the network are built from them.

Layer kinds: a layer's optional ``"type"`` (default ``"dense"``) picks its entry in
``LAYER_KINDS``: the keys it takes and how each is checked, its widths, the arrays it stores
and how it is built. A new kind of layer (BatchNorm, LayerNorm, Residual) is one more entry.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from symprop.architecture import MAX_LAYERS
from symprop.blocks import MAX_DEPTH
from symprop.errors import ModelFileError
from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual
from symprop.runtime.layers import INITS, Dense

FORMAT = "symprop-model-1"
DTYPES = ("float32", "float64")

MAX_METADATA_BYTES = 1 << 20  # a 1,000-layer network's metadata is ~150 KB
MAX_PARAMETERS = 1 << 30  # 4 GiB of float32; the arrays must also fit in the file itself
# The formula parser's own limit (symprop.derive.parsing.MAX_FORMULA_LENGTH), repeated rather
# than imported: importing the parser imports SymPy, which a model of built-ins never needs.
MAX_FORMULA_CHARS = 2000
MAX_NAME_CHARS = 64
MAX_HYPERPARAMETERS = 32
# A formula is one line of arithmetic: comments, quotes, backslashes and control characters
# mean nothing in it, and are how text escapes into generated code.
_NOT_IN_A_FORMULA = re.compile(r"[#'\"\\\x00-\x1f\x7f]")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A dense layer's own keys: a hyperparameter of that name would collide with them.
_DENSE_KEYS = frozenset({"type", "n_in", "n_out", "activation", "dropout", "init", "name",
                         "hyperparameters"})


class FieldError(Exception):
    """One metadata field that breaks the schema; :func:`check_metadata` adds the file."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def _describe(value) -> str:
    """A short description of a JSON value for a message: never a huge or deep repr."""
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 20 else f"an integer of {len(text)} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"{value[:37]!r}... ({len(value)} characters)"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    return f"a {type(value).__name__}"


# -- checks of one field: (value, field) -> the value, or FieldError -----------------------

def _integer(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"must be an integer, not {_describe(value)}")
    if not low <= value <= high:
        raise FieldError(field, f"must be an integer from {low} to {high}, not "
                                f"{_describe(value)}")
    return value


def _finite_number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(field, f"must be a number, not {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float's range
        raise FieldError(field, f"must be a finite number, not {_describe(value)}") from None
    if not math.isfinite(number):
        raise FieldError(field, f"must be a finite number, not {_describe(value)}")
    return value


def _text(value, field: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise FieldError(field, f"must be a string, not {_describe(value)}")
    if not 1 <= len(value) <= max_chars:
        raise FieldError(field, f"must be a string of 1 to {max_chars} characters, not "
                                f"{_describe(value)}")
    return value


def _formula(value, field: str) -> str:
    """A built-in name or a formula; the parser checks the rest when the layer is built."""
    text = _text(value, field, MAX_FORMULA_CHARS)
    bad = _NOT_IN_A_FORMULA.search(text)
    if bad:
        raise FieldError(field, f"{bad.group()!r} cannot appear in a formula (at character "
                                f"{bad.start()} of {_describe(text)})")
    return text


def _choice(value, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise FieldError(field, f"must be one of {', '.join(choices)}, not {_describe(value)}")
    return value


def _width(value, field: str) -> int:
    return _integer(value, field, 1, MAX_PARAMETERS)


def _dropout(value, field: str) -> float:
    number = _finite_number(value, field)
    if not 0 <= number < 1:
        raise FieldError(field, f"must be in [0, 1), not {_describe(value)}")
    return number


def _init(value, field: str) -> str:
    return _choice(value, field, INITS)


def _layer_name(value, field: str) -> str | None:
    # Dense validates that a name is a plain identifier; this bounds what reaches it.
    return None if value is None else _text(value, field, MAX_NAME_CHARS)


def _hyperparameters(value, field: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise FieldError(field, f"must be an object of names to numbers, not "
                                f"{_describe(value)}")
    if len(value) > MAX_HYPERPARAMETERS:
        raise FieldError(field, f"has {len(value)} entries, at most {MAX_HYPERPARAMETERS} "
                                "are allowed")
    for name, number in value.items():
        key = f"{field}[{_describe(name)}]"
        _text(name, key, MAX_NAME_CHARS)
        if not (name.isascii() and name.isidentifier()):
            raise FieldError(key, "a hyperparameter's name must be a plain identifier")
        if name in _DENSE_KEYS:
            raise FieldError(key, f"{name!r} is a setting of the layer, not a hyperparameter")
        _finite_number(number, key)
    return value


# -- layer kinds ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerKind:
    """What the schema knows of one kind of layer."""

    required: Mapping[str, Callable]  # key -> check(value, field)
    optional: Mapping[str, tuple[object, Callable]]  # key -> (default, check)
    widths: Callable[[dict], tuple[int, int]]  # checked fields -> (inputs, outputs)
    arrays: Callable[[int, dict], dict[str, tuple[int, ...]]]  # layer number -> name: shape
    build: Callable[[dict], object]  # checked fields -> the layer (may raise SympropError)


DENSE = LayerKind(
    required={"n_in": _width, "n_out": _width, "activation": _formula},
    optional={"dropout": (0.0, _dropout), "init": ("auto", _init),
              "name": (None, _layer_name), "hyperparameters": ({}, _hyperparameters)},
    widths=lambda fields: (fields["n_in"], fields["n_out"]),
    arrays=lambda number, fields: {f"W{number}": (fields["n_in"], fields["n_out"]),
                                   f"b{number}": (fields["n_out"],)},
    build=Dense.from_dict,
)


def _eps(value, field: str) -> float:
    number = _finite_number(value, field)
    if number <= 0:
        raise FieldError(field, f"must be positive, not {_describe(value)}")
    return number


def _momentum(value, field: str) -> float:
    number = _finite_number(value, field)
    if not 0 <= number <= 1:
        raise FieldError(field, f"must be in [0, 1], not {_describe(value)}")
    return number


def _norm_arrays(number: int, fields: dict) -> dict[str, tuple[int, ...]]:
    n = (fields["n"],)
    arrays = {f"gamma{number}": n, f"beta{number}": n}
    if fields["type"] == "batchnorm":  # the running statistics travel with the weights
        arrays.update({f"running_mean{number}": n, f"running_var{number}": n})
    return arrays


BATCHNORM = LayerKind(
    required={"n": _width},
    optional={"momentum": (0.1, _momentum), "eps": (1e-5, _eps),
              "name": (None, _layer_name)},
    widths=lambda fields: (fields["n"], fields["n"]),
    arrays=_norm_arrays,
    build=lambda fields: BatchNorm(fields["n"], momentum=fields["momentum"],
                                   eps=fields["eps"], name=fields["name"]),
)
LAYERNORM = LayerKind(
    required={"n": _width},
    optional={"eps": (1e-5, _eps), "name": (None, _layer_name)},
    widths=lambda fields: (fields["n"], fields["n"]),
    arrays=_norm_arrays,
    build=lambda fields: LayerNorm(fields["n"], eps=fields["eps"], name=fields["name"]),
)
# A residual block's "layers" are checked by _nodes (nested), its arrays named by them.
RESIDUAL = LayerKind(
    required={"layers": lambda value, field: value},
    optional={},
    widths=lambda fields: (fields["widths"][0], fields["widths"][1]),
    arrays=lambda number, fields: {},
    build=lambda fields: Residual([kind.build(inner) for kind, inner in fields["layers"]]),
)
LAYER_KINDS: dict[str, LayerKind] = {"dense": DENSE, "batchnorm": BATCHNORM,
                                     "layernorm": LAYERNORM, "residual": RESIDUAL}


def _layer(value, field: str) -> tuple[LayerKind, dict]:
    if not isinstance(value, dict):
        raise FieldError(field, f"must be an object, not {_describe(value)}")
    kind_name = _choice(value.get("type", "dense"), f"{field}.type", tuple(LAYER_KINDS))
    kind = LAYER_KINDS[kind_name]
    known = {"type", *kind.required, *kind.optional}
    for key in value:
        if key not in known:
            raise FieldError(f"{field}.{_describe(key)}", f"unknown key of a {kind_name} "
                                                          f"layer (known: {', '.join(known)})")
    fields = {"type": kind_name}
    for key, check in kind.required.items():
        if key not in value:
            raise FieldError(f"{field}.{key}", "missing")
        fields[key] = check(value[key], f"{field}.{key}")
    for key, (default, check) in kind.optional.items():
        fields[key] = check(value[key], f"{field}.{key}") if key in value else default
    return kind, fields


def _nodes(values: list, field: str, arrays: dict, counter: list[int], depth: int):
    """Checked (kind, fields) of a list of layers (a residual block's nested), the widths
    agreeing along it; their arrays into ``arrays``, named by each layer's number counted
    depth first over the whole network (a chain of Dense layers: W1, b1, W2, ...)."""
    if not isinstance(values, list) or not values or (depth and len(values) > MAX_LAYERS):
        raise FieldError(field, f"must be a non-empty list of layers, not {_describe(values)}")
    if depth > MAX_DEPTH:
        raise FieldError(field, f"residual blocks nested more than {MAX_DEPTH} deep")
    found, previous = [], None
    for index, value in enumerate(values):
        where = f"{field}[{index}]"
        counter[0] += 1
        if counter[0] > MAX_LAYERS:
            raise FieldError(field, f"more than {MAX_LAYERS} layers and blocks")
        kind, fields = _layer(value, where)
        if kind is RESIDUAL:
            body, widths = _nodes(fields["layers"], f"{where}.layers", arrays, counter,
                                  depth + 1)
            if widths[0] != widths[1]:
                raise FieldError(where, f"a residual block maps {widths[0]} units to "
                                        f"{widths[1]}: its input and output widths must match")
            fields = {"type": "residual", "layers": body, "widths": widths}
        else:
            arrays.update(kind.arrays(counter[0], fields))
        inputs, outputs = kind.widths(fields)
        if previous is not None and inputs != previous:
            raise FieldError(where, f"takes {inputs} inputs but the layer before gives "
                                    f"{previous} outputs")
        previous = outputs
        found.append((kind, fields))
    return found, (found[0][0].widths(found[0][1])[0], previous)


# -- the whole metadata -----------------------------------------------------------------------

@dataclass(frozen=True)
class ModelMetadata:
    """Checked metadata: everything load needs, nothing it still has to check for type."""

    loss: str
    dtype: str
    layers: list[tuple[LayerKind, dict]]  # each layer's kind and its checked fields
    arrays: dict[str, tuple[int, ...]]  # every array the file must hold, with its shape
    digests: dict[str, str]  # array name -> SHA-256 of its bytes (hex)


_TOP_LEVEL_KEYS = ("format", "loss", "dtype", "layers", "digests")


def _check(meta) -> ModelMetadata:
    if not isinstance(meta, dict):
        raise FieldError("metadata", f"must be a JSON object, not {_describe(meta)}")
    for key in meta:
        if key not in _TOP_LEVEL_KEYS:
            raise FieldError(_describe(key), f"unknown key (known: {', '.join(_TOP_LEVEL_KEYS)})")
    for key in _TOP_LEVEL_KEYS:
        if key not in meta:
            raise FieldError(key, "missing")
    if meta["format"] != FORMAT:
        raise FieldError("format", f"unknown model format {_describe(meta['format'])} "
                                   f"(this symprop reads {FORMAT!r})")
    loss = _formula(meta["loss"], "loss")
    dtype = _choice(meta["dtype"], "dtype", DTYPES)
    if not isinstance(meta["layers"], list) or not 1 <= len(meta["layers"]) <= MAX_LAYERS:
        raise FieldError("layers", f"must be a list of 1 to {MAX_LAYERS} layers, not "
                                   f"{_describe(meta['layers'])}")
    arrays: dict[str, tuple[int, ...]] = {}
    layers, _ = _nodes(meta["layers"], "layers", arrays, [0], 0)
    count = sum(math.prod(shape) for shape in arrays.values())
    if count > MAX_PARAMETERS:
        raise FieldError("layers", f"the network has {count} parameters, more than the "
                                   f"{MAX_PARAMETERS} a model file may hold")
    digests = meta["digests"]
    if not isinstance(digests, dict):
        raise FieldError("digests", f"must be an object of array names to SHA-256 digests, "
                                    f"not {_describe(digests)}")
    for name in arrays:
        if name not in digests:
            raise FieldError(f"digests.{name}", "missing: every array needs its SHA-256")
    for name in digests:
        if name not in arrays:
            raise FieldError(f"digests.{_describe(name)}", f"no such array (the network's "
                                                           f"arrays: {', '.join(arrays)})")
    for name, digest in digests.items():
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            raise FieldError(f"digests.{name}", f"must be 64 lowercase hex digits (a SHA-256), "
                                                f"not {_describe(digest)}")
    return ModelMetadata(loss, dtype, layers, arrays, dict(digests))


def check_metadata(meta, path: str) -> ModelMetadata:
    """``meta`` (decoded JSON) checked against the schema; a ModelFileError names ``path`` and
    the field at fault."""
    try:
        return _check(meta)
    except FieldError as error:
        raise ModelFileError(f"{path}: not a valid symprop model file: metadata field "
                             f"{error.field}: {error.problem}") from None


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the key {_describe(duplicate)} appears twice in one object")
    return dict(pairs)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_metadata(raw: bytes, path: str) -> ModelMetadata:
    """The metadata member's bytes (UTF-8 JSON) parsed and checked against the schema."""
    if len(raw) > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: not a valid symprop model file: its metadata has "
                             f"{len(raw)} bytes, more than {MAX_METADATA_BYTES}")
    try:
        meta = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicate_keys,
                          parse_constant=_refuse_constant)
    except RecursionError:
        raise ModelFileError(f"{path}: not a valid symprop model file: its metadata is "
                             "nested too deeply") from None
    except ValueError as exc:  # not UTF-8, not JSON, NaN, a duplicate key, a huge integer
        raise ModelFileError(f"{path}: not a valid symprop model file: its metadata is not "
                             f"valid JSON ({str(exc)[:200]})") from None
    return check_metadata(meta, path)
