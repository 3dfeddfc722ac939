"""`ocrlab data fetch emnist` against a local HTTP server serving a small archive of NIST's layout:
checked, resumable with a Range request, atomic, and then read by `--protocol full`."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import struct
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from ocrlab.cli import main
from ocrlab.data.emnist import load_emnist_letters
from ocrlab.data.fetch import EMNIST, fetch_emnist
from ocrlab.errors import DatasetError


def _idx(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def _archive() -> bytes:
    """A zip laid out like NIST's gzip.zip, with a few EMNIST Letters images per split."""
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("gzip/README.txt", "not read")
        for split, n in (("train", 6), ("test", 4)):
            images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            labels = np.arange(1, n + 1, dtype=np.uint8)
            zf.writestr(f"gzip/emnist-letters-{split}-images-idx3-ubyte.gz", _idx(images, 2051))
            zf.writestr(f"gzip/emnist-letters-{split}-labels-idx1-ubyte.gz", _idx(labels, 2049))
    return buf.getvalue()


ARCHIVE = _archive()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ARCHIVE at /gzip.zip, honouring `Range: bytes=N-`; records the ranges asked for."""

    ranges: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if self.path != "/gzip.zip":
            self.send_error(404)
            return
        asked = self.headers.get("Range", "")
        type(self).ranges.append(asked)
        start = int(asked.removeprefix("bytes=").removesuffix("-")) if asked else 0
        if start >= len(ARCHIVE):
            self.send_error(416)
            return
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(len(ARCHIVE) - start))
        self.end_headers()
        self.wfile.write(ARCHIVE[start:])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.ranges = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/gzip.zip"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_checks_unpacks_and_full_protocol_reads_it(url: str, tmp_path: Path) -> None:
    sha = hashlib.sha256(ARCHIVE).hexdigest()
    args = ["data", "fetch", "emnist", "--url", url, "--out", str(tmp_path), "--sha256", sha]
    assert main(args) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["gzip.zip", *(Path(m).name for m in EMNIST.members)]
    )
    assert len(load_emnist_letters("test", tmp_path, protocol="full").labels) == 4
    assert main(args) == 0 and len(_Handler.ranges) == 1  # already there: nothing downloaded


def test_an_interrupted_download_resumes_with_a_range(url: str, tmp_path: Path) -> None:
    (tmp_path / "gzip.zip.part").write_bytes(ARCHIVE[:1000])
    fetch_emnist(tmp_path, url, size=len(ARCHIVE))
    assert _Handler.ranges == ["bytes=1000-"]
    assert (tmp_path / "gzip.zip").read_bytes() == ARCHIVE
    assert not (tmp_path / "gzip.zip.part").exists()


def test_a_wrong_digest_or_no_server_is_a_clear_error_and_leaves_nothing(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DatasetError, match=r"different file .*SHA-256"):
        fetch_emnist(tmp_path, url, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []
    dead = url.replace("/gzip.zip", "/missing.zip")
    assert main(["data", "fetch", "emnist", "--url", dead, "--out", str(tmp_path)]) == 2
    assert "HTTP 404" in capsys.readouterr().err
