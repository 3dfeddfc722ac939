"""`ocrlab train finetune` and `ocrlab audit`: a line reader for one CAPTCHA style, and how many
labels it takes to break the style.

It owns both subcommands' flags and handlers; the work is `ocrlab.train.finetune` and
`ocrlab.train.audit`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _positive


def _show(record: dict[str, Any]) -> None:
    frozen = " (CNN frozen)" if record["frozen_cnn"] else ""
    held = record["held_out"]
    measured = "no held-out part" if held is None else f"held-out exact {100 * held:.1f}%"
    print(
        f"fine-tune {record.get('member', 1)}, epoch {record['epoch']:>3}: "
        f"loss {record['loss']:.4f} {measured} | {record['seconds']:.0f}s{frozen}",
        flush=True,
    )


def _averaged(n: int) -> str:
    return "one fine-tune" if n == 1 else f"the mean of {n} fine-tunes' weights"


def _config(args: argparse.Namespace, minutes: float | None = None) -> Any:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.train.finetune import FinetuneConfig, preset

    flags = preset(args.preset)
    if minutes is not None:
        flags["minutes"] = minutes
    for key, flag in (
        ("init", "init"),
        ("charset", "charset"),
        ("minutes", "time_budget"),
        ("seed", "seed"),
        ("device", "device"),
    ):
        if getattr(args, flag, None) is not None:
            flags[key] = getattr(args, flag)
    return replace(FinetuneConfig(), {**flags, **parse_overrides(args.set)})


def _prepared(
    cfg: Any, load: Callable[[Any, int | None], tuple[Any, list[str]]]
) -> tuple[Any, list[str], Any]:
    """Lines and texts prepared as the start reads the first `CHOOSE_ON` of them best
    (`choose_steps`), and those `LineSteps`. `load(steps, limit)` prepares the first `limit`
    (None: all) through `steps`; only the chosen ones prepare the whole set."""
    from ocrlab.train.finetune import CHOOSE_ON, choose_steps

    default = cfg.cleanings()[0]
    head, texts = load(default, CHOOSE_ON)

    def first_lines(steps: Any) -> Any:  # the images choose_steps judges on
        return head if steps == default else load(steps, CHOOSE_ON)[0]

    steps = choose_steps(cfg, first_lines, texts)
    _say_steps(steps)
    return (*load(steps, None), steps)


def _labelled(cfg: Any, folders: list[Path], workers: int) -> tuple[Any, list[str], Any]:
    """The labelled folders' lines, texts and `LineSteps` (`_prepared`); no lines without
    folders."""
    from ocrlab.data.load import load_many
    from ocrlab.runtime.preprocess import prepare

    if not folders:
        return None, [], cfg.cleanings()[0]

    skipped: dict[str, str] = {}

    def load(steps: Any, limit: int | None) -> tuple[Any, list[str]]:
        step = prepare("line", steps)
        data = load_many(
            folders, workers=workers, skip_bad=True, mode="L", prepare=step, limit=limit
        )
        skipped.clear()
        skipped.update(data.skipped)
        return data.images, data.texts

    prepared = _prepared(cfg, load)
    _say_skipped("labelled", skipped)
    return prepared


def _say_skipped(kind: str, skipped: dict[str, str]) -> None:
    """Lines on stderr saying why the first images left out do not decode, as `ocrlab eval`
    and `read` go on."""
    if skipped:
        print(f"skipping {len(skipped)} unreadable {kind} image(s):", file=sys.stderr)
        for why in list(skipped.values())[:3]:
            print(f"  {why}", file=sys.stderr)
        if len(skipped) > 3:
            print(f"  and {len(skipped) - 3} more", file=sys.stderr)


def _say_steps(steps: Any) -> None:
    said = [f"a median over {steps.median}-pixel squares"] if steps.median else []
    said += [f"the ink closed by a {steps.fill}-pixel square"] if steps.fill else []
    if said:
        print(f"{' then '.join(said)} first: the start reads these images best so")


def cmd_finetune(args: argparse.Namespace) -> int:
    import numpy as np

    from ocrlab.data.load import unlabelled_images
    from ocrlab.errors import ConfigError
    from ocrlab.runtime.preprocess import prepare
    from ocrlab.train.finetune import finetune
    from ocrlab.train.stopping import ctrl_c_stops

    if not args.data and not args.unlabelled:
        raise ConfigError("give --data (labelled folders), --unlabelled (image folders) or both")
    cfg = _config(args)
    lines, texts, steps = _labelled(cfg, args.data, args.workers)
    unlabelled = None
    if args.unlabelled:
        step = prepare("line", steps)
        unlabelled, skipped = unlabelled_images(args.unlabelled, args.data, args.workers, "L", step)
        _say_skipped("unlabelled", skipped)
        if not args.data:
            lines = np.zeros((0, *unlabelled.shape[1:]), np.uint8)
    more = f", {len(unlabelled)} unlabelled" if unlabelled is not None else ""
    print(f"{len(texts)} labelled images{more}; starting from {cfg.init}", flush=True)
    with ctrl_c_stops() as stop:
        data = [str(d) for d in args.data]
        result = finetune(cfg, lines, texts, args.out, data, _show, stop, unlabelled, steps)
    stopped = f"stopped by Ctrl-C after epoch {len(result.history)}: " if result.stopped else ""
    measured = (f"held-out exact match {100 * result.accuracy:.1f}%" if texts
                else "no labelled image to measure on")  # fmt: skip
    taught = "" if unlabelled is None else f", {result.taught} unlabelled images learnt from"
    print(
        f"{stopped}{measured} ({_averaged(result.averaged)}{taught}) after "
        f"{result.seconds / 60:.1f} min; model in {args.out} (read with: ocrlab read IMAGE "
        f"--model {args.out})"
    )
    if not texts:
        print(
            "nothing measured it: no image was labelled, and learning from its own readings "
            "can also make a reader worse (docs/finetune.md). Label a few dozen images and "
            f"check it first: ocrlab eval --model {args.out} --data LABELLED_FOLDER",
            file=sys.stderr,
        )
    return 130 if result.stopped else 0


def _add_common(p: Any) -> None:
    p.add_argument(
        "--init",
        help="start: a shipped line model (general), a run folder, an exported .onnx file "
        "(not int8), or none (from scratch); default general",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        metavar="MINUTES",
        help="stop training after this many minutes (default: 10; audit: 5 per point)",
    )
    p.add_argument(
        "--charset",
        help="the scheme's alphabet: names joined with + (e.g. digits+upper) or the characters "
        "(default: the start's plus any new character in the labels); characters left out can "
        "never be read",
    )
    p.add_argument("--seed", type=int, help="seed of the split, the shuffles and new weights")
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda")
    p.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 1, help="decoding processes"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a FinetuneConfig field, e.g. --set lr_top=0.002",
    )


def _add_train_finetune(models: Any) -> None:
    p = models.add_parser(
        "finetune",
        help="fine-tune the general reader (or any line model) on your images, labelled or not",
        description="Fine-tune a CRNN-CTC line reader on labelled images of one style "
        "(ocrlab datasets or folders with labels.csv or file-name labels), and on unlabelled "
        "ones by its own confident readings of them. Characters new to the labels get fresh "
        "output rows; a held-out part picks the best epoch.",
    )
    p.add_argument("--data", type=Path, nargs="+", default=[], help="labelled folders")
    p.add_argument(
        "--unlabelled",
        type=Path,
        nargs="+",
        default=[],
        metavar="FOLDER",
        help="folders of images of the same style without labels (a --data folder's unlabelled "
        "images too): the first fine-tune's readings of them with confidence >= 0.9 teach the "
        "later ones; with no --data, the start's readings teach every one",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--preset", default="finetune", help="the recipe (default: finetune)")
    _add_common(p)
    p.set_defaults(handler=cmd_finetune)


def cmd_audit(args: argparse.Namespace) -> int:
    from ocrlab.train.audit import AuditConfig, audit, generate, load_generator
    from ocrlab.train.stopping import ctrl_c_stops

    if (args.data is None) == (args.generator is None):
        from ocrlab.errors import ConfigError

        raise ConfigError("give either --data FOLDER or --generator module:function")
    tune = _config(args, minutes=5.0)  # per point: 5 sizes x 2 starts add up
    cfg = AuditConfig(tuple(args.sizes), args.test, tune)
    if args.generator is not None:
        made, n = load_generator(args.generator), max(cfg.sizes) + cfg.test

        def drawn(steps: Any, limit: int | None) -> tuple[Any, list[str]]:
            return generate(made, min(n, limit or n), tune.seed, steps)

        lines, texts, steps = _prepared(tune, drawn)
    else:
        lines, texts, steps = _labelled(tune, [args.data], args.workers)
    with ctrl_c_stops() as stop:
        results = audit(cfg, lines, texts, args.out, lambda line: print(line, flush=True), stop,
                        args.resume, steps)  # fmt: skip
    if not results["complete"]:
        print(
            f"stopped by Ctrl-C: the finished points are in {args.out / 'audit.json'}; run the "
            "same command with --resume to measure the rest",
            file=sys.stderr,
        )
        return 130
    for name in ("general", "scratch"):
        print(f"from {name}: breaks at {results[name]['breaks_at']}")
    print(f"report in {args.out / 'report.md'}")
    return 0


def _add_audit(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="how many labelled images break a CAPTCHA scheme",
        description="Fine-tune from the general reader and train from scratch on N labelled "
        "images for each N, read a fixed test part, and write report.md, audit.png and "
        "audit.json (the smallest N reaching 1/10/50/90 %% exact, time per point, confusions).",
    )
    p.add_argument("--data", type=Path, help="a labelled folder")
    p.add_argument("--generator", metavar="MODULE:FUNCTION",
                   help="instead of --data: f(rng) -> (PIL image, text) of the scheme")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="folder for the report")
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 500, 1000])
    p.add_argument("--test", type=int, default=200, help="images in the fixed test part")
    p.add_argument(
        "--resume", action="store_true", help="finish the audit in --out: only its missing points"
    )
    p.add_argument("--preset", default="finetune", help="the recipe (default: finetune)")
    _add_common(p)
    p.set_defaults(handler=cmd_audit)
