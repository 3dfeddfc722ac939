"""Label a folder of images in the browser: `create_label_app(folder, reader)`.

The labels that fine-tuning needs cost a person's time, so the page asks for the fewest keys: each
image comes with the current model's reading filled in and its least certain characters marked,
Enter accepts it and typing corrects it. Images come least confident first (the model is read
over the whole folder once, at start-up), so the labels that teach the model most come first.
Each label is appended to FOLDER/labels.csv (`file,label`, the layout `ocrlab.data.load` reads)
by rewriting the file atomically, so a crash or a reload never loses or tears one; images already
in labels.csv are never asked again. A folder labelled in labels.txt has those labels carried into
labels.csv with the first new one (labels.csv is then the folder's labels file), so none is lost.
Imports FastAPI and `ocrlab.read`, never torch itself.
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.load import folder_labels, image_files
from ocrlab.errors import DatasetError
from ocrlab.read.auto import Reader
from ocrlab.read.batch import read_each
from ocrlab.read.predictor import Reading
from ocrlab.serve.app import PAGE_HEADERS, STATIC

LABELS = "labels.csv"
UNSURE = 0.9
"""Characters read with a lower probability are marked on the page."""


class Label(BaseModel):
    file: str = Field(description="an image of the folder, by name")
    label: str = Field(min_length=1, max_length=200, description="the text the image shows")


class Labeller:
    """The folder's unlabelled images, least confident reading first, and its labels.csv."""

    def __init__(self, folder: Path, reader: Reader, batch: int = 64) -> None:
        if not folder.is_dir():
            raise DatasetError(f"{folder} is not a folder")
        self.folder, self.lock = folder, threading.Lock()
        self.unlabelled = not any((folder / name).is_file() for name in (LABELS, "labels.txt"))
        """No labels file yet: the labels.csv it makes will be the folder's first."""
        pairs = [] if self.unlabelled else folder_labels(folder, check_files=False)
        done = {p.name for p, _ in pairs}
        rows = [(p.relative_to(folder).as_posix(), text) for p, text in pairs]
        self.head = _csv([("file", "label"), *rows])
        """What labels.csv starts with when it is made: a labels.txt's labels, so none is lost."""
        todo = [str(p) for p in image_files(folder) if p.name not in done]
        readings: dict[str, Reading] = {}
        self.unreadable: list[str] = []
        """Images the reader refused (corrupt, too large): left out of the queue, not fatal."""
        for outcome in read_each(reader.read, todo, chunk=batch):
            name = Path(outcome.image).name
            if outcome.error is None:
                readings[name] = outcome.reading
            else:
                self.unreadable.append(name)
        self.readings = readings
        self.queue = sorted(readings, key=lambda name: (readings[name].confidence, name))
        self.labelled = len(done)

    def next(self) -> dict[str, Any]:
        """The next image to label and its reading, or `done`."""
        with self.lock:
            if not self.queue:
                return {"done": True, "labelled": self.labelled}
            name = self.queue[0]
            r = self.readings[name]
            chars = [{"char": c, "p": round(p, 4), "unsure": p < UNSURE} for c, p in r.chars]
            return {"done": False, "file": name, "text": r.text, "chars": chars,
                    "confidence": round(r.confidence, 4), "remaining": len(self.queue),
                    "labelled": self.labelled}  # fmt: skip

    def save(self, item: Label) -> None:
        """Append `item` to labels.csv (atomically: the whole file is rewritten and renamed)."""
        text = item.label.strip()
        if not text or not text.isprintable():
            raise DatasetError(
                "a label is one non-empty line of printable text (no tabs or control characters)"
            )
        with self.lock:
            if item.file not in self.queue:
                raise DatasetError(f"{item.file} is not waiting for a label in {self.folder}")
            path = self.folder / LABELS
            old = path.read_text(encoding="utf-8") if path.is_file() else self.head
            sep = "" if old.endswith("\n") else "\n"
            atomic_write_bytes(path, (old + sep + _csv([(item.file, text)])).encode("utf-8"))
            self.queue.remove(item.file)
            self.labelled += 1


def _csv(rows: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def create_label_app(folder: Path, reader: Reader) -> FastAPI:
    """The labelling page and its small API over `folder`, pre-read by `reader`."""
    labeller = Labeller(folder, reader)
    app = FastAPI(title="ocrlab label", summary="Label a folder of images for fine-tuning.")
    app.state.labeller = labeller
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "label.html", headers=PAGE_HEADERS)

    @app.get("/v1/label/next")
    def next_image() -> dict[str, Any]:
        return labeller.next()

    @app.get("/v1/label/image/{name}")
    def image(name: str) -> Any:
        if name not in labeller.readings:
            return JSONResponse({"error": "not_found", "detail": name}, status_code=404)
        return FileResponse(folder / name)

    @app.post("/v1/label")
    def label(item: Label) -> Any:
        try:
            labeller.save(item)
        except DatasetError as exc:
            return JSONResponse({"error": "bad_label", "detail": str(exc)}, status_code=400)
        return labeller.next()

    return app


def serve_labels(app: FastAPI, host: str, port: int) -> None:
    """Serve a `create_label_app` page until stopped."""
    import uvicorn

    uvicorn.run(app, host=host, port=port)
