"""Fuzzing the readers (issue 17): a truncated or corrupted IDX, CIFAR, safetensors or
minidl-pickle file either reads (a changed data byte is still a valid file) or raises the
reader's one named error, ValueError, naming the file; never an IndexError, a
MemoryError, another exception, or a hang. Hypothesis cuts and flips the bytes of a valid
file of each kind; the example counts are modest for CI (the closing note gives them)."""
from __future__ import annotations

import gzip
import os
import io
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minidl
from minidl.data.formats import idx_bytes, load_restricted_pickle, read_idx

from data_helpers import cifar_batch_bytes

FUZZ = settings(max_examples=int(os.environ.get("MINIDL_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
_counts: dict = {}


def _valid_files() -> dict:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 5, 4), dtype=np.uint8)
    buf = io.BytesIO()
    minidl.save({"w": minidl.randn(3, 2), "step": 7, "nested": {"b": minidl.zeros(4)}}, buf)
    module = io.BytesIO()
    minidl.save(minidl.nn.Linear(2, 2), module)
    return {
        "idx": idx_bytes(images),
        "idx.gz": gzip.compress(idx_bytes(images)),
        "cifar": cifar_batch_bytes(rng.integers(0, 256, size=(2, 3072), dtype=np.uint8),
                                   [1, 2]),
        "safetensors": buf.getvalue(),
        "minidl-pickle": module.getvalue(),
    }


VALID = _valid_files()


def _read(kind: str, path):
    if kind.startswith("idx"):
        return read_idx(path)
    if kind == "cifar":
        return load_restricted_pickle(path)
    if kind == "minidl-pickle":
        # the classes a whole Linear needs, as a user who trusts the file would allow them
        with minidl.serialization.safe_globals([minidl.nn.Linear, minidl.nn.Parameter]):
            return minidl.load(path)
    return minidl.load(path)


def _mutate(data: bytes, cut: int | None, flips: list) -> bytes:
    out = bytearray(data if cut is None else data[:cut])
    for position, value in flips:
        if out:
            out[position % len(out)] = value
    return bytes(out)


def _check(kind, data, tmp_path):
    path = tmp_path / f"fuzzed.{kind}"
    path.write_bytes(data)
    _counts[kind] = _counts.get(kind, 0) + 1
    # a minidl pickle whose bytes now name a class that was not allowed is refused as
    # PyTorch refuses it (pickle.UnpicklingError, "Weights only load failed")
    named = (ValueError, pickle.UnpicklingError) if kind == "minidl-pickle" else ValueError
    try:
        _read(kind, path)
    except named as err:
        assert str(path) in str(err), f"{kind}: the error does not name the file: {err}"


@pytest.mark.parametrize("kind", list(VALID))
def test_the_unchanged_file_reads(kind, tmp_path):
    path = tmp_path / f"valid.{kind}"
    path.write_bytes(VALID[kind])
    _read(kind, path)


@pytest.mark.parametrize("kind", list(VALID))
@FUZZ
@given(data=st.data())
def test_cut_and_flipped_files_raise_one_named_error(kind, data, tmp_path):
    valid = VALID[kind]
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(valid) - 1)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(valid)), st.integers(0, 255)),
                               max_size=4), label="flips")
    _check(kind, _mutate(valid, cut, flips), tmp_path)


@pytest.mark.parametrize("claim", [10 ** 12, 2 ** 63 - 1, 2 ** 40])
def test_a_header_claiming_a_huge_tensor_is_refused_before_allocating(claim, tmp_path):
    # a safetensors header whose tensor claims `claim` bytes: refused from the header,
    # without reading or allocating that much
    import json
    side = int(claim ** 0.5)
    header = json.dumps({"w": {"dtype": "U8", "shape": [side, side],
                               "data_offsets": [0, side * side]}}).encode()
    path = tmp_path / "huge.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)
    with pytest.raises(ValueError, match="huge.safetensors"):
        minidl.load(path)
    idx = tmp_path / "huge-idx3-ubyte"
    idx.write_bytes(bytes([0, 0, 0x08, 3]) + b"".join(
        (65535).to_bytes(4, "big") for _ in range(3)) + b"\0" * 16)
    with pytest.raises(ValueError, match="header announces dimensions"):
        read_idx(idx)


def test_every_reader_was_fuzzed():
    # runs after the fuzz tests in this file (pytest keeps file order); -s shows the counts
    if not _counts:
        pytest.skip("the fuzz tests did not run in this session")
    print("fuzzed files read:", dict(sorted(_counts.items())))
    assert set(_counts) == set(VALID) and min(_counts.values()) >= 10
