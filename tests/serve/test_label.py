"""`ocrlab label`'s API: refusals, the CSV it writes and that the loader reads it (the page itself
is driven in Chromium in test_browser.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ocrlab import load
from ocrlab.cli import main
from ocrlab.data.load import folder_labels
from ocrlab.data.load import load as load_set
from ocrlab.errors import DatasetError
from ocrlab.serve.label import LABELS, create_label_app


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


def test_labelling_goes_on_past_a_corrupt_image_and_a_deleted_one(
    tmp_path: Path, label_folder: Path, tiny_line_run: Callable[[Path, str], Path]
) -> None:
    (label_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut off")
    (label_folder / LABELS).write_text("file,label\ngone.png,ab\n")  # labelled, then deleted
    app = create_label_app(label_folder, load(tiny_line_run(tmp_path / "m", "abc")))
    labeller = app.state.labeller
    assert labeller.unreadable == ["broken.png"] and labeller.labelled == 1
    assert sorted(labeller.queue) == ["img0.png", "img1.png", "img2.png"]


def test_a_labels_file_cannot_name_files_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "labels.csv").write_text("file,label\na.png,ab\n../../etc/passwd,x\n")
    with pytest.raises(DatasetError, match="outside"):
        folder_labels(tmp_path)


def test_label_refuses_a_busy_port_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["label", str(tmp_path), "--port", port, "--model", "nowhere"]) == 2
    said = capsys.readouterr()
    assert "cannot listen on 127.0.0.1" in said.err and "reading" not in said.out


def test_labels_from_a_labels_txt_are_kept_when_labels_csv_is_made(
    tmp_path: Path, label_folder: Path, tiny_line_run: Callable[[Path, str], Path]
) -> None:
    (label_folder / "labels.txt").write_text("img0.png\tab c\n")  # labelled before, as text
    client = TestClient(create_label_app(label_folder, load(tiny_line_run(tmp_path / "m", "abc"))))
    first = client.get("/v1/label/next").json()
    assert first["remaining"] == 2 and first["labelled"] == 1 and first["file"] != "img0.png"
    assert client.post("/v1/label", json={"file": first["file"], "label": "ca"}).status_code == 200
    labels = {p.name: text for p, text in folder_labels(label_folder)}  # labels.csv wins now
    assert labels == {"img0.png": "ab c", first["file"]: "ca"}


def test_label_says_where_labels_go_and_which_port_it_takes(
    tmp_path: Path,
    label_folder: Path,
    tiny_line_run: Callable[[Path, str], Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ocrlab.serve.label

    monkeypatch.setattr(ocrlab.serve.label, "serve_labels", lambda app, host, port: None)
    run = str(tiny_line_run(tmp_path / "m", "abc"))
    assert main(["label", str(label_folder), "--model", run, "--port", "0"]) == 0
    said = capsys.readouterr().out
    assert "file names no longer count as labels" in said  # no labels file yet
    assert "http://127.0.0.1 (a free port" in said and ":0" not in said
    (label_folder / LABELS).write_text("file,label\nimg0.png,ab\n")
    assert main(["label", str(label_folder), "--model", run, "--port", "8123"]) == 0
    said = capsys.readouterr().out
    assert "no longer count" not in said and "http://127.0.0.1:8123" in said


def test_label_pre_fills_told_the_format(
    tmp_path: Path,
    label_folder: Path,
    tiny_line_run: Callable[[Path, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import ocrlab.serve.label

    served = []
    monkeypatch.setattr(ocrlab.serve.label, "serve_labels", lambda app, *_: served.append(app))
    run = str(tiny_line_run(tmp_path / "m", "abc"))
    args = ["label", str(label_folder), "--model", run, "--port", "0"]
    assert main([*args, "--charset", "ab", "--length", "3", "--thorough"]) == 0
    readings = served[0].state.labeller.readings.values()
    assert {len(r.text) for r in readings} == {3}
    assert all(set(r.text) <= {"a", "b"} for r in readings)
    assert main([*args, "--charset", "xyz"]) == 2  # the model cannot spell it: said before reading
    assert "cannot spell" in capsys.readouterr().err and len(served) == 1
