"""The seeded corpus of nasty files through `ocrlab read` with the shipped models and through the
server's upload check: each file is read or refused with one sentence, in one batch, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.serve.schemas import ApiError
from ocrlab.serve.upload import decode_upload


def test_the_words_model_reads_every_readable_file_and_refuses_the_rest(
    nasty: Path, readable: dict[str, bool], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(nasty / name) for name in readable]
    assert main(["read", *paths, "--model", "words", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in rows] == paths
    for name, row in zip(readable, rows, strict=True):
        assert ("error" not in row) == readable[name], (name, row)


def test_the_letter_reader_reads_or_refuses_each_with_one_line(
    nasty: Path, readable: dict[str, bool], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(nasty / name) for name in readable]
    assert main(["read", *paths, "--model", "letters"]) == 1
    out, err = capsys.readouterr()
    read = {line.split(": ")[0] for line in out.splitlines()}
    refused = [line for line in err.splitlines() if line.startswith("ocrlab: error: ")]
    assert len(read) + len(refused) == len(paths) and len(err.splitlines()) == len(refused)
    assert {str(nasty / n) for n, ok in readable.items() if not ok}.isdisjoint(read)


def test_the_server_decodes_or_answers_4xx(nasty: Path, readable: dict[str, bool]) -> None:
    for name, must_read in readable.items():
        try:
            pixels = decode_upload((nasty / name).read_bytes(), 16_000_000)
        except ApiError as exc:
            assert not must_read and exc.status in (400, 413, 415), (name, exc.status)
            continue
        assert must_read and pixels.mode == "RGB", name
