"""A zoo dataset on disk: `ocrlab generate --preset zoo` writes N seeded zoo images as PNG files
with a manifest whose `background` column names each image's family, so `ocrlab eval` scores a
reader per family. Imports NumPy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocrlab.config import to_dict
from ocrlab.data.manifest import Row
from ocrlab.synth.fonts import Source
from ocrlab.synth.sets import Progress, write_set
from ocrlab.synth.zoo import Zoo, ZooConfig, zoo_fonts


@dataclass(frozen=True)
class ZooRender:
    """Sample i of a zoo as (image, manifest row); picklable for worker processes."""

    zoo: Zoo

    def __call__(self, i: int) -> tuple[np.ndarray, Row]:
        s = self.zoo.sample(i)
        return s.image, Row("", s.text.lower(), i, s.text, s.font, s.family, 0.0, "")


def make_zoo_set(
    config: ZooConfig,
    count: int,
    out: Path,
    *,
    fonts: tuple[Source | str | Path, ...] = ("bundled", "system", "packages"),
    workers: int = 1,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write `count` zoo images in `config`'s families into `out`; fonts never reserved ones."""
    pool = zoo_fonts(config, fonts)
    description = {"kind": "zoo", "config": to_dict(config), "count": count,
                   "fonts": [f.name for f in pool]}  # fmt: skip
    return write_set(out, ZooRender(Zoo(config, pool)), count, description, workers=workers,
                     overwrite=overwrite, progress=progress)  # fmt: skip
