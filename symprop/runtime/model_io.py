"""Model files: weights, architecture and dtype in one ``.npz``, written atomically.

The metadata (JSON, the ``__meta__`` member) carries a SHA-256 of every array, so a file that
was truncated, edited or only partly written is refused with a clear error instead of loading
wrong weights.

A model file is untrusted input, and ``load`` reads it as such, without ``np.load``: the
metadata is checked against its schema (symprop.runtime.model_schema); the zip's members must
be exactly the arrays that architecture has; each array's npy header (dtype, order, shape) and
each member's declared sizes are checked against it before any array data is decompressed;
then each array is read into a preallocated array of exactly the expected size and checked
against its digest. Memory therefore stays proportional to the architecture, which must fit
in the file: a zip bomb or a header claiming 10^12 elements is refused, fast, with a
ModelFileError. Problems with the path itself (missing, a folder) are FileErrors.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import stat
import struct
import zipfile
import zlib

import numpy as np

from symprop.catalog import resolve_activation, resolve_loss
from symprop.errors import FileError, FormulaError, ModelFileError, SympropError
from symprop.io import write_atomically
from symprop.runtime.model_schema import (
    FORMAT,
    MAX_METADATA_BYTES,
    ModelMetadata,
    check_metadata,
    parse_metadata,
)

META_MEMBER = "__meta__.npy"
MAX_HEADER_BYTES = 4096  # the npy headers numpy writes for these arrays take 128 bytes
# Float weights barely compress, so a deflated member may inflate at most this much (plus a
# little for a header): what inflates more is refused before it is decompressed.
MAX_INFLATION, INFLATION_SLACK = 16, 1024
READ_CHUNK = 1 << 20
# zipfile and numpy's npy reader were not written for hostile input; these are what they
# raise for it (a truncated or inconsistent zip, a bad deflate stream, a malformed header).
_PARSER_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                  TypeError, KeyError, IndexError, OverflowError, RecursionError,
                  NotImplementedError, RuntimeError, struct.error, zlib.error)


def _path(path) -> str:
    if not isinstance(path, str | os.PathLike):
        raise SympropError(f"a model file's path is a str or os.PathLike, not {path!r}")
    path = os.fsdecode(path)
    if "\0" in path:
        raise FileError(f"{path!r} is not a path: it has a NUL character")
    return path


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def save(net, path) -> None:
    """Write ``net`` (architecture, loss, dtype, weights) to ``path`` (``.npz`` is added when
    missing), atomically. A network whose file ``load`` would refuse is not written."""
    path = _path(path)
    if os.path.isdir(path):  # before ".npz" is added: /tmp would become /tmp.npz
        raise FileError(f"cannot save to {path}: it is a folder; give a file name")
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = _named_arrays(net)
    meta = {
        "format": FORMAT,
        "loss": net._loss_spec if isinstance(net._loss_spec, str) else net.loss,
        "dtype": net.dtype,
        "layers": [layer.to_dict() for layer in net.layers],
        "digests": {name: _digest(a) for name, a in arrays.items()},
    }
    check_metadata(meta, path)
    encoded = json.dumps(meta).encode()
    if len(encoded) > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: the network's metadata would take {len(encoded)} "
                             f"bytes, more than the {MAX_METADATA_BYTES} a model file may hold")
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(encoded, dtype=np.uint8), **arrays)
    write_atomically(path, buffer.getvalue())


def _named_arrays(net) -> dict[str, np.ndarray]:
    """Every array of ``net`` by its name in the file: layers numbered depth first (residual
    blocks count), W and b of a Dense layer, gamma and beta of a normalization, and batch
    normalization's running mean and variance."""
    from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual
    from symprop.runtime.network_parts import numbered

    arrays, params, running = {}, iter(net.params), iter(net._running)
    for number, layer in numbered(net.layers):
        if isinstance(layer, Residual):
            continue
        names = ("gamma", "beta") if isinstance(layer, BatchNorm | LayerNorm) else ("W", "b")
        arrays[f"{names[0]}{number}"], arrays[f"{names[1]}{number}"] = next(params)
        if isinstance(layer, BatchNorm):
            arrays[f"running_mean{number}"] = next(running).copy()
            arrays[f"running_var{number}"] = next(running).copy()
    return arrays


def _invalid(path: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: not a valid symprop model file: {problem}")


@contextlib.contextmanager
def _parsing(path: str, what: str):
    """Turn what zipfile and numpy raise for a malformed file into a ModelFileError."""
    try:
        yield
    except SympropError:
        raise
    except _PARSER_ERRORS as exc:
        raise _invalid(path, f"{what} (corrupt or partly written): "
                             f"{str(exc)[:200] or type(exc).__name__}") from None


def _open_model_file(path: str):
    """The open file; FileError when ``path`` is missing, a folder or unreadable."""
    try:
        # Non-blocking, then checked on the open descriptor: a FIFO would block the open, a
        # FIFO or a device never end, and a check of the path before opening could be raced.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileError(f"no model file at {path}") from None
    except IsADirectoryError:
        raise FileError(f"{path} is a folder, not a model file") from None
    except OSError as exc:
        raise FileError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise FileError(f"{path} is {kind}, so not a model file")
    return os.fdopen(descriptor, "rb")


def _check_members(archive: zipfile.ZipFile, path: str, size_on_disk: int) -> dict:
    """The members by name, each stored or mildly deflated, not encrypted, their compressed
    sizes together within the file: nothing has been decompressed yet."""
    infos = archive.infolist()
    members = {info.filename: info for info in infos}
    if len(members) != len(infos):
        raise _invalid(path, "a member name appears twice in the zip")
    if META_MEMBER not in members:
        raise _invalid(path, f"it has no {META_MEMBER} member (the metadata)")
    for name, info in members.items():
        if info.flag_bits & 0x1:
            raise _invalid(path, f"member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise _invalid(path, f"member {name!r} is stored uncompressed but declares "
                                     f"{info.compress_size} bytes stored for {info.file_size}")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if (name != META_MEMBER  # its size has a bound of its own
                    and info.file_size > MAX_INFLATION * info.compress_size + INFLATION_SLACK):
                raise _invalid(path, f"member {name!r} would inflate from "
                                     f"{info.compress_size} to {info.file_size} bytes; weights "
                                     "do not compress that well")
        else:
            raise _invalid(path, f"member {name!r} uses compression method "
                                 f"{info.compress_type}; only stored and deflated are read")
    stored = sum(info.compress_size for info in infos)
    if stored > size_on_disk:
        raise _invalid(path, f"its members declare {stored} bytes, more than the file's "
                             f"{size_on_disk}")
    return members


def _read_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str):
    """(shape, fortran_order, dtype, header length) of an npy member, from at most its first
    MAX_HEADER_BYTES bytes."""
    with _parsing(path, f"member {info.filename!r} has no valid npy header"):
        with archive.open(info) as stream:
            head = io.BytesIO(stream.read(min(info.file_size, MAX_HEADER_BYTES)))
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(head)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(head)
        else:
            raise _invalid(path, f"member {info.filename!r} is npy format {version}; only "
                                 "1.0 and 2.0 are read")
    return shape, fortran_order, dtype, head.tell()


def _read_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header_length: int,
               out: np.ndarray, path: str) -> None:
    """Fill ``out`` with the member's data, in chunks of at most READ_CHUNK bytes."""
    view = memoryview(out).cast("B")
    with _parsing(path, f"member {info.filename!r} cannot be read"), archive.open(info) as stream:
        stream.read(header_length)
        filled = 0
        while filled < len(view):
            chunk = stream.read(min(READ_CHUNK, len(view) - filled))
            if not chunk:
                raise _invalid(path, f"member {info.filename!r} ends after {filled} of "
                                     f"{len(view)} bytes of data")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        # zipfile stops at the member's declared size, checked to be header + data, and
        # checks its CRC-32 on reaching it: there is nothing beyond, and a changed byte fails.


def _read_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> bytes:
    if info.file_size > MAX_HEADER_BYTES + MAX_METADATA_BYTES:
        raise _invalid(path, f"its metadata member declares {info.file_size} bytes, more than "
                             f"{MAX_METADATA_BYTES}")
    shape, fortran_order, dtype, header_length = _read_header(archive, info, path)
    if dtype != np.uint8 or len(shape) != 1 or fortran_order \
            or info.file_size != header_length + shape[0]:
        raise _invalid(path, f"its metadata member is not a byte string of its declared size "
                             f"(dtype {dtype}, shape {shape}, {info.file_size} bytes)")
    raw = np.empty(shape, dtype=np.uint8)
    _read_data(archive, info, header_length, raw, path)
    return raw.tobytes()


def _read_arrays(archive: zipfile.ZipFile, members: dict, meta: ModelMetadata,
                 path: str) -> dict[str, np.ndarray]:
    """Every array of the architecture: headers and sizes checked first, for all of them,
    then the data read and checked against the digests."""
    needed = {f"{name}.npy" for name in meta.arrays} | {META_MEMBER}
    if set(members) != needed:
        missing = sorted(needed - set(members))
        extra = sorted(set(members) - needed)
        raise _invalid(path, f"its members do not match the architecture (missing: "
                             f"{', '.join(missing) or 'none'}; unexpected: "
                             f"{', '.join(map(repr, extra[:5])) or 'none'})")
    want = np.dtype(meta.dtype)
    accepted = (want.newbyteorder("<"), want.newbyteorder("="))
    headers = {}
    for name, shape in meta.arrays.items():
        info = members[f"{name}.npy"]
        got_shape, fortran_order, dtype, header_length = _read_header(archive, info, path)
        if dtype not in accepted:  # never cast: complex, ints, strings, objects are refused
            raise _invalid(path, f"array {name} has dtype {dtype.str}; the metadata says "
                                 f"{meta.dtype} (little-endian)")
        if fortran_order or got_shape != shape:
            raise _invalid(path, f"array {name} has shape {got_shape}"
                                 f"{' in Fortran order' if fortran_order else ''}; the "
                                 f"architecture needs {shape} in C order")
        data_bytes = math.prod(shape) * dtype.itemsize
        if info.file_size != header_length + data_bytes:
            raise _invalid(path, f"member {info.filename!r} declares {info.file_size} bytes; "
                                 f"its header and data take {header_length + data_bytes}")
        headers[name] = header_length, dtype
    arrays = {}
    for name, shape in meta.arrays.items():
        header_length, dtype = headers[name]
        arrays[name] = np.empty(shape, dtype=dtype)
        _read_data(archive, members[f"{name}.npy"], header_length, arrays[name], path)
        if _digest(arrays[name]) != meta.digests[name]:
            raise _invalid(path, f"array {name} does not match its checksum; the file is "
                                 "corrupt")
    return arrays


def _check_target(target: str) -> None:
    """The caller's argument, checked before the file, so that its errors are not mistaken
    for the file's."""
    from symprop.runtime.device import require_cuda
    from symprop.runtime.network import TARGETS

    if target not in TARGETS:
        raise SympropError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if target == "cuda":
        require_cuda()


def load(path, target: str = "cpu"):
    """A network identical to the saved one (architecture, loss, dtype, weights), read from
    ``path`` (as ``Network.save`` wrote it) for ``target`` "cpu" or "cuda".

    Raises FileError when ``path`` cannot be read as a file, ModelFileError (naming the file
    and what is wrong) for any content that is not a valid symprop model file."""

    _check_target(target)
    path = _path(path)
    with _open_model_file(path) as handle:
        size_on_disk = os.fstat(handle.fileno()).st_size
        with _parsing(path, "it is not a readable zip file"):
            archive = zipfile.ZipFile(handle)
        with archive:
            members = _check_members(archive, path, size_on_disk)
            meta = parse_metadata(_read_metadata(archive, members[META_MEMBER], path), path)
            arrays = _read_arrays(archive, members, meta, path)
    try:
        with _formulas_budget(meta):
            return _build(meta, arrays, path, target)
    except FormulaError as exc:  # the budget ran out (each layer's own errors come named)
        raise _invalid(path, str(exc)) from None


# All of a file's formulas together are derived within this many seconds (each derivation
# alone has its own budget; a file of many distinct formulas multiplied it).
LOAD_BUDGET_SECONDS = 10.0


def _formulas_budget(meta: ModelMetadata):
    """One time budget over every formula the file holds; none (and no SymPy import)
    where all of its activations and its loss are built-ins."""
    formulas = [fields.get("activation") for kind, fields in meta.layers
                if isinstance(fields.get("activation"), str)
                and not _is_builtin(resolve_activation, fields["activation"])]
    if not formulas and _is_builtin(resolve_loss, meta.loss):
        return contextlib.nullcontext()
    from symprop.derive.limits import time_budget

    return time_budget("deriving the model file's formulas", LOAD_BUDGET_SECONDS)


def _is_builtin(resolve, spec: str) -> bool:
    """Whether a catalog resolver knows ``spec`` (an unknown name is reported by _build,
    naming the layer)."""
    try:
        return resolve(spec) is not None
    except SympropError:
        return False


def _build(meta: ModelMetadata, arrays: dict, path: str, target: str):
    from symprop.runtime.network import Network

    layers = []
    for index, (kind, fields) in enumerate(meta.layers):
        try:
            layers.append(kind.build(fields))
        except SympropError as exc:
            raise _invalid(path, f"layer {index + 1} (layers[{index}]): {exc}") from None
        except RecursionError:  # a formula nested past what the parser can follow
            raise _invalid(path, f"layer {index + 1} (layers[{index}]): its activation "
                                 "formula is nested too deeply") from None
    try:
        if resolve_loss(meta.loss) is None:
            # A loss formula: Network parses it only when it first compiles; a file's formula
            # goes through the parser now, like its activations.
            from symprop.derive.losses import loss as parse_loss

            parse_loss(meta.loss)
        net = Network(layers, loss=meta.loss, dtype=meta.dtype, target=target)
        _set_arrays(net, arrays)
    except SympropError as exc:
        raise _invalid(path, str(exc)) from None
    except RecursionError:
        raise _invalid(path, "its loss formula is nested too deeply") from None
    return net


def _set_arrays(net, arrays: dict) -> None:
    """The file's arrays into ``net`` (checked by set_params); running statistics finite,
    variances positive."""
    names = list(_named_arrays(net))
    trainable = [name for name in names if not name.startswith("running_")]
    net.set_params([(arrays[trainable[i]], arrays[trainable[i + 1]])
                    for i in range(0, len(trainable), 2)])
    running = [name for name in names if name.startswith("running_")]
    for target, name in zip(net._running, running, strict=True):
        values = np.asarray(arrays[name], dtype=net.dtype)
        if not np.isfinite(values).all() or (name.startswith("running_var")
                                              and not (values > 0).all()):
            raise SympropError(f"{name}: running statistics must be finite (and variances "
                               "positive)")
        target[...] = values
