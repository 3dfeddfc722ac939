"""The `ocrlab` command: one small handler per subcommand over the library API.

Each handler turns flags into a config, calls one library function and prints the result. User
mistakes (`UserError`) print one line on stderr and exit with status 2, without a traceback.
`main(argv)` returns the exit status so tests call it directly. Nothing imports this module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ocrlab import __version__
from ocrlab.errors import UserError

Handler = Callable[[argparse.Namespace], int]


def _progress_bar(total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", disable=None, smoothing=0.1)


def cmd_generate(args: argparse.Namespace) -> int:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.synth import PRESETS, generate
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
        generate(
            cfg,
            args.out,
            workers=args.workers,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=bar.update,
        )
    print(f"wrote {count:,} images to {args.out} (manifest.csv, preview.png)")
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


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="train a model", description="Train a model into a run folder."
    )
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    _add_train_classifier(models)
    _add_train_seq(models)
    _add_train_mlp(models)
    _add_train_letters_cnn(models)


def _add_experiment(sub: Any) -> None:
    p = sub.add_parser("experiment", help="reproduce an experiment of the seed documents")
    experiments = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    _add_experiment_memorize(experiments)
    _add_experiment_grid(experiments)


class _TrainProgress:
    """A tqdm bar over each epoch's batches and one summary line per epoch."""

    def __init__(self, batches: int | None = None) -> None:
        self.bar: Any = None
        self.batches = batches

    def __call__(self, event: dict[str, Any]) -> None:
        from tqdm import tqdm

        if event["event"] == "batch":
            if self.bar is None:
                self.bar = tqdm(total=self.batches, unit="batch", leave=False, disable=None)
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{event['loss']:.3f}")
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        print(
            f"epoch {event['epoch']:>3}: train loss {event['train_loss']:.4f} acc "
            f"{100 * event['train_acc']:.2f}% | test loss {event['test_loss']:.4f} acc "
            f"{100 * event['test_acc']:.2f}% | {event['seconds']:.1f}s",
            flush=True,
        )


def _classifier_config(args: argparse.Namespace) -> Any:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.train.classifier import PRESETS

    overrides: dict[str, Any] = {"workers": args.workers}
    for flag, key in (
        ("epochs", "train.epochs"),
        ("seed", "train.seed"),
        ("device", "train.device"),
        ("limit", "limit"),
    ):
        if getattr(args, flag, None) is not None:
            overrides[key] = getattr(args, flag)
    return replace(PRESETS[args.preset], {**overrides, **parse_overrides(args.set)})


def _add_model_flags(p: Any, preset_help: str) -> None:
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        help="dataset folders: ocrlab datasets (PNG or packed) or labelled image folders",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--preset", default="quick", choices=["quick", "seed"], help=preset_help)
    p.add_argument("--epochs", type=int, help="training epochs (overrides the preset)")
    p.add_argument("--limit", type=int, help="use a seeded random subset of N images")
    p.add_argument("--seed", type=int, help="seed for the split, the initial weights and batches")
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda (default auto)")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes decoding PNG images (default: all cores)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.lr=0.001 --set width=32",
    )


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from ocrlab.train.classifier import train_classifier

    metrics = train_classifier(
        args.data,
        args.out,
        _classifier_config(args),
        resume=args.resume,
        overwrite=args.overwrite,
        callback=_TrainProgress(),
    )
    print(
        f"test accuracy {100 * metrics['test_acc']:.2f}% after {metrics['epochs']} epochs "
        f"({metrics['seconds']:.0f}s); run in {args.out}"
    )
    return 0


def _add_train_classifier(models: Any) -> None:
    p = models.add_parser(
        "classifier",
        help="ResNet18 word classifier (one class per vocabulary word)",
        description="Train the seed's ResNet18 word classifier on one or more datasets. Writes "
        "model.safetensors, checkpoint.json, history.csv, curves.png and metrics.json.",
    )
    _add_model_flags(
        p,
        "quick: 10 epochs at 32x224 for a CPU; seed: the seed's 30 epochs at full "
        "size (default quick)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.set_defaults(handler=cmd_train_classifier)


def cmd_train_seq(args: argparse.Namespace) -> int:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.train.sequence import PRESETS, train_seq

    overrides: dict[str, Any] = {"workers": args.workers}
    for flag, key in (
        ("epochs", "train.epochs"),
        ("seed", "train.seed"),
        ("device", "train.device"),
        ("limit", "limit"),
        ("init", "init"),
        ("split", "split"),
        ("charset", "charset"),
    ):
        if getattr(args, flag) is not None:
            overrides[key] = str(getattr(args, flag)) if flag == "init" else getattr(args, flag)
    cfg = replace(PRESETS[args.preset], {**overrides, **parse_overrides(args.set)})
    metrics = train_seq(
        args.data,
        args.out,
        cfg,
        resume=args.resume,
        overwrite=args.overwrite,
        callback=_TrainProgress(),
    )
    print(
        f"test exact match {100 * metrics['test_acc']:.2f}% after {metrics['epochs']} epochs "
        f"({metrics['seconds']:.0f}s); run in {args.out}"
    )
    return 0


def _add_train_seq(models: Any) -> None:
    p = models.add_parser(
        "seq",
        help="CNN encoder + Transformer decoder that spells any text",
        description="Train the sequence recogniser on ocrlab datasets or any labelled folder "
        "(file name = label, e.g. captcha_images_v2). Test accuracy is exact match of greedy "
        "decoding on a held-out split: by word (no test word seen in training) or random.",
    )
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        help="dataset folders: ocrlab datasets or labelled image folders",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument(
        "--preset",
        default="quick",
        choices=["quick", "full", "captcha"],
        help="quick: small model at 32x224 for a CPU; full: larger model at full size; "
        "captcha: small grayscale model, random split, 80 epochs (default quick)",
    )
    p.add_argument("--init", type=Path, help="fine-tune from this run folder's weights")
    p.add_argument("--split", choices=["word", "random"], help="held-out split (preset default)")
    p.add_argument(
        "--charset",
        help="auto (from the labels), a name (alnum, lower, digits, ...) or the literal characters",
    )
    p.add_argument("--epochs", type=int, help="training epochs (overrides the preset)")
    p.add_argument("--limit", type=int, help="use a seeded random subset of N images")
    p.add_argument("--seed", type=int, help="seed for the split, the initial weights and batches")
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda (default auto)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decoding processes")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set d_model=192 --set train.lr=0.0005",
    )
    p.set_defaults(handler=cmd_train_seq)


def cmd_read(args: argparse.Namespace) -> int:
    import json

    from ocrlab.read.models import load_reader, read_with_stages

    reader = load_reader(args.model, args.device)
    paths = [Path(p) for p in args.images]
    if args.debug is None:
        readings = reader.read(paths, top_k=args.top_k)
    else:
        readings = []
        for path in paths:
            reading, stages = read_with_stages(reader, path, args.top_k)
            stages.save(args.debug / path.stem)
            readings.append(reading)
    if args.json:
        print(
            json.dumps(
                [
                    {"image": str(p), **r.to_dict()}
                    for p, r in zip(args.images, readings, strict=True)
                ],
                indent=1,
            )
        )
        return 0
    for path, reading in zip(args.images, readings, strict=True):
        text = reading.text.replace("\n", " / ")
        line = f"{path}: {text}  ({100 * reading.confidence:.1f}%)"
        if args.top_k > 1 and len(reading.letters) > 1:
            line += "  " + " ".join(
                "[" + ", ".join(f"{c} {100 * p:.0f}%" for c, p in top) + "]"
                for top in reading.letters
            )
        elif args.top_k > 1 and len(reading.topk) > 1:
            line += "  [" + ", ".join(f"{t} {100 * p:.1f}%" for t, p in reading.topk[1:]) + "]"
        print(line)
    if args.debug is not None:
        print(f"stages in {args.debug}/<image name>/", file=sys.stderr)
    return 0


def _add_read(sub: Any) -> None:
    p = sub.add_parser(
        "read",
        help="read the text in images (works offline after install)",
        description="Read the text in images: 'words' (the shipped sequence model: one line of "
        "text), 'letters' (the shipped letters CNN through the letter reader: K-means "
        "binarisation, segmentation into letters, EMNIST-like 28x28), 'captcha' (the shipped "
        "reader of captcha_images_v2-style CAPTCHAs), 'auto' (letters for a lone "
        "letter or several lines, else the more confident of the two), or a run folder, MLP "
        ".npz or .onnx file.",
    )
    p.add_argument("images", nargs="+", help="image files (any size and mode)")
    p.add_argument(
        "--model",
        default="default",
        help="words (= default), letters, captcha, auto, a run folder, an MLP model.npz or a "
        ".onnx file "
        "(default: the shipped words model)",
    )
    p.add_argument(
        "--top-k", type=int, default=1, help="alternatives per image, or per letter (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--debug",
        type=Path,
        metavar="DIR",
        help="write every preprocessing stage as DIR/<image name>/NN-stage.png",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.set_defaults(handler=cmd_read)


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


def _add_data(sub: Any) -> None:
    p = sub.add_parser("data", help="make evaluation data")
    kinds = p.add_subparsers(dest="data", required=True, metavar="SET")
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
    q.set_defaults(handler=cmd_data_letters_eval)


def cmd_export(args: argparse.Namespace) -> int:
    from ocrlab.export import export_onnx

    path = export_onnx(args.model, args.onnx)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _add_export(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained model to ONNX",
        description="Export a run folder's model to ONNX; `ocrlab read --model "
        "OUT.onnx` then runs it with onnxruntime.",
    )
    p.add_argument("--model", type=Path, required=True, help="run folder of a trained model")
    p.add_argument("--onnx", type=Path, required=True, help="ONNX file to write")
    p.set_defaults(handler=cmd_export)


def cmd_experiment_memorize(args: argparse.Namespace) -> int:
    from ocrlab.config import parse_overrides, replace
    from ocrlab.experiments.memorize import PRESET, memorize

    overrides: dict[str, Any] = {"workers": args.workers}
    for flag, key in (
        ("epochs", "train.epochs"),
        ("seed", "train.seed"),
        ("device", "train.device"),
        ("limit", "limit"),
    ):
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    cfg = replace(PRESET, {**overrides, **parse_overrides(args.set)})
    result = memorize(args.data, args.out, cfg, overwrite=args.overwrite, callback=_TrainProgress())
    print(f"permuted labels: {result['verdict']}; report in {args.out / 'report.md'}")
    return 0


def _add_experiment_memorize(experiments: Any) -> None:
    p = experiments.add_parser(
        "memorize",
        help="train on true and on permuted labels (Zhang et al. 2017)",
        description="Train the same ResNet18 twice with the same budget, on true and on permuted "
        "labels; writes memorize.png and report.md.",
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folders")
    p.add_argument("--out", type=Path, required=True, help="experiment folder to write")
    p.add_argument("--epochs", type=int, help="epochs per run (default 40)")
    p.add_argument("--limit", type=int, help="images used (default 1000)")
    p.add_argument("--seed", type=int, help="seed for subset, split, permutation and weights")
    p.add_argument("--device", help="auto, cpu or cuda (default auto)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decoding processes")
    p.add_argument("--overwrite", action="store_true", help="replace earlier runs in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.lr=0.001",
    )
    p.set_defaults(handler=cmd_experiment_memorize)


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from ocrlab.read.evaluate import evaluate
    from ocrlab.read.models import captcha_model_dir, default_model_dir

    if len(args.data) == 1 and _is_letters_eval(args.data[0]):
        metrics = _eval_letters(args)
    else:
        shipped = {"default": default_model_dir, "words": default_model_dir}
        shipped["captcha"] = captcha_model_dir
        run = shipped[str(args.model)]() if str(args.model) in shipped else args.model
        metrics = evaluate(run, args.data, args.device, args.workers, args.held_out)
    text = json.dumps(metrics, indent=1)
    if args.table and any(k in metrics for k in ("letter", "multi")):
        from ocrlab.read.evaluate import letters_table

        print(letters_table(metrics, str(args.model)), end="")
    else:
        print(text)
    if args.json_out is not None:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 0


def _is_letters_eval(folder: Path) -> bool:
    config = folder / "config.json"
    return config.is_file() and '"letters-eval"' in config.read_text(encoding="utf-8")


def _eval_letters(args: argparse.Namespace) -> dict[str, Any]:
    from ocrlab.read.evaluate import evaluate_letters
    from ocrlab.read.letters import LetterReader
    from ocrlab.read.models import load_reader
    from ocrlab.synth.letters_eval import read_eval_manifest

    reader = load_reader(args.model, args.device)
    naive = reader.model if isinstance(reader, LetterReader) else None
    rows = len(read_eval_manifest(args.data[0]))
    with _progress_bar(rows, f"reading {args.data[0]}") as bar:
        metrics = evaluate_letters(reader, args.data[0], naive, bar.update)
    return {**metrics, "model": str(args.model)}


def _add_eval(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a trained model on datasets (JSON)",
        description="Evaluate a trained model on dataset folders; prints metrics as JSON. On a "
        "letters-eval set (`ocrlab data letters-eval`), scores any reader of `ocrlab read` by "
        "exact match per kind of image, ignoring case and spaces.",
    )
    p.add_argument(
        "--model",
        type=Path,
        required=True,
        help="run folder of a trained model, or 'default'; on a letters-eval set also words, "
        "letters, auto or an MLP model.npz",
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folders")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decoding processes")
    p.add_argument("--json-out", type=Path, help="also write the metrics to this file")
    p.add_argument(
        "--held-out",
        action="store_true",
        help="sequence models: only the run's own test split of --data",
    )
    p.add_argument(
        "--table", action="store_true", help="letters-eval sets: a Markdown table, not JSON"
    )
    p.set_defaults(handler=cmd_eval)


def cmd_predict(args: argparse.Namespace) -> int:
    import json

    from ocrlab.read.predictor import Predictor

    predictor = Predictor.load(args.model, args.device)
    readings = predictor.read([Path(p) for p in args.images], top_k=args.top_k)
    if args.json:
        print(
            json.dumps(
                [
                    {"image": str(p), **r.to_dict()}
                    for p, r in zip(args.images, readings, strict=True)
                ],
                indent=1,
            )
        )
        return 0
    for path, reading in zip(args.images, readings, strict=True):
        alternatives = ", ".join(f"{t} {100 * p:.1f}%" for t, p in reading.topk)
        print(f"{path}: {reading.text} ({100 * reading.confidence:.1f}%)  [{alternatives}]")
    return 0


def _add_predict(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="top-k words with probabilities for images",
        description="Classify images with a trained model.",
    )
    p.add_argument("--model", type=Path, required=True, help="run folder of a trained model")
    p.add_argument("images", nargs="+", help="image files (any size, PNG/JPEG/...)")
    p.add_argument("--top-k", type=int, default=5, help="alternatives per image (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.set_defaults(handler=cmd_predict)


def cmd_serve(args: argparse.Namespace) -> int:
    from ocrlab.serve.app import serve
    from ocrlab.serve.settings import ServeSettings, parse_models

    flags = {
        "host": args.host,
        "port": args.port,
        "device": args.device,
        "workers": args.workers,
        "timeout_s": args.timeout,
        "gallery": args.gallery,
    }
    settings = ServeSettings(**{k: v for k, v in flags.items() if v is not None})
    serve(parse_models(args.model), settings)
    return 0


def _add_serve(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="HTTP API and web page for trained models",
        description="Serve trained models over HTTP: POST /v1/read, GET /v1/models, GET /health, "
        "GET /v1/gallery, OpenAPI docs at /docs and a web page at /. Models load once, at "
        "start-up.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=RUN_DIR",
        help="a run folder to serve under NAME (repeatable; the first is the default; "
        "without NAME= the folder's name)",
    )
    p.add_argument("--gallery", type=Path, help="an ocrlab dataset to show samples of")
    p.add_argument("--device", help="auto, cpu or cuda (default auto)")
    p.add_argument("--workers", type=int, help="reads at once; more requests queue (default 2)")
    p.add_argument("--timeout", type=float, help="seconds a request may take (default 10)")
    p.set_defaults(handler=cmd_serve)


def _flag_overrides(args: argparse.Namespace, names: dict[str, str]) -> dict[str, Any]:
    """Config overrides from the flags given (flag attribute → config key), then --set pairs."""
    from ocrlab.config import parse_overrides

    given = {key: getattr(args, flag) for flag, key in names.items()}
    return {**{k: v for k, v in given.items() if v is not None}, **parse_overrides(args.set)}


def _add_letters_flags(p: Any, what: str) -> None:
    """--data, --protocol, --out, --seed, --overwrite and --set, shared by the EMNIST commands."""
    p.add_argument(
        "--data",
        type=Path,
        help="folder of the EMNIST Letters files: NIST's idx files, the Kaggle CSVs, "
        "emnist-letters.mat or the subset .npz files (default: $OCRLAB_DATA/emnist, else "
        "../shared/data/emnist, else ~/.cache/ocrlab/data/emnist)",
    )
    p.add_argument(
        "--protocol",
        help="auto (NIST's full files where present, else the subset), full, or subset: train and "
        "validate on the 8,880-image subset, test on the 10,467-image subset (default auto)",
    )
    p.add_argument("--out", type=Path, required=True, help=f"{what} folder to write")
    p.add_argument("--seed", type=int, help="seed for the split, the weights and the batches")
    p.add_argument("--overwrite", action="store_true", help=f"replace an earlier {what} in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field, e.g. --set l2=0.0001 --set 'hidden=[256, 128]' "
        "(repeatable)",
    )


def _epoch_line(row: dict[str, Any]) -> None:
    val = ""
    if row.get("val_loss") is not None:
        val = f" | val loss {row['val_loss']:.4f} acc {100 * row['val_acc']:.2f}%"
    print(
        f"epoch {row['epoch']:>3}: train loss {row['train_loss']:.4f} acc "
        f"{100 * row['train_acc']:.2f}%{val} | test acc {100 * row['test_acc']:.2f}% "
        f"| {row['seconds']:.1f}s",
        flush=True,
    )


def cmd_train_mlp(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.experiments.letters import PRESETS, parse_hidden, train_mlp

    names = {
        "activation": "activation", "output": "output", "lr": "lr", "momentum": "momentum",
        "batch": "batch_size", "epochs": "epochs", "patience": "patience",
        "lr_decay": "lr_decay", "l2": "l2", "augment": "augment", "refit": "refit",
        "protocol": "protocol", "seed": "seed", "printed": "printed",
    }  # fmt: skip
    overrides = _flag_overrides(args, names)
    if args.hidden is not None:
        overrides.setdefault("hidden", parse_hidden(args.hidden))
    cfg = replace(PRESETS[args.preset], overrides)
    m = train_mlp(cfg, args.out, args.data, _epoch_line, overwrite=args.overwrite)
    test = m["test"]
    print(
        f"{m['model']} ({m['params']:,} parameters): train {100 * m['train_acc']:.2f}%, "
        f"validation {100 * m['val_acc']:.2f}%, test {100 * test['top1']:.2f}% (top-2 "
        f"{100 * test['top2']:.2f}%, top-5 {100 * test['top5']:.2f}%) in {m['seconds']:.0f}s; "
        f"run in {args.out}"
    )
    return 0


def _add_train_mlp(models: Any) -> None:
    from ocrlab.scratch import ACTIVATION_NAMES

    p = models.add_parser(
        "mlp",
        help="the seed's NumPy MLP on EMNIST Letters",
        description="Train the from-scratch NumPy MLP on EMNIST Letters: early stopping on a "
        "seeded, stratified 80/20 train/validation split, scored on the test file. Writes "
        "model.npz, history.csv, curves.png, metrics.json (train/validation/test accuracy, "
        "top-1/2/5, per class, a-l), confusion.png and misclassified.png.",
    )
    p.add_argument(
        "--preset",
        choices=["seed", "best"],
        default="seed",
        help="seed: the seed's 512-256-128 TanhExp recipe (SGD lr 0.1, momentum 0.9, batch 256, "
        "rotations, patience 5); best: the same network with affine + elastic warps, lr decay "
        "0.99 per epoch and patience 40, up to 400 epochs (default seed)",
    )
    p.add_argument("--hidden", help="hidden widths, e.g. 512,256,128; 'none' for the perceptron")
    p.add_argument("--activation", help=f"hidden activation: {', '.join(ACTIVATION_NAMES)}")
    p.add_argument("--output", help="softmax (+ cross-entropy) or sigmoid (+ binary CE)")
    p.add_argument("--lr", type=float, help="learning rate (default 0.1)")
    p.add_argument("--momentum", type=float, help="SGD momentum in [0, 1) (default 0.9)")
    p.add_argument("--batch", type=int, help="mini-batch size (default 256)")
    p.add_argument("--epochs", type=int, help="most epochs; early stopping may end sooner")
    p.add_argument("--patience", type=int, help="epochs without a lower validation loss to stop")
    p.add_argument("--lr-decay", type=float, help="multiply lr by this every epoch (default 1)")
    p.add_argument("--l2", type=float, help="L2 weight decay on the weights (default 0)")
    p.add_argument("--augment", help="none, rotate (the seed's), affine, or elastic (+ a field)")
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        help="retrain on train + validation for the epochs early stopping chose",
    )
    p.add_argument(
        "--printed",
        type=int,
        metavar="N",
        help="add N printed letters per class to training, as for letters-cnn (default 0)",
    )
    _add_letters_flags(p, "run")
    p.set_defaults(handler=cmd_train_mlp)


def cmd_train_letters_cnn(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.experiments.letters_cnn import PRESETS, train_letters_cnn

    names = {
        "epochs": "epochs", "batch": "batch_size", "lr": "lr", "width": "width",
        "device": "device", "augment": "augment", "protocol": "protocol", "seed": "seed",
        "printed": "printed",
    }  # fmt: skip
    cfg = replace(PRESETS[args.preset], _flag_overrides(args, names))
    m = train_letters_cnn(cfg, args.out, args.data, _TrainProgress(), overwrite=args.overwrite)
    test = m["test"]
    print(
        f"letters_cnn ({m['params']:,} parameters): validation {100 * m['val_acc']:.2f}%, test "
        f"{100 * test['top1']:.2f}% (top-2 {100 * test['top2']:.2f}%, top-5 "
        f"{100 * test['top5']:.2f}%) in {m['seconds']:.0f}s on {m['device']}; run in {args.out}"
    )
    return 0


def _add_train_letters_cnn(models: Any) -> None:
    p = models.add_parser(
        "letters-cnn",
        help="the letter reader's torch CNN on EMNIST Letters",
        description="Train the letters_cnn CNN (28x28x1 in, 26 letters out) with the shared "
        "engine: AdamW, one-cycle schedule, label smoothing, affine + elastic warps. Writes "
        "model.safetensors, checkpoint.json, history.csv, curves.png, metrics.json (top-1/2/5, "
        "per class, a-l), confusion.png and misclassified.png.",
    )
    p.add_argument(
        "--preset",
        choices=["default", "quick"],
        default="default",
        help="default: 30 epochs; quick: 5 epochs, to check a setup (default default)",
    )
    p.add_argument("--epochs", type=int, help="training epochs (overrides the preset)")
    p.add_argument("--batch", type=int, help="mini-batch size (default 128)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 0.003)")
    p.add_argument("--width", type=int, help="channels of the first stage (default 32)")
    p.add_argument(
        "--augment",
        help="none; affine: the engine's small on-device warps; elastic: the NumPy MLP's "
        "affine + elastic warps (default elastic)",
    )
    p.add_argument(
        "--printed",
        type=int,
        metavar="N",
        help="add N printed letters per class to training (training fonts, colours and "
        "backgrounds through the letter reader's preprocessing), so `ocrlab read --model "
        "letters` reads digital letters too (default 0: EMNIST only)",
    )
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda (default auto)")
    _add_letters_flags(p, "run")
    p.set_defaults(handler=cmd_train_letters_cnn)


def cmd_experiment_grid(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.experiments.grid import PRESETS, run_grid

    names = {"epochs": "epochs", "augment": "augment", "protocol": "protocol", "seed": "seed"}
    overrides = _flag_overrides(args, names)
    if args.models:
        overrides.setdefault("models", args.models)
    cfg = replace(PRESETS["quick" if args.quick else "full"], overrides)
    total = len(cfg.selected())
    done = iter(range(1, total + 1))

    def progress(r: dict[str, Any]) -> None:
        print(
            f"[{next(done)}/{total}] {r['model']}: train {100 * r['train_acc']:.2f}%, validation "
            f"{100 * r['val_acc']:.2f}%, test {100 * r['test_acc']:.2f}% ({r['epochs']} epochs, "
            f"{r['seconds']:.1f}s)",
            flush=True,
        )

    run_grid(cfg, args.out, args.data, progress, overwrite=args.overwrite)
    print((args.out / "grid.md").read_text(encoding="utf-8"), end="")
    print(f"table in {args.out / 'grid.md'}, rows in {args.out / 'grid.json'}")
    return 0


def _add_experiment_grid(experiments: Any) -> None:
    p = experiments.add_parser(
        "grid",
        help="the seed's tables: perceptrons and MLPs of every size and activation",
        description="Train each of the seed's 34 NumPy networks (perceptrons with sigmoid/BCE and "
        "softmax/CCE; one hidden layer of 64-512 units across activations; 512-64/128/256; "
        "512-256-128 with Swish and TanhExp) with SGD (lr 0.1, momentum 0.9, batch 256) and "
        "early stopping on one EMNIST split. Writes grid.md (Model, Total Parameters, Training "
        "Set, Validation Set, Test Set) and grid.json.",
    )
    p.add_argument("--quick", action="store_true", help="at most 5 epochs per model")
    p.add_argument("--epochs", type=int, help="most epochs per model (default 100; patience 5)")
    p.add_argument("--augment", help="none (default), rotate, affine or elastic")
    p.add_argument(
        "--models",
        nargs="+",
        metavar="NAME",
        help="train only these, e.g. Perceptron_softmax NN_relu_softmax_512_64",
    )
    _add_letters_flags(p, "experiment")
    p.set_defaults(handler=cmd_experiment_grid)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocrlab",
        description="Make text-image data, train recognisers for it, read CAPTCHAs and letters.",
    )
    parser.add_argument("--version", action="version", version=f"ocrlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_predict(sub)
    _add_read(sub)
    _add_data(sub)
    _add_export(sub)
    _add_serve(sub)
    _add_experiment(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (2 for a user mistake)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UserError as exc:
        print(f"ocrlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "ocrlab: interrupted; run the same command with --resume to continue", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
