"""The reading side of the CLI: `models`, `read`, `predict`, `eval` and `export`.

It owns those subcommands' flags and handlers: the shipped models (`models`), reading images
with a shipped model, run folder, MLP or ONNX file (`read`), top-k readings with probabilities
(`predict`), scoring a model on datasets or a reader on a letters-eval set (`eval`), and
exporting a model to ONNX (`export`).
Every `--model` goes through the one resolver, `ocrlab.read.resolve.load`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrlab.cli._batch import add_batch_flags, run_batch
from ocrlab.cli._common import _output_file, _positive, _progress_bar
from ocrlab.cli.scale import _add_read_scale_flags, read_with_ray
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.read.batch import reader_settings

if TYPE_CHECKING:
    from ocrlab.read.hint import Hint

_ANY_MODEL = (
    "a shipped model (default, general, words, captcha, letters, auto; `ocrlab models` says "
    "what each reads), a run folder, an MLP model.npz or an .onnx file"
)

_IMAGES = (
    "images (any size and mode: PNG, JPEG, ...), folders (every image under them, sorted) or a "
    "dataset's manifest.csv (its folder will do)"
)


def cmd_models(args: argparse.Namespace) -> int:
    import ocrlab

    names = ocrlab.models()
    width = max(map(len, names))
    for name, line in names.items():
        print(f"{name:{width}}  {line}")
    return 0


def _add_models(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="list the shipped models",
        description="The shipped models `--model` takes by name (ocrlab.models()), one line each.",
    )
    p.set_defaults(handler=cmd_models)


def cmd_read(args: argparse.Namespace) -> int:
    from ocrlab.read.auto import AutoReader
    from ocrlab.read.hint import Hint, hinted
    from ocrlab.read.letters import LetterReader
    from ocrlab.read.resolve import load, read_with_stages

    if args.engine == "ray":
        if args.lines:
            raise ConfigError("--lines reads with --engine local only")
        return read_with_ray(args)
    if args.address is not None or args.actors is not None:
        raise ConfigError("--address and --actors are for --engine ray")
    hint = Hint.parse(args.charset, args.length, args.thorough, args.colour)
    reader = hinted(load(args.model, args.device), hint)
    took = getattr(reader, "hint", None)  # a model that never looks in colour ignores --no-colour
    settings = reader_settings(args.model, args.top_k, took, args.lines)
    if args.lines:
        from ocrlab.read.lines import by_lines

        reader = by_lines(reader)
    debug: Path | None = args.debug
    named: dict[str, int] = {}  # --debug folders by image name: a.png of two folders gets a, a-2

    def read(paths: list[Path]) -> list[Any]:
        if debug is None:
            return reader.read(paths, top_k=args.top_k)
        readings = []
        for path in paths:
            reading, stages = read_with_stages(reader, path, args.top_k)
            named[path.stem] = seen = named.get(path.stem, 0) + 1
            stages.save(debug / (path.stem if seen == 1 else f"{path.stem}-{seen}"))
            readings.append(reading)
        return readings

    def show(path: str, reading: Any) -> None:
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

    # The letter readers take images one at a time: a batch of them gains nothing.
    one_by_one = debug is not None or isinstance(reader, LetterReader | AutoReader)
    status = run_batch(args, read, show, settings, 1 if one_by_one else 64)
    if debug is not None:
        print(f"stages in {debug}/<image name>/", file=sys.stderr)
    return status


def _add_read(sub: Any) -> None:
    p = sub.add_parser(
        "read",
        help="read the text in images (works offline after install)",
        description="Read the text in images: 'general' (= default: the shipped general reader, "
        "one line of digits and letters in any font, CAPTCHA style and shape), 'words' (the "
        "sequence model of Breaking CAPTCHA, trained on ocrlab's hard set), 'letters' (the "
        "shipped letters CNN through the letter reader: K-means "
        "binarisation, segmentation into letters, EMNIST-like 28x28), 'captcha' (the shipped "
        "reader of captcha_images_v2-style CAPTCHAs), 'auto' (letters for a lone "
        "letter or several lines, else the more confident of the two), or a run folder, MLP "
        ".npz or .onnx file.",
    )
    p.add_argument("images", nargs="+", help=_IMAGES)
    p.add_argument("--model", default="default", help=f"{_ANY_MODEL} (default: default)")
    p.add_argument(
        "--top-k",
        type=_positive,
        default=1,
        help="alternatives per image, or per letter (default 1: greedy; more: beam search, "
        "which for a line model ranks the texts after its reading by their CTC probability)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--lines",
        action="store_true",
        help="an image may hold several lines: cut it into lines, read each, join with a newline",
    )
    p.add_argument(
        "--charset",
        help="the characters the text may use: a name (digits, lower, upper, alnum, "
        "alnum-lower; join several with +, e.g. digits+upper) or the characters themselves "
        "(line models: the general reader and fine-tuned ones)",
    )
    p.add_argument(
        "--length",
        metavar="N|A-B",
        help="how many characters the text has (5) or may have (4-6), per line (line models); "
        "an image too narrow for that many reads as nothing",
    )
    p.add_argument(
        "--thorough",
        action="store_true",
        help="line models: read each line the model is unsure of in seven views (narrower, "
        "wider, smaller) and keep the reading they agree on; a few points more on most "
        "CAPTCHAs, up to seven times the time",
    )
    p.add_argument(
        "--no-colour",
        dest="colour",
        action="store_false",
        help="line models: read in grey only; the general reader otherwise reads a line it is "
        "unsure of again in a grey that keeps colour contrast (text as bright as its paper), "
        "which costs colour CAPTCHAs up to a second reading",
    )
    p.add_argument(
        "--debug",
        type=Path,
        metavar="DIR",
        help="write every preprocessing stage as DIR/<image name>/NN-stage.png (a second image "
        "of the same name: DIR/<image name>-2/)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    add_batch_flags(p)
    _add_read_scale_flags(p)
    p.set_defaults(handler=cmd_read)


def cmd_predict(args: argparse.Namespace) -> int:
    from ocrlab.read.resolve import load

    predictor = load(args.model, args.device)

    def show(path: str, reading: Any) -> None:
        alternatives = ", ".join(f"{t} {100 * p:.1f}%" for t, p in reading.topk)
        print(f"{path}: {reading.text} ({100 * reading.confidence:.1f}%)  [{alternatives}]")

    def read(paths: list[Path]) -> list[Any]:
        return predictor.read(paths, top_k=args.top_k)

    return run_batch(args, read, show, reader_settings(args.model, args.top_k))


def _add_predict(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="top-k words with probabilities for images",
        description="Classify images with a trained model.",
    )
    p.add_argument("--model", required=True, help=f"{_ANY_MODEL}")
    p.add_argument("images", nargs="+", help=_IMAGES)
    p.add_argument(
        "--top-k",
        type=_positive,
        default=1,
        help="alternatives per image (default 1: greedy; more: beam search for sequence models)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    add_batch_flags(p)
    p.set_defaults(handler=cmd_predict)


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from ocrlab.read.evaluate import evaluate
    from ocrlab.read.hint import Hint
    from ocrlab.runtime.shipped import AUTO, run_folder

    hint = Hint.parse(args.charset, args.length, args.thorough, args.colour)
    if args.json_out is not None:
        _output_file(args.json_out, "--json-out")
    if len(args.data) == 1 and _is_letters_eval(args.data[0]):
        if hint is not None and hint.for_lines:
            raise ConfigError(
                "--charset, --length and --thorough are for line models, not letters-eval sets"
            )
        metrics = _eval_letters(args, hint)
    else:
        if args.model == AUTO:
            raise ConfigError(
                "auto chooses the letters or the words model per image; score one of them on "
                "labelled folders (--model words), or auto on a letters-eval set"
            )
        run = run_folder(args.model)
        metrics = evaluate(
            run, args.data, args.device, args.workers, args.held_out, args.strict, hint
        )
        for why in metrics.get("failed", {}).values():
            print(f"ocrlab: error: {why}; left out", file=sys.stderr)
    text = json.dumps(metrics, indent=1)
    if args.table and any(k in metrics for k in ("letter", "multi")):
        from ocrlab.read.evaluate import letters_table

        print(letters_table(metrics, str(args.model)), end="")
    else:
        print(text)
    if args.json_out is not None:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 1 if metrics.get("failed") else 0


def _is_letters_eval(folder: Path) -> bool:
    config = folder / "config.json"
    return config.is_file() and '"letters-eval"' in config.read_text(encoding="utf-8")


def _eval_letters(args: argparse.Namespace, hint: Hint | None) -> dict[str, Any]:
    """A letters-eval set read by any reader (`hint`: at most reading without colour)."""
    from ocrlab.read.evaluate import evaluate_letters
    from ocrlab.read.hint import hinted
    from ocrlab.read.letters import LetterReader
    from ocrlab.read.resolve import load
    from ocrlab.synth.letters_eval import read_eval_manifest

    reader = hinted(load(args.model, args.device), hint)
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
        required=True,
        help="a shipped name (default, words, captcha), a run folder or its exported .onnx "
        "file (int8 too: scored as it reads); on a letters-eval set "
        "anything `ocrlab read` takes (letters, auto, an MLP model.npz, an .onnx file)",
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folders")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 1, help="decoding processes"
    )
    p.add_argument("--json-out", type=Path, help="also write the metrics to this file")
    p.add_argument(
        "--held-out",
        action="store_true",
        help="sequence and fine-tuned line models: only the part of --data the run held out "
        "of its training",
    )
    p.add_argument(
        "--table", action="store_true", help="letters-eval sets: a Markdown table, not JSON"
    )
    p.add_argument("--charset", help="line models: read told the characters (as ocrlab read)")
    p.add_argument("--length", metavar="N|A-B", help="line models: read told the length")
    p.add_argument(
        "--thorough", action="store_true", help="line models: read as ocrlab read --thorough"
    )
    p.add_argument(
        "--no-colour",
        dest="colour",
        action="store_false",
        help="line models: read as ocrlab read --no-colour",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unreadable image (exit 2); by default it is left out, listed "
        "under 'failed' with the reason, and the exit status is 1",
    )
    p.set_defaults(handler=cmd_eval)


def cmd_export(args: argparse.Namespace) -> int:
    from ocrlab.data.load import image_files
    from ocrlab.read.onnx import CALIBRATION, export_onnx

    _output_file(args.onnx, "--onnx", ".onnx")
    calibration = None
    if args.calibrate is not None:
        if not args.int8:
            raise ConfigError("--calibrate goes with --int8")
        folder = args.calibrate
        if not folder.is_dir():
            raise DatasetError(f"--calibrate {folder}: no such folder")
        files = image_files(folder)
        if not files:
            raise DatasetError(f"{folder} has no images (.png, .jpg, ...) to calibrate with")
        step = max(1, len(files) // CALIBRATION)  # spread over the folder, not its first names
        calibration = files[::step][:CALIBRATION]
    path = export_onnx(args.model, args.onnx, int8=args.int8, calibration=calibration)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _add_export(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained model to ONNX",
        description="Export a run folder's model to ONNX; `ocrlab read --model "
        "OUT.onnx` then runs it with onnxruntime.",
    )
    p.add_argument(
        "--model",
        required=True,
        help="a shipped name (default, general, words, captcha, letters) or a run folder",
    )
    p.add_argument("--onnx", type=Path, required=True, help="ONNX file to write")
    p.add_argument(
        "--int8",
        action="store_true",
        help="line models: an 8-bit CNN, about twice as fast on CPUs with AVX512-VNNI for under "
        "a point of exact match on most sets (docs/general.md); measure on other CPUs",
    )
    p.add_argument(
        "--calibrate",
        type=Path,
        metavar="FOLDER",
        help="with --int8: a folder of images like the ones it will read, to calibrate the "
        "8-bit activations (up to 256, spread over the folder; default: 256 zoo CAPTCHAs)",
    )
    p.set_defaults(handler=cmd_export)
