"""Model files are untrusted input: every malformed file is refused with a ModelFileError that
names it (FileError for a path that cannot be read as a file), fast and in bounded memory.

The hostile files are written by hand here (zipfile, crafted npy headers and zip directories),
small on disk; the zip bombs are loaded in a subprocess under an address-space limit, so a
regression fails the test instead of eating the machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.errors import FileError, ModelFileError
from symprop.runtime.model_schema import FORMAT, MAX_LAYERS, MAX_METADATA_BYTES

# -- helpers ----------------------------------------------------------------------------------


def _net(dtype: str = "float64") -> sp.Network:
    return sp.Network([sp.Dense(4, 8, "leaky_relu", alpha=0.2, dropout=0.25, name="hidden"),
                       sp.Dense(8, 3, "softmax")], loss="ce", dtype=dtype, seed=3)


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _parts(net: sp.Network) -> tuple[dict, dict]:
    """The metadata and arrays that ``net.save`` writes, to be tampered with."""
    arrays = {}
    for number, (W, b) in enumerate(net.params, start=1):
        arrays[f"W{number}"], arrays[f"b{number}"] = W, b
    meta = {"format": FORMAT, "loss": net.loss, "dtype": net.dtype,
            "layers": [layer.to_dict() for layer in net.layers],
            "digests": {name: _digest(a) for name, a in arrays.items()}}
    return meta, arrays


def _write(path, meta=None, arrays=None, *, meta_text: str | bytes | None = None) -> str:
    """A model file as np.savez writes it, from (possibly bad) metadata or raw metadata text."""
    raw = meta_text if meta_text is not None else json.dumps(meta)
    raw = raw.encode() if isinstance(raw, str) else raw
    np.savez(path, __meta__=np.frombuffer(raw, dtype=np.uint8), **(arrays or {}))
    return str(path)


def _refused(path, *fragments: str) -> str:
    with pytest.raises(ModelFileError) as info:
        sp.load(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _npy_header(shape, descr: str = "<f8", fortran_order: bool = False) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return stream.getvalue()


def _npy(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array)
    return stream.getvalue()


def _raw_zip(path, members) -> str:
    """A zip whose directory declares whatever sizes it is told to.

    ``members``: (name, stored bytes, method, declared compressed size, declared size, crc).
    zipfile cannot write a directory that lies; the attacks below need one.
    """
    body, directory = b"", b""
    for name, data, method, compress_size, file_size, crc in members:
        encoded = name.encode()
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21,
                                 crc, compress_size, file_size, len(encoded), 0, 0, 0, 0, 0,
                                 len(body)) + encoded
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                            compress_size, file_size, len(encoded), 0) + encoded + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(directory), len(body), 0)
    with open(path, "wb") as stream:
        stream.write(body + directory + end)
    return str(path)


def _stored(name: str, data: bytes):
    return name, data, zipfile.ZIP_STORED, len(data), len(data), zlib.crc32(data)


@pytest.fixture
def parts():
    return _parts(_net())


# -- round trip -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_keeps_everything(tmp_path, dtype):
    net = sp.Network([sp.Dense(4, 6, "x/(1 + exp(-beta*x))", beta=1.5, name="swish",
                               init="he", dropout=0.1),
                      sp.Dense(6, 5, "elu", alpha=0.5, init="normal"),
                      sp.Dense(5, 2, "identity")],
                     loss="(yhat - y)**2", dtype=dtype, seed=2)
    net.save(tmp_path / "model")
    loaded = sp.load(tmp_path / "model.npz")
    assert loaded.dtype == dtype and loaded.loss == net.loss
    assert loaded.architecture == net.architecture
    for before, after in zip(net.layers, loaded.layers, strict=True):
        assert after.to_dict() == before.to_dict()
    for (Wa, ba), (Wb, bb) in zip(net.params, loaded.params, strict=True):
        assert Wb.dtype == bb.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_files_without_layer_type_and_defaults_still_load(tmp_path, parts):
    meta, arrays = parts
    for layer in meta["layers"]:  # what symprop wrote before the "type" key existed
        del layer["type"], layer["init"], layer["name"]
    meta["layers"][1].pop("hyperparameters")
    meta["layers"][1].pop("dropout")
    loaded = sp.load(_write(tmp_path / "old.npz", meta, arrays))
    assert loaded.layers[0].dropout == 0.25 and loaded.layers[0].init == "auto"


def test_a_network_deeper_than_a_model_file_holds_is_refused_when_built(tmp_path):
    """The file's layer limit is the architecture's: nothing saved could not be loaded."""
    with pytest.raises(sp.ShapeError, match=f"at most {MAX_LAYERS}"):
        sp.Network([sp.Dense(2, 2, "relu") for _ in range(MAX_LAYERS + 1)], loss="mse")
    assert os.listdir(tmp_path) == []


# -- the path ---------------------------------------------------------------------------------

def test_missing_path_and_folder_are_file_errors(tmp_path):
    with pytest.raises(FileError, match="no model file") as info:
        sp.load(tmp_path / "nothing.npz")
    assert str(tmp_path / "nothing.npz") in str(info.value)
    with pytest.raises(FileError, match="folder") as info:
        sp.load(tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(sp.SympropError, match="path"):
        sp.load(3)  # an int would otherwise be read as an open file descriptor


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    with pytest.raises(FileError, match="not a regular file"):
        sp.load(tmp_path / "pipe.npz")


def test_bad_target_is_the_callers_error_not_the_files(tmp_path, parts):
    path = _write(tmp_path / "m.npz", *parts)
    with pytest.raises(sp.SympropError, match="target") as info:
        sp.load(path, target="tpu")
    assert not isinstance(info.value, ModelFileError)


# -- malformed metadata -----------------------------------------------------------------------

def _set(path: str, value):
    """A tamperer that puts ``value`` at ``path`` ('layers.0.n_in'), or deletes it (DELETE)."""
    def tamper(meta):
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = meta
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return meta
    return tamper


DELETE = object()
HOSTILE = 'x # """;__import__("os").system("touch MARKER");"""'

BAD_METADATA = {
    # the whole document
    "a list": (lambda meta: [meta], "must be a JSON object"),
    "a string": (lambda meta: "symprop", "must be a JSON object"),
    "null": (lambda meta: None, "must be a JSON object"),
    "unknown key": (_set("optimizer", "adam"), "'optimizer': unknown key"),
    "wrong format": (_set("format", "symprop-model-0"), "unknown model format"),
    "format a number": (_set("format", 1), "format"),
    **{f"no {key}": (_set(key, DELETE), f"field {key}: missing")
       for key in ("format", "loss", "dtype", "layers", "digests")},
    # loss and dtype
    "loss a number": (_set("loss", 3), "field loss: must be a string"),
    "loss null": (_set("loss", None), "field loss: must be a string"),
    "loss a list": (_set("loss", ["ce"]), "field loss: must be a string"),
    "loss empty": (_set("loss", ""), "field loss"),
    "loss too long": (_set("loss", "y+" * 1500 + "yhat"), "field loss"),
    "loss with code": (_set("loss", HOSTILE), "field loss"),
    "loss unknown": (_set("loss", "cross_entropy_v2"), "unknown loss"),
    "loss dunder": (_set("loss", "yhat.__class__"), "yhat"),
    "dtype float16": (_set("dtype", "float16"), "field dtype"),
    "dtype a number": (_set("dtype", 32), "field dtype"),
    # layers
    "layers a string": (_set("layers", "4-8:relu-3:softmax"), "field layers: must be a list"),
    "layers empty": (_set("layers", []), "field layers"),
    "layers an object": (_set("layers", {"0": {}}), "field layers"),
    "too many layers": (_set("layers", [{}] * (MAX_LAYERS + 1)), "field layers"),
    "layer null": (_set("layers.0", None), "layers[0]: must be an object"),
    "layer a list": (_set("layers.0", [4, 8]), "layers[0]: must be an object"),
    "layer type unknown": (_set("layers.0.type", "conv2d"), "layers[0].type"),
    "layer type a number": (_set("layers.0.type", 1), "layers[0].type"),
    "layer unknown key": (_set("layers.1.bias", False), "unknown key"),
    "no n_in": (_set("layers.0.n_in", DELETE), "layers[0].n_in: missing"),
    "no activation": (_set("layers.1.activation", DELETE), "layers[1].activation: missing"),
    "n_in null": (_set("layers.0.n_in", None), "layers[0].n_in: must be an integer"),
    "n_in a string": (_set("layers.0.n_in", "4"), "layers[0].n_in: must be an integer"),
    "n_in a float": (_set("layers.0.n_in", 4.0), "layers[0].n_in: must be an integer"),
    "n_in a bool": (_set("layers.0.n_in", True), "layers[0].n_in: must be an integer"),
    "n_in nested": (_set("layers.0.n_in", [[[[4]]]]), "layers[0].n_in: must be an integer"),
    "n_in zero": (_set("layers.0.n_in", 0), "layers[0].n_in"),
    "n_in negative": (_set("layers.0.n_in", -4), "layers[0].n_in"),
    "n_out huge": (_set("layers.1.n_out", 10**30), "layers[1].n_out"),
    "widths do not chain": (_set("layers.1.n_in", 7), "layers[1]: takes 7 inputs"),
    "too many parameters": (lambda meta: _set("layers.1.n_out", 2**29)(
        _set("layers.1.n_in", 8)(meta)), "parameters"),
    "activation a number": (_set("layers.0.activation", 1), "layers[0].activation"),
    "activation empty": (_set("layers.0.activation", ""), "layers[0].activation"),
    "activation with code": (_set("layers.0.activation", HOSTILE), "layers[0].activation"),
    "activation with newline": (_set("layers.0.activation", "x\nimport os"),
                                "layers[0].activation"),
    "activation unknown": (_set("layers.1.activation", "softmaks"), "layer 2 (layers[1])"),
    "activation dunder call": (_set("layers.1.activation", "__import__(os)"),
                               "layer 2 (layers[1])"),
    "activation not trainable": (_set("layers.0.activation", "step"), "layer 1"),
    "dropout a string": (_set("layers.0.dropout", "0.25"), "layers[0].dropout"),
    "dropout a bool": (_set("layers.0.dropout", True), "layers[0].dropout"),
    "dropout one": (_set("layers.0.dropout", 1.0), "layers[0].dropout"),
    "dropout negative": (_set("layers.0.dropout", -0.1), "layers[0].dropout"),
    "dropout NaN": (_set("layers.0.dropout", float("nan")), "NaN"),
    "dropout on the output": (_set("layers.1.dropout", 0.5), "output layer"),
    "init unknown": (_set("layers.0.init", "lecun"), "layers[0].init"),
    "init a number": (_set("layers.0.init", 2), "layers[0].init"),
    "name a number": (_set("layers.0.name", 7), "layers[0].name"),
    "name too long": (_set("layers.0.name", "n" * 65), "layers[0].name"),
    "hyperparameters a list": (_set("layers.0.hyperparameters", [0.2]),
                               "layers[0].hyperparameters"),
    "hyperparameter a string": (_set("layers.0.hyperparameters.alpha", "0.2"), "'alpha'"),
    "hyperparameter a bool": (_set("layers.0.hyperparameters.alpha", True), "'alpha'"),
    "hyperparameter null": (_set("layers.0.hyperparameters.alpha", None), "'alpha'"),
    "hyperparameter a list": (_set("layers.0.hyperparameters.alpha", [0.2]), "'alpha'"),
    "hyperparameter beyond float": (_set("layers.0.hyperparameters.alpha", 10**400), "'alpha'"),
    "hyperparameter out of range": (_set("layers.0.hyperparameters.alpha", -1.0), "layer 1"),
    "hyperparameter unknown": (_set("layers.0.hyperparameters.beta", 1.0), "layer 1"),
    "hyperparameter named dropout": (_set("layers.0.hyperparameters.dropout", 0.5),
                                     "'dropout'"),
    "hyperparameter not an identifier": (_set("layers.0.hyperparameters.a b", 1.0), "'a b'"),
    "too many hyperparameters": (_set("layers.0.hyperparameters",
                                      {f"h{n}": 1.0 for n in range(40)}), "entries"),
    # digests
    "no digests at all": (_set("digests", {}), "digests.W1: missing"),
    "a digest missing": (_set("digests.b2", DELETE), "digests.b2: missing"),
    "a digest extra": (_set("digests.W3", "0" * 64), "no such array"),
    "digests a list": (_set("digests", []), "field digests"),
    "digest not hex": (_set("digests.W1", "z" * 64), "digests.W1"),
    "digest upper case": (lambda meta: _set("digests.W1", meta["digests"]["W1"].upper())(meta),
                          "digests.W1"),
    "digest a number": (_set("digests.W1", 12), "digests.W1"),
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_malformed_metadata_is_refused(tmp_path, parts, case):
    tamper, fragment = BAD_METADATA[case]
    meta, arrays = parts
    path = _write(tmp_path / "bad.npz", tamper(meta), arrays)
    _refused(path, fragment)


def test_hostile_formulas_never_run(tmp_path, parts, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for field in ("layers.0.activation", "loss"):
        meta, arrays = _parts(_net())
        path = _write(tmp_path / "hostile.npz", _set(field, HOSTILE)(meta), arrays)
        _refused(path, "cannot appear in a formula")
    assert not (tmp_path / "MARKER").exists()


def test_errors_of_the_layer_keep_their_message(tmp_path, parts):
    meta, arrays = parts
    meta["layers"][1]["activation"] = "softmaks"
    message = _refused(_write(tmp_path / "bad.npz", meta, arrays), "layer 2 (layers[1])")
    assert "unknown activation 'softmaks'" in message and "softmax" in message


@pytest.mark.parametrize("text, fragment", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format": "symprop-model-1", "format": "x"}', "twice"),
    ("{'format': 1}", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    ("", "not valid JSON"),
    ('{"loss": Infinity}', "Infinity"),
    ('{"n": 1' + "0" * 5000 + "}", "not valid JSON"),
    (" " * (MAX_METADATA_BYTES + 1) + "{}", "metadata"),
], ids=["deep", "duplicate key", "python syntax", "not utf-8", "empty", "infinity",
        "huge integer", "over 1 MiB"])
def test_unreadable_metadata_is_refused(tmp_path, parts, text, fragment):
    _refused(_write(tmp_path / "bad.npz", arrays=parts[1], meta_text=text), fragment)


@pytest.mark.parametrize("field, value", [("dropout", "0.25"), ("alpha", "0.2")])
def test_infinity_from_an_overflowing_float_is_refused(tmp_path, parts, field, value):
    meta, arrays = parts
    text = json.dumps(meta).replace(f'"{field}": {value}', f'"{field}": 1e400')
    assert "1e400" in text
    message = _refused(_write(tmp_path / "bad.npz", arrays=arrays, meta_text=text),
                       "must be a finite number")
    assert "layers[0]." in message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=8)
PLACES = ["format", "loss", "dtype", "layers", "digests", "extra", "layers.0", "layers.1",
          "digests.W1", "layers.0.hyperparameters.alpha"] + [
    f"layers.{n}.{key}" for n in (0, 1) for key in
    ("type", "n_in", "n_out", "activation", "dropout", "init", "name", "hyperparameters", "x")]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(PLACES), value=json_values)
def test_any_metadata_value_loads_or_is_a_model_file_error(tmp_path, place, value):
    meta, arrays = _parts(_net())
    path = _write(tmp_path / "fuzz.npz", _set(place, value)(meta), arrays)
    try:
        loaded = sp.load(path)
    except ModelFileError as exc:
        assert path in str(exc)
    else:  # the value happened to be valid: the weights are the file's
        for number, (W, b) in enumerate(loaded.params, start=1):
            np.testing.assert_array_equal(W, arrays[f"W{number}"])
            np.testing.assert_array_equal(b, arrays[f"b{number}"])


# -- the arrays -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_W1", [
    pytest.param(lambda W: W.astype(np.complex128), id="complex"),
    pytest.param(lambda W: np.zeros(W.shape, dtype="datetime64[s]"), id="datetime"),
    pytest.param(lambda W: W.astype(str), id="str"),
    pytest.param(lambda W: W.astype(np.int64), id="int64"),
    pytest.param(lambda W: W.astype(bool), id="bool"),
    pytest.param(lambda W: W.astype(np.float16), id="float16"),
    pytest.param(lambda W: W.astype(np.float32), id="float32-in-a-float64-file"),
    pytest.param(lambda W: W.astype(">f8"), id="big-endian"),
    pytest.param(lambda W: np.array([W[0], W[1]], dtype=object), id="object"),
])
def test_arrays_of_another_dtype_are_refused_not_cast(tmp_path, parts, bad_W1):
    meta, arrays = parts
    arrays["W1"] = bad_W1(arrays["W1"])
    if arrays["W1"].dtype != object:  # the digest matches: only the dtype check can refuse
        meta["digests"]["W1"] = _digest(arrays["W1"])
    _refused(_write(tmp_path / "bad.npz", meta, arrays), "array W1 has dtype")


def test_fortran_order_and_wrong_shapes_are_refused(tmp_path, parts):
    meta, arrays = parts
    fortran = dict(arrays, W1=np.asfortranarray(arrays["W1"]))
    _refused(_write(tmp_path / "f.npz", meta, fortran), "Fortran order")
    transposed = dict(arrays, W1=np.ascontiguousarray(arrays["W1"].T))
    meta["digests"]["W1"] = _digest(transposed["W1"])
    _refused(_write(tmp_path / "t.npz", meta, transposed), "array W1 has shape (8, 4)")


def test_member_list_must_be_exactly_the_architecture(tmp_path, parts):
    meta, arrays = parts
    without_b2 = {k: v for k, v in arrays.items() if k != "b2"}
    _refused(_write(tmp_path / "missing.npz", meta, without_b2), "missing: b2.npy")
    extra = dict(arrays, W3=np.zeros((3, 3)))
    _refused(_write(tmp_path / "extra.npz", meta, extra), "unexpected: 'W3.npy'")
    path = _write(tmp_path / "extra_file.npz", meta, arrays)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", b"hello")
    _refused(path, "unexpected: 'notes.txt'")
    no_meta = tmp_path / "no_meta.npz"
    np.savez(no_meta, **arrays)
    _refused(no_meta, "no __meta__.npy member")


def test_duplicate_member_names_are_refused(tmp_path, parts):
    meta, arrays = parts
    path = _write(tmp_path / "dup.npz", meta, arrays)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it writes
        archive.writestr("W1.npy", _npy(np.zeros((4, 8))))
    _refused(path, "appears twice")


def test_a_wrong_digest_is_refused(tmp_path, parts):
    meta, arrays = parts
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][2, 3] += 1e-12
    _refused(_write(tmp_path / "bad.npz", meta, arrays), "array W1 does not match its checksum")


def test_nan_weights_are_refused(tmp_path, parts):
    meta, arrays = parts
    arrays["b1"] = np.full(8, np.nan)
    meta["digests"]["b1"] = _digest(arrays["b1"])
    _refused(_write(tmp_path / "nan.npz", meta, arrays), "NaN")


def test_member_declaring_more_than_its_array_is_refused(tmp_path, parts):
    meta, arrays = parts
    members = [_stored("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))]
    for name, array in arrays.items():
        members.append(_stored(f"{name}.npy", _npy(array) + (b"\0" * 8 if name == "b1" else b"")))
    _refused(_raw_zip(tmp_path / "long.npz", members), "'b1.npy' declares")


def test_truncated_files_are_refused(tmp_path, parts):
    data = open(_write(tmp_path / "good.npz", *parts), "rb").read()
    for keep in range(0, len(data), 13):
        (tmp_path / "cut.npz").write_bytes(data[:keep])
        _refused(tmp_path / "cut.npz")


def test_unsupported_compression_and_encryption_are_refused(tmp_path, parts):
    meta, arrays = parts
    path = tmp_path / "bz.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        for name, array in arrays.items():
            archive.writestr(f"{name}.npy", _npy(array))
    _refused(path, "compression method 12")
    data = bytearray(open(_write(tmp_path / "good.npz", *parts), "rb").read())
    directory = data.find(b"PK\x01\x02")
    data[directory + 8] |= 0x1  # the encryption flag of the first member
    (tmp_path / "enc.npz").write_bytes(bytes(data))
    _refused(tmp_path / "enc.npz", "encrypted")


def test_not_a_zip_is_refused(tmp_path):
    (tmp_path / "text.npz").write_text("W1 = [[1, 2], [3, 4]]\n")
    _refused(tmp_path / "text.npz", "not a readable zip")


def test_a_deflated_model_file_loads(tmp_path, parts):
    meta, arrays = parts
    path = tmp_path / "deflated.npz"
    np.savez_compressed(path, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                        **arrays)
    np.testing.assert_array_equal(sp.load(path).params[1][0], arrays["W2"])


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_file_loads_its_own_weights_or_is_refused(tmp_path, data):
    meta, arrays = _parts(_net())
    good = open(_write(tmp_path / "good.npz", meta, arrays), "rb").read()
    position = data.draw(st.integers(0, len(good) - 1))
    damaged = bytearray(good)
    if data.draw(st.booleans()):
        damaged[position] ^= data.draw(st.integers(1, 255))
    else:
        del damaged[position:position + data.draw(st.integers(1, 64))]
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    try:
        loaded = sp.load(tmp_path / "damaged.npz")
    except ModelFileError:
        return
    for (Wa, ba), (Wb, bb) in zip(_net().params, loaded.params, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)


# -- bombs: refused fast, in bounded memory ---------------------------------------------------

BOMB_WIDTH = 8192  # one identity layer 8192 -> 8192: W1 is 256 MiB of float32


def _bomb_meta(W1_digest: str, b1: np.ndarray, width: int = BOMB_WIDTH) -> dict:
    return {"format": FORMAT, "loss": "mse", "dtype": "float32",
            "layers": [{"n_in": width, "n_out": width, "activation": "identity"}],
            "digests": {"W1": W1_digest, "b1": _digest(b1)}}


def _zip_bomb(path) -> str:
    """256 MiB of float32 zeros deflated into a ~260 KB file, with a valid digest: a loader
    that checked nothing would inflate all of it."""
    zeros = bytes(1 << 20)
    digest = hashlib.sha256()
    for _ in range(256):
        digest.update(zeros)
    b1 = np.zeros(BOMB_WIDTH, dtype=np.float32)
    meta = _bomb_meta(digest.hexdigest(), b1)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        archive.writestr("b1.npy", _npy(b1))
        info = zipfile.ZipInfo("W1.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(_npy_header((BOMB_WIDTH, BOMB_WIDTH), "<f4"))
            for _ in range(256):
                member.write(zeros)
    return str(path)


def _lying_zip(path, method: int, width: int = 30_000) -> str:
    """A 2 KB file whose directory declares a 3.6 GB W1 (30000 x 30000 float32) that the
    architecture really needs: stored (more than the file holds) or deflated (a ratio no
    weights have)."""
    b1 = np.zeros(width, dtype=np.float32)
    meta = _bomb_meta("0" * 64, b1, width)
    header = _npy_header((width, width), "<f4")
    declared = len(header) + 4 * width * width
    data = header if method == zipfile.ZIP_STORED else zlib.compress(header)[2:-4]
    members = [_stored("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))),
               ("W1.npy", data, method, declared if method == zipfile.ZIP_STORED else len(data),
                declared, 0),
               _stored("b1.npy", _npy(b1)[:200])]
    return _raw_zip(path, members)


def _header_claims_10_to_12(path, parts) -> str:
    """A small valid model whose W1 header claims 10^6 x 10^6 float64 (8 TB)."""
    meta, arrays = parts
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        archive.writestr("W1.npy", _npy_header((10**6, 10**6)))
        for name in ("b1", "W2", "b2"):
            archive.writestr(f"{name}.npy", _npy(arrays[name]))
    return str(path)


LIMITED_LOAD = textwrap.dedent("""
    import json, resource, sys
    import symprop as sp
    # The address space now plus 96 MiB: any array of a bomb (256 MiB and up) cannot fit.
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    limit = in_use + (96 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcomes = {}
    for path in sys.argv[1:]:
        try:
            sp.load(path)
            outcomes[path] = ["loaded", ""]
        except BaseException as exc:
            outcomes[path] = [type(exc).__name__, str(exc)]
    print(json.dumps(outcomes))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and /proc")
def test_bombs_are_refused_in_bounded_memory(tmp_path, parts):
    cases = {
        _zip_bomb(tmp_path / "bomb.npz"): "would inflate from",
        _lying_zip(tmp_path / "stored.npz", zipfile.ZIP_STORED): "more than the file's",
        _lying_zip(tmp_path / "deflated.npz", zipfile.ZIP_DEFLATED): "would inflate from",
        _header_claims_10_to_12(tmp_path / "huge.npz", parts): "has shape (1000000, 1000000)",
    }
    for path in cases:
        assert os.path.getsize(path) < 300_000
    done = subprocess.run([sys.executable, "-c", LIMITED_LOAD, *cases], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "SYMPROP_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    for path, fragment in cases.items():
        kind, message = outcomes[path]
        assert kind == "ModelFileError", (path, kind, message)
        assert path in message and fragment in message, message


def test_the_bomb_limit_would_catch_a_loader_that_inflates(tmp_path):
    """The memory limit of the bomb test is real: inflating the bomb under it fails."""
    path = _zip_bomb(tmp_path / "bomb.npz")
    script = LIMITED_LOAD.replace("sp.load(path)", "np.load(path)['W1']").replace(
        "import symprop as sp", "import symprop as sp\nimport numpy as np")
    done = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])[path][0] == "MemoryError"
