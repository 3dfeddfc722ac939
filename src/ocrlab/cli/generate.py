"""`ocrlab generate`: render a synthetic word-image dataset from the easy or hard preset.

It owns the subcommand's flags and its handler, which turns them into a `GenerateConfig`, counts
the plan for the progress bar and calls `ocrlab.synth.generate`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _progress_bar
from ocrlab.cli.scale import _add_generate_scale_flags, generate_with


def cmd_generate(args: argparse.Namespace) -> int:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.synth import PRESETS
    from ocrlab.synth.plan import make_plan

    flags = {
        "words": args.words,
        "vocab": args.vocab,
        "fonts_dir": args.fonts,
        "seed": args.seed,
        "format": args.format,
        "limit": args.limit,
    }
    overrides = {k: v for k, v in flags.items() if v is not None}
    if args.fonts_dir_only:
        overrides["only_user_fonts"] = True
    cfg = replace(PRESETS[args.preset], {**overrides, **parse_overrides(args.set)})
    count = len(make_plan(cfg).ids)
    with _progress_bar(count, f"{args.preset} → {args.out}") as bar:
        count = generate_with(args, cfg, count, bar.update)
    what = f"part {args.shard}: rows.csv" if args.shard else "manifest.csv, preview.png"
    print(f"wrote {count:,} images to {args.out} ({what})")
    return 0


def _add_generate(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="render a synthetic word-image dataset (easy or hard set)",
        description="Render a word-image dataset: PNG files or packed uint8 shards, a manifest.csv "
        "(path, word, label, text, font, background, noise, colour), vocab.json, config.json and "
        "preview.png. The same seed gives the same bytes for any --workers.",
    )
    p.add_argument(
        "--preset",
        choices=["easy", "hard"],
        default="easy",
        help="easy: plain background, every word in every font (100 words x 10 fonts); "
        "hard: 4 backgrounds x 5 noise levels x 5 colours x words, random casing (default: easy)",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (created; must be empty)")
    p.add_argument("--words", type=int, help="number of vocabulary words (default 100)")
    p.add_argument(
        "--vocab",
        help="document to take words from (.txt, .md, .pdf, .docx), a "
        "vocab.json, or 'english' for a large word list (default: the bundled OCR text)",
    )
    p.add_argument("--fonts", help="folder of extra .ttf/.otf fonts, added to the ten bundled ones")
    p.add_argument(
        "--fonts-dir-only",
        action="store_true",
        help="use only the fonts of --fonts, not the bundled ones",
    )
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="render processes; the output does not depend on it (default: all cores)",
    )
    p.add_argument(
        "--format",
        choices=["png", "packed"],
        help="png files, or packed uint8 .npy shards for fast bounded-memory loading",
    )
    p.add_argument("--limit", type=int, help="keep a seeded random subset of N images")
    _add_generate_scale_flags(p)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing ocrlab dataset in --out"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any GenerateConfig field, e.g. --set font_size=28 "
        '--set \'backgrounds=["kraft","wood"]\' (repeatable)',
    )
    p.set_defaults(handler=cmd_generate)
