"""A letters model served over HTTP reads through the letter reader and returns its stages."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

import ocrlab
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings


def test_letters_model_returns_letters_and_every_stage() -> None:
    buf = io.BytesIO()
    ocrlab.render("AB", style="easy").save(buf, "PNG")
    with TestClient(create_app({"letters": "letters"}, ServeSettings(device="cpu"))) as client:
        r = client.post("/v1/read?debug=true&top_k=2", content=buf.getvalue())
        blank = client.post("/v1/read", content=_png(np.full((40, 40), 255, np.uint8)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "AB" and [len(top) for top in body["letters"]] == [2, 2]
    names = [s["name"] for s in body["stages"]]
    assert names[:5] == ["input", "working", "kmeans", "binary", "segments"]
    assert names[-1] == "letter2-blur"
    assert blank.status_code == 400 and "one colour" in blank.json()["detail"]


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()
