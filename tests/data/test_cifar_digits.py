"""CIFAR-10 from synthetic batches laid out as the real ones, its safe unpickler, and Digits."""
import importlib.util
import io
import pickle
import pickletools

import numpy as np
import pytest

import minidl
from minidl.data import CIFAR10, DataLoader, Digits
from minidl.data import transforms as T
from minidl.data.formats import load_restricted_pickle

from data_helpers import cifar_batch_bytes, make_cifar_folder


def _globals(raw: bytes) -> set:
    out = io.StringIO()
    pickletools.dis(raw, out)
    return {line.split("GLOBAL", 1)[1].strip().strip("'") for line in out.getvalue().splitlines()
            if " GLOBAL " in line}


def test_synthetic_batch_references_what_real_cifar_batches_reference():
    raw = cifar_batch_bytes(np.zeros((2, 3072), np.uint8), [1, 2])
    assert _globals(raw) == {"numpy.core.multiarray _reconstruct", "numpy ndarray",
                             "numpy dtype"}


def test_reads_train_and_test_batches_in_torchvision_layout(tmp_path):
    arrays = make_cifar_folder(tmp_path)
    train = CIFAR10(tmp_path, train=True)
    assert len(train) == 15 and train.data.shape == (15, 32, 32, 3)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    data, labels = arrays["data_batch_2"]
    assert train.targets[3:6].tolist() == list(labels)
    # A row is 1024 red, then 1024 green, then 1024 blue values, row-major per channel.
    np.testing.assert_array_equal(train.data[3, 0, 1], data[0, [1, 1025, 2049]])
    image, label = train[3]
    assert isinstance(image, minidl.Tensor) and image.shape == (3, 32, 32)
    assert image.dtype == np.float32 and label == int(labels[0])
    np.testing.assert_array_equal(image.array * 255, data[0].reshape(3, 32, 32).astype(np.float32))
    test = CIFAR10(tmp_path / "cifar-10-batches-py", train=False)     # the folder itself
    assert test.targets.tolist() == list(arrays["test_batch"][1])


def test_cifar_batches_through_dataloader_and_random_transforms(tmp_path):
    make_cifar_folder(tmp_path)
    aug = T.Compose([T.ToTensor(), T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
    ds = CIFAR10(tmp_path, transform=aug)
    minidl.manual_seed(3)
    first = [b[0].array.copy() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    minidl.manual_seed(3)
    again = [b[0].array.copy() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    assert [b.shape for b in first] == [(4, 3, 32, 32)] * 3 + [(3, 3, 32, 32)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_python3_protocol_pickles_load_too(tmp_path):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [3, 4]}, protocol=4))
    entry = load_restricted_pickle(path)
    np.testing.assert_array_equal(entry[b"data"], data)


def test_malicious_pickle_is_refused_without_running_anything(tmp_path):
    marker = tmp_path / "pwned"
    # {'data': os.system('touch <marker>')}: the classic code-running pickle.
    raw = (b"\x80\x02}q\x00U\x04dataq\x01cos\nsystem\nq\x02U" + bytes([len(f"touch {marker}")])
           + f"touch {marker}".encode() + b"\x85R" + b"s.")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "test_batch").write_bytes(raw)
    with pytest.raises(ValueError, match=r"test_batch: not a plain data pickle: refused to load "
                                         r"the global 'os.system'"):
        CIFAR10(tmp_path, train=False)
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [("builtins", "eval"), ("numpy", "load"),
                                         ("numpy.core.multiarray", "scalar"),
                                         ("subprocess", "Popen")])
def test_only_the_exact_numpy_names_are_allowed(tmp_path, module, name):
    path = tmp_path / "p"
    path.write_bytes(b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"q\x00.")
    with pytest.raises(ValueError, match=f"refused to load the global '{module}.{name}'"):
        load_restricted_pickle(path)


def test_truncated_and_malformed_batches(tmp_path):
    make_cifar_folder(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match="test_batch: truncated or corrupted pickle"):
        CIFAR10(tmp_path, train=False)
    path.write_bytes(cifar_batch_bytes(np.zeros((2, 100), np.uint8), [1, 2]))
    with pytest.raises(ValueError, match=r"'data' should be uint8 of shape \(N, 3072\)"):
        CIFAR10(tmp_path, train=False)
    path.write_bytes(cifar_batch_bytes(np.zeros((2, 3072), np.uint8), [1, 2, 3]))
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        CIFAR10(tmp_path, train=False)
    path.write_bytes(pickle.dumps([1, 2], protocol=2))
    with pytest.raises(ValueError, match="expected a CIFAR batch"):
        CIFAR10(tmp_path, train=False)


def test_missing_cifar_files_name_the_url(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data_batch_1.*data_batch_5.*download=True.*"
                                                r"cifar-10-python.tar.gz"):
        CIFAR10(tmp_path)


def _needs_sklearn():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed (the digits extra)")


def test_digits_from_scikit_learns_file():
    _needs_sklearn()
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1438 and len(test) == 359
    assert train.data.shape == (1438, 8, 8) and train.data.dtype == np.uint8
    assert train.data.max() == 16 and train.targets.dtype == np.int64
    assert np.bincount(np.concatenate([train.targets, test.targets])).tolist() == \
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]        # sklearn's documented counts
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32 and label == 0
    np.testing.assert_array_equal(image.data[0], train.data[0] / np.float32(16))
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ref = sklearn_datasets.load_digits()
    is_test = np.arange(1797) % 5 == 4              # every fifth sample is a test sample
    np.testing.assert_array_equal(train.data, ref.images[~is_test])
    np.testing.assert_array_equal(test.data, ref.images[is_test])
    np.testing.assert_array_equal(train.targets, ref.target[~is_test])
    np.testing.assert_array_equal(test.targets, ref.target[is_test])
    xb, yb = next(iter(DataLoader(test, batch_size=359)))
    assert xb.shape == (359, 1, 8, 8) and xb.dtype == np.float32 and yb.dtype == np.int64


def test_digits_transform_gets_scaled_tensor_and_root_override(tmp_path):
    _needs_sklearn()
    ds = Digits(transform=T.Normalize((0.5,), (0.25,)))
    image, _ = ds[5]
    np.testing.assert_allclose(image.data[0], (ds.data[5] / 16 - 0.5) / 0.25, rtol=1e-6)
    import gzip
    rows = "\n".join(",".join(["16"] * 64 + [str(d)]) for d in (7, 3)) + "\n"
    (tmp_path / "digits.csv.gz").write_bytes(gzip.compress(rows.encode()))
    own = Digits(root=tmp_path, train=True)
    assert own.targets.tolist() == [7, 3] and own.data.max() == 16
    with pytest.raises(FileNotFoundError, match="digits.csv.gz not found"):
        Digits(root=tmp_path / "empty")


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install minidl\[digits\]"):
        Digits()
