"""save / load: checkpoints in the safetensors format, written and read by minidl itself.

A safetensors file is simple enough to write by hand::

    8 bytes     N, the header length (unsigned little-endian)
    N bytes     a JSON header: {name: {"dtype": "F32", "shape": [2, 3],
                "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
                padded with spaces to a multiple of 8 bytes
    the rest    the tensors' raw little-endian bytes; offsets count from here

Nothing in it is code, so loading a file cannot run any (a pickle can). Each tensor is
named by its path of keys joined with "." (`fc1.weight`, `optimizer.state.0.exp_avg`), so
other readers (`safetensors.numpy.load_file`) see a flat dict; the exact structure (nested
dicts with their int keys, lists, tuples, and plain values such as the epoch or the random
generator's state) is stored as JSON in `__metadata__["minidl.structure"]`, its leaves
pointing at the tensor names, and `load` rebuilds it from there.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import stat
from typing import Any

import numpy as np

from . import backend, pickled
from .pickled import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals  # noqa: F401
from .tensor import Tensor

_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16,
           "I16": np.int16, "U32": np.uint32, "I32": np.int32, "U64": np.uint64,
           "I64": np.int64, "F16": np.float16, "F32": np.float32, "F64": np.float64}
_CODES = {np.dtype(t): code for code, t in _DTYPES.items()}
_STRUCTURE_KEY = "minidl.structure"
_FORMAT_VERSION = 1
_MAX_HEADER = 100_000_000           # the limit the safetensors library itself applies


# ---- save ----
def save(obj, f) -> None:
    """Write `obj` to `f` (torch.save): a state dict in the safetensors format, anything
    else (a whole module, a tensor, a list) as a pickle (minidl/pickled.py).

    Parameters
    ----------
    obj : dict or any picklable object
        A flat or nested dict (a model's or an optimizer's `state_dict()`, or a checkpoint
        holding both) of Tensors, NumPy arrays, numbers, strings, bools, None, and
        lists/tuples/dicts of them, with str or int keys, is written as safetensors, where
        nothing is code. Any other object is pickled: `load` then needs
        weights_only=False (or its classes allowed with add_safe_globals), as in PyTorch.
    f : str, os.PathLike or binary file object
        Destination. A path is written atomically: to a temporary file in the same
        folder, flushed to disk, then renamed over `f`, so that a crash leaves the old
        file intact.

    Notes
    -----
    Tensors are saved from the host (GPU tensors are copied), detached, in their dtype:
    bool, uint8, int8/16/32/64 and float16/32/64 (also uint16/32/64).

    See Also
    --------
    torch.save, load
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        structure = _encode(obj, (), arrays)
    except _NotPlain:
        structure = None
    if structure is None:                        # not a plain state dict: a pickle
        data = pickled.dumps(obj)
        write = lambda fh: fh.write(data)        # noqa: E731
    else:
        metadata = {"format": "pt", _STRUCTURE_KEY: json.dumps(
            {"version": _FORMAT_VERSION, "root": structure})}
        header, order = _header(arrays, metadata)
        write = lambda fh: _write(fh, header, [arrays[name] for name in order])  # noqa: E731
    if hasattr(f, "write"):
        write(f)
    else:
        _atomic_write(os.fspath(f), write)


class _NotPlain(TypeError):
    """A value a safetensors file cannot hold (save pickles the object instead)."""


def _encode(value, path: tuple, arrays: dict):
    """The JSON node for value; its arrays go into `arrays` under their dotted path."""
    where = ".".join(path) or "<root>"
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, np.integer):
                key = int(key)
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise _NotPlain(f"save: dict keys must be str or int, got {key!r} "
                                f"({type(key).__name__}) in {where}")
            items.append([key, _encode(item, path + (str(key),), arrays)])
        return {"dict": items}
    if type(value) in (list, tuple):      # a tuple subclass (Size, a namedtuple) is pickled
        nodes = [_encode(item, path + (str(i),), arrays) for i, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": nodes}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    requires_grad = isinstance(value, Tensor) and value.requires_grad
    if isinstance(value, Tensor):
        value = value.array
    if not isinstance(value, np.ndarray) and backend.get_array_module(value) is np:
        raise _NotPlain(f"save: cannot store a value of type {type(value).__name__} at "
                        f"{where}; minidl saves Tensors, NumPy arrays, numbers, strings, "
                        "bools, None and lists, tuples and dicts of them")
    array = backend.to_numpy(value)
    if array.dtype.newbyteorder("=") not in _CODES:
        raise _NotPlain(f"save: unsupported dtype {array.dtype} at {where}; supported: "
                        + ", ".join(str(d) for d in _CODES))
    name = base = ".".join(path)
    copy = 1
    while name in arrays or name == "__metadata__":
        copy += 1
        name = f"{base}#{copy}"
    arrays[name] = array
    # a tensor that requires grad (a loss kept in a checkpoint) comes back requiring it,
    # as from torch.load
    return {"tensor_rg" if requires_grad else "tensor": name}


def _header(arrays: dict, metadata: dict) -> tuple[bytes, list[str]]:
    """The padded header bytes, and the order of the tensors' bytes in the file.

    Wider dtypes come first, so that every tensor starts at a multiple of its item size.
    """
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)
    offsets, start = {}, 0
    for name in order:
        offsets[name] = [start, start + arrays[name].nbytes]
        start += arrays[name].nbytes
    header: dict[str, Any] = {"__metadata__": metadata}
    for name, array in arrays.items():
        header[name] = {"dtype": _CODES[array.dtype.newbyteorder("=")],
                        "shape": list(array.shape), "data_offsets": offsets[name]}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text, order


def _write_array(fh, array: np.ndarray) -> None:
    """Write an array's bytes, little-endian and C-ordered, without an extra copy."""
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).reshape(-1)
    fh.write(array.view(np.uint8).data)


def _write(fh, header: bytes, arrays: list) -> None:
    fh.write(header)
    for array in arrays:
        _write_array(fh, array)


def _atomic_write(path: str, write) -> None:
    """write(fh) to a temporary file beside `path`, fsync it, then rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: {path}: the folder {folder} does not exist")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):            # keep the permissions of the file replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:                                    # make the rename itself durable (POSIX)
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# ---- load ----
def load(f, map_location=None, weights_only: bool | None = None):
    """Read a file written by `save` (or any safetensors file); a state dict loads without
    executing code, a pickled object under PyTorch's weights_only rules.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        The file.
    map_location : str or device, optional
        Device for the tensors ('cpu', 'cuda:0'); the CPU by default.
    weights_only : bool, optional
        For a pickled object (a whole module): True, the default as in PyTorch 2.6+,
        rebuilds only tensors, arrays, numbers, strings, containers and the classes allowed
        with add_safe_globals / safe_globals; False unpickles anything (trusted files only).
        A safetensors file holds no code, so it loads the same either way.

    Returns
    -------
    dict
        The structure that was saved, with Tensors where arrays were. A safetensors file
        from another writer gives a flat dict of name -> Tensor.

    Raises
    ------
    ValueError
        If the file is truncated, is not a safetensors file (a pickle or a zip archive
        from torch.save, JSON, random bytes), or its header is inconsistent; the message
        names the file and the problem.

    See Also
    --------
    torch.load, save
    """
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        raw = np.frombuffer(bytearray(f.read()), dtype=np.uint8)
    else:
        name = os.fspath(f)
        raw = np.fromfile(name, dtype=np.uint8)
    if raw[:len(pickled.MAGIC)].tobytes() == pickled.MAGIC:
        return pickled.loads(raw.tobytes(), name, weights_only is not False, map_location)
    tensors, metadata = _parse(raw, name)
    if map_location is not None:
        for key, array in tensors.items():
            tensors[key] = backend.to_device(array, map_location)
    if metadata is None or _STRUCTURE_KEY not in metadata:
        return {key: Tensor._wrap(array, False, None, 0) for key, array in tensors.items()}
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
        if not isinstance(structure, dict) or structure.get("version") != _FORMAT_VERSION:
            raise ValueError(f"unknown structure version {structure.get('version')!r}"
                             if isinstance(structure, dict) else "structure is not an object")
        used: set = set()
        obj = _decode(structure.get("root"), tensors, used)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"load: {name}: bad minidl structure in the metadata: {err}") from None
    unused = sorted(set(tensors) - used)
    if unused:
        raise ValueError(f"load: {name}: tensors {unused[:5]} are in the file but not in its "
                         "minidl structure")
    return obj


def _bad(name: str, what: str) -> ValueError:
    return ValueError(f"load: {name}: {what}")


def _foreign_kind(raw: np.ndarray) -> str:
    """A hint for the common wrong files: zip (torch.save), pickle, JSON."""
    start = raw[:4].tobytes()
    if start.startswith(b"PK\x03\x04"):
        return (" (it is a zip archive, as torch.save writes: minidl never unpickles; "
                "convert it in PyTorch with safetensors.torch.save_file)")
    if start[:1] == b"\x80":
        return " (it looks like a pickle file: minidl never unpickles)"
    if start.lstrip()[:1] in (b"{", b"["):
        return " (it looks like a JSON file)"
    return ""


def _no_duplicates(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in the header: "
                         f"{sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def _parse(raw: np.ndarray, name: str) -> tuple[dict, dict | None]:
    """Check the header against the data and cut the arrays (views of `raw`) out of it."""
    size = raw.size
    if size < 8:
        raise _bad(name, f"not a safetensors file: {size} bytes, fewer than the 8-byte "
                         "header length (an empty or truncated file)")
    n = int.from_bytes(raw[:8].tobytes(), "little")
    if n > min(size - 8, _MAX_HEADER) or n < 2:
        raise _bad(name, f"not a safetensors file, or truncated: the header length field says "
                         f"{n} bytes but the file has {size} bytes{_foreign_kind(raw)}")
    try:
        text = raw[8:8 + n].tobytes().decode("utf-8")
        if not text.startswith("{"):
            raise ValueError("it does not start with '{'")
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _bad(name, f"not a safetensors file: the header is not valid JSON ({err})"
                         f"{_foreign_kind(raw)}") from None
    if not isinstance(header, dict):
        raise _bad(name, "not a safetensors file: the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise _bad(name, "__metadata__ must map strings to strings")

    data = raw[8 + n:]
    spans = []
    for key, entry in header.items():
        spans.append(_check_entry(name, key, entry, data.size) + (key,))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise _bad(name, f"tensor '{key}' starts at byte {begin} of the data but the "
                             f"previous one ends at {end} (overlapping or missing bytes)")
        end = stop
    if end != data.size:
        raise _bad(name, f"the tensors cover {end} bytes but the data section has {data.size}"
                         " (extra bytes after the last tensor)")

    arrays = {}
    for key, entry in header.items():
        begin, stop = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        array = data[begin:stop].view(dtype).reshape(entry["shape"])
        if dtype.kind == "b" and (data[begin:stop] > 1).any():
            raise _bad(name, f"tensor '{key}' has dtype BOOL but holds bytes other than 0, 1")
        # memory of its own, as torch.load gives: views of one buffer would keep the whole
        # file alive for any one tensor, and share one in-place count (autograd.version)
        arrays[key] = array.astype(array.dtype.newbyteorder("="), copy=True)
    return arrays, metadata


def _check_entry(name: str, key: str, entry, data_size: int) -> tuple[int, int]:
    """Validate one header entry; return its (begin, end) offsets."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _bad(name, f"header entry '{key}' must have exactly dtype, shape and "
                         f"data_offsets, got {entry!r:.200}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPES:
        raise _bad(name, f"tensor '{key}' has dtype {dtype!r:.40}, which minidl does not "
                         f"support (supported: {', '.join(_DTYPES)})")
    if not isinstance(shape, list) or not all(
            type(s) is int and s >= 0 for s in shape):
        raise _bad(name, f"tensor '{key}' has an invalid shape {shape!r:.200}")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
        raise _bad(name, f"tensor '{key}' has invalid data_offsets {offsets!r:.200}")
    nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise _bad(name, f"tensor '{key}' of dtype {dtype} and shape {shape} needs {nbytes} "
                         f"bytes but its data_offsets {offsets} span "
                         f"{offsets[1] - offsets[0]}")
    if offsets[1] > data_size:
        raise _bad(name, f"truncated: tensor '{key}' ends at byte {offsets[1]} of the data "
                         f"but the file holds only {data_size} bytes of data")
    return offsets[0], offsets[1]


def _decode(node, tensors: dict, used: set):
    """Rebuild a value from its JSON node (see `_encode`)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"unexpected node {node!r:.100}")
    (tag, body), = node.items()
    if tag in ("tensor", "tensor_rg"):
        if not isinstance(body, str) or body not in tensors:
            raise ValueError(f"it names a tensor {body!r:.100} that the file does not hold")
        if body in used:
            raise ValueError(f"it names the tensor {body!r:.100} twice")
        used.add(body)
        return Tensor._wrap(tensors[body], tag == "tensor_rg", None, 0)
    if tag in ("list", "tuple") and isinstance(body, list):
        items = [_decode(item, tensors, used) for item in body]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                    and not isinstance(pair[0], bool)):
                raise ValueError(f"bad dict item {pair!r:.100}")
            out[pair[0]] = _decode(pair[1], tensors, used)
        return out
    raise ValueError(f"unexpected node {node!r:.100}")
