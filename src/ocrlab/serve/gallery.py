"""Random samples of an ocrlab dataset, for the page's gallery.

Opened once at start-up: the manifest is read and, for a packed dataset, the shards are
memory-mapped, so a request costs only the images it shows. Sample picks are seeded
(`make_rng(seed, PREVIEW)`), so the same seed shows the same samples. Imports Pillow, `ocrlab.data`,
`ocrlab.rng` and the API's schemas only.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ocrlab.data.images import open_image
from ocrlab.data.manifest import MANIFEST, read_manifest
from ocrlab.data.packed import PackedImages
from ocrlab.errors import DatasetError
from ocrlab.rng import PREVIEW, make_rng
from ocrlab.serve.schemas import GalleryItem
from ocrlab.serve.upload import png_base64, to_image


class Gallery:
    """The samples of one dataset folder (PNG files or packed shards) with their labels."""

    def __init__(self, root: Path) -> None:
        if not (root / MANIFEST).is_file():
            raise DatasetError(f"gallery {root} is not an ocrlab dataset: no {MANIFEST}")
        self.root = root.resolve()
        self.rows = read_manifest(root / MANIFEST)
        if not self.rows:
            raise DatasetError(f"gallery {root} lists no images")
        packed = self.rows[0].path.startswith("shards/")
        self.packed = PackedImages(root, [r.path for r in self.rows]) if packed else None

    def sample(self, n: int, seed: int) -> list[GalleryItem]:
        """`n` distinct samples (fewer if the dataset is smaller), the same for the same seed."""
        picks = make_rng(seed, PREVIEW).choice(len(self.rows), min(n, len(self.rows)), False)
        return [GalleryItem(label=self.rows[i].text, png=png_base64(self._image(i))) for i in picks]

    def _image(self, i: int) -> Image.Image:
        if self.packed is not None:
            return to_image(self.packed[i])
        path = (self.root / self.rows[i].path).resolve()
        if not path.is_relative_to(self.root):
            raise DatasetError(f"gallery manifest names a file outside {self.root}")
        return open_image(path, "RGB")
