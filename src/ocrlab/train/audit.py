"""The CAPTCHA strength audit: how many labelled images break a scheme, from the general reader
and from scratch.

One fixed test part is set aside; for each N the first N of the remaining (seeded) order train,
so the sets are nested and the curve is not noise from picking different images. Each point is a
`fit` from the general model and one from scratch under the same time budget. The audit writes
audit.json (every point, the smallest N that breaks the scheme at 1, 10, 50 and 90 % exact match,
the commonest confusions), audit.png and report.md. Samples come from a labelled folder or from
the user's generator `f(rng) -> (PIL image, text)`, called with `make_rng(seed, AUDIT, i)`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.config import to_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.split import labels_digest
from ocrlab.errors import ConfigError, DatasetError, ImageError
from ocrlab.rng import AUDIT, SPLITS, make_rng
from ocrlab.runtime.line import LineSteps
from ocrlab.runtime.preprocess import line
from ocrlab.train.finetune import NONE, FinetuneConfig, exact, fit, read_lines, split

LEVELS = (0.01, 0.10, 0.50, 0.90)
Generator = Callable[[np.random.Generator], tuple[Any, str]]


@dataclass(frozen=True)
class AuditConfig:
    """Sizes to try, the test part and each point's recipe (`finetune.init` is the start)."""

    sizes: tuple[int, ...] = (50, 100, 200, 500, 1000)
    test: int = 200
    """Images in the fixed test part."""
    finetune: FinetuneConfig = field(default_factory=lambda: FinetuneConfig(minutes=5.0))

    def __post_init__(self) -> None:
        if not self.sizes or min(self.sizes) < 2 or self.test < 1:
            raise ConfigError("sizes must be at least 2 and the test part at least 1 image")


def load_generator(spec: str) -> Generator:
    """'module:function' → the function; a clear error when it cannot be imported."""
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name) if name else None
    except Exception as exc:  # the user's module: a missing name, a syntax error, a raise
        raise ConfigError(f"cannot load generator {spec!r}: {type(exc).__name__}: {exc}") from None
    if not callable(fn):
        raise ConfigError(f"generator {spec!r} must name a function as module:function")
    return fn


AS_TUNED = FinetuneConfig().cleanings()[0]
"""Lines as a fine-tune makes them by default, before `choose_steps` picks a cleaning."""


def generate(
    fn: Generator, n: int, seed: int, steps: LineSteps = AS_TUNED
) -> tuple[np.ndarray, list[str]]:
    """n samples of `fn` as (N, 32, 1024, 1) lines (`ocrlab.runtime.preprocess.line` through
    `steps`: by default as fine-tuning reads them) and texts."""
    lines, texts = [], []
    for i in range(n):
        try:
            sample = fn(make_rng(seed, AUDIT, i))
        except Exception as exc:  # the user's code: say where, keep the run's output short
            raise DatasetError(
                f"the generator failed on sample {i}: {type(exc).__name__}: {exc}"
            ) from None
        if not (isinstance(sample, tuple) and len(sample) == 2):
            raise DatasetError(
                f"the generator must return (image, text); sample {i} is {type(sample).__name__}"
            )
        image, text = sample
        if not isinstance(text, str) or not text:
            raise DatasetError(f"the generator returned {text!r} as sample {i}'s text")
        try:
            if image is None or isinstance(image, str | Path):  # a path is not a drawn image
                raise ImageError(f"{type(image).__name__} is not an image")
            lines.append(line(image, None, "L", steps))
        except (ImageError, AttributeError, TypeError) as exc:
            raise DatasetError(
                f"the generator's sample {i} image cannot be read ({exc}); return a PIL image "
                "or a uint8 array"
            ) from None
        texts.append(text)
    return np.stack(lines), texts


def confusions(predicted: Sequence[str], truth: Sequence[str], top: int = 10) -> list[list[Any]]:
    """The commonest (truth, read) differences: substituted characters, and '' for a missed or
    an extra one."""
    counts: Counter[tuple[str, str]] = Counter()
    for p, t in zip(predicted, truth, strict=True):
        for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, t, p, autojunk=False).get_opcodes():
            if op == "replace" and a1 - a0 == b1 - b0:
                counts.update(zip(t[a0:a1], p[b0:b1], strict=True))
            elif op != "equal":
                counts[(t[a0:a1], p[b0:b1])] += 1
    return [[t, p, k] for (t, p), k in counts.most_common(top)]


def breaking_points(points: Sequence[dict[str, Any]]) -> dict[str, int | None]:
    """The smallest N whose test exact match reaches each level (None: no N did)."""
    return {
        f"{round(100 * level)}%": next((p["n"] for p in points if p["exact"] >= level), None)
        for level in LEVELS
    }


def audit(
    cfg: AuditConfig,
    lines: np.ndarray,
    texts: Sequence[str],
    out: Path,
    log: Callable[[str], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    resume: bool = False,
    steps: LineSteps = AS_TUNED,
) -> dict[str, Any]:
    """Run the audit on prepared lines and texts; write audit.json, audit.png and report.md.
    `steps` are what the lines were prepared with (`choose_steps`): their median and closing are
    recorded.

    audit.json is rewritten after every point, so a stopped audit (`stop`, Ctrl-C) keeps the
    points it finished (`complete` false) and `resume` measures only the missing ones, after
    checking that the settings and the labels are the same. A point cut short by `stop` is
    dropped: it did not get its budget."""
    if len(texts) < cfg.test + min(cfg.sizes):
        raise DatasetError(
            f"{len(texts)} images cannot give a test part of {cfg.test} and {min(cfg.sizes)} "
            "to train; label more or lower --test"
        )
    settings = json.loads(json.dumps({"config": to_dict(cfg), "labels": labels_digest(texts)}))
    done = _finished(out, settings, resume)
    pool, test = split(len(texts), cfg.test / len(texts), cfg.finetune.seed)
    order = make_rng(cfg.finetune.seed, SPLITS, 1).permutation(pool)
    sizes = [n for n in sorted(set(cfg.sizes)) if n <= len(pool)]
    test_texts = [texts[i] for i in test]
    starts = {"general": cfg.finetune.init, "scratch": NONE}
    results: dict[str, Any] = {"starts": starts, "test": len(test), "sizes": sizes,
                               "median": steps.median, "fill": steps.fill,
                               "settings": settings, "complete": False}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for name, init in starts.items():
        points: list[dict[str, Any]] = []
        results[name] = {"points": points, "breaks_at": breaking_points(points)}
        for n in sizes:
            point = done.get((name, n))
            if point is None:
                part = np.sort(order[:n])
                tr, va = split(n, cfg.finetune.held_out, cfg.finetune.seed)
                run = dataclasses.replace(cfg.finetune, init=init)
                result = fit(
                    run, _take(lines, texts, part[tr]), _take(lines, texts, part[va]), stop=stop
                )
                if result.stopped:
                    return results
                device = next(result.model.parameters()).device
                predicted = read_lines(result.model, result.charset, lines[test], device)
                point = {"n": n, "exact": round(exact(predicted, test_texts), 4),
                         "seconds": round(result.seconds, 1), "epochs": len(result.history),
                         "confusions": confusions(predicted, test_texts)}  # fmt: skip
            points.append(point)
            results[name]["breaks_at"] = breaking_points(points)
            _write(out / "audit.json", results)
            if log is not None:
                kept = " (kept from the last run)" if (name, n) in done else ""
                log(f"from {name}, N={n}: {100 * point['exact']:.1f}% in "
                    f"{point['seconds']:.0f}s{kept}")  # fmt: skip
    results["complete"] = True
    _write(out / "audit.json", results)
    _plot(results, out / "audit.png")
    atomic_write_bytes(out / "report.md", _report(results).encode())
    return results


def _write(path: Path, results: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(results, indent=1) + "\n").encode())


def _finished(out: Path, settings: dict[str, Any], resume: bool) -> dict[tuple[str, int], Any]:
    """The points an earlier audit in `out` finished, by (start, N), when resuming; an error for
    a folder that holds something else, or another audit's settings."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return {}
    if not out.is_dir():
        raise DatasetError(f"--out {out} is a file; give a folder for the report")
    if not resume:
        raise DatasetError(
            f"{out} is not empty; choose a new folder, or add --resume to finish an audit there"
        )
    try:
        last = json.loads((out / "audit.json").read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot resume: {out / 'audit.json'} is unreadable ({exc})") from None
    if last.get("settings") != settings:
        raise DatasetError(
            f"cannot resume: {out} holds an audit with other settings or labels; "
            "rerun with the same options and data, or choose a new folder"
        )
    return {(name, p["n"]): p for name in ("general", "scratch")
            for p in last.get(name, {}).get("points", [])}  # fmt: skip


def _take(lines: np.ndarray, texts: Sequence[str], idx: np.ndarray) -> tuple[np.ndarray, list[str]]:
    return lines[idx], [texts[i] for i in idx]


def _plot(results: dict[str, Any], path: Path) -> None:
    from ocrlab.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name in ("general", "scratch"):
        points = results[name]["points"]
        start = "scratch" if name == "scratch" else results["starts"][name]
        ax.plot([p["n"] for p in points], [100 * p["exact"] for p in points], "o-",
                label=f"from {start}")  # fmt: skip
    ax.set(xscale="log", xlabel="labelled images (N)", ylabel="exact match on the test part (%)",
           ylim=(0, 100), title="How many labels break this CAPTCHA")  # fmt: skip
    ax.set_xticks(results["sizes"], [str(n) for n in results["sizes"]])
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _prepared(results: dict[str, Any]) -> str:
    """What was done to every image before it became a line, in words for the report."""
    said = ""
    if results["settings"]["config"]["finetune"].get("crop"):
        said += " Every image was cut to its text's rows first (`crop`)."
    if median := results.get("median", 0):
        said += (
            f" Every image was smoothed first, each pixel the median of its {median}-pixel "
            "square: the general reader read clearly more of the labels so (thin lines wiped)."
        )
    if fill := results.get("fill", 0):
        said += (
            f" Every image's ink was closed by a {fill}-pixel square first: the general reader "
            "read clearly more of the labels so (a dot screen's gaps filled)."
        )
    return said


def _report(results: dict[str, Any]) -> str:
    general, scratch = results["general"], results["scratch"]
    rows = [
        f"| {g['n']} | {100 * g['exact']:.1f} % ({g['seconds']:.0f} s) | "
        f"{100 * s['exact']:.1f} % ({s['seconds']:.0f} s) |"
        for g, s in zip(general["points"], scratch["points"], strict=True)
    ]
    breaks = [
        f"| {level} | {general['breaks_at'][level] or 'not reached'} | "
        f"{scratch['breaks_at'][level] or 'not reached'} |"
        for level in general["breaks_at"]
    ]
    last = general["points"][-1]["confusions"] if general["points"] else []
    confused = ", ".join(f"{t or '∅'}→{p or '∅'} ({k})" for t, p, k in last) or "none"
    return "\n".join([
        "# CAPTCHA strength audit", "",
        f"Exact match (case-sensitive) on a fixed test part of {results['test']} images, after "
        "training on N labelled images: from the general reader "
        f"({results['starts']['general']}) and from scratch, each point under the same time "
        "budget." + _prepared(results), "", "![accuracy against N](audit.png)", "",
        "| N | from general | from scratch |", "|---|---|---|", *rows, "",
        "Smallest N that breaks the scheme (reads at least this share of the test part):", "",
        "| level | from general | from scratch |", "|---|---|---|", *breaks, "",
        f"Commonest confusions at N = {results['sizes'][-1]} from general (truth→read): "
        f"{confused}.", "",
        "For scale: captcha22 starts from 500 labelled CAPTCHAs, and Ye et al. (CCS 2018, "
        "\"Yet Another Text Captcha Solver\") break schemes with 500 real samples plus synthetic "
        "ones. A scheme whose 90 % point is a few hundred labels offers little protection.", "",
    ])  # fmt: skip
