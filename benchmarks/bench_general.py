"""The general reader zero-shot: images of kinds it never trained on, beside ddddocr and Tesseract.

Every set is made fresh from a fixed seed and read by every tool from the same PNG bytes (one
thread each, as bench_read.py):

- clean strings in the font families reserved for evaluation (`ocrlab data text-eval`): tight
  crops and the hard set's 48 × 336 canvas; no training pool may hold these families;
- long lines in those fonts: 16-40 letters and digits, tight crops (the zoo draws at most 12);
- the clean strings' tight crops turned by 4-15 degrees either way (the zoo turns lines by 3);
- the two held-out zoo families (hatching with salt and pepper; drop shadows in perspective),
  whose effects appear in no training family, and fresh samples of the training families;
- captcha_images_v2 (all 1,040; the general reader never saw it), when the data is present;
- ocrlab's hard set drawn with English words kept out of the zoo (`zoo.is_test_word`);
- CAPTCHAs of the `captcha` library (lower case and digits, 4-6 characters): another
  generator's output, test material only.

The clean strings and the zoo sets are drawn from the fonts `benchmarks/fonts.json` names (what
`make install fonts` installs), so machines with other fonts besides draw the same images; fonts
it names that a machine lacks are printed and recorded in the results.

ocrlab reads through torch, onnxruntime, onnxruntime with the int8 export (`ocrlab export
--int8`: convolutions calibrated on zoo CAPTCHAs, none of these sets), and onnxruntime reading
thoroughly (`ocrlab read --thorough`: seven views of each line, the reading they agree on). The
two CAPTCHA schemes with a known format (captcha_images_v2: 5 characters; the `captcha`
library's: 4-6; both lower case and digits) are also read told so (`ocrlab read --charset
alnum-lower --length 5`, and so thoroughly), beside ddddocr told the characters (`set_ranges`,
which in ddddocr 1.6 drops the characters outside the range from its greedy reading; it takes no
length).

    python benchmarks/bench_general.py --quick   # 300 images a set (500 text-eval)
    python benchmarks/bench_general.py --full    # 1,000 a set

`--width 256` reads lines on a canvas of 256 columns, squeezing wider ones, as ocrlab did before
lines kept their shape up to 1,024 (writes `general_width=256.json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import random
import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from _common import report
from bench_read import DATA_ROOT, limit_onnxruntime, measure, readers
from ocrlab.data.load import folder_labels
from ocrlab.data.manifest import MANIFEST, read_manifest
from ocrlab.read.hint import Hint, hinted
from ocrlab.read.onnx import OnnxPredictor, export_onnx
from ocrlab.runtime.checkpoint import load_checkpoint, save_checkpoint
from ocrlab.runtime.shipped import shipped_folder
from ocrlab.synth import PRESETS, generate
from ocrlab.synth.fonts import FontSpec, font_pool
from ocrlab.synth.text_eval import TextEvalConfig, eval_fonts, make_text_eval
from ocrlab.synth.vocab import Vocab, english_words
from ocrlab.synth.zoo import HELD_OUT, TRAIN_FAMILIES, ZooConfig, is_test_word
from ocrlab.synth.zoo_set import make_zoo_set

Set = tuple[list[bytes], list[str]]
V2, LIBRARY = "captcha_images_v2 (all, never trained on)", "captcha library (lower case + digits)"
PINNED = json.loads(Path(__file__).with_name("fonts.json").read_text(encoding="utf-8"))
FORMATS = {V2: ("alnum-lower", "5"), LIBRARY: ("alnum-lower", "4-6")}
"""What a user of each scheme knows: its characters and its length (`ocrlab.read.hint`)."""


def from_folder(folder: Path) -> Set:
    """PNG bytes and labels of an ocrlab set (manifest) or a labelled folder."""
    if (folder / MANIFEST).is_file():
        rows = read_manifest(folder / MANIFEST)
        return [(folder / r.path).read_bytes() for r in rows], [r.text for r in rows]
    pairs = folder_labels(folder)
    return [p.read_bytes() for p, _ in pairs], [label for _, label in pairs]


class _Seeded:
    """The three `secrets` functions the `captcha` package draws with, from a seeded stream:
    it asks the operating system for randomness, so its images would differ in every run."""

    def __init__(self, seed: int) -> None:
        self.stream = random.Random(seed)

    def choice(self, seq: Any) -> Any:
        return self.stream.choice(seq)

    def randbits(self, k: int) -> int:
        return self.stream.getrandbits(k)

    def randbelow(self, n: int) -> int:
        return self.stream.randrange(n)


def captcha_library(count: int) -> Set:
    """The `captcha` package's ImageCaptcha, lower case and digits, 4-6 characters, seeded."""
    import captcha.image
    from captcha.image import ImageCaptcha

    rng = np.random.default_rng(0)
    draw, chars = ImageCaptcha(), list(string.ascii_lowercase + string.digits)
    images, texts = [], []
    drawn_with, captcha.image.secrets = captcha.image.secrets, _Seeded(0)  # type: ignore[assignment]
    try:
        for _ in range(count):
            text = "".join(rng.choice(chars, int(rng.integers(4, 7))))
            buf = io.BytesIO()
            draw.generate_image(text).save(buf, format="PNG")
            images.append(buf.getvalue())
            texts.append(text)
    finally:
        captcha.image.secrets = drawn_with
    return images, texts


def hard_test_words(tmp: Path, count: int) -> Set:
    """ocrlab's hard set drawn with English words the zoo never draws."""
    words = [w for w in english_words(3, 12) if is_test_word(w)]
    pick = np.random.default_rng(1).choice(len(words), 500, replace=False)
    vocab = tmp / "test-words.json"
    vocab.write_text(Vocab(tuple(sorted(words[i] for i in pick)), "zoo test words").to_json())
    cfg = PRESETS["hard"]
    cfg = type(cfg)(
        **{**cfg.__dict__, "vocab": str(vocab), "words": 500, "limit": count, "seed": 3}
    )
    generate(cfg, tmp / "hard")
    return from_folder(tmp / "hard")


def pinned_fonts(key: str, found: list[FontSpec]) -> tuple[str, ...]:
    """The fonts of `benchmarks/fonts.json`'s list `key` among `found` (a machine without some
    draws other images: say so)."""
    have = {f.name for f in found}
    missing = [name for name in PINNED[key] if name not in have]
    if missing:
        print(f"{len(missing)} of the {len(PINNED[key])} {key} fonts the benchmark draws are not "
              f"here ({', '.join(missing[:5])}, ...): its {key} sets differ from the published "
              "ones (make fonts installs them)", flush=True)  # fmt: skip
    return tuple(name for name in PINNED[key] if name in have)


def sets(tmp: Path, n: int) -> tuple[dict[str, Set], dict[str, int]]:
    """The image sets by name, and how many fonts each font list drew from."""
    out: dict[str, Set] = {}
    alnum = string.ascii_letters + string.digits
    ev = pinned_fonts("eval", eval_fonts(string.ascii_letters))
    make_text_eval(TextEvalConfig(count=max(n, 500), fonts=ev), tmp / "text", workers=2)
    out["clean strings, reserved fonts (text-eval)"] = from_folder(tmp / "text")
    long = TextEvalConfig(n, alnum, 16, 40, ("tight",), seed=1, fonts=ev)
    make_text_eval(long, tmp / "long", workers=2)
    out["long lines, 16-40 characters, reserved fonts"] = from_folder(tmp / "long")
    turned = TextEvalConfig(n, layouts=("turned",), seed=2, fonts=ev)
    make_text_eval(turned, tmp / "turned", workers=2)
    out["clean strings turned 4-15 degrees, reserved fonts"] = from_folder(tmp / "turned")
    zoo = pinned_fonts("zoo", font_pool(purpose="train", chars=alnum))
    for name in HELD_OUT:
        make_zoo_set(ZooConfig(families=(name,), seed=11, fonts=zoo), n, tmp / name, workers=2)
        out[f"zoo family held out of training: {name}"] = from_folder(tmp / name)
    seen = ZooConfig(families=TRAIN_FAMILIES, seed=12, fonts=zoo)
    make_zoo_set(seen, n, tmp / "seen", workers=2)
    out["zoo training families, unseen samples"] = from_folder(tmp / "seen")
    v2 = DATA_ROOT / "captcha_images_v2"
    if v2.is_dir():
        out[V2] = from_folder(v2)
    out["ocrlab hard set, words kept out of the zoo"] = hard_test_words(tmp, n)
    out[LIBRARY] = captcha_library(n)
    return out, {"eval": len(ev), "zoo": len(zoo)}


def told(onnx_file: Path, charset: str, length: str) -> dict[str, Any]:
    """ocrlab (onnxruntime) told a scheme's characters and length, also reading thoroughly;
    ddddocr told its characters."""
    from ocrlab.charset import NAMED

    reader = hinted(OnnxPredictor(onnx_file), Hint.parse(charset, length))
    closer = hinted(OnnxPredictor(onnx_file), Hint.parse(charset, length, thorough=True))
    tools: dict[str, Any] = {
        "ocrlab onnxruntime, told the format": lambda ims: [r.text for r in reader.read(ims)],
        "ocrlab onnxruntime, told the format, thorough": lambda ims: [
            r.text for r in closer.read(ims)
        ],
    }
    try:
        import ddddocr

        ocr = ddddocr.DdddOcr(show_ad=False)
        ocr.set_ranges(NAMED[charset])
        tools["ddddocr, told the characters"] = lambda ims: [ocr.classification(i) for i in ims]
    except ImportError:
        tools["ddddocr, told the characters"] = "not installed (pip install ddddocr)"
    return tools


def with_canvas(model: Path, width: int, tmp: Path) -> Path:
    """A copy of `model` whose readers preprocess lines to `width` columns."""
    out = shutil.copytree(model, tmp / "canvas" / model.name)
    ckpt = load_checkpoint(out)
    save_checkpoint(out, dataclasses.replace(ckpt, input_size=(ckpt.input_size[0], width)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="300 images a set (default)")
    mode.add_argument("--full", action="store_true", help="1,000 images a set")
    parser.add_argument("--model", type=Path, default=shipped_folder("general"))
    parser.add_argument("--threads", type=int, default=1, help="per tool (default: one core)")
    parser.add_argument("--batch", type=int, default=64, help="ocrlab batch size")
    parser.add_argument("--only", nargs="*", help="ocrlab tools only (skip ddddocr, Tesseract)")
    parser.add_argument("--width", type=int, help="read on a canvas this wide (an ablation)")
    args = parser.parse_args()
    args.device = "cpu"
    torch.set_num_threads(args.threads)
    os.environ["OMP_THREAD_LIMIT"] = str(args.threads)
    limit_onnxruntime(args.threads)
    charset = load_checkpoint(args.model).charset
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        model = with_canvas(args.model, args.width, Path(tmp)) if args.width else args.model
        tools = readers(model, "cpu", charset, Path(tmp))
        int8 = OnnxPredictor(export_onnx(model, Path(tmp) / "int8.onnx", int8=True))
        thorough = hinted(OnnxPredictor(Path(tmp) / f"{model.name}.onnx"), Hint(thorough=True))
        ours = {k: v for k, v in tools.items() if k.startswith("ocrlab")}
        ours["ocrlab onnxruntime int8"] = lambda ims: [r.text for r in int8.read(ims)]
        ours["ocrlab onnxruntime, thorough"] = lambda ims: [r.text for r in thorough.read(ims)]
        tools = {**ours, **{k: v for k, v in tools.items() if k not in ours}}
        drawn, fonts = sets(Path(tmp), 1000 if args.full else 300)
        for name, (images, truth) in drawn.items():
            record: dict[str, Any] = {"name": name, "images": len(images), "tools": {}}
            print(f"{name}: {len(images)} images", flush=True)
            onnx_file = Path(tmp) / f"{model.name}.onnx"
            extra = told(onnx_file, *FORMATS[name]) if name in FORMATS else {}
            for tool, read in {**tools, **extra}.items():
                if isinstance(read, str) or (args.only is not None and tool not in args.only):
                    record["tools"][tool] = {
                        "missing": read if isinstance(read, str) else "skipped"
                    }
                    continue
                m = measure(read, images, truth, args.batch if tool.startswith("ocrlab") else 1)
                record["tools"][tool] = m
                print(f"  {tool:>18}: exact {100 * m['exact']:5.1f}% (any case "
                      f"{100 * m['exact_case_insensitive']:5.1f}%)  {m['images_per_s']:7.1f} "
                      f"images/s  {m['ms_per_image_one_at_a_time']:6.1f} ms one at a time",
                      flush=True)  # fmt: skip
            results.append(record)
    packages = ("torch", "onnxruntime", "ddddocr", "pytesseract")
    canvas = args.width or load_checkpoint(args.model).input_size[1]
    fonts_missing = {k: len(PINNED[k]) - n for k, n in fonts.items()}
    figures = {"model": str(args.model.name), "canvas_width": canvas, "sets": results,
               "fonts_missing": fonts_missing}  # fmt: skip
    name = f"general_width={args.width}" if args.width else "general"
    report(name, figures, packages=packages, threads=args.threads)
    print(json.dumps({r["name"]: {t: m.get("exact") for t, m in r["tools"].items()}
                      for r in results}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
