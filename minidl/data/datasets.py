"""Image datasets read from their original files: MNIST, Fashion-MNIST, CIFAR-10, Digits.

Each keeps the whole split in memory as `.data` (uint8 images) and `.targets` (int64
labels), so that `get_batch` can build a DataLoader batch by indexing both arrays once.
A sample is `(image, label)`: without a transform the image is a float32 Tensor
(C, H, W) scaled to [0, 1] and the label an int. A `transform` receives the raw image
as torchvision passes its PIL image (a uint8 H x W or H x W x C array), so the usual
`Compose([ToTensor(), Normalize(...)])` gives what it gives in PyTorch.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..tensor import Tensor
from .dataloader import default_collate
from .dataset import Dataset
from .download import download_from_mirrors, download_url, extract_tar
from .formats import load_restricted_pickle, read_idx
from .transforms import ToTensor


class _Identity:
    batchable = True

    def __call__(self, x):
        return x

    apply_batch = __call__


class _ImageDataset(Dataset):
    """Shared sample and batch logic for datasets held as `.data` and `.targets` arrays."""

    classes: list = []
    _default_transform: Callable = ToTensor()

    def _raw(self, images: np.ndarray, batched: bool):
        """What a transform receives: the stored uint8 image(s), unchanged."""
        return images

    def __len__(self) -> int:
        return len(self.targets)

    def _transform(self) -> Callable:
        return self._default_transform if self.transform is None else self.transform

    def __getitem__(self, index: int) -> tuple:
        image = self._raw(self.data[index], batched=False)
        image = self._transform()(image)
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices: np.ndarray) -> list:
        """Samples at `indices` collated as [images, targets], built from whole arrays.

        Without a transform, or with one whose every step is `batchable` (`ToTensor`,
        `Normalize`), the images go through it as one array; other transforms (random
        augmentation, `Lambda`) run per image, then the images are stacked.
        """
        transform = self._transform()
        data = self.data[indices]
        if getattr(transform, "batchable", False):
            images = transform.apply_batch(self._raw(data, batched=True))
        else:
            images = default_collate([transform(self._raw(im, batched=False)) for im in data])
        if self.target_transform is None:
            targets = Tensor._wrap(self.targets[indices], False, None, 0)
        else:
            targets = default_collate([self.target_transform(int(t))
                                       for t in self.targets[indices]])
        return [images, targets]

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Split: {split}\n    Root location: {self.root}")


def _find_folder(candidates: Sequence[Path], names: Sequence[str]) -> dict | None:
    """The first candidate folder holding every name (or its un-gzipped twin): name -> path."""
    for folder in candidates:
        found = {}
        for name in names:
            for variant in (name, name[:-3] if name.endswith(".gz") else None):
                if variant and (folder / variant).is_file():
                    found[name] = folder / variant
                    break
        if len(found) == len(names):
            return found
    return None


def _missing_message(cls_name: str, names: Sequence[str], looked: Sequence[Path],
                     urls: Sequence[str]) -> str:
    return (f"{cls_name}: dataset files not found. Expected "
            f"{', '.join(names)} (gzipped, or the same names without .gz) in one of: "
            f"{', '.join(str(p) for p in looked)}. Pass download=True to fetch them, or "
            f"download them by hand from {', '.join(urls)} into {looked[0]}.")


class MNIST(_ImageDataset):
    """MNIST handwritten digits from the original IDX files (torchvision.datasets.MNIST).

    Parameters
    ----------
    root : path
        Either the folder holding the four files (`train-images-idx3-ubyte.gz`,
        `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
        `t10k-labels-idx1-ubyte.gz`, gzipped or not), or a folder with torchvision's layout
        `<root>/MNIST/raw/`. Downloads go to `<root>/MNIST/raw/`.
    train : bool
        The 60000 training images, or the 10000 test images.
    transform : callable, optional
        Applied to the uint8 (28, 28) image; default: `ToTensor()`, giving a float32
        Tensor (1, 28, 28) in [0, 1].
    target_transform : callable, optional
        Applied to the int label.
    download : bool
        Fetch missing files from `mirrors`, checking each file's MD5.
    mirrors : sequence of str, optional
        Base URLs tried in turn (default: the class attribute `mirrors`, torchvision's).

    Attributes
    ----------
    data : numpy.ndarray, uint8 (N, 28, 28)
    targets : numpy.ndarray, int64 (N,)
    classes : list of str
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: "str | os.PathLike", train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, mirrors: Sequence[str] | None = None) -> None:
        self.root = Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if mirrors is not None:
            self.mirrors = list(mirrors)
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        candidates = [self.root, self.raw_folder]
        found = _find_folder(candidates, names)
        if found is None and download:
            self.download()
            found = _find_folder(candidates, names)
        if found is None:
            urls = [self.mirrors[0].rstrip("/") + "/" + n for n in names] if self.mirrors \
                else names
            raise FileNotFoundError(_missing_message(type(self).__name__, names,
                                                     candidates, urls))
        self.data, self.targets = self._load(found[names[0]], found[names[1]])

    @property
    def raw_folder(self) -> Path:
        """Where `download()` puts the files: `<root>/<ClassName>/raw` (torchvision's)."""
        return self.root / type(self).__name__ / "raw"

    def download(self) -> None:
        """Fetch every file of `resources` missing from `raw_folder`, checking MD5s."""
        for name, md5 in self.resources:
            download_from_mirrors(name, self.mirrors, self.raw_folder, md5)

    def _load(self, images_path: Path, labels_path: Path) -> tuple:
        images = read_idx(images_path, expected_magic=2051)
        labels = read_idx(labels_path, expected_magic=2049)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{images_path}: expected uint8 images of shape (N, H, W), got "
                             f"{images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(f"{labels_path}: expected uint8 labels of shape (N,), got "
                             f"{labels.dtype} {labels.shape}")
        if len(labels) != len(images):
            raise ValueError(f"{type(self).__name__}: {labels_path} holds {len(labels)} labels "
                             f"but {images_path} holds {len(images)} images")
        if len(labels) and labels.max() >= len(self.classes):
            raise ValueError(f"{labels_path}: label {int(labels.max())} is out of range for "
                             f"{len(self.classes)} classes")
        return images, labels.astype(np.int64)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) from its IDX files; same layout and options as `MNIST`.

    `root` holds the four files, or `<root>/FashionMNIST/raw/` does.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(_ImageDataset):
    """CIFAR-10 from its python pickle batches (torchvision.datasets.CIFAR10).

    The batches are read with an unpickler that resolves only NumPy's array names, so a
    tampered file cannot run code; it raises ValueError instead.

    Parameters
    ----------
    root : path
        The folder containing `cifar-10-batches-py/` (or that folder itself), which holds
        `data_batch_1` ... `data_batch_5` and `test_batch`.
    train, transform, target_transform :
        As in `MNIST`; a transform receives the uint8 (32, 32, 3) image; the default gives
        a float32 Tensor (3, 32, 32) in [0, 1].
    download : bool
        Fetch `cifar-10-python.tar.gz` into `root` (MD5-checked) and extract it there.
    url : str, optional
        Where to fetch the archive (default: the class attribute `url`).

    Attributes
    ----------
    data : numpy.ndarray, uint8 (N, 32, 32, 3)
    targets : numpy.ndarray, int64 (N,)
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [("data_batch_1", "c99cafc152244af753f735de768cd75f"),
                  ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
                  ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
                  ("data_batch_4", "634d18415352ddfa80567beed471001a"),
                  ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb")]
    test_list = [("test_batch", "40351d587109b95175f43aff81a1287e")]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]

    def __init__(self, root: "str | os.PathLike", train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, url: str | None = None) -> None:
        self.root = Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if url is not None:
            self.url = url
        names = [n for n, _ in (self.train_list if train else self.test_list)]
        candidates = [self.root / self.base_folder, self.root]
        found = _find_folder(candidates, names)
        if found is None and download:
            self.download()
            found = _find_folder(candidates, names)
        if found is None:
            raise FileNotFoundError(_missing_message(type(self).__name__, names, candidates,
                                                     [self.url]))
        parts = [self._load_batch(found[n]) for n in names]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1] for p in parts])

    def download(self) -> None:
        """Fetch the archive into `root` (skipped if present with the right MD5), extract it."""
        archive = download_url(self.url, self.root, self.filename, self.tgz_md5)
        extract_tar(archive, self.root)

    def _load_batch(self, path: Path) -> tuple:
        entry = load_restricted_pickle(path)
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: expected a CIFAR batch (a dict), got "
                             f"{type(entry).__name__}")
        entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
        data = entry.get("data")
        labels = entry.get("labels", entry.get("fine_labels"))
        if not isinstance(data, np.ndarray) or labels is None:
            raise ValueError(f"{path}: a CIFAR batch needs 'data' (an array) and 'labels', "
                             f"found keys {sorted(entry)}")
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{path}: 'data' should be uint8 of shape (N, 3072), got "
                             f"{data.dtype} {data.shape}")
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (len(data),):
            raise ValueError(f"{path}: {labels.size} labels for {len(data)} images")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"{path}: labels must lie in 0..{len(self.classes) - 1}")
        # Each row is 1024 red, 1024 green, 1024 blue values: keep torchvision's HWC layout.
        return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


class Digits(_ImageDataset):
    """The 1797 8x8 handwritten digits that scikit-learn ships (UCI optical digits).

    Read from `sklearn/datasets/data/digits.csv.gz` inside the installed scikit-learn
    package (located without importing it), so nothing is downloaded. Install it with
    `pip install minidl[digits]`.

    Parameters
    ----------
    root : path, optional
        A folder holding its own `digits.csv.gz` (64 pixel columns then the label), used
        instead of scikit-learn's copy.
    train : bool
        The training split (1438 samples, 80%) or the test split (359): every fifth sample
        in file order (index % 5 == 4) is a test sample. The file is ordered by writer, so
        an interleaved split spreads every writer over both parts; taking the last 20% as
        the test set would test only on unseen writers (about 5 points less accuracy).
    transform : callable, optional
        Applied to the image, here already a float32 Tensor (1, 8, 8) in [0, 1] (pixels
        0..16 divided by 16), unlike MNIST's raw image.
    target_transform : callable, optional

    Attributes
    ----------
    data : numpy.ndarray, uint8 (N, 8, 8), values 0..16
    targets : numpy.ndarray, int64 (N,)
    """

    filename = "digits.csv.gz"
    test_every = 5
    classes = [str(d) for d in range(10)]
    _default_transform = _Identity()

    def __init__(self, root: "str | os.PathLike | None" = None, train: bool = True,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else None
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        path = self._locate()
        try:
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",", ndmin=2)
        except (OSError, EOFError, ValueError) as err:
            raise ValueError(f"{path}: not a readable digits CSV ({err})") from err
        if table.shape[1] != 65:
            raise ValueError(f"{path}: expected 65 columns (64 pixels and a label), got "
                             f"{table.shape[1]}")
        is_test = np.arange(len(table)) % self.test_every == self.test_every - 1
        part = ~is_test if train else is_test
        self.data = table[part, :64].reshape(-1, 8, 8).astype(np.uint8)
        self.targets = table[part, 64].astype(np.int64)

    def _locate(self) -> Path:
        if self.root is not None:
            path = self.root / self.filename
            if not path.is_file():
                raise FileNotFoundError(f"Digits: {self.filename} not found in {self.root}")
            return path
        spec = importlib.util.find_spec("sklearn")     # finds, does not import
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("Digits reads the digits file that scikit-learn ships; "
                                      "install it with `pip install minidl[digits]` (or "
                                      "`pip install scikit-learn`), or pass root=<a folder "
                                      "holding digits.csv.gz>")
        path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / self.filename
        if not path.is_file():
            raise FileNotFoundError(f"Digits: scikit-learn is installed but {path} is missing")
        return path

    def _raw(self, images: np.ndarray, batched: bool):
        """Images as float32 Tensors (1, 8, 8) in [0, 1]: pixels 0..16 divided by 16."""
        scaled = images[:, None] if batched else images[None]
        return Tensor._wrap(scaled.astype(np.float32) / np.float32(16), False, None, 0)

    def __repr__(self) -> str:
        return super().__repr__().replace(f"Root location: {self.root}",
                                          f"File: {self._locate()}")


__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "Digits"]
