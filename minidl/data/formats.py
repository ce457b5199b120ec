"""Readers for the on-disk formats of the built-in datasets: IDX and CIFAR's pickles.

Both readers check what they read and raise ValueError naming the file and the problem
(a bad magic number, a short file, a foreign pickle) instead of returning wrong arrays.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import zlib

import numpy as np

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path: "str | os.PathLike") -> bytes:
    """The file's bytes, decompressed when it is gzip (by content, not by name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: truncated or corrupted gzip data ({err})") from err


def read_idx(path: "str | os.PathLike", expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzipped or not, into a NumPy array.

    Parameters
    ----------
    path : path
        The file.
    expected_magic : int, optional
        The magic number the file must have (2051 for image files, 2049 for label files).

    Returns
    -------
    numpy.ndarray
        Shape from the header, native byte order, writable.

    Raises
    ------
    ValueError
        Naming the file: too short for its header, a bad or unexpected magic number, or a
        payload whose size disagrees with the header's dimensions.

    Notes
    -----
    IDX: a big-endian header of magic number (two zero bytes, a type code, the number of
    dimensions) and one uint32 per dimension, then the values in C order.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: file too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: bad magic number {magic:#010x} ({magic}), expected "
                         f"{expected_magic:#010x} ({expected_magic}); not the IDX file "
                         f"expected here")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: bad magic number {magic:#010x}; not an IDX file")
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: file too short for its IDX header of {ndim} dimensions "
                         f"({len(data)} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header
    if payload != expected:
        problem = "short read" if payload < expected else "trailing data"
        raise ValueError(f"{path}: {problem}: the header announces dimensions {dims} "
                         f"({expected} bytes of data) but the file holds {payload} bytes "
                         f"after the header (truncated or corrupted file)")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return array.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (for writing small test or custom datasets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


# The only globals a CIFAR batch pickle refers to: how NumPy pickles an array and its dtype.
# Python 2's numpy wrote numpy.core.multiarray; NumPy 2 writes numpy._core.multiarray.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _RefusedGlobal(pickle.UnpicklingError):
    """A pickle named a global outside the allowed set."""


class _RestrictedUnpickler(pickle._Unpickler):
    """An Unpickler that resolves only NumPy's array-rebuilding names.

    A pickle can call any global it names (that is how `os.system` runs from a malicious
    file); refusing every other name in `find_class` means only dicts, lists, strings,
    numbers and plain NumPy arrays can come out.

    It is Python's own unpickler (`pickle._Unpickler`), not the C one: the C one allocates
    the buffer a length field announces before reading it, so a corrupted length in a
    CIFAR file made a MemoryError (found by tests/data/test_reader_fuzz.py); the Python one
    reads what the file holds. A CIFAR batch loads in milliseconds either way (a handful of
    objects and one 30 MB string).
    """

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _RefusedGlobal(f"refused to load the global '{module}.{name}': "
                                 f"only numpy arrays are allowed")
        if name == "_reconstruct":
            return _numpy_reconstruct()
        return getattr(np, name)


def _numpy_reconstruct():
    """numpy's array-unpickling helper, from wherever this NumPy version keeps it."""
    try:
        from numpy._core.multiarray import _reconstruct      # NumPy >= 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct       # NumPy 1.x
    return _reconstruct


def load_restricted_pickle(path: "str | os.PathLike"):
    """Load a pickle file that may hold only containers, numbers, strings and NumPy arrays.

    Strings from Python 2 pickles (CIFAR's) are decoded as latin-1, as torchvision does.

    Raises
    ------
    ValueError
        Naming the file: it refers to any other global (which could run code; nothing is
        run) or is not a readable pickle.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return _RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except _RefusedGlobal as err:
        raise ValueError(f"{path}: not a plain data pickle: {err}") from err
    except Exception as err:    # whatever a cut or flipped byte makes the unpickler raise
        raise ValueError(f"{path}: truncated or corrupted pickle ({type(err).__name__}: "
                         f"{err})") from err
