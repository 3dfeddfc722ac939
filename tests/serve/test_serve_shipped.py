"""`ocrlab serve` with no --model serves every shipped model, by name, through one resolver."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import ocrlab
from ocrlab.read.lines import LinesReader
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings

sys.path.insert(0, str(Path(__file__).parents[1] / "read"))
from test_lines import TEXTS, _page


def test_no_models_named_serves_every_shipped_model() -> None:
    app = create_app(None, ServeSettings(device="cpu"))
    image = ocrlab.render("HELLO", style="easy")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    with TestClient(app) as client:
        infos = client.get("/v1/models").json()["models"]
        assert [m["name"] for m in infos] == ["default", "general", "words", "captcha", "letters"]
        assert infos[0]["default"] and infos[1]["kind"] == "line" and infos[3]["channels"] == 1
        assert infos[4]["kind"] == "letters"
        for name in ("general", "words", "captcha", "letters"):
            r = client.post(f"/v1/read?model={name}", content=buf.getvalue())
            assert r.status_code == 200, r.text
            assert r.json()["text"] == ocrlab.read(image, model=name, device="cpu").text
        assert client.post("/v1/read?model=letters", content=buf.getvalue()).json()["text"] == (
            "HELLO"
        )


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def test_lines_are_read_one_by_one_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _png(_page(TEXTS[:2]))
    app = create_app({"general": "general"}, ServeSettings(device="cpu"))
    cuts: list[int] = []
    cut = LinesReader.lines
    monkeypatch.setattr(LinesReader, "lines", lambda me, image: cuts.append(1) or cut(me, image))
    with TestClient(app) as client:
        whole = client.post("/v1/read", content=page).json()
        by_query = client.post("/v1/read?lines=true&debug=1", content=page).json()
        assert len(cuts) == 1  # the debug stages show the crops that were read, cut once
        by_form = client.post("/v1/read", files={"image": page}, data={"lines": "on"}).json()
        bad = client.post("/v1/read", files={"image": page}, data={"lines": "maybe"})
        one = client.post("/v1/read?debug=1", content=_png(_page(TEXTS[:1]))).json()
    assert by_query["text"] == by_form["text"] == "\n".join(TEXTS[:2]) != whole["text"]
    assert by_query["text"] == ocrlab.read(page, "general", device="cpu", lines=True).text
    assert [s["name"] for s in by_query["stages"]] == ["decoded", "line 1", "line 2"]
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_parameter"
    model_input = {s["name"]: s for s in one["stages"]}["model input"]
    assert model_input["width"] < 256  # the columns read, not the 1,024-column canvas
