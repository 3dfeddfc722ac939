"""Contact sheets of the CAPTCHA zoo for docs/: one per effect (that effect alone, forced on, over
clean text) and one of every family, the held-out two included.

    python benchmarks/zoo_sheets.py            # writes docs/zoo/*.png
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from _common import ROOT
from ocrlab.rng import make_rng
from ocrlab.synth.effects.glyphs import Layout
from ocrlab.synth.effects.paper import PAPERS
from ocrlab.synth.fonts import default_fonts, load_font
from ocrlab.synth.preview import save_contact_sheet
from ocrlab.synth.zoo import EFFECTS, FAMILIES, Family, Zoo, ZooConfig, draw

OUT = ROOT / "docs" / "zoo"
TEXTS = ("Zoo42", "captcha", "Read7me", "HOLDOUT", "x9Kq2", "ocrlab")
STRENGTH = {"lines": 3, "bezier": 2, "arcs": 3, "scribble": 2, "hook": 2, "dots": 3,
            "speckle": 0.15, "salt_pepper": 0.04, "sine": 1.0, "elastic": 1.0, "perspective": 1.0,
            "rotate": 8, "squeeze": 0.45, "blur": 1.2, "noise": 30, "jpeg": 15, "contrast": 0.3,
            "resample": 0.4}  # fmt: skip
BASE = Family("clean", margin=(0.2, 0.4), ink="any", papers=("plain",))


def variants() -> dict[str, Family]:
    """Each effect alone over the clean base."""
    out = {f"effect-{name}": dataclasses.replace(BASE, effects=((name, 1.0, STRENGTH[name]),))
           for name in EFFECTS}  # fmt: skip
    out |= {f"paper-{name}": dataclasses.replace(BASE, papers=(name,)) for name in PAPERS}
    out["glyphs-turned"] = dataclasses.replace(BASE, layout=Layout(rotate=28))
    out["glyphs-scaled"] = dataclasses.replace(BASE, layout=Layout(scale=0.25))
    out["glyphs-baseline"] = dataclasses.replace(BASE, layout=Layout(baseline=0.15))
    out["glyphs-overlap"] = dataclasses.replace(BASE, layout=Layout(spacing=(0.6, 0.75)))
    out["glyphs-stretched"] = dataclasses.replace(BASE, layout=Layout(stretch=0.4))
    out["glyphs-warped"] = dataclasses.replace(BASE, layout=Layout(warp=0.25))
    out["ink-per-glyph"] = dataclasses.replace(BASE, multicolour=1.0)
    out["ink-hollow"] = dataclasses.replace(BASE, hollow=1.0)
    out["ink-shadow"] = dataclasses.replace(BASE, shadow=1.0)
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fonts = default_fonts()
    for name, family in variants().items():
        images = []
        for i, text in enumerate(TEXTS):
            rng = make_rng(7, zlib.crc32(name.encode()), i)  # by name: a new sheet redraws no other
            font = load_font(fonts[i % len(fonts)].path, 36)
            images.append(_pad(draw(family, text, font, rng)))
        save_contact_sheet(OUT / f"{name}.png", images, list(TEXTS))
    zoo = Zoo(ZooConfig(families=tuple(FAMILIES), seed=3), fonts)
    samples = [zoo.sample(i) for i in range(48)]
    save_contact_sheet(OUT / "families.png", [_pad(s.image) for s in samples],
                       [f"{s.text} ({s.family})" for s in samples])  # fmt: skip
    print(f"wrote {len(variants()) + 1} sheets to {OUT}")


def _pad(image: np.ndarray, h: int = 72, w: int = 320) -> np.ndarray:
    """Scale into an (h, w) tile, keeping the aspect, so one sheet holds images of any shape."""
    from PIL import Image

    im = Image.fromarray(image)
    im.thumbnail((w, h))
    tile = Image.new("RGB", (w, h), (255, 255, 255))
    tile.paste(im, (0, (h - im.height) // 2))
    return np.asarray(tile)


if __name__ == "__main__":
    main()
