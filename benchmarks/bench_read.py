"""Reading speed and accuracy: ocrlab (torch and onnxruntime) vs ddddocr on the same images.

Uses a trained sequence model's own held-out split (the split is recomputed from the run's saved
config, so the images are exactly those it never trained on) and prints, per tool, exact match
(case-sensitive and not), CER and images per second (batched for ocrlab, one call per image for
ddddocr, whose API takes one image).

    python benchmarks/bench_read.py --model RUN --data ../shared/data/captcha_images_v2
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from _common import report
from ocrlab.config import from_dict
from ocrlab.export import OnnxPredictor, export_onnx
from ocrlab.read.evaluate import text_metrics
from ocrlab.read.predictor import Predictor
from ocrlab.train.checkpoint import load_meta
from ocrlab.train.sequence import SeqConfig, load_seq_data, split_seq


def held_out(run: Path, data: Path) -> tuple[list[Path], list[str]]:
    saved = from_dict(SeqConfig, load_meta(run)["config"])
    cfg = dataclasses.replace(saved, init=str(run))
    images = load_seq_data([data], cfg)
    test = images.subset(split_seq(images, cfg)[1])
    return [data / s for s in test.sources], test.texts


def timed(
    name: str, read: Callable[[list[Path]], list[str]], paths: list[Path], truth: list[str]
) -> dict[str, object]:
    read(paths[:4])  # warm-up: sessions, caches, lazy imports
    start = time.perf_counter()
    pred = read(paths)
    seconds = time.perf_counter() - start
    metrics = text_metrics(truth, pred)
    print(
        f"{name:>12}: exact {100 * metrics['exact']:.2f}%  "
        f"(case-insensitive {100 * metrics['exact_case_insensitive']:.2f}%)  "
        f"CER {100 * metrics['cer']:.2f}%  {len(paths) / seconds:.0f} images/s"
    )
    return {**metrics, "images_per_s": round(len(paths) / seconds, 1), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a sequence-model run folder")
    parser.add_argument("--data", type=Path, required=True, help="the data the model trained on")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--no-ddddocr", action="store_true")
    args = parser.parse_args()

    paths, truth = held_out(args.model, args.data)
    predictor = Predictor.load(args.model, "cpu")

    def batched(read: Callable[[list[Path]], list[str]]) -> Callable[[list[Path]], list[str]]:
        step = args.batch
        return lambda ps: [t for s in range(0, len(ps), step) for t in read(ps[s : s + step])]

    results = {
        "torch": timed(
            "ocrlab torch",
            batched(lambda ps: [r.text for r in predictor.read(ps, top_k=1)]),
            paths,
            truth,
        )
    }
    with tempfile.TemporaryDirectory() as tmp:
        onnx = OnnxPredictor(export_onnx(args.model, Path(tmp) / "model.onnx"))
        results["onnxruntime"] = timed(
            "ocrlab onnx",
            batched(lambda ps: [r.text for r in onnx.read(ps, top_k=1)]),
            paths,
            truth,
        )
    if not args.no_ddddocr:
        import ddddocr

        ocr = ddddocr.DdddOcr(show_ad=False)
        results["ddddocr"] = timed(
            "ddddocr", lambda ps: [ocr.classification(p.read_bytes()) for p in ps], paths, truth
        )
    report(
        "read",
        {
            "model": str(args.model),
            "data": str(args.data),
            "test_images": len(paths),
            "torch_threads": torch.get_num_threads(),
            "batch": args.batch,
            "results": results,
        },
        packages=("torch", "onnxruntime", "ddddocr"),
    )


if __name__ == "__main__":
    main()
