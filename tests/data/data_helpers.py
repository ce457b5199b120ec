"""Helpers for the data tests: synthetic dataset files and the shared real data."""
from __future__ import annotations

import gzip
import io
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from minidl.data.formats import _numpy_reconstruct, idx_bytes

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_folder(name: str) -> Path:
    """`<repo>/../shared/data/<name>`, or skip the test when it is absent."""
    folder = SHARED_DATA / name
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real dataset files not found in {folder}")
    return folder


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist_files(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True,
                      seed: int = 0) -> dict:
    """Four small MNIST-format files; returns {name: (images, labels)} per split prefix."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz)
        out[prefix] = (images, labels)
    return out


class Py2Pickler(pickle._Pickler):
    """Writes pickles as Python 2's cPickle did for CIFAR: str/bytes as BINSTRING opcodes
    and NumPy's array helper under its old module name `numpy.core.multiarray`."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):
        if obj is _numpy_reconstruct():
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def cifar_batch_bytes(data: np.ndarray, labels, batch_label: str = "testing batch") -> bytes:
    """A CIFAR-10 python batch as the real files are laid out (protocol 2, Python 2 style)."""
    entry = {"batch_label": batch_label, "labels": [int(x) for x in labels],
             "data": np.ascontiguousarray(data, dtype=np.uint8),
             "filenames": [f"img_{i}.png" for i in range(len(labels))]}
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(entry)
    return buf.getvalue()


def make_cifar_folder(root: Path, n_per_batch: int = 3, seed: int = 0) -> dict:
    """`root/cifar-10-batches-py/` with 5 train batches and a test batch; returns arrays."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch)
        (folder / name).write_bytes(cifar_batch_bytes(data, labels))
        arrays[name] = (data, labels)
    return arrays
