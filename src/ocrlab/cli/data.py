"""`ocrlab data`: make the held-out letters-eval and text-eval sets (`letters-eval`,
`text-eval`), fetch public data sets (`fetch emnist`) and join `generate --shard` parts (`merge`,
from `ocrlab.cli.scale`). It owns those subcommands' flags and handlers."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _add_config, _flag_overrides, _positive, _progress_bar
from ocrlab.cli.scale import _add_data_merge


def cmd_data_letters_eval(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.synth.letters_eval import LettersEvalConfig, make_letters_eval

    names = {"seed": "seed", "letters": "letters", "words": "words", "lines": "lines",
             "case": "case", "fonts": "fonts_dir"}  # fmt: skip
    overrides = _flag_overrides(args, names)
    if "fonts_dir" in overrides:
        overrides["fonts_dir"] = str(overrides["fonts_dir"])
    cfg = replace(LettersEvalConfig(), overrides)
    manifest = make_letters_eval(cfg, args.out, overwrite=args.overwrite)
    print(f"wrote {cfg.count():,} images to {args.out} ({manifest.name}, preview.png)")
    return 0


def cmd_data_text_eval(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.synth.text_eval import TextEvalConfig, make_text_eval

    cfg = replace(TextEvalConfig(), _flag_overrides(args, {"seed": "seed", "count": "count"}))
    folders = tuple(str(f) for f in args.fonts or ())
    with _progress_bar(cfg.count, f"text-eval → {args.out}") as bar:
        make_text_eval(cfg, args.out, workers=args.workers, overwrite=args.overwrite,
                       folders=folders, progress=bar.update)  # fmt: skip
    print(f"wrote {cfg.count:,} images to {args.out} (manifest.csv, preview.png)")
    return 0


def _add_text_eval(kinds: Any) -> None:
    q = kinds.add_parser(
        "text-eval",
        help="clean strings in the font families reserved for evaluation (zero-shot test)",
        description="Render dictionary-free strings (3-9 letters, both cases) dark on light in "
        "the font families no ocrlab training pool may use (Liberation, Arimo/Tinos/Cousine, GNU "
        "FreeFont, URW base35 and derivatives, TeX Gyre) found on this machine: half tightly "
        "cropped, half on the 48 x 336 canvas of the hard set (--set 'layouts=[\"turned\"]': tight "
        'crops turned by 4-15 degrees; "page": anywhere on a page 3-6 times their height). The '
        "manifest's background column says which. Score a "
        "reader with `ocrlab eval --model default --data DIR`.",
    )
    q.add_argument("--out", type=Path, required=True, help="folder to write (must be empty)")
    q.add_argument("--count", type=int, help="images (default 1,000)")
    q.add_argument("--seed", type=int, help="random seed (default 0)")
    q.add_argument("--fonts", type=Path, nargs="+", help="more folders of reserved-family fonts")
    q.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 1, help="render processes"
    )
    q.add_argument("--overwrite", action="store_true", help="replace an earlier set in --out")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a TextEvalConfig field, e.g. --set max_length=12")  # fmt: skip
    _add_config(q)
    q.set_defaults(handler=cmd_data_text_eval)


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from ocrlab.data.fetch import EMNIST, fetch_emnist
    from ocrlab.data.paths import default_data_root

    root = args.out or default_data_root() / "emnist"
    bar: Any = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=EMNIST.name, disable=None)
        bar.update(done - bar.n)

    try:
        files = fetch_emnist(root, args.url, args.sha256, args.size, progress)
    finally:
        if bar is not None:
            bar.close()
    print(f"EMNIST Letters in {root}: " + ", ".join(f.name for f in files))
    return 0


def _add_fetch(kinds: Any) -> None:
    q = kinds.add_parser(
        "fetch",
        help="download a public data set (emnist) when this machine is online",
        description="Download NIST's official EMNIST archive (gzip.zip, about 560 MB), check its "
        "size and digests, and unpack the four EMNIST Letters idx files, so training runs with "
        "--protocol full. An interrupted download resumes where it stopped; the archive and "
        "every file appear only once whole.",
    )
    q.add_argument("name", choices=["emnist"], help="the data set")
    q.add_argument(
        "--out",
        type=Path,
        help="folder to fill (default: $OCRLAB_DATA/emnist, else ../shared/data/emnist, else "
        "~/.cache/ocrlab/data/emnist)",
    )
    q.add_argument("--url", help="a mirror of gzip.zip (default: NIST's)")
    q.add_argument("--sha256", help="the archive's expected SHA-256 (checked when given)")
    q.add_argument("--size", type=int, help="the archive's expected size in bytes")
    q.set_defaults(handler=cmd_data_fetch)


def _add_data(sub: Any) -> None:
    p = sub.add_parser("data", help="make or fetch data")
    kinds = p.add_subparsers(dest="data", required=True, metavar="SET")
    _add_fetch(kinds)
    _add_text_eval(kinds)
    q = kinds.add_parser(
        "letters-eval",
        help="held-out letters and words in fonts, colours and backgrounds no training set uses",
        description="Render single letters (A-Z equally often), words of 3-6 letters and "
        "two-line images in fonts, ink colours and backgrounds that no ocrlab training set uses. "
        "Writes images/, manifest.csv (path, text, kind, font, scheme, size), config.json and "
        "preview.png; the same seed writes the same bytes. Score a reader on it with "
        "`ocrlab eval --model letters --data DIR --table`.",
    )
    q.add_argument("--out", type=Path, required=True, help="folder to write (must be empty)")
    q.add_argument("--seed", type=int, help="random seed (default 0)")
    q.add_argument("--letters", type=int, help="single-letter images (default 520)")
    q.add_argument("--words", type=int, help="one-word images (default 240)")
    q.add_argument("--lines", type=int, help="two-line images (default 60)")
    q.add_argument("--case", choices=["upper", "lower"], help="letter case drawn (default upper)")
    q.add_argument(
        "--fonts", type=Path, help="folder of held-out fonts instead of the built-in ones"
    )
    q.add_argument("--overwrite", action="store_true", help="replace an earlier set in --out")
    q.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a LettersEvalConfig field, e.g. --set max_size=64 --set noise=0",
    )
    _add_config(q)
    q.set_defaults(handler=cmd_data_letters_eval)
    _add_data_merge(kinds)
