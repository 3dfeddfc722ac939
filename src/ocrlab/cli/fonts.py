"""`ocrlab fonts list`: the font pool the generator and the zoo draw from, and what each covers.

It owns the subcommand's flags and handler: the sources (bundled, system, Python font packages,
folders), the purpose (training pool, the reserved evaluation families, or all) and the characters
each font is checked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_fonts_list(args: argparse.Namespace) -> int:
    import string

    from ocrlab.synth.fonts import font_family, font_pool, is_reserved, load_font, missing_glyphs

    chars = args.chars or string.digits + string.ascii_letters
    sources = [Path(s) if s not in ("bundled", "system", "packages") else s for s in args.source]
    fonts = font_pool(sources, args.purpose, "")
    usable = 0
    for spec in fonts:
        missing = "".join(missing_glyphs(load_font(spec.path, 32), chars))
        family = font_family(spec.path)
        usable += not missing
        role = "eval" if is_reserved(family) else "train"
        cover = "all" if not missing else f"missing {missing}"
        print(f"{spec.name:40.40}  {family:28.28}  {role:5}  {cover}  {spec.path}")
    print(f"{len(fonts)} fonts, {usable} draw every one of {len(chars)} characters")
    return 0


def _add_fonts(sub: Any) -> None:
    p = sub.add_parser("fonts", help="the font pool: what is found and what each font covers")
    kinds = p.add_subparsers(dest="fonts", required=True, metavar="ACTION")
    q = kinds.add_parser(
        "list",
        help="list fonts with their family, role (train or eval) and coverage",
        description="List the fonts ocrlab finds: bundled (matplotlib's), the system's "
        "(fontconfig, else the usual folders), Python font packages (pip install "
        "'ocrlab[fonts]') and folders. Families reserved for evaluation (Liberation, "
        "Arimo/Tinos/Cousine, GNU FreeFont, URW base35 and derivatives, TeX Gyre) are never in "
        "a training pool.",
    )
    q.add_argument(
        "--source",
        nargs="+",
        default=["bundled", "system", "packages"],
        help="bundled, system, packages or font folders (default: the first three)",
    )
    q.add_argument(
        "--purpose",
        choices=["train", "eval", "all"],
        default="all",
        help="the training pool, the reserved evaluation fonts, or all (default)",
    )
    q.add_argument("--chars", help="characters to check (default: digits and A-Z, a-z)")
    q.set_defaults(handler=cmd_fonts_list)
