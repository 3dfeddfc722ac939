from __future__ import annotations

from pathlib import Path

import pytest

from ocrlab.errors import VocabError
from ocrlab.synth.vocab import (
    Vocab,
    english_words,
    read_document,
    select,
    tokenize,
    vocab_from_document,
)

TEXT = (
    "Optical OCR, optical! The state-of-the-art see https://x.org/a?b=1 or mail a@b.com; "
    "42 café OCR"
)


def test_tokenize_drops_links_punctuation_and_splits_hyphens() -> None:
    assert tokenize(TEXT) == [
        "optical",
        "ocr",
        "optical",
        "the",
        "state",
        "of",
        "the",
        "art",
        "see",
        "or",
        "mail",
        "42",
        "ocr",
    ]


def test_tokenize_folds_ligatures() -> None:
    assert tokenize("ﬁnal ＯＣＲ") == ["final", "ocr"]


def test_dedup_is_case_insensitive_and_keeps_first_occurrence_order() -> None:
    words = select(tokenize(TEXT), None, min_length=2)
    assert words == ["optical", "ocr", "the", "state", "of", "art", "see", "or", "mail", "42"]


def test_frequency_order_breaks_ties_by_first_occurrence() -> None:
    assert select(tokenize(TEXT), 4, order="frequency", min_length=2) == [
        "optical",
        "ocr",
        "the",
        "state",
    ]


def test_min_length_filters() -> None:
    assert all(len(w) >= 4 for w in select(tokenize(TEXT), None, min_length=4))


def test_bundled_document_gives_100_stable_words() -> None:
    a, b = vocab_from_document(), vocab_from_document()
    assert len(a) == 100 and a.words == b.words
    assert a.label("OPTICAL") == 0


def test_vocab_json_round_trip() -> None:
    v = vocab_from_document(n=20)
    assert Vocab.from_json(v.to_json()) == v


def test_vocab_rejects_duplicates_and_upper_case() -> None:
    with pytest.raises(VocabError):
        Vocab(("a", "a"))
    with pytest.raises(VocabError):
        Vocab(("Word",))
    with pytest.raises(VocabError):
        Vocab(())


def test_docx_document(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("Recognition of printed characters")
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "tables count too"
    doc.save(str(tmp_path / "a.docx"))
    words = select(tokenize(read_document(tmp_path / "a.docx")), None)
    assert words == ["recognition", "printed", "characters", "tables", "count", "too"]


def test_pdf_document(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, "Reading scanned documents")
    fig.savefig(tmp_path / "a.pdf")
    plt.close(fig)
    assert tokenize(read_document(tmp_path / "a.pdf")) == ["reading", "scanned", "documents"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "contains no words"),
        ("junk.txt", b"!!! ??? ---", "contains no words"),
        ("bin.txt", b"\xff\xfe\x00\x81", "not UTF-8"),
        ("bad.pdf", b"%PDF-1.4 garbage", "cannot read PDF"),
        ("bad.docx", b"PK garbage", "cannot read DOCX"),
        ("a.rtf", b"{\\rtf1}", "unsupported document type"),
    ],
)
def test_bad_documents(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(VocabError, match=message):
        vocab_from_document(tmp_path / name, n=1)


def test_too_few_words(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one two three four")
    with pytest.raises(VocabError, match="only 4 distinct words"):
        vocab_from_document(tmp_path / "a.txt", n=5)


def test_english_word_list_is_large_and_sorted() -> None:
    words = english_words()
    assert len(words) >= 10_000 and words == sorted(words)
    assert all(w.isalpha() and w.islower() for w in words[:1000])
