"""Fetch dataset files for users who are online: checked, atomic, and safe to extract.

`download_url` streams a file with urllib into a temporary file next to its destination,
checks its MD5 while streaming, and renames it into place only when the checksum matches,
so an interrupted or corrupted download never leaves a file that looks finished.
`extract_tar` refuses archives whose members would land outside the target folder.
Nothing in minidl downloads unless a dataset is built with `download=True`.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Sequence

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed: unreachable URL, HTTP error, or a checksum mismatch."""


def calculate_md5(path: "str | os.PathLike", chunk_size: int = _CHUNK) -> str:
    """The MD5 hex digest of a file, read in chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_integrity(path: "str | os.PathLike", md5: str | None = None) -> bool:
    """True if the file exists and, when `md5` is given, has that MD5."""
    if not os.path.isfile(path):
        return False
    return md5 is None or calculate_md5(path) == md5.lower()


def download_url(url: str, folder: "str | os.PathLike", filename: str | None = None,
                 md5: str | None = None, timeout: float = 60.0) -> Path:
    """Download `url` to `folder/filename`, verify its MD5, and return the path.

    Parameters
    ----------
    url : str
        What to fetch (any scheme urllib opens: https, http, file).
    folder : path
        Destination folder, created if missing.
    filename : str, optional
        Name in the folder (default: the last part of the URL).
    md5 : str, optional
        Expected MD5 hex digest. An existing file with this checksum is kept and nothing
        is downloaded.
    timeout : float
        Seconds to wait for the server before giving up.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DownloadError
        The server could not be reached or answered with an error, or the bytes received
        do not have the expected MD5. No file is left behind in either case.
    """
    import urllib.error       # imported here: urllib.request pulls in http and ssl (~70 ms),
    import urllib.request     # which `import minidl` should not pay for

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or url.rstrip("/").rsplit("/", 1)[-1])
    if md5 is not None and check_integrity(path, md5):
        return path
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        request = urllib.request.Request(url, headers={"User-Agent": "minidl"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request,
                                                                timeout=timeout) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise DownloadError(f"download of {url} failed its checksum: expected MD5 {md5}, "
                                f"got {digest.hexdigest()} (the file was not kept; retry, or "
                                f"try another mirror)")
        os.replace(tmp, path)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"could not download {url}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"could not download {url}: {err}") from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def download_from_mirrors(filename: str, mirrors: Sequence[str], folder: "str | os.PathLike",
                          md5: str | None = None, timeout: float = 60.0) -> Path:
    """Try `mirror + filename` for each mirror in turn until one download succeeds.

    Raises
    ------
    DownloadError
        Every mirror failed; the message lists each URL and its error.
    """
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return download_url(url, folder, filename, md5, timeout)
        except DownloadError as err:
            errors.append(str(err))
    raise DownloadError(f"could not download {filename} from any mirror:\n  " +
                        "\n  ".join(errors or ["(no mirrors given)"]))


def _member_problem(member: "tarfile.TarInfo", dest: Path) -> str | None:
    """Why a tar member is unsafe to extract into dest, or None if it is a plain entry."""
    target = (dest / member.name).resolve()
    if os.path.isabs(member.name) or not target.is_relative_to(dest):
        return "its path leaves the destination folder"
    if not (member.isfile() or member.isdir()):
        return "it is a link or a special file"
    return None


def extract_tar(archive: "str | os.PathLike", dest: "str | os.PathLike") -> Path:
    """Extract a (gzipped) tar archive into `dest`, refusing anything unsafe.

    Only regular files and folders whose paths stay inside `dest` are allowed; an archive
    holding absolute paths, `..` components, links or device files raises ValueError
    before anything is written.
    """
    import tarfile            # imported here, as urllib above, to keep `import minidl` light

    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                problem = _member_problem(member, dest)
                if problem is not None:
                    raise ValueError(f"refusing to extract {archive}: member {member.name!r} "
                                     f"is unsafe ({problem})")
            if hasattr(tarfile, "data_filter"):     # Python >= 3.10.12 / 3.11.4
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    except (tarfile.TarError, EOFError) as err:
        raise ValueError(f"{archive} is not a readable tar archive: {err}") from err
    return dest


__all__ = ["DownloadError", "calculate_md5", "check_integrity", "download_url",
           "download_from_mirrors", "extract_tar"]
