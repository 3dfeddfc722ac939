"""Fuzzed text inputs: charsets and the tokenizer, manifests, labels.csv / labels.txt, `--set`
values and documents for the vocabulary. Each either works or raises `UserError`; nothing else."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocrlab.charset import Charset, Tokenizer
from ocrlab.config import parse_overrides, replace
from ocrlab.data.load import folder_labels
from ocrlab.data.manifest import COLUMNS, read_manifest
from ocrlab.errors import UserError
from ocrlab.synth import GenerateConfig
from ocrlab.synth.letters_eval import LettersEvalConfig
from ocrlab.synth.vocab import Vocab, read_document, vocab_from_document
from ocrlab.train.classifier import ClassifierConfig
from ocrlab.train.sequence import SeqConfig


def works_or_user_error(step: Callable[[], Any]) -> Any:
    try:
        return step()
    except UserError as exc:
        assert str(exc), repr(exc)
        return None


@given(st.text(max_size=40), st.text(max_size=30), st.integers(-2, 40))
def test_charset_and_tokenizer(chars: str, text: str, max_len: int) -> None:
    charset = works_or_user_error(lambda: Charset(chars))
    tokenizer = charset and works_or_user_error(lambda: Tokenizer(charset, max_len))
    if tokenizer is None:
        return
    if works_or_user_error(lambda: tokenizer.check([text])) is None:
        return
    ids = tokenizer.encode(text)
    assert len(ids) == tokenizer.length and tokenizer.decode(ids) == text


@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), max_size=80))
def test_charset_from_any_texts_round_trips_them(texts: list[str]) -> None:
    charset = works_or_user_error(lambda: Charset.from_texts(texts))
    if charset is not None:
        assert charset.missing(texts) == ""


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _file(root: Path, data: bytes, name: str) -> Path:
    """A new folder under `root` holding `name` with `data`."""
    folder = Path(tempfile.mkdtemp(dir=root))
    (folder / name).write_bytes(data)
    return folder


HEADER = (",".join(COLUMNS) + "\n").encode()
CSV_BYTES = st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=st.sampled_from('ab1,"\n\r\x00é;\t.-'), max_size=200).map(str.encode),
)


@given(CSV_BYTES, st.booleans())
def test_manifest(scratch: Path, body: bytes, with_header: bool) -> None:
    folder = _file(scratch, (HEADER if with_header else b"") + body, "manifest.csv")
    rows = works_or_user_error(lambda: read_manifest(folder / "manifest.csv"))
    assert rows is None or all(isinstance(r.noise, float) for r in rows)


@given(CSV_BYTES, st.sampled_from(("labels.csv", "labels.txt")))
def test_labels_file(scratch: Path, body: bytes, name: str) -> None:
    folder = _file(scratch, body, name)
    (folder / "a.png").write_bytes(b"")  # a file the labels may name
    pairs = works_or_user_error(lambda: folder_labels(folder))
    assert pairs is None or all(path.is_file() and label.strip() for path, label in pairs)


CONFIGS = (GenerateConfig(), ClassifierConfig(), SeqConfig(), LettersEvalConfig())
KEYS = st.sampled_from(
    ["words", "limit", "seed", "font_size", "noise_levels", "colours", "height", "width",
     "train.epochs", "train.lr", "train.optimizer", "train.cpu_amp", "input_height", "dropout",
     "max_len", "charset", "letters", "max_size", "nope", "train.nope", "nope.deeper", ""]
)  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["0", "-1", "1e400", "nan", "inf", "[1, 2]", "[]", '"x"', "{a = 1}",
                     "true", "2026-01-01", "0x10", "[[1]]", "'''", "1.5", "99999999999999999999"]),
)  # fmt: skip


@given(st.sampled_from(CONFIGS), st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=3))
def test_set_values(config: Any, pairs: list[tuple[str, str]]) -> None:
    overrides = works_or_user_error(lambda: parse_overrides([f"{k}={v}" for k, v in pairs]))
    if overrides is not None:
        works_or_user_error(lambda: replace(config, overrides))


DOCUMENTS = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["the", "Cat", "x", "1999", "naïve", "--", "\n", "é"]), max_size=60)
    .map(" ".join)
    .map(str.encode),
)


@given(st.sampled_from((".txt", ".md", ".pdf", ".docx", ".odt", "")), DOCUMENTS)
def test_documents_for_the_vocabulary(scratch: Path, suffix: str, data: bytes) -> None:
    path = _file(scratch, data, f"doc{suffix}") / f"doc{suffix}"
    if works_or_user_error(lambda: read_document(path)) is not None:
        vocab = works_or_user_error(lambda: vocab_from_document(path, 5))
        assert vocab is None or 0 < len(vocab) <= 5


@given(st.text(max_size=120))
def test_vocab_json(text: str) -> None:
    vocab = works_or_user_error(lambda: Vocab.from_json(text))
    assert vocab is None or len(vocab) > 0
