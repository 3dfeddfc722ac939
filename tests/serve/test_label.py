"""`ocrlab label`'s API: refusals, the CSV it writes and that the loader reads it (the page itself
is driven in Chromium in test_browser.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from ocrlab import load
from ocrlab.data.load import folder_labels
from ocrlab.data.load import load as load_set
from ocrlab.serve.label import create_label_app


def test_label_api_refuses_bad_labels_and_feeds_load(
    tmp_path: Path, label_folder: Path, tiny_line_run: Callable[[Path, str], Path]
) -> None:
    folder = label_folder
    client = TestClient(create_label_app(folder, load(tiny_line_run(tmp_path / "m", "abc"))))
    first = client.get("/v1/label/next").json()
    assert first["remaining"] == 3
    assert first["chars"] == [{"char": "c", "p": 0.1669, "unsure": True}]
    assert client.post("/v1/label", json={"file": "nope.png", "label": "x"}).status_code == 400
    assert client.post("/v1/label", json={"file": first["file"], "label": ""}).status_code == 422
    for bad in ("  ", "a\tb", "a\nb", "a\x07b"):  # nothing training could use later
        said = client.post("/v1/label", json={"file": first["file"], "label": bad})
        assert said.status_code == 400 and "printable" in said.json()["detail"], bad
    assert (
        client.post("/v1/label", json={"file": first["file"], "label": 'a,b"c'}).status_code == 200
    )
    assert client.get("/v1/label/image/../labels.csv").status_code == 404
    assert {p.name: text for p, text in folder_labels(folder)} == {first["file"]: 'a,b"c'}
    assert load_set(folder).texts == ['a,b"c']  # the layout the data loader reads
