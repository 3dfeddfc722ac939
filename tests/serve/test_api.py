"""The HTTP API through FastAPI's TestClient: readings, models, gallery; every bad input → 4xx."""

from __future__ import annotations

import base64
import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ocrlab.cli import main
from ocrlab.errors import ConfigError
from ocrlab.read.predictor import Colour, Predictor, Reading
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings, parse_models


@pytest.fixture(scope="module")
def client(predictor: Predictor, data: Path) -> Iterator[TestClient]:
    settings = ServeSettings(gallery=data / "easy", max_bytes=200_000, max_pixels=1_000_000)
    with TestClient(create_app({"words": predictor}, settings)) as c:
        yield c


def _png(size: tuple[int, int], mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 255).save(buf, "PNG")
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with no pixel data behind it."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def test_multipart_read_gives_the_predictors_reading(
    client: TestClient, predictor: Predictor, png: bytes
) -> None:
    r = client.post("/v1/read", files={"image": ("word.png", png, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = predictor.read([png])[0].to_dict()
    assert body["text"] == expected["text"] and body["model"] == "words"
    assert len(body["topk"]) == 1  # greedy unless top_k > 1 is asked for
    assert [t["text"] for t in body["topk"]] == [t["text"] for t in expected["topk"]]
    assert body["confidence"] == pytest.approx(expected["confidence"], abs=1e-5)
    five = client.post("/v1/read?top_k=5", files={"image": ("word.png", png, "image/png")})
    assert len(five.json()["topk"]) == 5 and sum(t["p"] for t in five.json()["topk"]) <= 1 + 1e-5
    assert body["chars"] == [] and body["stages"] == []
    timings = body["timings"]
    assert set(timings) == {"decode_ms", "preprocess_ms", "inference_ms", "total_ms"}
    assert all(v >= 0 for v in timings.values())
    assert timings["total_ms"] >= timings["decode_ms"] + timings["inference_ms"]


def test_raw_body_form_fields_and_query_params(client: TestClient, png: bytes) -> None:
    raw = client.post("/v1/read?top_k=2&model=words", content=png)
    form = client.post("/v1/read", files={"image": ("x", png)}, data={"top_k": "2"})
    octet = client.post(
        "/v1/read?top_k=2", content=png, headers={"content-type": "application/octet-stream"}
    )
    assert raw.status_code == form.status_code == octet.status_code == 200
    assert raw.json()["topk"] == form.json()["topk"] == octet.json()["topk"]
    assert len(raw.json()["topk"]) == 2


def test_debug_returns_the_model_input_as_png(
    client: TestClient, predictor: Predictor, png: bytes
) -> None:
    r = client.post("/v1/read?debug=1", content=png)
    stages = {s["name"]: s for s in r.json()["stages"]}
    assert list(stages) == ["decoded", "model input"]
    model_input = Image.open(io.BytesIO(base64.b64decode(stages["model input"]["png"])))
    assert (model_input.height, model_input.width) == predictor.size
    assert np.array_equal(np.asarray(model_input), predictor.preprocess([png])[0])


def test_transparent_image_is_read_on_white(client: TestClient) -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 16), (0, 0, 0, 0)).save(buf, "PNG")
    r = client.post("/v1/read?debug=1", content=buf.getvalue())
    decoded = Image.open(io.BytesIO(base64.b64decode(r.json()["stages"][0]["png"])))
    assert np.asarray(decoded).min() == 255


def test_models_health_docs_and_page(client: TestClient) -> None:
    (info,) = client.get("/v1/models").json()["models"]
    assert info == {
        "name": "words",
        "kind": "classifier",
        "classes": 5,
        "input_size": [16, 64],
        "channels": 3,
        "default": True,
    }
    assert client.get("/health").json() == {"status": "ok", "models": ["words"]}
    read = client.get("/openapi.json").json()["paths"]["/v1/read"]["post"]
    query = {p["name"]: p["schema"] for p in read["parameters"]}
    form = read["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form.pop("image") == {"type": "string", "format": "binary"}
    assert sorted(form) == sorted(set(query) - {"debug"})  # every parameter but debug
    for name, field in form.items():  # of the query parameter's type, or one of them
        kinds = [query[name].get("type")] + [k.get("type") for k in query[name].get("anyOf", [])]
        assert field["type"] in kinds, name
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("app.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200


@pytest.mark.parametrize("folder", ["easy", "packed"])
def test_gallery_samples_are_seeded_pngs_with_labels(
    predictor: Predictor, data: Path, folder: str
) -> None:
    app = create_app({"words": predictor}, ServeSettings(gallery=data / folder))
    with TestClient(app) as c:
        first = c.get("/v1/gallery?n=6&seed=3").json()["items"]
        assert first == c.get("/v1/gallery?n=6&seed=3").json()["items"]
        assert first != c.get("/v1/gallery?n=6&seed=4").json()["items"]
        assert len(c.get("/v1/gallery?n=48").json()["items"]) == 48
    assert len(first) == 6 and {i["label"] for i in first} <= set(predictor.classes)
    image = Image.open(io.BytesIO(base64.b64decode(first[0]["png"])))
    assert image.format == "PNG" and image.width > image.height


def test_gallery_without_dataset_is_a_json_404(predictor: Predictor) -> None:
    with TestClient(create_app({"words": predictor})) as c:
        r = c.get("/v1/gallery")
    assert r.status_code == 404 and r.json()["error"] == "no_gallery"


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("empty body", {"content": b""}, 400, "empty"),
    ("garbage bytes", {"content": b"\x00\x01garbage" * 50}, 415, "not_an_image"),
    ("text file named .png", {"files": {"image": ("a.png", b"hello\n", "image/png")}}, 415, ""),
    ("wrong field name", {"files": {"file": ("a.png", b"\x89PNG", "image/png")}}, 422, ""),
    ("image as a text field", {"data": {"image": "abc"}, "files": {"x": ("x", b"")}}, 422, ""),
    ("empty multipart image", {"files": {"image": ("a.png", b"", "image/png")}}, 400, "empty"),
    ("unknown model", {"params": {"model": "nope"}}, 404, "unknown_model"),
    ("top_k zero", {"params": {"top_k": 0}}, 422, "invalid_parameter"),
    ("top_k too large", {"params": {"top_k": 21}}, 422, "invalid_parameter"),
    ("top_k not a number", {"params": {"top_k": "five"}}, 422, "invalid_parameter"),
    ("top_k form field", {"files": {"image": ("a", b"")}, "data": {"top_k": "x"}}, 422, ""),
    ("bad debug flag", {"params": {"debug": "maybe"}}, 422, "invalid_parameter"),
    ("header of a bomb", {"content": _png_header(100_000, 100_000)}, 413, "too_many_pixels"),
    ("header without data", {"content": _png_header(10, 10)}, 400, "bad_image"),
    ("JPEG magic only", {"content": b"\xff\xd8\xff\xe0" + b"\x00" * 20}, 400, "bad_image"),
]


@pytest.mark.parametrize(
    ("request_kw", "status", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_is_a_json_4xx(
    client: TestClient, png: bytes, request_kw: dict[str, Any], status: int, code: str
) -> None:
    kw = {"content": png, **request_kw} if "files" not in request_kw else request_kw
    r = client.post("/v1/read", **kw)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    assert not code or body["error"] == code


def test_truncated_png_is_400(client: TestClient, png: bytes) -> None:
    for cut in (len(png) // 2, len(png) // 4, 40):
        r = client.post("/v1/read", content=png[:cut])
        assert r.status_code == 400 and r.json()["error"] == "bad_image", (cut, r.text)


def test_decompression_bomb_is_413_before_decoding(client: TestClient) -> None:
    bomb = _png((2000, 1000))  # 2 MP of white: a few kB on the wire, over the 1 MP limit
    assert len(bomb) < 20_000
    r = client.post("/v1/read", files={"image": ("bomb.png", bomb, "image/png")})
    assert r.status_code == 413 and r.json()["error"] == "too_many_pixels"
    assert "2000x1000" in r.json()["detail"]


def test_oversize_body_is_413_declared_or_streamed(client: TestClient) -> None:
    big = _png((8, 8)) + b"\x00" * 250_000
    declared = client.post("/v1/read", content=big)
    streamed = client.post("/v1/read", content=iter([big[:100_000], big[100_000:]]))
    multipart = client.post("/v1/read", files={"image": ("big.png", big, "image/png")})
    for r in (declared, streamed, multipart):
        assert r.status_code == 413 and r.json()["error"] == "too_large", r.text


def test_corrupted_pngs_never_give_a_500(client: TestClient, png: bytes) -> None:
    rng = np.random.default_rng(0)
    statuses = set()
    for _ in range(40):
        corrupt = np.frombuffer(png, np.uint8).copy()
        where = rng.integers(8, len(corrupt), size=int(rng.integers(1, 6)))
        corrupt[where] = rng.integers(0, 256, size=len(where))
        statuses.add(client.post("/v1/read", content=corrupt.tobytes()).status_code)
    assert statuses <= {200, 400, 413}, statuses


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert client.get("/v1/nothing").json()["error"] == "http_404"
    r = client.get("/v1/read")
    assert r.status_code == 405 and r.json()["error"] == "http_405"
    assert client.get("/v1/gallery?n=0").status_code == 422


class _Slow(Predictor):
    """The real model, slowed down, counting how many reads run at once."""

    delay = 0.3
    running = peak = 0
    lock = threading.Lock()

    def read_batch(
        self, batch: np.ndarray, top_k: int = 5, colour: Colour | None = None
    ) -> list[Reading]:
        with self.lock:
            type(self).running += 1
            type(self).peak = max(self.peak, self.running)
        time.sleep(self.delay)
        with self.lock:
            type(self).running -= 1
        return super().read_batch(batch, top_k, colour)


def test_slow_read_is_a_504_and_the_server_goes_on(predictor: Predictor, png: bytes) -> None:
    slow = _Slow(predictor.model, predictor.checkpoint, predictor.device)
    slow.delay = 1.0
    app = create_app({"slow": slow, "fast": predictor}, ServeSettings(timeout_s=0.5, workers=2))
    with TestClient(app) as c:
        r = c.post("/v1/read", content=png)
        assert r.status_code == 504 and r.json()["error"] == "timeout"
        # the abandoned read still holds one slot; the other serves
        assert c.post("/v1/read?model=fast", content=png).status_code == 200


def test_reads_run_at_most_workers_at_once_and_the_rest_wait(
    predictor: Predictor, png: bytes
) -> None:
    slow = _Slow(predictor.model, predictor.checkpoint, predictor.device)
    _Slow.peak = 0
    app = create_app({"slow": slow}, ServeSettings(workers=2, timeout_s=10))
    with TestClient(app) as c, ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda _: c.post("/v1/read", content=png).status_code, range(5)))
    assert statuses == [200] * 5 and _Slow.peak == 2


def test_parse_models_names_and_refusals(tmp_path: Path) -> None:
    specs = ["a=x/run", str(tmp_path), "captcha", "w=words", "m.onnx"]
    assert parse_models(specs) == {
        "a": "x/run",
        tmp_path.name: str(tmp_path),
        "captcha": "captcha",
        "w": "words",
        "m": "m.onnx",
    }
    assert parse_models([]) is None  # every shipped model
    for specs, message in ((["a=x", "a=y"], "twice"), (["a b=x"], "name")):
        with pytest.raises(ConfigError, match=message):
            parse_models(specs)
    with pytest.raises(ConfigError, match="workers"):
        ServeSettings(workers=0)


def test_cli_serve_refuses_a_folder_without_a_model(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--model", f"w={data / 'easy'}"]) == 2
    assert "not a trained model" in capsys.readouterr().err
    assert main(["serve", "--model", f"w={data / 'run'}", "--gallery", str(data / "run")]) == 2
    assert "not an ocrlab dataset" in capsys.readouterr().err
