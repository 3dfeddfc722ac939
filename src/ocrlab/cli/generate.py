"""`ocrlab generate`: render a synthetic text-image dataset from the easy, hard or zoo preset.

It owns the subcommand's flags and its handler, which turns them into a `GenerateConfig`, makes
the plan once (with a bar per planning step that runs over a second), counts it for the image bar
and hands it to `ocrlab.synth.generate` (or, with `--engine ray` or `--shard`, to
`ocrlab.cli.scale.generate_with`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _add_config, _config_file, _progress_bar
from ocrlab.cli.scale import _add_generate_scale_flags, generate_with
from ocrlab.errors import ConfigError


def cmd_generate(args: argparse.Namespace) -> int:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.synth import PRESETS
    from ocrlab.synth.plan import make_plan

    if args.preset == "zoo":
        return _generate_zoo(args)

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
    overrides = {**_config_file(args), **overrides, **parse_overrides(args.set)}
    cfg = replace(PRESETS[args.preset], overrides)
    steps = _StepBars()
    try:
        plan = make_plan(cfg, progress=steps)
    finally:
        steps.close()
    count = len(plan.ids)
    with _progress_bar(count, f"{args.preset} → {args.out}") as bar:
        count = generate_with(args, plan, bar.update)
    what = f"part {args.shard}: rows.csv" if args.shard else "manifest.csv, preview.png"
    print(f"wrote {count:,} images to {args.out} ({what})")
    return 0


def _generate_zoo(args: argparse.Namespace) -> int:
    """The CAPTCHA zoo: --limit images (default 1,000) of any shape, PNG, one family each."""
    from ocrlab.config import parse_overrides, replace
    from ocrlab.synth.zoo import ZooConfig
    from ocrlab.synth.zoo_set import make_zoo_set

    if args.resume or args.format == "packed":
        raise ConfigError("a zoo set is PNG files of many shapes and has no --resume")
    if args.engine != "local" or args.shard is not None or args.address is not None:
        raise ConfigError("the zoo preset renders on this machine only: drop --engine and --shard")
    overrides = {**_config_file(args), **parse_overrides(args.set)}
    if args.seed is not None:
        overrides["seed"] = args.seed
    cfg = replace(ZooConfig(), overrides)
    count = args.limit or 1000
    fonts = ("bundled", "system", "packages") if args.fonts is None else (Path(args.fonts),)
    with _progress_bar(count, f"zoo → {args.out}") as bar:
        make_zoo_set(cfg, count, args.out, fonts=fonts, workers=args.workers,
                     overwrite=args.overwrite, progress=bar.update)  # fmt: skip
    print(f"wrote {count:,} images to {args.out} (manifest.csv, preview.png)")
    return 0


class _StepBars:
    """One bar per planning step (checking fonts, fitting the canvas), shown only past a second."""

    def __init__(self) -> None:
        self.step: str | None = None
        self.bar: Any = None

    def __call__(self, step: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=total, desc=step, unit="font", delay=1.0, disable=None)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.step, self.bar = None, None


def _add_generate(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="render a synthetic text-image dataset (easy or hard set, or the CAPTCHA zoo)",
        description="Render a text-image dataset: PNG files or packed uint8 shards, a manifest.csv "
        "(path, word, label, text, font, background, noise, colour), vocab.json, config.json and "
        "preview.png. The same seed gives the same bytes for any --workers.",
    )
    p.add_argument(
        "--preset",
        choices=["easy", "hard", "zoo"],
        default="easy",
        help="easy: plain background, every word in every font (100 words x 10 fonts); "
        "hard: 4 backgrounds x 5 noise levels x 5 colours x words, random casing; "
        "zoo: --limit images (default 1,000) of the CAPTCHA zoo, every shape and effect family, "
        "fonts from the system and font packages (--set 'families=[\"jumble\"]', --set "
        "charset=..., see ocrlab.synth.zoo) (default: easy)",
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
    _add_config(p)
    p.set_defaults(handler=cmd_generate)
