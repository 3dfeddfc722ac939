"""Measure a trained model on dataset folders, through the same Predictor users get.

Evaluating through `Predictor` (not the training batches) means the figures include the real
preprocessing: decoding, resizing and normalisation exactly as `ocrlab predict` does them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.data.load import ImageSet, NoReadableImages, load_many
from ocrlab.data.split import held_out_split, labels_digest, limit_rows, text_split
from ocrlab.errors import ConfigError, DatasetError, ImageError
from ocrlab.metrics import accuracy, character_error_rate, exact_match, top_k_accuracy
from ocrlab.read.hint import Hint, hinted
from ocrlab.read.predictor import Colour, Predictor
from ocrlab.runtime.checkpoint import load_checkpoint
from ocrlab.runtime.preprocess import prepare


def load_for(
    predictor: Predictor,
    dirs: Sequence[Path],
    workers: int = 1,
    strict: bool = False,
    colour: bool = False,
) -> ImageSet:
    """The datasets through the model kind's preprocessing, once (as training loaded them); a
    line model's lines with their colour contrast kept for its second look when `colour`
    (`ocrlab.read.predictor.read_lines`). An unreadable image is left out,
    with why, in `skipped` (one bad file must not cost the whole evaluation) unless `strict`."""
    ckpt = predictor.checkpoint
    step = prepare(ckpt.kind, dataclasses.replace(ckpt.steps, chroma=colour))
    try:
        return load_many(list(dirs), ckpt.input_size, workers=workers, mode=ckpt.mode, prepare=step)
    except ImageError:
        if strict:
            raise
        # The fast path stops at the first bad image; only then check every image one by one.
        return load_many(
            list(dirs), ckpt.input_size, workers, skip_bad=True, mode=ckpt.mode, prepare=step
        )


def _predictor(run: Path, device: str) -> Any:
    """The model to score: a run folder's through torch, an exported `.onnx` file's through
    onnxruntime (`OnnxPredictor`: the same preprocessing and decoding), so an export, int8
    included, is measured as it will read."""
    if run.suffix == ".onnx":
        from ocrlab.read.onnx import OnnxPredictor

        return OnnxPredictor(run)
    return Predictor.load(run, device)


def _onnx_kind(path: Path) -> str:
    """The model kind an exported file's metadata records, read without starting a session."""
    import json

    import onnx

    from ocrlab.runtime.checkpoint import ONNX_META_KEY

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's own errors, for a file that is no ONNX model
        raise DatasetError(f"cannot load ONNX model {path}: {exc}") from None
    props = {p.key: p.value for p in model.metadata_props}
    if ONNX_META_KEY not in props:
        raise DatasetError(f"{path} was not exported by ocrlab (no metadata)")
    return str(json.loads(props[ONNX_META_KEY])["kind"])


def _failed(data: ImageSet) -> dict[str, Any]:
    return {"failed": data.skipped} if data.skipped else {}


def evaluate_classifier(
    run: Path, dirs: Sequence[Path], device: str = "auto", workers: int = 1, strict: bool = False
) -> dict[str, Any]:
    """Accuracy and top-5 accuracy of a trained classifier on dataset folders; images that
    cannot be read are listed under `failed` (see `load_for`)."""
    predictor = _predictor(run, device)
    data = load_for(predictor, dirs, workers, strict)
    index = {w: i for i, w in enumerate(predictor.classes)}
    unknown = sorted({w for w in data.words if w not in index})
    if unknown:
        known = ", ".join(map(repr, predictor.classes[:5]))
        raise DatasetError(
            f"{len(unknown)} label(s) of the data are not among the model's "
            f"{len(predictor.classes):,} classes ({known}, ...), e.g. {unknown[:3]}: it was "
            "trained on other labels (a letters model is scored on words and lines by a "
            "letters-eval set: ocrlab data letters-eval)"
        )
    labels = np.array([index[w] for w in data.words], dtype=np.int64)
    probs = predictor.probabilities(data.images)
    return {
        "images": len(labels),
        "accuracy": accuracy(labels, probs.argmax(1)),
        "top5_accuracy": top_k_accuracy(probs, labels, min(5, probs.shape[1])),
        "data": [str(d) for d in dirs],
        "model": str(run),
        **_failed(data),
    }


def text_metrics(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Exact match (case-sensitive and not), CER, and exact match by text length."""
    by_length: dict[str, list[int]] = {}
    for t, p in zip(truth, pred, strict=True):
        by_length.setdefault(str(len(t)), []).append(int(t == p))
    return {
        "images": len(truth),
        "exact": exact_match(truth, pred, case_sensitive=True),
        "exact_case_insensitive": exact_match(truth, pred, case_sensitive=False),
        "cer": character_error_rate(truth, pred),
        "exact_by_length": {k: sum(v) / len(v) for k, v in sorted(by_length.items(), key=_num)},
    }


def _num(item: tuple[str, list[int]]) -> int:
    return int(item[0])


def evaluate_seq(
    run: Path,
    dirs: Sequence[Path],
    device: str = "auto",
    workers: int = 1,
    held_out: bool = False,
    strict: bool = False,
) -> dict[str, Any]:
    """Text metrics of a sequence model; `held_out` keeps only the run's own test split (which
    needs every image: leaving one out would shift the split). Otherwise images that cannot be
    read are listed under `failed`."""
    predictor = _predictor(run, device)
    data = load_for(predictor, dirs, workers, strict or held_out)
    if held_out:
        saved = predictor.checkpoint.config
        seed = int(saved["train"]["seed"])
        rows = limit_rows(len(data), saved.get("limit"), seed)
        texts = [data.texts[i] for i in rows]
        train, test = text_split(texts, saved["split"], float(saved["test_fraction"]), seed)
        _check_seq_split(predictor.checkpoint.split, run, [texts[i] for i in test], len(train))
        data = data.subset(rows[test])
    pred = [r.text for r in predictor.read_batch(data.images, top_k=1)]
    return {
        **text_metrics(data.texts, pred),
        "data": [str(d) for d in dirs],
        "model": str(run),
        "held_out": held_out,
        **_failed(data),
    }


def _check_seq_split(split: dict[str, Any], run: Path, test: list[str], train: int) -> None:
    """Refuse to call a split of other folders the run's own test split: recomputed on data it
    was not trained on, the same seed splits off images it may have trained on."""
    counts = (int(split.get("train", train)), int(split.get("test", len(test))))
    words = sorted({t.lower() for t in test})[:2000]
    if counts != (train, len(test)) or split.get("test_words", words) != words:
        raise DatasetError(
            f"{run} was trained on {counts[0]:,} images and tested on {counts[1]:,}; these "
            f"folders split into {train:,} and {len(test):,} other ones: --held-out needs the "
            "folders it was trained on, in order"
        )


def _in_colour(
    predictor: Predictor, hint: Hint | None, folder: Path, workers: int, strict: bool
) -> ImageSet | None:
    """The folder's lines with their colour contrast kept, for a line model that looks again in
    colour (`Checkpoint.colour`) unless told not to (`Hint.colour`); None otherwise."""
    if not predictor.checkpoint.colour or (hint is not None and not hint.colour):
        return None
    return load_for(predictor, [folder], workers, strict, colour=True)


def _looked(seen: ImageSet | None) -> Colour | None:
    """The second look in colour over lines loaded up front (`_in_colour`)."""
    if seen is None:
        return None
    return lambda idx: (np.arange(len(idx)), seen.images[idx])


def evaluate_line(
    run: Path,
    dirs: Sequence[Path],
    device: str = "auto",
    workers: int = 1,
    strict: bool = False,
    hint: Hint | None = None,
    held_out: bool = False,
) -> dict[str, Any]:
    """Text metrics of a line model (the general reader), overall and per group: the manifest's
    `background` column (a zoo family, a text-eval layout), else the folder's name; read told
    `hint` when given. Folder by folder, so a line model's wide inputs are held for one folder at
    a time; images that cannot be read are listed under `failed` (see `load_for`). `held_out`
    keeps only the part a fine-tuned run held out of its training (the folders must be the ones
    it was trained on, every image readable)."""
    from ocrlab.data.manifest import MANIFEST, read_manifest

    predictor = _predictor(run, device)
    reader = hinted(predictor, hint)
    kept, total = _line_held_out(predictor, run) if held_out else (None, 0)
    texts, pred, groups, failed = [], [], [], dict[str, str]()
    every: list[str] = []  # the texts of every image, for the held-out split's check
    for folder in dirs:
        try:
            data = load_for(predictor, [folder], workers, strict or held_out)
            seen = _in_colour(predictor, hint, folder, workers, strict or held_out)
        except NoReadableImages as exc:  # only without --strict: the next folder may read
            failed |= exc.skipped
            continue
        if kept is not None:
            start, every = len(every), every + data.texts
            part = kept[(kept >= start) & (kept < len(every))] - start
            data = data.subset(part)
            seen = None if seen is None else seen.subset(part)
        if not len(data):
            continue
        texts += data.texts
        read = reader.read_batch(data.images, colour=_looked(seen))  # type: ignore[attr-defined]
        pred += [r.text for r in read]
        if (folder / MANIFEST).is_file():
            by_path = {r.path: r.background for r in read_manifest(folder / MANIFEST)}
            groups += [by_path[source] for source in data.sources]
        else:
            groups += [folder.name] * len(data)
        failed |= data.skipped
    recorded = predictor.checkpoint.split.get("labels")
    if kept is not None and (len(every) != total or recorded not in (None, labels_digest(every))):
        raise DatasetError(
            f"{run} was fine-tuned on {total} labelled images, and these folders hold "
            f"{len(every)} other ones: --held-out needs the folders it was trained on, in order"
        )
    if not texts:
        raise DatasetError(f"no image of {', '.join(map(str, dirs))} could be read")
    by_group = {
        g: exact_match(*zip(*[(t, p) for t, p, x in zip(texts, pred, groups, strict=True)
                               if x == g], strict=True), case_sensitive=True)
        for g in sorted(set(groups))
    }  # fmt: skip
    told = {"hint": dataclasses.asdict(hint)} if hint else {}
    return {
        **text_metrics(texts, pred),
        "by_group": by_group,
        "data": [str(d) for d in dirs],
        "model": str(run),
        "held_out": held_out,
        **told,
        **({"failed": failed} if failed else {}),
    }


def _line_held_out(predictor: Predictor, run: Path) -> tuple[np.ndarray, int]:
    """The indices a fine-tuned line run held out of training, and how many images it had."""
    ckpt = predictor.checkpoint
    if not {"train", "held_out", "seed"} <= ckpt.split.keys() or "held_out" not in ckpt.config:
        raise ConfigError(
            f"{run} records no held-out split; --held-out is for a run fine-tuned on these folders"
        )
    if not int(ckpt.split["held_out"]):
        raise ConfigError(f"{run} held no labelled image out: it learned from unlabelled ones")
    total = int(ckpt.split["train"]) + int(ckpt.split["held_out"])
    seed, fraction = int(ckpt.split["seed"]), float(ckpt.config["held_out"])
    return held_out_split(total, fraction, seed)[1], total


def evaluate(
    run: Path,
    dirs: Sequence[Path],
    device: str = "auto",
    workers: int = 1,
    held_out: bool = False,
    strict: bool = False,
    hint: Hint | None = None,
) -> dict[str, Any]:
    """Metrics of any trained model on dataset folders, by the model's kind; `hint` tells a line
    model what the text may be (`ocrlab.read.hint`)."""
    kind = _onnx_kind(run) if run.suffix == ".onnx" else load_checkpoint(run).kind
    if kind == "line":
        return evaluate_line(run, dirs, device, workers, strict, hint, held_out)
    if hint is not None and hint.for_lines:
        raise ConfigError(
            f"a charset or length hint, or a thorough reading, is for a line model; {run} is a "
            f"{kind} model"
        )
    if kind == "seq":
        return evaluate_seq(run, dirs, device, workers, held_out, strict)
    if held_out:
        raise ConfigError(f"--held-out is for sequence and fine-tuned line models; {run} is a "
                          f"{kind} model (its test split is measured when it trains)")  # fmt: skip
    return evaluate_classifier(run, dirs, device, workers, strict)


LETTER_KINDS = {"letter": "single letters", "word": "words (3–6 letters)", "lines": "two lines"}


def _letters_only(text: str) -> str:
    """What letter scoring compares: no whitespace, upper case (EMNIST's 26 merged classes)."""
    return "".join(text.split()).upper()


def evaluate_letters(
    reader: Any, folder: Path, naive: Any = None, progress: Any = None
) -> dict[str, Any]:
    """Exact match by kind (single letters, words, two lines, every multi-letter image) of any
    reader on a letters-eval set (`ocrlab data letters-eval`); case and whitespace are ignored.

    `naive`, a letter model (`LetterModel`), adds the baseline of "Letter Recognition" on the single
    letters: grayscale, resize to 28×28, nothing else. An image the reader refuses counts as wrong.
    """
    from ocrlab.errors import UserError
    from ocrlab.runtime.binarise import naive_28
    from ocrlab.synth.letters_eval import read_eval_manifest

    rows = read_eval_manifest(folder)
    truth, pred, top, refused = [], [], [], 0
    for row in rows:
        try:
            reading = reader.read([folder / row["path"]], top_k=5)[0]
        except UserError:
            reading, refused = None, refused + 1
        truth.append(_letters_only(row["text"]))
        pred.append(_letters_only(reading.text) if reading else "")
        top.append([_letters_only(t) for t, _ in reading.topk] if reading else [])
        if progress is not None:
            progress(1)
    by_kind: dict[str, Any] = {}
    for kind in (*LETTER_KINDS, "multi"):
        idx = [
            i
            for i, r in enumerate(rows)
            if r["kind"] == kind or (kind == "multi" and r["kind"] != "letter")
        ]
        if not idx:
            continue
        t, p = [truth[i] for i in idx], [pred[i] for i in idx]
        by_kind[kind] = {
            "images": len(idx),
            "exact": exact_match(t, p, case_sensitive=True),
            "top5": float(np.mean([truth[i] in top[i][:5] for i in idx])),
            "cer": character_error_rate(t, p),
        }
    result: dict[str, Any] = {
        "data": str(folder),
        "images": len(rows),
        "refused": refused,
        **by_kind,
    }
    letters = [
        (folder / r["path"], _letters_only(r["text"])) for r in rows if r["kind"] == "letter"
    ]
    if naive is not None and letters:
        batch = np.stack([naive_28(path) for path, _ in letters])[..., None]
        probs = naive.probabilities(batch)
        guesses = [naive.classes[j] for j in probs.argmax(1)]
        result["naive_letter"] = {
            "images": len(letters),
            "exact": float(np.mean([g == t for g, (_, t) in zip(guesses, letters, strict=True)])),
        }
    return result


def letters_table(metrics: dict[str, Any], model: str) -> str:
    """A Markdown table of `evaluate_letters` metrics (exact match; CER for multi-letter rows)."""
    lines = [
        f"| {model} on {metrics['data']} | images | exact | top-5 | CER |",
        "|---|---:|---:|---:|---:|",
    ]
    if "naive_letter" in metrics:
        n = metrics["naive_letter"]
        lines.append(
            f'| single letters, naive resize of "Letter Recognition" | {n["images"]} '
            f"| {100 * n['exact']:.1f}% | | |"
        )
    names = {**LETTER_KINDS, "multi": "all multi-letter images"}
    for kind, name in names.items():
        if kind in metrics:
            m = metrics[kind]
            cer = f"{100 * m['cer']:.1f}%" if kind != "letter" else ""
            exact, top5 = f"{100 * m['exact']:.1f}%", f"{100 * m['top5']:.1f}%"
            lines.append(f"| {name} | {m['images']} | {exact} | {top5} | {cer} |")
    return "\n".join(lines) + "\n"
