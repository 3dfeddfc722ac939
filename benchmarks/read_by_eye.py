"""How well an eye reads a built CAPTCHA style: sheets of test images to transcribe, and a score.

The fine-tuning benchmark's target (>= 97 % from 1,000 labels) means something only where the
scheme can be read at all. This draws test images of a built style (the benchmark's own test
stream, so the same images a fine-tuned model is scored on) without their texts, two times
enlarged and numbered, ten to a sheet; a reader writes one `INDEX TEXT` line per image, told the
scheme's alphabet (`ocrlab.synth.tiles.CHARS`) and nothing else; `--score` compares the lines
with the texts. Read first, score after: a sheet whose texts the reader has seen (the styles draw
the same text for the same index) measures nothing.

    python benchmarks/read_by_eye.py relief --first 800 --count 40 --out sheets/
    python benchmarks/read_by_eye.py relief --first 800 --count 40 --score readings.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_finetune import SYNTHETIC


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    schemes = [s for s in SYNTHETIC if s != "solid_stencil"]  # stencil's control, not a scheme
    parser.add_argument("style", choices=schemes)
    parser.add_argument("--first", type=int, default=800,
                        help="first test image's index (under the benchmark's 1,000)")  # fmt: skip
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="the benchmark's --seed")
    parser.add_argument("--out", type=Path, default=Path("sheets"), help="folder for the sheets")
    parser.add_argument("--score", type=Path, metavar="READINGS", help="score these readings")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from ocrlab.rng import make_rng
    from ocrlab.synth.preview import contact_sheet
    from ocrlab.train.audit import load_generator

    draw = load_generator(SYNTHETIC[args.style])

    def sample(i: int) -> tuple[Image.Image, str]:
        return draw(make_rng(args.seed, 91, i))  # the benchmark's test stream

    if args.score:
        lines = args.score.read_text().splitlines()
        read = dict(ln.split(maxsplit=1) for ln in lines if ln.strip())
        right = 0
        for i in range(args.first, args.first + args.count):  # an image left unread is wrong
            text, truth = read.get(str(i), "").strip(), sample(i)[1]
            right += text == truth
            print(f"{i} {text or '-'} {truth}{'' if text == truth else '  wrong'}")
        print(f"{args.style}: {right} of {args.count} read right "
              f"({100 * right / max(1, args.count):.1f} %)")  # fmt: skip
        return
    args.out.mkdir(parents=True, exist_ok=True)
    end = args.first + args.count
    for start in range(args.first, end, 10):
        shown = range(start, min(start + 10, end))
        ims = [np.asarray(sample(i)[0].convert("RGB")) for i in shown]
        h, w = max(im.shape[0] for im in ims), max(im.shape[1] for im in ims)
        tiles = [np.pad(im, ((0, h - im.shape[0]), (0, w - im.shape[1]), (0, 0)),
                        constant_values=255).repeat(2, 0).repeat(2, 1) for im in ims]  # fmt: skip
        sheet = contact_sheet(tiles, [str(i) for i in shown], columns=2, max_tile_width=2 * w)
        sheet.save(args.out / f"{args.style}_{start}.png")
    print(f"{len(range(args.first, end, 10))} sheets in {args.out}")


if __name__ == "__main__":
    main()
