"""`ocrlab serve` with no --model serves every shipped model, by name, through one resolver."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

import ocrlab
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings


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
