"""The reading side of the CLI: `read`, `predict`, `eval`, `export` and `data letters-eval`.

It owns those subcommands' flags and handlers: reading images with a shipped model, run folder,
MLP or ONNX file (`read`), top-k words from a classifier run (`predict`), scoring a model on
datasets or a reader on a letters-eval set (`eval`), exporting a run to ONNX (`export`), and
rendering the held-out letters-eval set that `eval` scores readers on (`data letters-eval`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _flag_overrides, _progress_bar
from ocrlab.cli.scale import _add_data_merge, _add_read_scale_flags, read_with_ray


def _print_json(images: list[str], readings: list[Any]) -> None:
    """The readings as a JSON list of {"image": path, **reading}, as `read` and `predict` print."""
    import json

    print(
        json.dumps(
            [{"image": str(p), **r.to_dict()} for p, r in zip(images, readings, strict=True)],
            indent=1,
        )
    )


def cmd_read(args: argparse.Namespace) -> int:
    from ocrlab.read.models import load_reader, read_with_stages

    if args.engine == "ray":
        return read_with_ray(args)
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
        _print_json(args.images, readings)
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
    _add_read_scale_flags(p)
    p.set_defaults(handler=cmd_read)


def cmd_predict(args: argparse.Namespace) -> int:
    from ocrlab.read.predictor import Predictor

    predictor = Predictor.load(args.model, args.device)
    readings = predictor.read([Path(p) for p in args.images], top_k=args.top_k)
    if args.json:
        _print_json(args.images, readings)
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
    _add_data_merge(kinds)
