"""End to end in headless Chromium: the real server (uvicorn on loopback) and the page at `/`.

Uses Debian's Chromium (`make test` installs it), never a browser downloaded by Playwright. Set
OCRLAB_SCREENSHOT=docs/serve_page.png to keep the screenshot it takes.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from ocrlab import load
from ocrlab.data.load import folder_labels
from ocrlab.read.predictor import Predictor
from ocrlab.serve.app import create_app
from ocrlab.serve.label import Labeller, create_label_app
from ocrlab.serve.settings import ServeSettings

sys.path.insert(0, str(Path(__file__).parents[1] / "read"))
from test_colour import _khaki
from test_lines import TEXTS, _page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _draw_letter(page: Page) -> None:
    """An 'L' on the canvas, with real mouse moves."""
    canvas = page.locator("#canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.35 * w, y + 0.2 * h)
    page.mouse.down()
    for t in range(1, 11):
        page.mouse.move(x + 0.35 * w, y + (0.2 + 0.06 * t) * h)
    for t in range(1, 11):
        page.mouse.move(x + (0.35 + 0.03 * t) * w, y + 0.8 * h)
    page.mouse.up()


def test_page_reads_an_upload_and_a_drawing(
    predictor: Predictor, data: Path, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    image = next((data / "easy" / "images").iterdir())
    expected = predictor.read([image])[0].text
    app = create_app(
        {"words": predictor, "general": "general"}, ServeSettings(gallery=data / "easy")
    )
    lines = tmp_path / "lines.png"
    Image.fromarray(_page(TEXTS[:2])).save(lines)
    errors: list[str] = []
    shot = tmp_path / "page.png"
    with running(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("#read-model option[value='words']", state="attached")

        page.set_input_files("#file", str(image))
        page.locator("#reading").wait_for(state="visible")
        assert page.inner_text("#reading-text") == expected
        assert page.locator("#reading-topk li").count() == 5
        assert page.locator("#stages figure").count() == 2

        _draw_letter(page)
        page.click("#draw-read")
        page.locator("#draw-topk li").nth(4).wait_for()
        assert page.locator("#draw-topk li").count() == 5
        assert "Top 5" in page.inner_text("#draw-status")

        page.locator("#gallery li").nth(11).wait_for()
        page.screenshot(path=str(shot), full_page=True)

        page.select_option("#read-model", "words")  # only a line model can be told the format
        expect(page.locator("#read-charset")).to_be_disabled()
        expect(page.locator("#read-thorough")).to_be_disabled()
        expect(page.locator("#read-colour")).to_be_disabled()
        page.select_option("#read-model", "general")  # an image of two lines, read line by line
        expect(page.locator("#read-length")).to_be_enabled()
        page.check("#read-lines")
        page.check("#read-thorough")  # each line in seven views: the same clean text
        page.set_input_files("#file", str(lines))
        expect(page.locator("#reading-text")).to_have_text("\n".join(TEXTS[:2]))
        assert page.inner_text("#reading-text") == "\n".join(TEXTS[:2])  # shown as two lines
        page.uncheck("#read-thorough")

        page.uncheck("#read-lines")  # told the format: three digits, whatever the image says
        page.fill("#read-charset", "digits")
        page.fill("#read-length", "3")
        page.set_input_files("#file", str(image))
        expect(page.locator("#reading-text")).to_have_text(re.compile(r"^[0-9]{3}$"))
        page.fill("#read-charset", "#")  # a character the model cannot spell: said, not hidden
        page.set_input_files("#file", str(lines))
        expect(page.locator("#read-status")).to_contain_text("cannot spell")
        page.select_option("#read-model", "words")  # the disabled hint is not sent: no 422
        page.set_input_files("#file", str(image))
        expect(page.locator("#reading-text")).to_have_text(expected)

        page.select_option("#read-model", "general")  # khaki on kraft: read in colour, or blank
        page.fill("#read-charset", "")
        page.fill("#read-length", "")
        page.set_input_files("#file", str(_written(tmp_path / "khaki.png", _khaki("Quartz"))))
        expect(page.locator("#reading-text")).to_have_text("Quartz")
        page.uncheck("#read-colour")
        page.set_input_files("#file", str(_written(tmp_path / "grey.png", _khaki("Quartz"))))
        expect(page.locator("#reading-text")).to_have_text("")
        browser.close()
    # The one error: Chromium logs the refused hint's 422 answer, which the page showed.
    assert len(errors) == 1 and "status of 422" in errors[0], errors
    keep = os.environ.get("OCRLAB_SCREENSHOT")
    if keep:
        # A 256-colour palette keeps the picture small enough to commit.
        Image.open(shot).convert("RGB").quantize(256).save(keep, optimize=True)
        assert Path(keep).stat().st_size < 300_000


def test_label_page_accepts_corrects_and_keeps_labels(
    tmp_path: Path, label_folder: Path, tiny_line_run: Callable[[Path, str], Path]
) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    folder = label_folder
    reader = load(tiny_line_run(tmp_path / "model", "abc"))
    order = Labeller(folder, reader).queue
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with running(create_label_app(folder, reader)) as url:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            expect(page.locator("#label-file")).to_have_text(order[0])
            assert page.input_value("#label-input") == "c"  # what the untrained model reads
            assert page.locator("#label-reading mark.unsure").count() == 1
            page.press("#label-input", "Enter")  # accept the model's reading
            expect(page.locator("#label-file")).to_have_text(order[1])
            page.fill("#label-input", "")
            page.type("#label-input", "Cab")  # correct the second
            page.press("#label-input", "Enter")
            expect(page.locator("#label-status")).to_contain_text("2 labelled")
        assert {p.name: text for p, text in folder_labels(folder)} == {
            order[0]: "c",
            order[1]: "Cab",
        }
        with running(create_label_app(folder, reader)) as url:  # a restart: labels are kept
            page.goto(url)
            expect(page.locator("#label-file")).to_have_text(order[2])
            expect(page.locator("#label-status")).to_contain_text("2 labelled, 1 to go")
        browser.close()
    assert errors == []
