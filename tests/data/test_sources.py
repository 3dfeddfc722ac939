"""What a user names to read becomes image paths: a file as given, a folder's images (sorted,
nested ones too), a dataset's manifest (not its preview), and a clear error otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrlab.data.sources import all_images, list_images
from ocrlab.errors import DatasetError


def test_files_folders_and_manifests(tmp_path: Path) -> None:
    scraped = tmp_path / "scraped"
    (scraped / "day2").mkdir(parents=True)
    (scraped / "odd.png").mkdir()  # a folder, whatever its name
    (scraped / ".thumbs").mkdir()  # hidden: a tool's, not the user's images
    hidden = ("._b.PNG", ".thumbs/a.png")  # macOS's metadata beside a copied b.PNG
    for name in ("b.PNG", "a.jpg", "day2/c.webp", "notes.txt", "labels.csv", *hidden):
        (scraped / name).write_bytes(b"")
    found = list_images(scraped)
    assert found == [str(scraped / n) for n in ("a.jpg", "b.PNG", "day2/c.webp")]
    assert list_images("missing.png") == ["missing.png"]  # its own error when it is read
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "preview.png").write_bytes(b"")
    (data / "manifest.csv").write_text("path,text\nimages/1.png,ab\nimages/0.png,cd\n")
    listed = [str(data / "images/1.png"), str(data / "images/0.png")]  # the manifest's order
    assert list_images(data) == list_images(data / "manifest.csv") == listed
    assert all_images([data, "x.png", scraped]) == [*listed, "x.png", *found]
    assert list_images(tmp_path) == [*listed, *found]  # a dataset within: its manifest's images


def test_what_cannot_be_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    manifests = {"none.csv": "path,text\n", "image.CSV": "image,text\n1.png,a\n",
                 "packed.csv": "path,text\npart-0.bin#3,a\n"}  # fmt: skip
    for name, text in manifests.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "latin.csv").write_bytes("path\nstra\xdfe.png\n".encode("latin-1"))
    errors = {"empty": "holds no images", "none.csv": "lists no images",
              "latin.csv": "cannot read .*latin.csv as a manifest",
              "image.CSV": "no 'path' column", "packed.csv": "packed dataset",
              "gone.csv": "neither a folder of images nor a manifest"}  # fmt: skip
    for name, error in errors.items():
        with pytest.raises(DatasetError, match=error):
            list_images(tmp_path / name)
