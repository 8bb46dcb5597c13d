"""Model files: weights, architecture and dtype in one ``.npz``, written atomically.

The metadata (JSON) carries a SHA-256 of every array, so a file that was truncated, edited
or only partly written is refused with a clear error instead of loading wrong weights.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import numpy as np

from symprop.errors import CacheError, SympropError
from symprop.io import write_atomically

FORMAT = "symprop-model-1"


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def save(net, path) -> None:
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {}
    for number, (W, b) in enumerate(net.params, start=1):
        arrays[f"W{number}"], arrays[f"b{number}"] = W, b
    meta = {
        "format": FORMAT,
        "loss": net._loss_spec if isinstance(net._loss_spec, str) else net.loss,
        "dtype": net.dtype,
        "layers": [layer.to_dict() for layer in net.layers],
        "digests": {name: _digest(a) for name, a in arrays.items()},
    }
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
             **arrays)
    write_atomically(path, buffer.getvalue())


def load(path, target: str = "cpu"):
    """A network identical to the saved one (architecture, loss, dtype, weights)."""
    from symprop.runtime.layers import Dense
    from symprop.runtime.network import Network

    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["__meta__"]).decode())
            arrays = {name: data[name] for name in data.files if name != "__meta__"}
    except FileNotFoundError:
        raise SympropError(f"no model file at {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise CacheError(f"{path} is not a valid symprop model file (corrupt or partly "
                         f"written): {exc}") from None
    if meta.get("format") != FORMAT:
        raise CacheError(f"{path}: unknown model format {meta.get('format')!r}")
    for name, digest in meta.get("digests", {}).items():
        if name not in arrays or _digest(arrays[name]) != digest:
            raise CacheError(f"{path}: array {name} does not match its checksum; the file is "
                             "corrupt")
    layers = [Dense.from_dict(layer) for layer in meta["layers"]]
    net = Network(layers, loss=meta["loss"], dtype=meta["dtype"], target=target)
    net.set_params([(arrays[f"W{n}"], arrays[f"b{n}"]) for n in range(1, len(layers) + 1)])
    return net
