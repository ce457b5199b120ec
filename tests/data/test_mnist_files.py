"""MNIST and Fashion-MNIST: the real IDX files, synthetic ones, and every way they can be bad."""
import gzip
import hashlib

import numpy as np
import pytest

import minidl
from minidl.data import MNIST, DataLoader, FashionMNIST
from minidl.data import transforms as T
from minidl.data.download import check_integrity
from minidl.data.formats import read_idx

from data_helpers import shared_folder, write_idx, write_mnist_files

# sha256 of data[0].tobytes(), the first ten labels and per-class counts, per split.
REAL = {
    (MNIST, "mnist", True): ("23ceaef5eb61f0e70d64ac18fdf0f60df3d5971cf30bbadac7b6ebf07f782d2c",
                             [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
                             [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
    (MNIST, "mnist", False): ("8f6a418c9a639f9e14e96feca47a97df2a35a0a68ae2875431c5c80e05536941",
                              [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
                              [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
    (FashionMNIST, "fashion-mnist", True): (
        "5bd44e331a6d6998daf675700cd0c13dcd7af8ab954b7585124124da61459e7b",
        [9, 0, 0, 3, 0, 2, 7, 2, 5, 5], [6000] * 10),
    (FashionMNIST, "fashion-mnist", False): (
        "ffc7351ed0f8bae542820866086177fa4e0b366b97bf9d998dffdb8dbe138787",
        [9, 2, 1, 1, 6, 1, 4, 6, 5, 7], [1000] * 10),
}
_cache = {}


def real(cls, name, train):
    key = (cls, name, train)
    if key not in _cache:
        _cache[key] = cls(shared_folder(name), train=train)
    return _cache[key]


@pytest.mark.parametrize("key", list(REAL), ids=lambda k: f"{k[1]}-{'train' if k[2] else 'test'}")
def test_real_files_shapes_dtypes_and_content(key):
    cls, name, train = key
    ds = real(cls, name, train)
    digest, first_labels, counts = REAL[key]
    n = 60000 if train else 10000
    assert len(ds) == n
    assert ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (n,) and ds.targets.dtype == np.int64
    assert hashlib.sha256(ds.data[0].tobytes()).hexdigest() == digest
    assert ds.targets[:10].tolist() == first_labels
    assert np.bincount(ds.targets, minlength=10).tolist() == counts
    image, label = ds[0]
    assert isinstance(image, minidl.Tensor) and image.shape == (1, 28, 28)
    assert image.dtype == np.float32 and isinstance(label, int) and label == first_labels[0]
    np.testing.assert_array_equal(image.data[0], ds.data[0].astype(np.float32) / 255)
    assert 0 <= image.array.min() and image.array.max() <= 1


def test_real_files_match_the_published_md5s():
    # Ties the class's `resources` table (used by download=True) to the real files.
    for cls, name in ((MNIST, "mnist"), (FashionMNIST, "fashion-mnist")):
        folder = shared_folder(name)
        for filename, md5 in cls.resources:
            assert check_integrity(folder / filename, md5), (cls.__name__, filename)


def test_mnist_train_pixel_statistics():
    ds = real(MNIST, "mnist", True)
    flat = ds.data.reshape(-1)
    n = flat.size                      # exact integer sums, cheaper than float copies
    mean = flat.sum(dtype=np.int64) / n / 255
    std = np.sqrt(np.einsum("i,i->", flat, flat, dtype=np.int64) / n / 255 ** 2 - mean ** 2)
    assert abs(mean - 0.1307) < 5e-5 and abs(std - 0.3081) < 5e-5


def test_dataloader_over_mnist_yields_float32_and_int64_batches():
    ds = real(MNIST, "mnist", True)
    minidl.manual_seed(0)
    loader = DataLoader(ds, batch_size=64, shuffle=True)
    assert len(loader) == 938
    batches = list(loader)
    assert len(batches) == 938
    images, labels = batches[0]
    assert images.shape == (64, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (64,) and labels.dtype == np.int64
    assert batches[-1][0].shape == (60000 - 937 * 64, 1, 28, 28)
    seen = np.concatenate([b[1].array for b in batches])
    assert np.bincount(seen).tolist() == REAL[(MNIST, "mnist", True)][2]   # each sample once
    # Batches equal the items they were made of, stacked.
    order = loader.state_dict()["indices"]
    items = [ds[int(i)] for i in order[:64]]
    np.testing.assert_array_equal(images.array, np.stack([im.array for im, _ in items]))
    assert labels.tolist() == [lab for _, lab in items]


def test_transform_receives_raw_image_like_torchvision():
    ds = real(MNIST, "mnist", False)
    seen = []
    ds_t = MNIST(shared_folder("mnist"), train=False, transform=lambda im: seen.append(im) or 0)
    ds_t[3]
    assert seen[0].dtype == np.uint8 and seen[0].shape == (28, 28)
    np.testing.assert_array_equal(seen[0], ds.data[3])
    norm = MNIST(shared_folder("mnist"), train=False,
                 transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
                 target_transform=lambda y: y + 100)
    image, label = norm[3]
    expected = (ds.data[3].astype(np.float32) / 255 - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(image.array[0], expected, rtol=1e-6, atol=1e-6)
    assert label == int(ds.targets[3]) + 100
    images, labels = next(iter(DataLoader(norm, batch_size=5)))
    np.testing.assert_array_equal(images.array[3, 0], image.array[0])
    assert labels.tolist() == [int(t) + 100 for t in ds.targets[:5]]


def test_synthetic_files_gzipped_plain_and_torchvision_layout(tmp_path):
    arrays = write_mnist_files(tmp_path / "flat", gz=True)
    ds = MNIST(tmp_path / "flat", train=True)
    np.testing.assert_array_equal(ds.data, arrays["train"][0])
    np.testing.assert_array_equal(ds.targets, arrays["train"][1])
    arrays = write_mnist_files(tmp_path / "tv" / "MNIST" / "raw", gz=False, seed=1)
    ds = MNIST(tmp_path / "tv", train=False)
    np.testing.assert_array_equal(ds.data, arrays["t10k"][0])
    arrays = write_mnist_files(tmp_path / "fm" / "FashionMNIST" / "raw", seed=2)
    ds = FashionMNIST(str(tmp_path / "fm"))
    np.testing.assert_array_equal(ds.targets, arrays["train"][1])
    assert ds.classes[9] == "Ankle boot"


def test_missing_files_say_what_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path / "nowhere", train=True)
    msg = str(info.value)
    for part in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 str(tmp_path / "nowhere"), str(tmp_path / "nowhere" / "MNIST" / "raw"),
                 "download=True", "https://ossci-datasets.s3.amazonaws.com/mnist/"):
        assert part in msg
    with pytest.raises(FileNotFoundError, match="fashion-mnist.s3-website"):
        FashionMNIST(tmp_path, train=False)


def _corrupt(tmp_path, which: str, data: bytes, gz: bool = True):
    write_mnist_files(tmp_path)
    path = tmp_path / f"train-{which}-idx{3 if which == 'images' else 1}-ubyte.gz"
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_bad_magic_number(tmp_path):
    labels = write_idx(tmp_path / "x.gz", np.zeros(6, np.uint8)).read_bytes()
    path = _corrupt(tmp_path, "images", gzip.decompress(labels))   # a label file as images
    with pytest.raises(ValueError, match=r"train-images.*bad magic number 0x00000801"):
        MNIST(tmp_path)
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(12))
    with pytest.raises(ValueError, match="bad magic number 0x12340803"):
        MNIST(tmp_path)


def test_short_read_and_trailing_data(tmp_path):
    header = bytes([0, 0, 8, 3]) + (6).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    _corrupt(tmp_path, "images", header + bytes(5 * 784))        # 5 images, header says 6
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: short read.*\(6, 28, "
                                         r"28\).*4704 bytes.*3920 bytes"):
        MNIST(tmp_path)
    _corrupt(tmp_path, "images", header + bytes(6 * 784 + 3))
    with pytest.raises(ValueError, match="trailing data"):
        MNIST(tmp_path)
    _corrupt(tmp_path, "labels", bytes([0, 0, 8]))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: file too short"):
        MNIST(tmp_path)


def test_label_count_must_match_image_count(tmp_path):
    _corrupt(tmp_path, "labels", gzip.decompress(
        write_idx(tmp_path / "l.gz", np.zeros(5, np.uint8)).read_bytes()))
    with pytest.raises(ValueError, match="holds 5 labels but .*train-images.* holds 6 images"):
        MNIST(tmp_path)


def test_label_values_out_of_range(tmp_path):
    _corrupt(tmp_path, "labels", gzip.decompress(
        write_idx(tmp_path / "l.gz", np.full(6, 12, np.uint8)).read_bytes()))
    with pytest.raises(ValueError, match="label 12 is out of range for 10 classes"):
        MNIST(tmp_path)


def test_truncated_gzip(tmp_path):
    write_mnist_files(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: truncated or corrupted "
                                         "gzip"):
        MNIST(tmp_path)


def test_read_idx_other_types_and_byte_order(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e9]], dtype=">f8")
    header = bytes([0, 0, 0x0E, 2]) + (2).to_bytes(4, "big") * 2
    path = tmp_path / "f.idx"
    path.write_bytes(header + values.tobytes())
    out = read_idx(path)
    assert out.dtype == np.float64 and out.dtype.isnative
    np.testing.assert_array_equal(out, values.astype(np.float64))
    out[0, 0] = 7               # writable, not a view of the file's bytes
