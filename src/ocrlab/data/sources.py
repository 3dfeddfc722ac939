"""What a user names to read, turned into image paths: files, folders and dataset manifests.

`ocrlab read scraped/` must work where `ocrlab read scraped/*.png` overflows the shell's
argument list, and both engines of `ocrlab read` must read the same images for the same words.
Standard library only.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ocrlab.data.manifest import MANIFEST
from ocrlab.errors import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def is_image(path: Path) -> bool:
    """Whether a folder's entry is an image to read: an image suffix (`IMAGE_SUFFIXES`), and not
    hidden (`.name`: a copy's metadata such as macOS's `._scan.png` is not an image)."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(source: str | Path) -> list[str]:
    """The images `source` names: a manifest's `path` column, in its order; a folder's images
    (`is_image`, sorted, nested folders too, but not hidden ones or symbolic links to folders),
    where a folder holding a manifest stands for its dataset (not its preview); or the image
    file itself, as given."""
    path = Path(source)
    if path.is_dir():
        found = _folder(path)
        if not found:
            raise DatasetError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return found
    if path.suffix.lower() != ".csv":
        return [str(source)]  # one image; a missing or bad file is that image's error
    if not path.is_file():
        raise DatasetError(f"{path} is neither a folder of images nor a manifest .csv")
    return _manifest(path)


def _folder(folder: Path) -> list[str]:
    if (folder / MANIFEST).is_file():
        return _manifest(folder / MANIFEST)
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink() and not path.name.startswith("."):
            found += _folder(path)
        elif path.is_file() and is_image(path):
            found.append(str(path))
    return found


def _manifest(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path} as a manifest: {exc}") from None
    if not rows:
        raise DatasetError(f"{path} lists no images")
    if "path" not in rows[0]:
        raise DatasetError(f"{path} has no 'path' column")
    if any("#" in r["path"] for r in rows):
        raise DatasetError(f"{path} is a packed dataset; read a PNG dataset or a folder")
    return [str(path.parent / r["path"]) for r in rows]


def all_images(sources: Sequence[str | Path]) -> list[str]:
    """Every source's images in the order given (`list_images`)."""
    return [p for source in sources for p in list_images(source)]
