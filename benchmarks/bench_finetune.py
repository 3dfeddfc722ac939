"""Fine-tuning: CAPTCHA styles the general reader never saw, from 1,000 labels, general vs scratch.

Three styles no zoo family draws, all with three symbols outside the general charset:
`ocrlab.synth.stencil` (a typical web scheme: stippled, turned glyphs cut by curves in the
paper's colour, specks of ink), `ocrlab.synth.tiles` (the stress test: per-glyph tiles in
their own fonts, half of them inverted, a strong sine ripple, an inverting grid) and
`ocrlab.synth.relief` (text pressed into paper of its own colour, showing only as light and
shadow, shallower curves pressed across it). For each style
1,000 labelled images train (15 % of them held out to pick the epoch) and 1,000
other images test, exact match, case-sensitive. The same labels, split and time budget train from
the shipped general model (`--preset finetune`) and from scratch (`--init none`, the same CRNN
size); the general model's zero-shot score comes first. Target: >= 97 % in <= 10 minutes on 2
cores. Beside the built styles, a real scheme: `captcha_images_v2` (1,040 CAPTCHAs, lower
case and digits; the general reader never trains on it) split once, by a seeded shuffle, into
`--real-test` unseen test images and the rest as labels (640 of them, 15 % held out as above).
The machine this runs on is shared, and other people's jobs can slow one start eightfold against
the other, so the budget is counted in this process's CPU time divided by the threads
("minutes of 2 cores"), the same for both starts whatever the load; wall minutes are reported
beside it.

    python benchmarks/bench_finetune.py [--styles stencil tiles relief captcha_images_v2
                                                  solid_stencil]
                                        [--minutes 10]
                                        [--train 1000] [--test 1000] [--real-test 400]
                                        [--threads 2] [--only general|scratch]

Each fine-tuned model also reads the test images told the format its labels show (their
characters and their fewest and most; `ocrlab read --charset ... --length A-B`): what a user who
labelled the scheme knows.

`solid_stencil` (stencil with solid glyphs, every other draw the same; not in the default run)
measures what the dot screen alone costs. `--only` reruns one start and keeps the other's last
figures. `--set FIELD=VALUE` changes the recipe (a `FinetuneConfig` field, e.g. `--set ema=0`)
and writes `finetune_ema=0.json` instead, so an ablation never replaces the recipe's figures;
another number of labels (`--train 6000`) is named in the file the same way.

Unlabelled images (`ocrlab train finetune --unlabelled`): `--unlabelled N` gives each built
style N more images without their labels (drawn apart from the labels and the test images);
`--no-labels` gives the labelled part's images without their labels, so the general reader
learns from its own sure readings alone (no run from scratch then). Both are named in the
results file (`finetune_unlabelled=3000.json`, `finetune_no_labels=True.json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_read import DATA_ROOT

SYNTHETIC = {
    "stencil": "ocrlab.synth.stencil:stencil",
    "tiles": "ocrlab.synth.tiles:tiles",
    "solid_stencil": "ocrlab.synth.stencil:solid_stencil",  # what the dot screen costs
    "relief": "ocrlab.synth.relief:relief",
}
REAL = "captcha_images_v2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="time budget of each start")
    parser.add_argument("--train", type=int, default=1000, help="labelled images")
    parser.add_argument("--test", type=int, default=1000, help="unseen test images")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--styles", nargs="+", choices=[*SYNTHETIC, REAL],
                        default=["stencil", "tiles", "relief", REAL],
                        help="styles to measure")  # fmt: skip
    parser.add_argument("--real-test", type=int, default=400,
                        help=f"unseen test images of {REAL} (the rest are the labels)")  # fmt: skip
    parser.add_argument("--data-captcha", type=Path, default=DATA_ROOT / REAL)
    parser.add_argument("--only", choices=["general", "scratch"],
                        help="run one start; the other keeps its last figures")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a FinetuneConfig field (an ablation)")  # fmt: skip
    parser.add_argument("--unlabelled", type=int, default=0, metavar="N",
                        help="N unlabelled images of each built style")  # fmt: skip
    parser.add_argument("--no-labels", action="store_true",
                        help="the labelled part's images without their labels")  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import numpy as np
    import torch

    from _common import RESULTS, report
    from ocrlab.config import parse_overrides
    from ocrlab.data.load import folder_labels
    from ocrlab.read.hint import Hint, hinted
    from ocrlab.read.predictor import Predictor
    from ocrlab.rng import make_rng
    from ocrlab.runtime.checkpoint import Checkpoint, learnt_steps, load_checkpoint
    from ocrlab.runtime.line import HEIGHT, WIDTH, LineSteps
    from ocrlab.runtime.preprocess import prepare
    from ocrlab.runtime.shipped import run_folder
    from ocrlab.synth.tiles import CHARS
    from ocrlab.train.audit import load_generator
    from ocrlab.train.finetune import (
        CHOOSE_ON,
        FinetuneConfig,
        choose_steps,
        exact,
        fit,
        read_lines,
        split,
        start_model,
    )

    torch.set_num_threads(args.threads)
    changes = parse_overrides(args.set)
    named = {**changes, **({"train": args.train} if args.train != 1000 else {}),
             **({"unlabelled": args.unlabelled} if args.unlabelled else {}),
             **({"no_labels": True} if args.no_labels else {})}  # fmt: skip
    results = "_".join(["finetune", *(f"{k}={v}" for k, v in sorted(named.items()))])
    last = RESULTS / f"{results}.json"
    kept = json.loads(last.read_text()).get("styles", {}) if last.is_file() else {}
    figures: dict[str, Any] = {"labelled": args.train, "test": args.test,
                               "budget_minutes": args.minutes, "styles": dict(kept)}  # fmt: skip

    Pairs = list[tuple[Any, str]]
    cfg = FinetuneConfig(minutes=args.minutes, seed=args.seed, device="cpu", **changes)

    def to_lines(pairs: Pairs, steps: LineSteps) -> tuple[np.ndarray, list[str]]:
        """Lines as a model that learnt with `steps` reads them."""
        step = prepare("line", steps)
        return np.stack([step(img, None, "L") for img, _ in pairs]), [t for _, t in pairs]

    def synthetic(style: str) -> tuple[Pairs, Pairs, str, Pairs]:
        draw = load_generator(SYNTHETIC[style])
        train, test, more = ([draw(make_rng(args.seed, 90 + stream, i)) for i in range(n)]
                             for stream, n in ((0, args.train), (1, args.test),
                                               (2, args.unlabelled)))  # fmt: skip
        return train, test, CHARS, more

    def real() -> tuple[Pairs, Pairs, str, Pairs] | None:
        if not args.data_captcha.is_dir():
            print(f"skipping {REAL}: no folder {args.data_captcha}", file=sys.stderr)
            return None
        pairs = [(p.read_bytes(), text) for p, text in folder_labels(args.data_captcha)]
        order = np.random.default_rng(args.seed).permutation(len(pairs))
        pairs = [pairs[i] for i in order]
        cut = len(pairs) - args.real_test
        charset = "".join(sorted({c for _, text in pairs for c in text}))
        return pairs[:cut], pairs[cut:], charset, []

    def cleaned(pairs: Pairs) -> Callable[[LineSteps], np.ndarray]:
        """`pairs`' lines as given steps prepare them, for `choose_steps`."""
        return lambda steps: to_lines(pairs, steps)[0]

    def told(
        fitted: Any, lines: np.ndarray, labels: list[str], thorough: bool = False
    ) -> list[str]:
        """Readings of `lines` by the fitted model told the labels' characters and lengths
        (`thorough`: and reading each line in seven views, `ocrlab read --thorough`)."""
        ckpt = Checkpoint(kind="line", model="crnn", model_config=fitted.model.config,
                          input_size=(HEIGHT, WIDTH), channels=1, charset=fitted.charset,
                          max_len=fitted.max_len, **learnt_steps(steps))  # fmt: skip
        hint = Hint("".join(sorted({c for t in labels for c in t})),
                    (min(map(len, labels)), max(map(len, labels))), thorough)  # fmt: skip
        reader = hinted(Predictor(fitted.model, ckpt, torch.device("cpu")), hint)
        return [r.text for r in reader.read_batch(lines)]

    shipped = load_checkpoint(run_folder("general"))  # the start the zero-shot column reads with
    for style in args.styles:
        made = real() if style == REAL else synthetic(style)
        if made is None:
            continue
        labelled, unseen, charset, more = made
        judge = [] if args.no_labels else [t for _, t in labelled]  # as the CLI without labels
        steps = choose_steps(cfg, cleaned(labelled[:CHOOSE_ON]), judge)
        lines, texts = to_lines(labelled, steps)
        test_lines, test_texts = to_lines(unseen, steps)
        tr, va = split(len(texts), 0.15, args.seed)
        train = (lines[tr], [texts[i] for i in tr])
        val = (lines[va], [texts[i] for i in va])
        unlabelled = to_lines(more, steps)[0] if more else None
        if args.no_labels:
            none = (lines[:0], [])
            train, val = none, none
            unlabelled = lines if unlabelled is None else np.concatenate([lines, unlabelled])
        general, chars, _ = start_model(cfg, texts, lines)
        as_read = to_lines(unseen, shipped.steps)[0]
        zero = read_lines(general, chars, as_read, torch.device("cpu"))
        spelt = set(shipped.charset)  # what it has rows for
        known = [i for i, t in enumerate(test_texts) if set(t) <= spelt]
        result: dict[str, Any] = {
            "style": SYNTHETIC.get(style, style),
            "charset": charset,
            "labelled": len(train[1]) + len(val[1]),
            "test": len(test_texts),
            "budget_minutes": args.minutes,
            "held_out": len(val[1]),
            "median": steps.median,
            "fill": steps.fill,
            "crop": steps.crop,
            **({} if unlabelled is None else {"unlabelled": len(unlabelled)}),
            "zero_shot_exact": round(exact(zero, test_texts), 4),
            "zero_shot_exact_without_symbols": round(
                exact([zero[i] for i in known], [test_texts[i] for i in known]), 4
            ),
        }
        for key in ("from_general", "from_scratch"):
            if args.only and key != f"from_{args.only}" and key in kept.get(style, {}):
                result[key] = kept[style][key]
        for name, init in (("general", "general"), ("scratch", "none")):
            if (args.only and name != args.only) or (name == "scratch" and args.no_labels):
                continue
            run = dataclasses.replace(cfg, init=init)
            print(f"--- {style} from {name}", file=sys.stderr, flush=True)
            wall = time.perf_counter()
            fitted = fit(
                run, train, val, lambda r: print(r, file=sys.stderr, flush=True),
                clock=lambda: time.process_time() / args.threads,
                unlabelled=None if name == "scratch" else unlabelled,
            )  # fmt: skip
            wall = time.perf_counter() - wall
            predicted = read_lines(fitted.model, fitted.charset, test_lines, torch.device("cpu"))
            result[f"from_{name}"] = {
                "test_exact": round(exact(predicted, test_texts), 4),
                "test_exact_told": round(exact(told(fitted, test_lines, texts), test_texts), 4),
                "test_exact_told_thorough": round(
                    exact(told(fitted, test_lines, texts, thorough=True), test_texts), 4
                ),
                "held_out_exact": round(fitted.accuracy, 4) if val[1] else None,
                "taught": fitted.taught,
                "minutes": round(fitted.seconds / 60, 2),
                "wall_minutes": round(wall / 60, 2),
                "epochs": len(fitted.history),
                "averaged": fitted.averaged,
                "run": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "history": fitted.history,
            }
        figures["styles"][style] = result
    figures["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
    figures["changes"] = changes
    report(results, figures, ("torch",), threads=args.threads)


if __name__ == "__main__":
    main()
