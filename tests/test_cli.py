from __future__ import annotations

import json
import shutil
from contextlib import nullcontext as _no_exit
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.data.manifest import read_manifest
from ocrlab.synth.fonts import matplotlib_font_dir

SMALL = ["--preset", "hard", "--words", "5", "--limit", "20", "--workers", "1"]


def test_generate_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", *SMALL, "--out", str(tmp_path / "d"), "--seed", "3"]) == 0
    assert len(read_manifest(tmp_path / "d" / "manifest.csv")) == 20
    assert "wrote 20 images" in capsys.readouterr().out


def test_help_explains_every_generate_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = capsys.readouterr().out
    for flag in (
        "--preset",
        "--out",
        "--words",
        "--vocab",
        "--fonts",
        "--seed",
        "--workers",
        "--format",
        "--limit",
        "--resume",
        "--overwrite",
        "--set",
    ):
        assert flag in text


def test_config_file_overrides_the_preset_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('words = 3\nlimit = 2\nbackgrounds = ["kraft"]\n')
    args = ["generate", "--preset", "hard", "--config", str(tmp_path / "c.toml")]
    assert main([*args, "--out", str(tmp_path / "a"), "--set", "limit=3"]) == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())["config"]
    assert (saved["words"], saved["limit"], saved["backgrounds"]) == (3, 3, ["kraft"])
    (tmp_path / "bad.toml").write_text("no_such_field = 1\n")
    bad = ["generate", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "b")]
    assert main(bad) == 2


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "empty.txt").write_text("")
    (tmp / "few.txt").write_text("alpha beta gamma")
    (tmp / "bad.pdf").write_bytes(b"%PDF-garbage")
    (tmp / "fonts").mkdir()
    (tmp / "fonts" / "broken.ttf").write_bytes(b"\x00\x01garbage")
    (tmp / "symfonts").mkdir()
    shutil.copy(matplotlib_font_dir() / "STIXSizOneSymReg.ttf", tmp / "symfonts" / "sym.ttf")
    (tmp / "full").mkdir()
    (tmp / "full" / "notes.txt").write_text("mine")
    (tmp / "afile").write_text("x")
    return {
        "empty document": (["--vocab", str(tmp / "empty.txt")], "contains no words"),
        "missing document": (["--vocab", str(tmp / "nope.txt")], "document not found"),
        "unreadable pdf": (["--vocab", str(tmp / "bad.pdf")], "cannot read PDF"),
        "too few words": (["--vocab", str(tmp / "few.txt")], "only 3 distinct words"),
        "missing font folder": (["--fonts", str(tmp / "nofonts")], "font folder not found"),
        "corrupt font": (["--fonts", str(tmp / "fonts")], "cannot load font"),
        "font without glyphs": (["--fonts", str(tmp / "symfonts"), "--fonts-dir-only"], "no glyph"),
        "non-empty output": (["--out", str(tmp / "full")], "not empty"),
        "foreign overwrite": (["--out", str(tmp / "full"), "--overwrite"], "not an ocrlab dataset"),
        "unwritable output": (["--out", str(tmp / "afile" / "sub")], "cannot write"),
        "absurd font size": (["--set", "font_size=100000"], "font_size"),
        "absurd canvas": (["--set", "height=100000", "--set", "width=100000"], "out of range"),
        "absurd limit": (["--limit", "0"], "limit must be at least 1"),
        "absurd word count": (["--words", "0"], "words must be"),
        "unknown key": (["--set", "colour=red"], "unknown GenerateConfig key"),
        "bad type": (["--set", "seed=abc"], "seed must be int"),
        "workers": (["--workers", "0"], "workers must be at least 1"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "empty document",
        "missing document",
        "unreadable pdf",
        "too few words",
        "missing font folder",
        "corrupt font",
        "font without glyphs",
        "non-empty output",
        "foreign overwrite",
        "unwritable output",
        "absurd font size",
        "absurd canvas",
        "absurd limit",
        "absurd word count",
        "unknown key",
        "bad type",
        "workers",
    ],
)
def test_bad_input_is_one_clear_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    extra, message = _bad_inputs(tmp_path)[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = [] if "--out" in extra else ["--out", str(tmp_path / "out")]
    assert main(["generate", *SMALL, *out, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocrlab: error: ") and message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_outputs_that_cannot_be_written_are_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked before the work (an export, an evaluation), one line each, nothing replaced."""
    picture = tmp_path / "holiday.png"
    picture.write_bytes(b"\x89PNG not really")
    for argv, said in (
        (["export", "--model", "general", "--onnx", str(picture)], "not a .onnx file"),
        (["export", "--model", "general", "--onnx", str(tmp_path)], "is a folder"),
        (["export", "--model", "general", "--onnx", str(tmp_path / "no" / "m.onnx")],
         "does not exist"),
        (["eval", "--model", "general", "--data", str(tmp_path), "--json-out", str(tmp_path)],
         "is a folder"),
        (["label", str(tmp_path), "--port", "70000"], "a port is 0 to 65535"),
    ):  # fmt: skip
        with pytest.raises(SystemExit) if "--port" in argv else _no_exit():
            assert main(argv) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, argv
    assert picture.read_bytes() == b"\x89PNG not really"


def test_models_lists_the_shipped_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines][:2] == ["default", "general"]
    assert {"words", "captcha", "letters", "auto"} <= {line.split()[0] for line in lines}


def test_a_reader_that_leaves_the_pipe_costs_no_traceback() -> None:
    """`ocrlab models | head -0`: what is left unread is dropped quietly, exit status 141 as a
    shell's; the pipe has no reader before the command writes, whatever it prints."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "ocrlab.cli", "models"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141, err
    assert err == ""


def test_eval_says_what_it_scores_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrlab import render

    words = tmp_path / "words"
    words.mkdir()
    render("ab3de", style="easy").save(words / "ab3de.png")
    cases = {
        ("auto", str(words)): "auto chooses the letters or the words model",
        ("letters", str(words)): "not among the model's 26 classes ('A', 'B'",
        ("captcha", str(words / "ab3de.png")): "is a file, not a dataset folder",
    }
    for (model, data), said in cases.items():
        assert main(["eval", "--model", model, "--data", data]) == 2
        assert said in capsys.readouterr().err


def test_an_os_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ocrlab import render

    render("ab3de", style="easy").save(tmp_path / "a.png")
    (tmp_path / "file").write_text("")
    assert main(["read", str(tmp_path / "a.png"), "--debug", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocrlab: error: Not a directory") and err.count("\n") == 1


def test_odd_numbers_and_a_file_for_a_model_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrlab import render

    image = tmp_path / "a.png"
    render("ab3de", style="easy").save(image)
    data = ["--data", str(tmp_path)]
    for argv in (["read", str(image), "--top-k", "0"],
                 ["eval", "--model", "general", *data, "--workers", "-3"]):  # fmt: skip
        with pytest.raises(SystemExit):
            main(argv)
        assert "at least 1" in capsys.readouterr().err
    assert main(["read", str(image), "--model", str(image)]) == 2
    assert "is a file, not a trained model" in capsys.readouterr().err
    args = ["train", "finetune", "--data", str(tmp_path), "--out", str(tmp_path / "r")]
    assert main([*args, "--time-budget", "-1"]) == 2
    assert "time budget" in capsys.readouterr().err
