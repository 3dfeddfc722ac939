"""Hard-set generation speed: ocrlab vs the `captcha` library (and trdg), and the full set.

1. Images per second on one core, rendering in memory (no file encoding) the same words on a
   canvas of the same size with the same ten fonts: ocrlab's hard set (texture crop, random casing,
   placement, colour and Gaussian noise) against `captcha.image.ImageCaptcha.generate_image`, and
   against trdg's `GeneratorFromStrings` when trdg imports and runs (it does not with Pillow >= 10:
   the reason is recorded in the results). Printed as a ratio (target >= 3x).
2. Time and peak memory to write the full 100,000-image hard set in packed format with `--workers`
   processes (target <= 60 s on 2 cores). Peak memory is the largest resident set of the main
   process and of any one worker.
3. Planning time (`make_plan`: vocabulary, font checks, canvas fitting) for 8,000 English words
   with the ten bundled fonts plus `--fonts N` (default 110) Latin-capable fonts found under
   /usr/share/fonts (a seeded pick; fonts missing any of a-z A-Z are skipped, the count used is
   recorded), with an empty font-metrics cache and again with it warm (target <= 5 s on 2 cores).

    python benchmarks/bench_generate.py            # all parts
    python benchmarks/bench_generate.py --quick    # part 2 on 20,000 images
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from captcha.image import ImageCaptcha

from _common import report
from ocrlab.synth import PRESETS, generate
from ocrlab.synth.fit import ink_size, widest_casing
from ocrlab.synth.fonts import DEFAULT_FONTS, FONT_SUFFIXES, load_font, missing_glyphs
from ocrlab.synth.metrics import CACHE_ENV, FontMetrics
from ocrlab.synth.plan import Plan, make_plan

SYSTEM_FONTS = Path("/usr/share/fonts")
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

TRDG_ABSENT = (
    "trdg 1.8.0 (its latest release) installs on Python 3.11 but fails on its first image with "
    "Pillow >= 10 (it calls ImageFont.getsize, removed in Pillow 10.0; ocrlab needs Pillow >= "
    "10.1), and it pulls opencv-python, which clashes with the opencv-python-headless ddddocr uses"
)


def trdg_rate(texts: list[str], fonts: list[str], height: int) -> float | str:
    """trdg's images per second on one core, or why there is no figure (recorded, not skipped)."""
    try:
        from trdg.generators import GeneratorFromStrings
    except ImportError:
        return f"not installed: {TRDG_ABSENT}"
    try:
        images = GeneratorFromStrings(texts, count=len(texts) + 1, fonts=fonts, size=height)
        next(iter(images))  # fonts load once, outside the timing
        start = time.perf_counter()
        for _ in zip(texts, images, strict=False):
            pass
        return len(texts) / (time.perf_counter() - start)
    except Exception as exc:  # a peer's failure is a finding to record, whatever its type
        return f"failed: {type(exc).__name__}: {exc}"


def per_core_rates(n: int) -> dict[str, float]:
    plan = make_plan(PRESETS["hard"])
    step = max(1, len(plan.ids) // n)
    ids = [int(i) for i in plan.ids[::step][:n]]
    plan.render(ids[0])  # textures and fonts load once, outside the timing
    start = time.perf_counter()
    for i in ids:
        plan.render(i)
    ocrlab_rate = n / (time.perf_counter() - start)

    fonts = [str(f.path) for f in plan.fonts]
    lib = ImageCaptcha(width=plan.canvas.width, height=plan.canvas.height, fonts=fonts)
    texts = [plan.describe(i).text for i in ids]
    lib.generate_image(texts[0])
    start = time.perf_counter()
    for text in texts:
        lib.generate_image(text)
    captcha_rate = n / (time.perf_counter() - start)
    trdg = trdg_rate(texts, fonts, plan.canvas.height)
    return {
        "images": n,
        "ocrlab_images_per_s_per_core": round(ocrlab_rate, 1),
        "captcha_images_per_s_per_core": round(captcha_rate, 1),
        "ratio": round(ocrlab_rate / captcha_rate, 2),
        "trdg_images_per_s_per_core": round(trdg, 1) if isinstance(trdg, float) else None,
        "trdg_ratio": round(ocrlab_rate / trdg, 2) if isinstance(trdg, float) else None,
        "trdg_absent": trdg if isinstance(trdg, str) else None,
        "canvas": [plan.canvas.height, plan.canvas.width],
    }


def full_set(limit: int | None, workers: int) -> dict[str, float | int]:
    cfg = dataclasses.replace(PRESETS["hard"], format="packed", limit=limit)
    out = Path(tempfile.mkdtemp(prefix="ocrlab-bench-")) / "hard"
    try:
        start = time.perf_counter()
        generate(cfg, out, workers=workers)
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    count = 100_000 if limit is None else limit
    return {
        "images": count,
        "workers": workers,
        "seconds": round(seconds, 2),
        "images_per_s": round(count / seconds, 1),
        "bytes_on_disk": size,
        "peak_rss_main_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_worker_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }


def font_folder(dest: Path, count: int) -> int:
    """Symlink up to `count` Latin-capable system fonts into `dest`; returns how many."""
    files = sorted(p for p in SYSTEM_FONTS.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    random.Random(0).shuffle(files)
    names = {Path(f).stem for f in DEFAULT_FONTS}
    used = 0
    for path in files:
        if used == count or path.stem in names:
            continue
        try:
            if missing_glyphs(load_font(path, 32), LATIN):
                continue
        except Exception:  # an unloadable font is simply not picked
            continue
        names.add(path.stem)
        (dest / path.name).symlink_to(path)
        used += 1
    return used


def exact_check(plan: Plan, words: int) -> dict[str, int | float]:
    """Fonts whose fitted ink width differs from measuring each of `words` words (spread over the
    vocabulary) exactly."""
    start, chosen, mismatches = (
        time.perf_counter(),
        plan.vocab.words[:: len(plan.vocab) // words][:words],
        0,
    )
    for spec in plan.fonts:
        m = FontMetrics(spec.path, plan.config.font_size)
        widths = []
        for word in chosen:
            box = m.font.getbbox(widest_casing(word, m.font.getlength), anchor="ls")
            widths.append(box[2] - box[0])
        mismatches += ink_size(chosen, [m])[1] != max(widths)
    return {
        "words": len(chosen),
        "fonts": len(plan.fonts),
        "mismatches": mismatches,
        "seconds": round(time.perf_counter() - start, 1),
    }


def planning(words: int, count: int, check: int) -> dict[str, object]:
    """make_plan's time with `count` extra fonts: cold (empty metrics cache), then warm; with
    `check`, the fitted width against measuring `check` words exactly in every font."""
    tmp = Path(tempfile.mkdtemp(prefix="ocrlab-bench-"))
    try:
        (tmp / "fonts").mkdir()
        used = font_folder(tmp / "fonts", count)
        os.environ[CACHE_ENV] = str(tmp / "cache")
        cfg = dataclasses.replace(
            PRESETS["hard"],
            vocab="english",
            words=words,
            limit=40_000,
            fonts_dir=str(tmp / "fonts"),
        )
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            plan = make_plan(cfg)
            seconds.append(time.perf_counter() - start)
        ids = plan.ids[:: len(plan.ids) // 2000][:2000].tolist()
        plan.render(ids[0])  # textures load once, outside the timing
        start = time.perf_counter()
        for i in ids:
            plan.render(i)
        rate = len(ids) / (time.perf_counter() - start)
        checked = exact_check(plan, check) if check else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "words": words,
        "fonts": len(plan.fonts),
        "system_fonts_used": used,
        "canvas": f"{plan.canvas.height}x{plan.canvas.width}",
        "cold_cache_s": round(seconds[0], 2),
        "warm_cache_s": round(seconds[1], 2),
        "render_images_per_s_per_core": round(rate, 1),
        "exact_check": checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="write 20,000 images instead of 100,000"
    )
    parser.add_argument(
        "--samples", type=int, default=2000, help="images per library for the ratio"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fonts", type=int, default=110, help="system fonts added for planning")
    parser.add_argument("--words", type=int, default=8000, help="English words for planning")
    parser.add_argument(
        "--planning-only",
        action="store_true",
        help="run part 3 only (saved as generate_planning.json)",
    )
    parser.add_argument(
        "--check-words",
        type=int,
        default=0,
        help="also measure this many words exactly in every font and count fonts whose fitted "
        "width differs (minutes)",
    )
    args = parser.parse_args()
    figures: dict[str, object] = {"planning": planning(args.words, args.fonts, args.check_words)}
    if not args.planning_only:
        figures["per_core"] = per_core_rates(args.samples)
        figures["full_hard_set_packed"] = full_set(20_000 if args.quick else None, args.workers)
    name = "generate_planning" if args.planning_only else "generate"
    report(name, figures, packages=("captcha", "trdg"), threads=1)


if __name__ == "__main__":
    main()
