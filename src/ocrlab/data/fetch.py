"""Download a data set archive once, checked and resumable, and unpack the files ocrlab reads.

`fetch_emnist(root)` brings NIST's official EMNIST archive (`gzip.zip`, about 560 MB) and unpacks
its four EMNIST Letters idx files into `root`, so `--protocol full` works on a connected machine.
The download resumes an interrupted `.part` file with an HTTP Range request, checks the size and
the digests it is given (SHA-256 when known, and the MD5 torchvision publishes for this archive),
and becomes the archive only by an atomic rename; each unpacked file is written beside its final
name and renamed too, so no half-written file is ever read. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ocrlab.errors import DatasetError

CHUNK = 1 << 20
Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None) as a download goes."""


@dataclass(frozen=True)
class Archive:
    """A remote archive: where it is, what it must be, and which of its members ocrlab reads."""

    url: str
    name: str
    members: tuple[str, ...]
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None


EMNIST = Archive(
    url="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
    name="gzip.zip",
    members=tuple(
        f"gzip/emnist-letters-{split}-{kind}-ubyte.gz"
        for split in ("train", "test")
        for kind in ("images-idx3", "labels-idx1")
    ),
    md5="58c8d27c78d21e728a6bc7b3cc06412e",  # torchvision.datasets.EMNIST's checksum of gzip.zip
)


def fetch_emnist(
    root: Path,
    url: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Download (or resume) EMNIST's archive into `root` and unpack its Letters files; returns
    them. A different `url` (a mirror) drops the built-in MD5 unless the file is the same."""
    archive = EMNIST
    if url is not None and url != EMNIST.url:
        archive = replace(archive, url=url, md5=None)
    archive = replace(archive, sha256=sha256 or archive.sha256, size=size or archive.size)
    path = download(archive, root, progress)
    return unpack(path, archive.members, root)


def download(archive: Archive, root: Path, progress: Progress | None = None) -> Path:
    """`root/archive.name`, downloaded unless already there; resumes `root/<name>.part`."""
    final = root / archive.name
    if final.is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    part = root / f"{archive.name}.part"
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(archive.url)
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            if have and response.status != 206:  # the server ignored the range: start over
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else None
            with part.open("ab" if have else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    have += len(chunk)
                    if progress is not None:
                        progress(have, total)
    except urllib.error.HTTPError as exc:
        if exc.code != 416:  # 416: nothing left to send, the part is whole
            raise DatasetError(f"cannot download {archive.url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(
            f"cannot download {archive.url} ({reason}); run again to resume, or put "
            f"{archive.name} in {root} by hand"
        ) from None
    _check(part, archive)
    os.replace(part, final)
    return final


def _check(path: Path, archive: Archive) -> None:
    """Refuse (and delete, so the next run starts clean) a file of the wrong size or digest."""
    size = path.stat().st_size
    problem = None
    if archive.size is not None and size != archive.size:
        problem = f"{size:,} bytes, expected {archive.size:,}"
    else:
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                sha256.update(chunk)
                md5.update(chunk)
        if archive.sha256 is not None and sha256.hexdigest() != archive.sha256.lower():
            problem = f"SHA-256 {sha256.hexdigest()}, expected {archive.sha256}"
        elif archive.md5 is not None and md5.hexdigest() != archive.md5.lower():
            problem = f"MD5 {md5.hexdigest()}, expected {archive.md5}"
    if problem is not None:
        path.unlink()
        raise DatasetError(f"{archive.url} gave a different file ({problem}); deleted it")


def unpack(archive: Path, members: tuple[str, ...], root: Path) -> list[Path]:
    """Write each member of the zip `archive` into `root` under its base name, atomically."""
    try:
        with zipfile.ZipFile(archive) as zf:
            missing = sorted(set(members) - set(zf.namelist()))
            if missing:
                raise DatasetError(f"{archive} lacks {missing}")
            out = []
            for member in members:
                target = root / Path(member).name
                tmp = target.with_name(f".{target.name}.tmp")
                with zf.open(member) as src, tmp.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                os.replace(tmp, target)
                out.append(target)
            return out
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"cannot unpack {archive}: {exc}") from None
