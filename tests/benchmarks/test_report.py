"""benchmarks/report.py builds the benchmarks page from results JSON alone (fake figures here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

REPORT = Path(__file__).resolve().parents[2] / "benchmarks" / "report.py"
CONTEXT = {
    "schema": 2,
    "machine": "Test CPU, x86_64",
    "cpus": 2,
    "threads": 1,
    "python": "3.11.7",
    "versions": {"ocrlab": "0.1.0", "numpy": "2.0", "ddddocr": "not installed"},
    "command": "python benchmarks/bench_x.py --quick",
    "date": "2026-01-01 00:00 UTC",
    "wall_s": 12.3,
}


def load_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(exact: float, ms: float, per_s: float) -> dict[str, Any]:
    return {
        "images": 10,
        "exact": exact,
        "exact_case_insensitive": exact,
        "cer": 1 - exact,
        "cer_case_insensitive": 1 - exact,
        "images_per_s": per_s,
        "ms_per_image_one_at_a_time": ms,
    }


def fake_results(root: Path) -> None:
    read = {
        "device": "cpu",
        "batch": 64,
        "tesseract": "tesseract 5.3.0",
        "datasets": [
            {
                "name": "hard set",
                "model": "m",
                "data": "d",
                "held_out": 40,
                "images": 10,
                "charset": "abc",
                "tools": {
                    "ocrlab torch": tool(0.9, 5.0, 400.0),
                    "ddddocr": tool(0.5, 20.0, 50.0),
                    "tesseract": {"missing": "not available (no binary)"},
                },
            },
            {"name": "captcha split", "model": "c", "data": "x", "missing": "no model at c"},
        ],
    }
    generate = {
        "per_core": {
            "images": 100,
            "ocrlab_images_per_s_per_core": 2000.0,
            "captcha_images_per_s_per_core": 400.0,
            "ratio": 5.0,
            "trdg_images_per_s_per_core": None,
            "trdg_ratio": None,
            "trdg_absent": "not installed: Pillow 10 removed getsize",
            "canvas": [48, 336],
        },
        "full_hard_set_packed": {
            "images": 20000,
            "workers": 2,
            "seconds": 9.0,
            "images_per_s": 2222.2,
            "bytes_on_disk": 10**9,
            "peak_rss_main_mib": 250.0,
            "peak_rss_worker_mib": 80.0,
        },
    }
    mlp = {
        "rows": 20000,
        "hidden": [512, 256, 128],
        "batch": 256,
        "timed_epochs": 4,
        "runs": [{"activation": "relu", "numpy_epoch_s": 0.3, "torch_epoch_s": 0.4, "ratio": 0.75}],
    }
    load = {
        "images": 21000,
        "image_shape": [48, 336, 3],
        "workers": 2,
        "array_mib": 969.0,
        "peak_rss_mib": 1027.2,
        "interpreter_rss_mib": 40.5,
        "beyond_array_mib": 17.7,
        "peak_over_array": 1.018,
        "seconds": 3.5,
        "images_per_s": 6000,
        "labels_aligned": True,
    }
    window = {"t_s": 10, "reads_per_s": 40.0, "p50_ms": 300.0, "p99_ms": 900.5, "rss_mib": 320.4}
    soak = {
        "minutes": 1, "clients": 32, "hangup_clients": 2, "slow_loris_clients": 4,
        "reads": 2400, "reads_per_s": 40.0, "busy_503": 120, "errors": 0,
        "abuse": {"hang-up hung up": 100, "slow-loris 408": 24}, "rss_mib_start": 316.5,
        "rss_mib_end": 319.0, "rss_growth_pct": 0.79, "p99_last_over_first": 1.05,
        "server_tracebacks": 0, "health_after": 200, "windows": [window],
        "server": {"workers": 2, "queue": 16, "timeout_s": 10}, "models": ["words", "letters"],
    }  # fmt: skip
    line_tool = {"exact": 0.886, "exact_case_insensitive": 0.922, "images_per_s": 75.9,
            "ms_per_image_one_at_a_time": 14.3}  # fmt: skip
    told = {**line_tool, "exact": 0.84, "exact_case_insensitive": 0.85}
    general = {"model": "general", "sets": [
        {"name": "clean strings", "images": 500,
         "tools": {"ocrlab onnxruntime": line_tool, "tesseract": {"missing": "no binary"}}},
        {"name": "a scheme", "images": 40,
         "tools": {"ocrlab onnxruntime": line_tool, "tesseract": {"missing": "no binary"},
                   "ocrlab onnxruntime, told the format": told,
                   "ocrlab onnxruntime, told the format, thorough": told}},
    ], "fonts_missing": {"eval": 0, "zoo": 3}}  # fmt: skip
    start = {"test_exact": 0.975, "test_exact_told": 0.98, "test_exact_told_thorough": 0.985,
             "held_out_exact": 0.98, "minutes": 9.5,
             "wall_minutes": 12.25, "epochs": 7}  # fmt: skip
    style = {
        "style": "ocrlab.synth.tiles", "held_out": 150, "zero_shot_exact": 0.0,
        "zero_shot_exact_without_symbols": 0.01, "from_general": start,
        "from_scratch": {**start, "test_exact": 0.1},
    }  # fmt: skip
    real = {**style, "style": "captcha_images_v2", "labelled": 640, "test": 400,
            "zero_shot_exact": 0.66, "zero_shot_exact_without_symbols": 0.66}  # fmt: skip
    finetune = {"labelled": 1000, "test": 1000, "budget_minutes": 10,
                "styles": {"tiles": style, "captcha_images_v2": real},
                "load_avg_1min_at_end": 2.5}  # fmt: skip
    parts = (
        ("read", read), ("generate", generate), ("mlp", mlp), ("load", load), ("soak", soak),
        ("general", general), ("finetune", finetune),
    )  # fmt: skip
    for name, figures in parts:
        (root / f"{name}.json").write_text(json.dumps({**CONTEXT, **figures}))
    (root / "serve.json").write_text(json.dumps({"machine": "old layout"}))
    blind = {**real, "labelled": 0, "unlabelled": 640, "held_out": 0,
             "from_general": {**start, "held_out_exact": None, "test_exact": 0.975}}  # fmt: skip
    no_labels = {**finetune, "styles": {"captcha_images_v2": blind},
                 "command": "python benchmarks/bench_finetune.py --no-labels"}  # fmt: skip
    (root / "finetune_no_labels=True.json").write_text(json.dumps({**CONTEXT, **no_labels}))


def test_build_writes_tables_context_and_plot(tmp_path: Path) -> None:
    results, docs = tmp_path / "results", tmp_path / "docs"
    results.mkdir()
    fake_results(results)
    page = load_report().build(results, docs).read_text()

    assert "| ocrlab torch | 90.0% | 90.0% | 10.0% | 10.0% | 400 | 5.0 | 8.00× |" in page
    assert "| ddddocr | 50.0% | 50.0% | 50.0% | 50.0% | 50.0 | 20.0 | 1.00× |" in page
    assert "| tesseract | not measured: not available (no binary) |" in page
    assert "**Not measured:** no model at c" in page
    assert "10 of its 40 held-out images" in page
    assert "| `captcha` ImageCaptcha | 400 | 5.00× |" in page
    assert "trdg is not in the table: not installed: Pillow 10 removed getsize." in page
    assert "| relu | 0.300 | 0.400 | 0.75 |" in page
    assert "predates this page's format" in page  # serve.json without a schema
    assert "| 969 MiB | 1,027 MiB | 40.5 MiB | 17.7 MiB | 1.018 |" in page
    assert "21,000 images of 48×336×3 in 3.5 s" in page
    assert "| 2,400 | 40.0 | 120 | 0 | 24 | 100 | 316 → 319 MiB | +0.8% | 1.05 | 0 | 200 |" in page
    assert "| 10 | 40.0 | 300.0 | 900.5 | 320 |" in page
    assert "| clean strings (500) | 88.6% (92.2%) | — |" in page
    assert (  # each tool once, though two of its readings name it
        "| images | ocrlab onnxruntime | ocrlab onnxruntime, told the format | ocrlab onnxruntime, "
        "told the format, thorough |" in page
    )
    assert "| a scheme (40) | 88.6% (92.2%) | 84.0% (85.0%) | 84.0% (85.0%) |" in page
    assert "ocrlab onnxruntime: 75.9 images/s in batches, 14.3 ms one at a time" in page
    assert "this machine lacked 3 of its zoo fonts, so those sets differ" in page
    assert (
        "| tiles | 1,000 / 1,000 | 0.0 % (1.0 %) | general | 97.5 % | 98.0 % | 98.5 % | 98.0 % "
        "| 10 | 9.5 | 12.2 | 7 |" in page
    )
    assert "| tiles | 1,000 / 1,000 | 0.0 % (1.0 %) | scratch | 10.0 % |" in page
    assert (
        "| captcha_images_v2 | 0 + 640 unlabelled / 400 | 66.0 % | general, no label | 97.5 % "
        "| 98.0 % | 98.5 % | — |" in page
    )
    assert "`python benchmarks/bench_finetune.py --no-labels`" in page
    assert "| captcha_images_v2 | 640 / 400 | 66.0 % | general | 97.5 % |" in page  # no brackets
    assert page.count("*Test CPU, x86_64, 2 CPUs, 1 thread(s); Python 3.11.7;") == 7
    assert "`python benchmarks/bench_x.py --quick`" in page
    assert "ddddocr not installed" not in page
    assert "(benchmarks_reading.png)" in page
    assert (docs / "benchmarks_reading.png").read_bytes().startswith(b"\x89PNG")


def test_build_without_results_says_what_to_run(tmp_path: Path) -> None:
    page = load_report().build(tmp_path, tmp_path / "docs").read_text()
    assert page.count("No results yet: run `make bench`.") == 8
    assert not (tmp_path / "docs" / "benchmarks_reading.png").exists()
