"""minidl.save / minidl.load: the safetensors format, exact round trips, atomic writes,
and clear errors for files that are not what they claim."""
import io
import json
import math
import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from minidl import serialization

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
          np.uint8, np.bool_]


def _same(a, b):
    """Structural equality: same types and keys, tensors with the same dtype and values."""
    if isinstance(b, (minidl.Tensor, np.ndarray)):
        expected = b.detach().numpy() if isinstance(b, minidl.Tensor) else b
        assert isinstance(a, minidl.Tensor), f"{type(a).__name__} instead of a Tensor"
        # requires_grad comes back as saved (torch.load's behaviour); a state dict has none
        assert a.requires_grad == (isinstance(b, minidl.Tensor) and b.requires_grad)
        assert a.dtype == expected.dtype and a.shape == expected.shape
        np.testing.assert_array_equal(a.detach().numpy(), expected)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b)
        assert [type(k) for k in a] == [type(k) for k in b]
        for key in b:
            _same(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(b, float) and math.isnan(b):
        assert isinstance(a, float) and math.isnan(a)
    else:
        assert type(a) is type(b) and a == b


def _checkpoint():
    rng = np.random.default_rng(0)
    model = {"fc1.weight": minidl.tensor(rng.standard_normal((4, 3)).astype(np.float32),
                                         requires_grad=True),
             "fc1.bias": minidl.zeros(4),
             "bn.num_batches_tracked": minidl.tensor(7)}
    optimizer = {"state": {0: {"step": 3, "exp_avg": minidl.randn(4, 3)},
                           2: {"step": 3, "exp_avg": minidl.randn(4)}},
                 "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False,
                                   "params": [0, 1, 2], "param_names": ["a", "b", "c"]}]}
    return {"model": model, "optimizer": optimizer, "epoch": 12, "loss": 0.25,
            "name": "résumé ✓", "best": None, "flags": [True, False],
            "rng": minidl.get_rng_state(), "empty": {}, "nested_list": [[1, 2], (3.5, "x")],
            "nan": float("nan"), "inf": -float("inf"), "big": 2 ** 100}


# ---- round trips ----
def test_nested_checkpoint_round_trips_exactly(tmp_path):
    obj = _checkpoint()
    path = tmp_path / "ckpt.safetensors"
    minidl.save(obj, path)
    _same(minidl.load(path), obj)
    _same(minidl.load(str(path)), obj)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 4)])
def test_every_dtype_and_shape_round_trips(dtype, shape, tmp_path):
    rng = np.random.default_rng(1)
    array = np.asarray((rng.standard_normal(shape) * 50).astype(dtype))
    minidl.save({"x": array, "t": minidl.tensor(array)}, tmp_path / "a.safetensors")
    _same(minidl.load(tmp_path / "a.safetensors"), {"x": array, "t": array})


def test_non_contiguous_and_big_endian_arrays_are_saved_by_value(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    obj = {"transposed": base.T, "strided": base[::2, 1::2],
           "big_endian": np.arange(5, dtype=">i4"), "big_f": np.linspace(0, 1, 3).astype(">f8")}
    minidl.save(obj, tmp_path / "a.safetensors")
    out = minidl.load(tmp_path / "a.safetensors")
    for key, array in obj.items():
        assert out[key].dtype.isnative
        np.testing.assert_array_equal(out[key].numpy(), array)
    out["transposed"].array[0, 0] = 99.0            # loaded arrays are writable


_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
    st.floats(allow_nan=False), st.text(max_size=5),
    hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
_keys = st.one_of(st.text(max_size=4), st.integers(-5, 5))
_trees = st.recursive(_leaves, lambda children: st.one_of(
    st.lists(children, max_size=3), st.lists(children, max_size=3).map(tuple),
    st.dictionaries(_keys, children, max_size=3)), max_leaves=8)


@given(tree=st.dictionaries(_keys, _trees, max_size=4))
def test_any_supported_structure_round_trips(tree):
    buffer = io.BytesIO()
    minidl.save(tree, buffer)
    buffer.seek(0)
    _same(minidl.load(buffer), tree)


def test_numpy_scalars_are_saved_as_python_numbers(tmp_path):
    minidl.save({"loss": np.float32(0.5), "epoch": np.int64(3), "ok": np.bool_(True)},
                tmp_path / "s.safetensors")
    _same(minidl.load(tmp_path / "s.safetensors"), {"loss": 0.5, "epoch": 3, "ok": True})


def test_keys_that_collide_once_joined_stay_distinct(tmp_path):
    obj = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}, "__metadata__": np.full(1, 2.0)}
    minidl.save(obj, tmp_path / "c.safetensors")
    _same(minidl.load(tmp_path / "c.safetensors"), obj)


def test_map_location_and_weights_only_are_accepted(tmp_path):
    minidl.save({"w": minidl.ones(2)}, tmp_path / "w.safetensors")
    out = minidl.load(tmp_path / "w.safetensors", map_location="cpu", weights_only=True)
    assert str(out["w"].device) == "cpu"


def test_tensors_on_every_array_module_round_trip(xp, tmp_path):
    t = minidl.tensor(xp.arange(6, dtype=xp.float32).reshape(2, 3))
    minidl.save({"t": t}, tmp_path / "d.safetensors")
    out = minidl.load(tmp_path / "d.safetensors", map_location=str(t.device))
    assert minidl.backend.get_array_module(out["t"].array) is xp
    np.testing.assert_array_equal(minidl.backend.to_numpy(out["t"].array),
                                  minidl.backend.to_numpy(t.array))


# ---- the format, as other readers see it ----
def _header(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8:8 + n]), raw


def test_file_layout_is_safetensors(tmp_path):
    path = tmp_path / "m.safetensors"
    minidl.save({"fc1.weight": np.ones((2, 3), np.float32), "n": np.arange(3, dtype=np.int8),
                 "h": np.zeros(5, np.float16), "d": np.zeros(1)}, path)
    n, header, raw = _header(path)
    text = raw[8:8 + n].decode()
    assert n % 8 == 0 and text.startswith("{") and text.rstrip(" ").endswith("}")
    assert set(header) == {"__metadata__", "fc1.weight", "n", "h", "d"}
    assert header["fc1.weight"]["dtype"] == "F32" and header["fc1.weight"]["shape"] == [2, 3]
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    ends = sorted(e["data_offsets"] for k, e in header.items() if k != "__metadata__")
    assert ends[0][0] == 0 and ends[-1][1] == len(raw) - 8 - n
    for key, entry in header.items():
        if key != "__metadata__":        # every tensor starts aligned to its item size
            begin = entry["data_offsets"][0]
            itemsize = {"F32": 4, "I8": 1, "F16": 2, "F64": 8}[entry["dtype"]]
            assert (8 + n + begin) % itemsize == 0


def test_safetensors_numpy_reads_the_file_under_flat_keys(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    obj = _checkpoint()
    path = tmp_path / "ckpt.safetensors"
    minidl.save(obj, path)
    flat = safetensors_numpy.load_file(str(path))
    assert set(flat) == {"model.fc1.weight", "model.fc1.bias", "model.bn.num_batches_tracked",
                         "optimizer.state.0.exp_avg", "optimizer.state.2.exp_avg"}
    np.testing.assert_array_equal(flat["model.fc1.weight"],
                                  obj["model"]["fc1.weight"].detach().numpy())
    model = obj["model"]
    minidl.save(model, path)
    flat = safetensors_numpy.load_file(str(path))
    assert list(sorted(flat)) == sorted(model)
    for key, t in model.items():
        assert flat[key].dtype == t.dtype
        np.testing.assert_array_equal(flat[key], t.detach().numpy())


def test_safetensors_torch_reads_the_file(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch = pytest.importorskip("torch")
    arrays = {f"t{i}": (np.arange(6) % 2).astype(d).reshape(2, 3) for i, d in enumerate(DTYPES)}
    minidl.save(arrays, tmp_path / "t.safetensors")
    loaded = safetensors_torch.load_file(str(tmp_path / "t.safetensors"))
    for key, array in arrays.items():
        assert loaded[key].dtype == torch.from_numpy(array).dtype
        np.testing.assert_array_equal(loaded[key].numpy(), array)


def test_a_file_written_by_safetensors_loads_as_a_flat_dict(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    arrays = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
              "b": np.array([True, False])}
    safetensors_numpy.save_file(arrays, str(tmp_path / "f.safetensors"))
    _same(minidl.load(tmp_path / "f.safetensors"), arrays)


# ---- atomic writes ----
def _half_then_fail(fh, array):
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    fh.write(data[: data.size // 2].data)
    raise OSError("disk full (simulated)")


@pytest.mark.parametrize("failure", ["write", "fsync"])
def test_a_crash_mid_write_leaves_the_old_file_and_no_temp_file(failure, tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    minidl.save({"w": np.arange(1000.0)}, path)
    before = path.read_bytes()
    if failure == "write":
        monkeypatch.setattr(serialization, "_write_array", _half_then_fail)
    else:
        def broken_fsync(fd):
            raise OSError("I/O error (simulated)")
        monkeypatch.setattr(serialization.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        minidl.save({"w": np.zeros(1000), "v": np.ones(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]
    _same(minidl.load(path), {"w": np.arange(1000.0)})


def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "m.safetensors"
    minidl.save({"w": np.zeros(2)}, path)
    os.chmod(path, 0o640)
    minidl.save({"w": np.ones(2)}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o640
    _same(minidl.load(path), {"w": np.ones(2)})
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_save_into_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        minidl.save({"w": np.zeros(2)}, tmp_path / "nope" / "m.safetensors")


# ---- what save refuses ----
@pytest.mark.parametrize("obj", [{"f": lambda: 1}, [np.zeros(2), lambda: 2]])
def test_save_refuses_what_it_cannot_store_and_leaves_no_file(obj, tmp_path):
    # what safetensors cannot hold is pickled (tests/test_serialization_pickle.py); what
    # pickle cannot hold either is refused, naming the type, and nothing is written
    with pytest.raises(TypeError, match=f"save: cannot pickle {type(obj).__name__}"):
        minidl.save(obj, tmp_path / "x.pt")
    assert os.listdir(tmp_path) == []


# ---- loading foreign, damaged and lying files ----
def _write_raw(path, header, data=b"", pad=True):
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def _expect_error(path, match):
    with pytest.raises(ValueError, match=match) as info:
        minidl.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cut", [0, 3, 8, 20, -1, -13])
def test_truncated_files_raise(cut, tmp_path):
    good = tmp_path / "good.safetensors"
    minidl.save(_checkpoint(), good)
    raw = good.read_bytes()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(raw[:cut] if cut >= 0 else raw[:len(raw) + cut])
    _expect_error(bad, "truncated|fewer than the 8-byte")


def test_random_bytes_raise(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _expect_error(path, "not a safetensors file")


def test_a_json_file_raises(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"lr": 0.1, "layers": [1, 2, 3]}))
    _expect_error(path, "not a safetensors file.*JSON")


class _Exploit:
    """A pickle that would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"w": _Exploit(str(marker))}))
    _expect_error(path, "pickle")
    assert not marker.exists()


def test_a_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, path)
    _expect_error(path, "zip archive, as torch.save writes")


DATA = np.arange(6, dtype=np.float32).tobytes()        # 24 bytes


@pytest.mark.parametrize("header,data,match", [
    ({"w": {"dtype": "BF16", "shape": [12], "data_offsets": [0, 24]}}, DATA,
     "dtype 'BF16', which minidl does not support"),
    ({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 24]}}, DATA,
     r"needs 16 bytes but its data_offsets \[0, 24\] span 24"),
    ({"w": {"dtype": "F64", "shape": [6], "data_offsets": [0, 48]}}, DATA,
     "needs 48 bytes|truncated"),
    ({"w": {"dtype": "F32", "shape": [6], "data_offsets": [8, 32]}}, DATA, "truncated"),
    ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
      "v": {"dtype": "F32", "shape": [3], "data_offsets": [8, 20]}}, DATA,
     "overlapping or missing"),
    ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, DATA,
     "extra bytes after the last tensor"),
    ({"w": {"dtype": "F32", "shape": [-6], "data_offsets": [0, 24]}}, DATA, "invalid shape"),
    ({"w": {"dtype": "F32", "shape": [6], "data_offsets": [24, 0]}}, DATA,
     "invalid data_offsets"),
    ({"w": {"dtype": "F32", "shape": [6]}}, DATA, "exactly dtype, shape and data_offsets"),
    ({"w": [1, 2]}, DATA, "exactly dtype, shape and data_offsets"),
    ({"__metadata__": {"a": 1}}, b"", "__metadata__ must map strings to strings"),
    ({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07",
     "holds bytes other than 0, 1"),
    ({"__metadata__": {"minidl.structure": "{not json"}}, b"", "bad minidl structure"),
    ({"__metadata__": {"minidl.structure": json.dumps(
        {"version": 1, "root": {"dict": [["w", {"tensor": "missing"}]]}})}}, b"",
     "names a tensor 'missing' that the file does not hold"),
    ({"__metadata__": {"minidl.structure": json.dumps({"version": 1, "root": {"dict": []}})},
      "w": {"dtype": "F32", "shape": [6], "data_offsets": [0, 24]}}, DATA,
     r"tensors \['w'\] are in the file but not in its minidl structure"),
    ({"__metadata__": {"minidl.structure": json.dumps({"version": 99, "root": None})}}, b"",
     "unknown structure version 99"),
    ({"__metadata__": {"minidl.structure": json.dumps(
        {"version": 1, "root": {"dict": [[1.5, 2]]}})}}, b"", "bad dict item"),
    ({"__metadata__": {"minidl.structure": json.dumps({"version": 1, "root": {"set": []}})}},
     b"", "unexpected node"),
])
def test_a_header_that_lies_raises(header, data, match, tmp_path):
    _expect_error(_write_raw(tmp_path / "lie.safetensors", header, data), match)


def test_header_length_and_json_shape_errors(tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", 2 ** 40) + b"{}")
    _expect_error(path, "header length field says 1099511627776 bytes but the file has 10")
    path.write_bytes(struct.pack("<Q", 8) + b"[1, 2]  ")
    _expect_error(path, "does not start with")
    path.write_bytes(struct.pack("<Q", 8) + b'{"a": 1,')
    _expect_error(path, "not valid JSON")
    path.write_bytes(struct.pack("<Q", 4) + b"\xff\xfe{}")
    _expect_error(path, "not valid JSON")
    text = b'{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},' \
           b'"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    _expect_error(path, r"duplicate keys in the header: \['w'\]")


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minidl.load(tmp_path / "absent.safetensors")
