"""Write a planned dataset to disk: PNG files or packed shards, a manifest, a preview.

Work is cut into chunks of sample ids; a process pool renders them and `imap` hands the results back
in order, so the main process writes rows in plan order whatever the worker count (the `submit`
loop of "Breaking CAPTCHA" scrambled images against labels). Every file is written atomically and
`.incomplete` marks a folder in progress: an interrupted run leaves only whole files, and
`resume=True` renders just the missing ones. The manifest comes last, so a folder with a manifest is
a complete dataset. Imports NumPy and Pillow only.
"""

from __future__ import annotations

import dataclasses
import io
import json
import multiprocessing
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.manifest import MANIFEST, Row, write_manifest
from ocrlab.data.packed import shard_path, shard_ref, write_shard
from ocrlab.errors import DatasetError
from ocrlab.rng import PREVIEW, make_rng
from ocrlab.synth.plan import GenerateConfig, Plan, Sample, dataset_json, make_plan
from ocrlab.synth.preview import save_contact_sheet

CONFIG, VOCAB, PREVIEW_FILE, MARKER = "config.json", "vocab.json", "preview.png", ".incomplete"
CHUNK = 256
Progress = Callable[[int], None]
Payload = list[np.ndarray] | list[bytes]


def image_path(sample_id: int) -> str:
    return f"images/{sample_id:07d}.png"


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes; the same array always gives the same bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


_worker_plan: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _worker_plan
    _worker_plan = plan


def _for_workers(plan: Plan) -> Plan:
    """The plan without its id list and textures: workers get their ids per chunk, and make the
    textures on first use, so what each one is sent stays small."""
    return dataclasses.replace(plan, ids=np.zeros(0, np.int64), _textures=[])


def _render_chunk(ids: np.ndarray) -> tuple[list[Sample], Payload]:
    assert _worker_plan is not None, "worker was not initialised"
    return render_ids(_worker_plan, ids)


def render_ids(plan: Plan, ids: np.ndarray) -> tuple[list[Sample], Payload]:
    """Render `ids`: descriptions and images (PNG bytes for the png format, arrays for packed)."""
    samples, images = [], []
    for sample_id in ids.tolist():
        sample, image = plan.render(sample_id)
        samples.append(sample)
        images.append(image)
    if plan.config.format == "png":
        return samples, [encode_png(im) for im in images]
    return samples, images


def _prepare(out: Path, plan: Plan, resume: bool, overwrite: bool) -> bool:
    """Make `out` ready; returns True when this run created it (so a failure may remove it)."""
    description = dataset_json(plan)
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if resume:
            _check_resumable(out, description)
            for stale in out.rglob(
                ".*.tmp"
            ):  # half-written by a killed run; never renamed into place
                stale.unlink()
            return False
        if not overwrite:
            raise DatasetError(f"{out} is not empty; pass --resume to continue it or --overwrite")
        if not (out / CONFIG).is_file():
            raise DatasetError(f"refusing to overwrite {out}: it is not an ocrlab dataset")
        shutil.rmtree(out)
    created = not out.exists()
    try:
        (out / ("images" if plan.config.format == "png" else "shards")).mkdir(parents=True)
        (out / MARKER).touch()
        atomic_write_bytes(out / CONFIG, (json.dumps(description, indent=1) + "\n").encode())
        atomic_write_bytes(out / VOCAB, plan.vocab.to_json().encode())
    except OSError as exc:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise DatasetError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return created


def _check_resumable(out: Path, description: dict[str, object]) -> None:
    if (out / MANIFEST).is_file() and not (out / MARKER).exists():
        raise DatasetError(f"{out} is already a complete dataset; nothing to resume")
    try:
        saved = json.loads((out / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DatasetError(f"cannot resume {out}: it has no readable {CONFIG}") from None
    keys = ("config", "canvas", "count", "fonts", "backgrounds", "words")
    if any(saved.get(k) != description[k] for k in keys):
        raise DatasetError(f"cannot resume {out}: it was started with a different configuration")


def _todo(out: Path, plan: Plan) -> Iterator[tuple[int, np.ndarray, bool]]:
    """(start, ids, done) per chunk; packed chunks never straddle shards, so shards resume whole."""
    size = plan.config.shard_size if plan.config.format == "packed" else CHUNK
    step = min(CHUNK, size)
    for start in range(0, len(plan.ids), step):
        stop = min(start + step, (start // size + 1) * size, len(plan.ids))
        ids = plan.ids[start:stop]
        if plan.config.format == "packed":
            done = shard_path(out, start // size).is_file()
        else:
            done = all((out / image_path(i)).is_file() for i in ids.tolist())
        yield start, ids, done


def _row(plan: Plan, s: Sample, path: str) -> Row:
    cfg = plan.config
    return Row(
        path=path,
        word=plan.vocab.words[s.word],
        label=s.word,
        text=s.text,
        font=plan.fonts[s.font].name,
        background=Path(plan.backgrounds[s.background]).stem,
        noise=cfg.noise_levels[s.noise],
        colour=cfg.colours[s.colour],
    )


class _Sink:
    """Stores rendered chunks in plan order: PNG files, or one preallocated shard at a time."""

    def __init__(self, out: Path, plan: Plan) -> None:
        self.out, self.plan = out, plan
        self.size = plan.config.shard_size
        self.packed = plan.config.format == "packed"
        shape = (min(self.size, len(plan.ids)), plan.canvas.height, plan.canvas.width, 3)
        self.buffer = np.empty(shape if self.packed else (0, 0, 0, 0), dtype=np.uint8)

    def path(self, position: int, sample: Sample) -> str:
        if self.packed:
            return shard_ref(position // self.size, position % self.size)
        return image_path(sample.id)

    def store(self, start: int, samples: list[Sample], payload: Payload) -> None:
        if not self.packed:
            for sample, data in zip(samples, payload, strict=True):
                assert isinstance(data, bytes)
                atomic_write_bytes(self.out / image_path(sample.id), data)
            return
        offset, end = start % self.size, start + len(samples)
        for k, image in enumerate(payload):
            assert isinstance(image, np.ndarray)
            self.buffer[offset + k] = image
        if end % self.size == 0 or end == len(self.plan.ids):
            write_shard(self.out, start // self.size, self.buffer[: offset + len(samples)])


def _write(out: Path, plan: Plan, workers: int, progress: Progress | None) -> list[Row]:
    chunks = list(_todo(out, plan))
    pending = [ids for _, ids, done in chunks if not done]
    results: Iterator[tuple[list[Sample], Payload]]
    pool = None
    if workers > 1 and len(pending) > 1:
        ctx = multiprocessing.get_context("spawn")
        pool = ctx.Pool(workers, initializer=_init_worker, initargs=(_for_workers(plan),))
        results = pool.imap(_render_chunk, pending)
    else:
        results = (render_ids(plan, ids) for ids in pending)
    sink, rows = _Sink(out, plan), []
    try:
        for start, ids, done in chunks:
            if done:
                samples = [plan.describe(i) for i in ids.tolist()]
            else:
                samples, payload = next(results)
                sink.store(start, samples, payload)
            rows += [_row(plan, s, sink.path(start + k, s)) for k, s in enumerate(samples)]
            if progress is not None:
                progress(len(ids))
    finally:
        if pool is not None:
            pool.terminate()
    return rows


def generate(
    config: GenerateConfig | Plan,
    out: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render the dataset `config` describes (or the plan made from it) into `out`; returns `out`.

    The plan is made once, here or by the caller, and shared with the workers: never rebuilt. Same
    config, same bytes, for any `workers`. Bad input raises a UserError before anything is
    written. `progress` is called with the number of images finished after each chunk.
    """
    if workers < 1:
        raise DatasetError(f"workers must be at least 1, got {workers}")
    plan = config if isinstance(config, Plan) else make_plan(config)
    created = _prepare(out, plan, resume, overwrite)
    try:
        rows = _write(out, plan, workers, progress)
    except KeyboardInterrupt:
        raise
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    write_preview(out / PREVIEW_FILE, plan)
    write_manifest(out / MANIFEST, rows)
    (out / MARKER).unlink()
    return out


def write_preview(path: Path, plan: Plan, count: int = 24) -> None:
    """A contact sheet of `count` seeded-random samples with their text and label."""
    rng = make_rng(plan.config.seed, PREVIEW)
    pick = np.sort(rng.choice(plan.ids, min(count, len(plan.ids)), replace=False))
    rendered = [plan.render(int(i)) for i in pick]
    captions = [f"{s.text}  ({s.word})" for s, _ in rendered]
    save_contact_sheet(path, [im for _, im in rendered], captions)
