"""Reading, same images for every tool: ocrlab (torch, onnxruntime) vs ddddocr vs Tesseract.

Two datasets, each a shipped sequence model's own held-out split, recomputed from the run's saved
config and checked against the split the checkpoint recorded (so other data fails loudly instead of
leaking training images into the test):

(a) the ocrlab hard set, English words never seen in training: the default model's data,
    regenerated once (seeded, so identical) into ~/.cache/ocrlab/bench/english-40k;
(b) the captcha_images_v2 test split of the captcha model ($OCRLAB_DATA, else ../shared/data).

A missing model or dataset is printed and recorded as not measured, never skipped silently. Every
tool gets the same PNG bytes in memory and decodes them itself. Tesseract is Debian's tesseract-ocr
through pytesseract, one line (--psm 7), restricted to the model's charset; ddddocr runs as
shipped. Figures: exact match and CER, case-sensitive and not; images per second over the set
(ocrlab in batches of `--batch`, the others one call per image, as their APIs take one) and ms per
image one at a time (what a single request waits). `--threads` bounds torch, every onnxruntime
session (ocrlab's and ddddocr's) and Tesseract (OMP_THREAD_LIMIT).

    python benchmarks/bench_read.py --quick   # 1,000 hard-set images and the captcha test split
    python benchmarks/bench_read.py --full    # every held-out image; torch on the GPU if present
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from _common import ROOT, report
from ocrlab.data.load import folder_labels
from ocrlab.data.manifest import MANIFEST, read_manifest
from ocrlab.data.packed import PackedImages
from ocrlab.data.split import limit_rows, text_split
from ocrlab.metrics import character_error_rate
from ocrlab.read.evaluate import text_metrics
from ocrlab.read.onnx import OnnxPredictor, export_onnx
from ocrlab.read.predictor import Predictor
from ocrlab.runtime.checkpoint import load_checkpoint
from ocrlab.runtime.shipped import shipped_folder

Reader = Callable[[list[bytes]], list[str]]
CACHE = Path.home() / ".cache" / "ocrlab" / "bench"
DATA_ROOT = Path(os.environ.get("OCRLAB_DATA", ROOT.parent / "shared" / "data"))
# How the default model's training data was made (README); --workers does not change the bytes.
ENGLISH = (
    "generate --preset hard --vocab english --words 8000 --limit 40000 --format packed --seed 0"
)


class NotMeasured(Exception):
    """A model, dataset or tool is missing or does not match: the reason is recorded."""


def shown(path: Path) -> str:
    """A path as a reader of the docs would type it: relative to the repository or home."""
    path = path.resolve()
    for base, prefix in ((ROOT, ""), (ROOT.parent, "../"), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)


def english_set(cache: Path) -> Path:
    """The default model's training set, generated once into the cache and reused."""
    out = cache / "english-40k"
    if (out / MANIFEST).is_file() and not (out / ".incomplete").exists():
        return out
    argv = [sys.executable, "-m", "ocrlab.cli", *ENGLISH.split(), "--out", str(out)]
    argv += ["--workers", str(os.cpu_count() or 1), *(["--overwrite"] if out.exists() else [])]
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    print(f"generated {shown(out)} in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def held_out(run: Path, data: Path) -> tuple[list[str], list[str]]:
    """(sources, texts) of the run's test split of `data`, found from the labels alone (no image
    is decoded) exactly as training split them, and checked against the checkpoint's record."""
    if not (run / "checkpoint.json").is_file():
        raise NotMeasured(f"no model at {shown(run)}")
    if not data.is_dir():
        raise NotMeasured(f"no dataset at {shown(data)}")
    ckpt = load_checkpoint(run)
    cfg = ckpt.config
    if (data / MANIFEST).is_file():
        rows = read_manifest(data / MANIFEST)
        sources, texts = [r.path for r in rows], [r.text for r in rows]
    else:
        pairs = folder_labels(data)
        sources, texts = [str(p) for p, _ in pairs], [t for _, t in pairs]
    seed = int(cfg["train"]["seed"])
    index = limit_rows(len(texts), cfg.get("limit"), seed)  # the subset training kept
    kept = [texts[i] for i in index]
    test = index[text_split(kept, cfg["split"], float(cfg["test_fraction"]), seed)[1]].tolist()
    words = sorted({texts[i].lower() for i in test})[:2000]
    recorded = ckpt.split
    if len(test) != recorded["test"] or words != recorded.get("test_words", words):
        raise NotMeasured(
            f"{shown(data)} is not the data {shown(run)} was trained on: its split has "
            f"{len(test)} test images, the checkpoint recorded {recorded['test']}"
        )
    return [sources[i] for i in test], [texts[i] for i in test]


def png_bytes(data: Path, sources: list[str]) -> list[bytes]:
    """The images as PNG files in memory: every tool then decodes the same bytes itself."""
    if not sources[0].startswith("shards/"):
        return [(data / s).read_bytes() for s in sources]
    packed, out = PackedImages(data, sources), []
    for i in range(len(sources)):
        buf = io.BytesIO()
        Image.fromarray(packed[i].squeeze()).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def limit_onnxruntime(threads: int) -> None:
    """ddddocr builds its onnxruntime session itself with every core; wrap the constructor so
    every session of this process, ocrlab's and ddddocr's, uses `threads`."""
    import onnxruntime as ort

    original = ort.InferenceSession

    def session(path: Any, sess_options: Any = None, *args: Any, **kw: Any) -> Any:
        opts = sess_options or ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        return original(path, opts, *args, **kw)

    ort.InferenceSession = session


def readers(run: Path, device: str, charset: str, tmp: Path) -> dict[str, Reader | str]:
    """Each tool's `read(png_bytes_list) -> texts`, or why it cannot run."""
    predictor = Predictor.load(run, device)
    onnx = OnnxPredictor(export_onnx(run, tmp / f"{run.name}.onnx"))
    tools: dict[str, Reader | str] = {
        "ocrlab torch": lambda ims: [r.text for r in predictor.read(ims, top_k=1)],
        "ocrlab onnxruntime": lambda ims: [r.text for r in onnx.read(ims, top_k=1)],
    }
    try:
        import ddddocr

        ocr = ddddocr.DdddOcr(show_ad=False)
        tools["ddddocr"] = lambda ims: [ocr.classification(im) for im in ims]
    except ImportError:
        tools["ddddocr"] = "not installed (pip install ddddocr, or make bench)"
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
        config = f"--psm 7 -c tessedit_char_whitelist={charset}"

        def tesseract_one(im: bytes) -> str:
            # One line of text: whitespace Tesseract inserts between letters is not in any label.
            # Tesseract 5.3 dies with SIGFPE on a few noisy images: that image reads as nothing.
            try:
                text = pytesseract.image_to_string(Image.open(io.BytesIO(im)), config=config)
            except pytesseract.TesseractError:
                return ""
            return "".join(text.split())

        def tesseract(ims: list[bytes]) -> list[str]:
            return [tesseract_one(im) for im in ims]

        tools["tesseract"] = tesseract
    except (ImportError, OSError) as exc:  # pytesseract's TesseractNotFoundError is an OSError
        tools["tesseract"] = (
            f"not available ({exc}); apt-get install tesseract-ocr, pip install pytesseract"
        )
    return tools


def measure(read: Reader, images: list[bytes], truth: list[str], batch: int) -> dict[str, Any]:
    """Accuracy, images/s over the set in batches of `batch`, and ms per image one at a time."""
    read(images[:2])  # warm-up: sessions, caches, lazy imports
    start = time.perf_counter()
    single = [t for im in images for t in read([im])]
    one_s = time.perf_counter() - start
    pred, batch_s = single, one_s
    if batch > 1:
        start = time.perf_counter()
        pred = [t for s in range(0, len(images), batch) for t in read(images[s : s + batch])]
        batch_s = time.perf_counter() - start
    lower = [t.lower() for t in truth], [p.lower() for p in pred]
    return {
        **text_metrics(truth, pred),
        "cer_case_insensitive": character_error_rate(*lower),
        "batch": batch,
        "images_per_s": round(len(images) / batch_s, 1),
        "ms_per_image_one_at_a_time": round(1000 * one_s / len(images), 2),
        "examples": [[t, p] for t, p in zip(truth[:5], pred[:5], strict=True)],
    }


def dataset(name: str, run: Path, data: Path, limit: int | None, args: argparse.Namespace) -> dict:
    """One dataset's held-out images read by every tool, or why they could not be."""
    record: dict[str, Any] = {"name": name, "model": shown(run), "data": shown(data)}
    try:
        sources, truth = held_out(run, data)
    except NotMeasured as exc:
        flag = "words" if "words" in name else "captcha"
        reason = f"{exc} (choose them with --model-{flag} and --data-{flag})"
        print(f"NOT MEASURED {name}: {reason}", flush=True)
        return {**record, "missing": reason}
    total = len(truth)
    step = max(1, total // limit) if limit else 1  # evenly spread over the split
    sources, truth = sources[::step][:limit], truth[::step][:limit]
    images = png_bytes(data, sources)
    charset = load_checkpoint(run).charset
    record |= {"held_out": total, "images": len(images)}
    record |= {"charset": charset, "tools": {}}
    print(f"{name}: {len(images)} images of the held-out split", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for tool, read in readers(run, args.device, charset, Path(tmp)).items():
            if isinstance(read, str):
                print(f"NOT MEASURED {tool}: {read}", flush=True)
                record["tools"][tool] = {"missing": read}
                continue
            m = measure(read, images, truth, args.batch if tool.startswith("ocrlab") else 1)
            record["tools"][tool] = m
            print(
                f"  {tool:>18}: exact {100 * m['exact']:5.1f}% (any case "
                f"{100 * m['exact_case_insensitive']:5.1f}%)  CER {100 * m['cer']:5.1f}%  "
                f"{m['images_per_s']:7.1f} images/s  {m['ms_per_image_one_at_a_time']:6.1f} ms "
                "one at a time",
                flush=True,
            )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="at most --limit hard-set images")
    mode.add_argument("--full", action="store_true", help="every held-out image")
    parser.add_argument("--limit", type=int, default=1000, help="hard-set images in --quick")
    parser.add_argument("--model-words", type=Path, default=shipped_folder("words"))
    parser.add_argument("--data-words", type=Path, help="default: regenerate into the cache")
    parser.add_argument("--model-captcha", type=Path, default=shipped_folder("captcha"))
    parser.add_argument("--data-captcha", type=Path, default=DATA_ROOT / "captcha_images_v2")
    parser.add_argument("--threads", type=int, default=1, help="per tool (default: one core)")
    parser.add_argument("--device", help="torch device (default: cpu, auto with --full)")
    parser.add_argument("--batch", type=int, default=64, help="ocrlab batch size")
    args = parser.parse_args()
    args.device = args.device or ("auto" if args.full else "cpu")
    torch.set_num_threads(args.threads)
    os.environ["OMP_THREAD_LIMIT"] = str(args.threads)  # Tesseract's OpenMP
    limit_onnxruntime(args.threads)

    words_data = args.data_words
    if words_data is None and (args.model_words / "checkpoint.json").is_file():
        words_data = english_set(CACHE)
    words = dataset(
        "ocrlab hard set, unseen words",
        args.model_words,
        words_data or CACHE / "english-40k",
        None if args.full else args.limit,
        args,
    )
    if args.data_words is None:
        words["data_command"] = f"ocrlab {ENGLISH} --out DATA"
    captcha = dataset(
        "captcha_images_v2 test split", args.model_captcha, args.data_captcha, None, args
    )
    version = "not installed"
    if shutil.which("tesseract"):
        tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
        version = (tess.stdout or tess.stderr).split("\n")[0]
    report(
        "read",
        {
            "device": args.device,
            "batch": args.batch,
            "tesseract": version,
            "datasets": [words, captcha],
        },
        packages=("torch", "onnxruntime", "ddddocr", "pytesseract"),
        threads=args.threads,
    )


if __name__ == "__main__":
    main()
