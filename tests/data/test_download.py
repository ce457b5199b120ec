"""download=True against a local HTTP server on 127.0.0.1 (never the internet)."""
import hashlib
import io
import tarfile

import numpy as np
import pytest

from minidl.data import CIFAR10, MNIST
from minidl.data.download import (DownloadError, download_from_mirrors, download_url,
                                  extract_tar)

from data_helpers import make_cifar_folder, write_mnist_files


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_url_success_is_atomic_and_checked(http_folder, tmp_path):
    served, base = http_folder
    (served / "blob.bin").write_bytes(b"x" * 3_000_000)
    dest = tmp_path / "dest"
    path = download_url(base + "blob.bin", dest, md5=_md5(served / "blob.bin"))
    assert path == dest / "blob.bin" and path.read_bytes() == b"x" * 3_000_000
    assert sorted(p.name for p in dest.iterdir()) == ["blob.bin"]      # no temp file left
    (served / "blob.bin").unlink()              # present with the right MD5: not fetched again
    assert download_url(base + "blob.bin", dest, md5=_md5(path)) == path


def test_checksum_mismatch_leaves_nothing_behind(http_folder, tmp_path):
    served, base = http_folder
    (served / "f.gz").write_bytes(b"tampered")
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"f.gz failed its checksum: expected MD5 0{32}, "
                                            r"got " + hashlib.md5(b"tampered").hexdigest()):
        download_url(base + "f.gz", dest, md5="0" * 32)
    assert list(dest.iterdir()) == []


def test_http_404_is_a_clear_error(http_folder, tmp_path):
    _, base = http_folder
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match=r"could not download http://127.0.0.1:\d+/missing"
                                            r".gz: HTTP 404"):
        download_url(base + "missing.gz", dest)
    assert list(dest.iterdir()) == []


def test_mirrors_are_tried_in_turn(http_folder, tmp_path):
    served, base = http_folder
    (served / "good").mkdir()
    (served / "good" / "a.txt").write_bytes(b"hello")
    path = download_from_mirrors("a.txt", [base + "bad/", base + "good"], tmp_path / "d",
                                 md5=hashlib.md5(b"hello").hexdigest())
    assert path.read_bytes() == b"hello"
    with pytest.raises(DownloadError, match=r"(?s)from any mirror.*bad/a.txt: HTTP 404.*"
                                            r"other/a.txt: HTTP 404"):
        download_from_mirrors("a.txt", [base + "bad", base + "other"], tmp_path / "e")


def test_mnist_download_true_fetches_checks_and_loads(http_folder, tmp_path):
    served, base = http_folder
    arrays = write_mnist_files(served)

    class TinyMNIST(MNIST):
        resources = [(p.name, _md5(p)) for p in sorted(served.iterdir())]

    root = tmp_path / "root"
    ds = TinyMNIST(root, train=False, download=True, mirrors=[base])
    np.testing.assert_array_equal(ds.data, arrays["t10k"][0])
    assert sorted(p.name for p in (root / "TinyMNIST" / "raw").iterdir()) == \
        sorted(name for name, _ in TinyMNIST.resources)
    for p in served.iterdir():      # already there: a second dataset needs no server
        p.unlink()
    assert len(TinyMNIST(root, train=True, download=True, mirrors=[base])) == 6


def test_mnist_download_with_a_wrong_checksum_fails_cleanly(http_folder, tmp_path):
    served, base = http_folder
    write_mnist_files(served)

    class TinyMNIST(MNIST):
        resources = [(p.name, "0" * 32) for p in sorted(served.iterdir())]

    root = tmp_path / "root"
    with pytest.raises(DownloadError, match="failed its checksum"):
        TinyMNIST(root, download=True, mirrors=[base])
    assert list((root / "TinyMNIST" / "raw").iterdir()) == []


def test_cifar_download_extracts_the_archive(http_folder, tmp_path):
    served, base = http_folder
    arrays = make_cifar_folder(tmp_path / "build", n_per_batch=2)
    archive = served / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "build" / "cifar-10-batches-py", arcname="cifar-10-batches-py")

    class TinyCIFAR(CIFAR10):
        tgz_md5 = _md5(archive)

    ds = TinyCIFAR(tmp_path / "root", train=False, download=True,
                   url=base + "cifar-10-python.tar.gz")
    assert ds.targets.tolist() == list(arrays["test_batch"][1])
    assert (tmp_path / "root" / "cifar-10-batches-py" / "data_batch_5").is_file()


def _tar_with(tmp_path, member: tarfile.TarInfo, payload: bytes = b"") -> str:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        member.size = len(payload) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(payload) if member.isfile() else None)
    return path


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/abs_escape.txt", "a/../../up.txt"])
def test_extract_tar_refuses_path_traversal(tmp_path, name):
    archive = _tar_with(tmp_path, tarfile.TarInfo(name), b"boom")
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match="unsafe.*leaves the destination folder"):
        extract_tar(archive, dest)
    assert not (tmp_path / "escape.txt").exists() and list(dest.iterdir()) == []


def test_extract_tar_refuses_links(tmp_path):
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ValueError, match="'link' is unsafe.*a link"):
        extract_tar(_tar_with(tmp_path, link), tmp_path / "out")


def test_extract_tar_rejects_a_broken_archive(tmp_path):
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(b"\x1f\x8b not really")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        extract_tar(path, tmp_path / "out")
