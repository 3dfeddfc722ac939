"""The one Charset and Tokenizer, shared by the generator, the models, the label maps and the API.

Character-level tokens with four specials, as the text generator of "Breaking CAPTCHA" uses: `<pad>`
fills a sequence to a fixed length, `<bos>` starts it, `<eos>` ends it, and `<unk>` stands for a
character outside the charset when decoding is lenient. Encoding is strict: a label with a character
the model cannot spell is a clear error listing the characters, never a silent `<unk>`. Pure Python.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from ocrlab.errors import ConfigError, DatasetError

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")

NAMED: dict[str, str] = {
    "digits": string.digits,
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "alnum": string.digits + string.ascii_lowercase + string.ascii_uppercase,
    "alnum-lower": string.digits + string.ascii_lowercase,
}


@dataclass(frozen=True)
class Charset:
    """Ordered distinct characters; token id = 4 + position (ids 0-3 are the specials)."""

    chars: str

    def __post_init__(self) -> None:
        if not self.chars:
            raise ConfigError("a charset needs at least one character")
        if len(set(self.chars)) != len(self.chars):
            raise ConfigError(f"the charset repeats characters: {self.chars!r}")
        if any(c.isspace() and c != " " for c in self.chars):
            raise ConfigError("the charset may not contain tabs or newlines")

    @classmethod
    def parse(cls, spec: str) -> Charset:
        """A user's charset: names of `NAMED` joined by '+' (or ',' or a space, as a URL turns
        '+' into one), e.g. 'digits+upper', else the characters themselves, each once. A part that
        is or looks like a name beside other characters ('digits+hex', 'digit') is an error, not
        an alphabet of the letters d, i, g, t."""
        parts = [p for p in re.split(r"[+,\s]+", spec.strip()) if p]
        if parts and all(p in NAMED for p in parts):
            return cls("".join(dict.fromkeys("".join(NAMED[p] for p in parts))))
        for part in parts:
            close = difflib.get_close_matches(part.lower(), NAMED, n=1, cutoff=0.75)
            if part not in NAMED and (close or any(p in NAMED for p in parts)):
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"unknown charset name {part!r}{guess}; names: {', '.join(NAMED)}, joined "
                    "with +; or give the characters themselves, e.g. 0123456789abcdef"
                )
        return cls("".join(dict.fromkeys(spec)))

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Charset:
        """The characters that occur in `texts`, sorted by code point."""
        return cls("".join(sorted({c for t in texts for c in t})))

    @property
    def size(self) -> int:
        """Vocabulary size including the specials."""
        return len(SPECIALS) + len(self.chars)

    def missing(self, texts: Iterable[str]) -> str:
        """Characters of `texts` that this charset cannot spell, sorted."""
        known = set(self.chars)
        return "".join(sorted({c for t in texts for c in t if c not in known}))


def carried_rows(old: str, new: str) -> tuple[list[int], list[int]]:
    """Token rows a model of charset `old` hands to one of charset `new` (source rows, target
    rows): the specials, then each character of `new` that `old` spells, matched by character,
    not by position. Characters new to `new` are in neither list (they get fresh rows)."""
    kept = [(old.index(c), i) for i, c in enumerate(new) if c in old]
    specials = list(range(len(SPECIALS)))
    return (specials + [len(SPECIALS) + o for o, _ in kept],
            specials + [len(SPECIALS) + n for _, n in kept])  # fmt: skip


@dataclass(frozen=True)
class Tokenizer:
    """Encode text as `<bos> c1 … cn <eos> <pad> …` of fixed length `max_len + 2`, and back."""

    charset: Charset
    max_len: int

    def __post_init__(self) -> None:
        if self.max_len < 1:
            raise ConfigError(f"max_len must be at least 1, got {self.max_len}")

    @cached_property
    def ids(self) -> dict[str, int]:
        """Token id of each character."""
        return {c: i + len(SPECIALS) for i, c in enumerate(self.charset.chars)}

    @property
    def length(self) -> int:
        """Tokens per encoded sequence: max_len characters plus `<bos>` and `<eos>`."""
        return self.max_len + 2

    def check(self, texts: Sequence[str]) -> None:
        """Raise DatasetError for empty labels, unknown characters or labels that are too long."""
        empty = sum(1 for t in texts if not t)
        if empty:
            raise DatasetError(f"{empty} label(s) are empty")
        missing = self.charset.missing(texts)
        if missing:
            raise DatasetError(f"labels use characters outside the charset: {missing!r}")
        longest = max(texts, key=len)
        if len(longest) > self.max_len:
            raise DatasetError(
                f"label {longest!r} has {len(longest)} characters; the model reads at most "
                f"{self.max_len}"
            )

    def encode(self, text: str) -> list[int]:
        self.check([text])
        body = [BOS, *(self.ids[c] for c in text), EOS]
        return body + [PAD] * (self.length - len(body))

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        self.check(texts)
        return [self.encode(t) for t in texts]

    def decode(self, ids: Iterable[int]) -> str:
        """Characters up to the first `<eos>`; `<bos>` and `<pad>` are skipped, unknown ids → ''."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= len(SPECIALS) and i - len(SPECIALS) < len(self.charset.chars):
                out.append(self.charset.chars[i - len(SPECIALS)])
        return "".join(out)
