"""Vocabularies: the words a dataset draws, taken from a document or a word list.

The author of "Breaking CAPTCHA" lost time to two mistakes here: words duplicated by case ("Optical"
and "optical") and a numbering that changed between runs because it came from a set. Here words are
lower-cased before they are de-duplicated, order is first occurrence (or frequency, ties by first
occurrence), and the numbering is saved with every dataset (`vocab.json`). Imports the standard
library, and pypdf / python-docx lazily for documents.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from ocrlab.errors import VocabError

Order = Literal["first", "frequency"]

_LINK = re.compile(r"(?:https?://|ftp://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9]+")
DEFAULT_DOCUMENT = "ocr.md"


@dataclass(frozen=True)
class Vocab:
    """An ordered list of distinct lower-case words; a word's label is its position."""

    words: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.words:
            raise VocabError("the vocabulary is empty")
        bad = [w for w in self.words if not w or w != w.lower() or not _TOKEN.fullmatch(w)]
        if bad:
            raise VocabError(f"vocabulary words must be lower-case letters and digits: {bad[:5]}")
        if len(set(self.words)) != len(self.words):
            dupes = sorted(w for w, n in Counter(self.words).items() if n > 1)
            raise VocabError(f"the vocabulary repeats words: {dupes[:5]}")

    def __len__(self) -> int:
        return len(self.words)

    def label(self, word: str) -> int:
        """The class index of `word` (any case)."""
        try:
            return self.words.index(word.lower())
        except ValueError:
            raise VocabError(f"{word!r} is not in the vocabulary") from None

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "words": list(self.words)}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        try:
            data = json.loads(text)
            return cls(tuple(data["words"]), str(data.get("source", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise VocabError(f"not a vocab.json file: {exc}") from None


def tokenize(text: str) -> list[str]:
    """Lower-case words and numbers in document order: no links, punctuation or hyphens.

    NFKC folds ligatures and full-width forms (common in PDF text) into plain letters first;
    hyphenated compounds split into their parts; tokens with letters outside A-Z (e.g. "café") are
    dropped whole rather than cut into fragments.
    """
    text = _LINK.sub(" ", unicodedata.normalize("NFKC", text))
    words = []
    for raw in re.findall(r"[^\W_]+", text):
        if _TOKEN.fullmatch(raw):
            words.append(raw.lower())
    return words


def read_document(path: Path) -> str:
    """Plain text of a .txt, .md, .pdf or .docx file."""
    if not path.is_file():
        raise VocabError(f"document not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".txt", ".md", ".text", ""):
            return path.read_text(encoding="utf-8")
        if suffix == ".pdf":
            return _read_pdf(path)
        if suffix == ".docx":
            return _read_docx(path)
    except UnicodeDecodeError:
        raise VocabError(f"{path} is not UTF-8 text") from None
    raise VocabError(
        f"unsupported document type {suffix!r} for {path}; use .txt, .md, .pdf or .docx"
    )


def _read_pdf(path: Path) -> str:
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(path)
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, OSError, ValueError, KeyError) as exc:
        raise VocabError(f"cannot read PDF {path}: {exc}") from None


def _read_docx(path: Path) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise VocabError(f"cannot read DOCX {path}: {exc}") from None
    cells = (c.text for t in document.tables for row in t.rows for c in row.cells)
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def select(
    tokens: Sequence[str],
    n: int | None,
    *,
    order: Order = "first",
    min_length: int = 3,
    max_length: int = 20,
) -> list[str]:
    """Pick up to `n` distinct words (all when None) with min_length ≤ len ≤ max_length."""
    counts = Counter(tokens)
    first = list(dict.fromkeys(t for t in tokens if min_length <= len(t) <= max_length))
    if order == "frequency":
        rank = {w: i for i, w in enumerate(first)}
        first.sort(key=lambda w: (-counts[w], rank[w]))
    return first if n is None else first[:n]


def vocab_from_document(
    path: Path | None = None,
    n: int = 100,
    *,
    order: Order = "first",
    min_length: int = 3,
    max_length: int = 20,
) -> Vocab:
    """The first (or most frequent) `n` distinct words of a document; the bundled one by default."""
    if path is None:
        text = (
            resources.files("ocrlab.synth").joinpath("assets", DEFAULT_DOCUMENT).read_text("utf-8")
        )
        source = f"ocrlab:{DEFAULT_DOCUMENT}"
    else:
        text, source = read_document(path), str(path)
    tokens = tokenize(text)
    if not tokens:
        raise VocabError(f"{source} contains no words")
    words = select(tokens, n, order=order, min_length=min_length, max_length=max_length)
    if len(words) < n:
        raise VocabError(
            f"{source} has only {len(words)} distinct words of {min_length}-{max_length} "
            f"characters, {n} were asked for"
        )
    return Vocab(tuple(words), source)


def english_words(min_length: int = 3, max_length: int = 12) -> list[str]:
    """A large sorted English word list (web2, lower-case, letters only) for open-vocabulary
    training."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], lower=True, alpha=True)
    return sorted(w for w in words if min_length <= len(w) <= max_length and w.isascii())


def vocab_from_words(words: Iterable[str], source: str) -> Vocab:
    """A vocabulary from an explicit list, normalised like a document's."""
    return Vocab(tuple(dict.fromkeys(w.lower() for w in words)), source)
