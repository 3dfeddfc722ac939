"""A hint: what a user knows of a scheme's text before reading it, its characters and its length.

Most CAPTCHA schemes spell one alphabet at one length, and whoever reads them knows both. Told
(`ocrlab read --charset alnum-lower --length 5`), a line model decodes only the paths that obey
(`ocrlab.runtime.ctc.ctc_constrained`): a stroke across a CAPTCHA stops being read as a sixth
character, and an `O` cannot stand for the `o` of a lower-case scheme. The model is unchanged and
nothing is trained. Sequence and letter models decode otherwise and take no hint.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocrlab.charset import NAMED, SPECIALS
from ocrlab.errors import ConfigError
from ocrlab.read.auto import Reader

MAX_LENGTH = 64
"""The longest text a hint may ask for: a line of 1,024 columns holds some 60 characters."""


@dataclass(frozen=True)
class Hint:
    """Characters the text may use (empty: any the model spells) and its length (fewest, most;
    None: any)."""

    charset: str = ""
    lengths: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.lengths is not None:
            fewest, most = self.lengths
            if not 1 <= fewest <= most <= MAX_LENGTH:
                raise ConfigError(
                    f"a length hint needs 1 <= fewest <= most <= {MAX_LENGTH}, got {fewest}-{most}"
                )

    @classmethod
    def parse(
        cls, charset: str | None = None, length: int | str | Sequence[int] | None = None
    ) -> Hint | None:
        """A hint from user words: `charset` a name of `ocrlab.charset.NAMED` (several joined by
        '+', e.g. 'digits+upper') or the characters themselves; `length` N, 'N', 'A-B' or (A, B).
        None when neither is given (an empty string gives nothing, as a blank form field)."""
        if length == "":
            length = None
        if not charset and length is None:
            return None
        return cls(_characters(charset or ""), None if length is None else _lengths(length))

    def tokens(self, model_charset: str) -> np.ndarray:
        """The token ids of the characters the hint allows, for a model spelling `model_charset`;
        a character the model cannot spell is an error, not a silent no-op."""
        if not self.charset:
            return np.arange(len(SPECIALS), len(SPECIALS) + len(model_charset))
        unknown = "".join(dict.fromkeys(c for c in self.charset if c not in model_charset))
        if unknown:
            raise ConfigError(
                f"the model cannot spell {unknown!r} of the hinted charset; fine-tune it on "
                "labels that use them (ocrlab train finetune)"
            )
        chars = dict.fromkeys(self.charset)
        return np.array([len(SPECIALS) + model_charset.index(c) for c in chars])


def hinted(reader: Reader, hint: Hint | None) -> Reader:
    """`reader` decoding with `hint`: a copy of a line model's reader sharing its model (the
    reader given keeps decoding freely); any other reader is refused."""
    if hint is None:
        return reader
    if getattr(reader, "kind", None) != "line" or not hasattr(reader, "hint"):
        raise ConfigError(
            "a charset or length hint is for a line model (the general reader, a fine-tuned one "
            "or its export); this model decodes otherwise"
        )
    hint.tokens(reader.checkpoint.charset)  # type: ignore[attr-defined]  # fail before reading
    out = copy.copy(reader)
    out.hint = hint
    return out


def _characters(spec: str) -> str:
    """Named charsets joined by '+' (or ',' or a space: a URL turns '+' into one), else the
    characters themselves; a word that looks like a mistyped name is an error, not a charset."""
    names = [n for n in re.split(r"[+,\s]+", spec.strip()) if n]
    if names and all(n in NAMED for n in names):
        return "".join(dict.fromkeys("".join(NAMED[n] for n in names)))
    for name in names:
        close = difflib.get_close_matches(name.lower(), NAMED, n=1, cutoff=0.75)
        if name not in NAMED and (close or len(names) > 1):
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown charset name {name!r}{guess}; names: {', '.join(NAMED)}, joined with "
                "+; or give the characters themselves, e.g. 0123456789abcdef"
            )
    return "".join(dict.fromkeys(spec))


def _lengths(length: int | str | Sequence[int]) -> tuple[int, int]:
    if isinstance(length, str):
        found = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", length)
        if found is None:
            raise ConfigError(f"a length is N or A-B (e.g. 5 or 4-6), got {length!r}")
        return int(found[1]), int(found[2] or found[1])
    if isinstance(length, int) and not isinstance(length, bool):
        return length, length
    if (
        isinstance(length, Sequence)
        and len(length) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in length)
    ):
        return int(length[0]), int(length[1])
    raise ConfigError(f"a length is N, 'A-B' or (A, B), got {length!r}")
