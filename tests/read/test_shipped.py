"""The letters model shipped in the package: the 'S' failure of "Letter Recognition", fixed; words;
`auto`.

These must run wherever ocrlab is installed: a missing model is a failure, never a skip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocrlab.cli import main
from ocrlab.read.letters import LetterReader
from ocrlab.read.predictor import Predictor
from ocrlab.runtime.binarise import PreprocessConfig, binarise, working_image
from ocrlab.runtime.segment import components
from ocrlab.runtime.shipped import shipped_folder

Draw = Callable[..., np.ndarray]


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    run = shipped_folder("letters")
    assert (run / "checkpoint.json").is_file(), f"the letters model is not shipped in {run}"
    return Predictor.load(run, "cpu")


def test_the_seeds_S_fails_resized_naively_and_reads_through_the_pipeline(
    shipped: Predictor, draw: Draw, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = draw("S", (25, 110, 55), (190, 214, 245), size=90, font="DejaVuSerif-Bold.ttf")
    (naive,) = shipped.read_batch(shipped.preprocess([image]), top_k=5)
    assert naive.text != "S"  # "Letter Recognition" read its 'S' as [Q, G, A, M, W]
    Image.fromarray(image).save(tmp_path / "s.png")
    assert main(["read", str(tmp_path / "s.png"), "--model", "letters", "--json"]) == 0
    (reading,) = json.loads(capsys.readouterr().out)
    assert reading["text"] == "S" and reading["confidence"] > 0.5


def test_words_and_two_lines_in_held_out_fonts(
    shipped: Predictor, draw: Draw, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.fromarray(draw("QUIZ", (242, 242, 232), (40, 48, 62), font="cmb10.ttf")).save(
        tmp_path / "quiz.png"
    )
    Image.fromarray(draw("JAM\nBOX", (105, 40, 135), (252, 242, 170), tracking=10)).save(
        tmp_path / "two.png"
    )
    paths = [str(tmp_path / "quiz.png"), str(tmp_path / "two.png")]
    assert main(["read", *paths, "--model", "letters", "--json"]) == 0
    assert [r["text"] for r in json.loads(capsys.readouterr().out)] == ["QUIZ", "JAM\nBOX"]
    assert main(["read", paths[0], "--model", "auto"]) == 0
    assert "QUIZ" in capsys.readouterr().out.upper()


def test_held_out_set_naive_fails_and_the_pipeline_reads(
    shipped: Predictor, tmp_path: Path
) -> None:
    from ocrlab.read.evaluate import evaluate_letters
    from ocrlab.synth.letters_eval import LettersEvalConfig, make_letters_eval

    make_letters_eval(LettersEvalConfig(letters=26, words=4, lines=1, seed=7), tmp_path / "set")
    metrics = evaluate_letters(LetterReader(shipped), tmp_path / "set", shipped)
    # the plain grayscale resize of "Letter Recognition"
    assert metrics["naive_letter"]["exact"] <= 0.3
    assert metrics["letter"]["exact"] >= 0.9 and metrics["multi"]["exact"] >= 0.75


@pytest.mark.parametrize(("text", "tracking"), [("DOG", -14), ("HEN", -12), ("HEN", -14)])
def test_touching_letters_are_cut_where_the_model_agrees(
    shipped: Predictor, draw: Draw, text: str, tracking: int
) -> None:
    image = draw(text, tracking=tracking)
    config = PreprocessConfig()
    assert components(binarise(working_image(image, config), config))[1] == 1  # they touch
    assert LetterReader(shipped).read_one(image).text == text
