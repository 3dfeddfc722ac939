"""A hint: what a user knows of a scheme's text before reading it, its characters and its length.

Most CAPTCHA schemes spell one alphabet at one length, and whoever reads them knows both. Told
(`ocrlab read --charset alnum-lower --length 5`), a line model decodes only the paths that obey
(`ocrlab.runtime.ctc.ctc_constrained`): a stroke across a CAPTCHA stops being read as a sixth
character, and an `O` cannot stand for the `o` of a lower-case scheme. The model is unchanged and
nothing is trained. A hint also says how hard to look: `thorough` (`ocrlab read --thorough`) has
the model read each line in several views and keep the reading they agree on
(`ocrlab.read.predictor.read_views`), and `colour=False` (`ocrlab read --no-colour`) keeps a model
that looks again in colour at the unsure lines of colour images from doing so, for speed
(`ocrlab.read.predictor.colour_look`). Sequence and letter models decode otherwise and take no
hint.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocrlab.charset import SPECIALS, Charset
from ocrlab.errors import ConfigError
from ocrlab.read.auto import Reader

MAX_LENGTH = 64
"""The longest text a hint may ask for: a line of 1,024 columns holds some 60 characters."""


@dataclass(frozen=True)
class Hint:
    """Characters the text may use (empty: any the model spells) and its length (fewest, most;
    None: any); and how hard to look: `thorough` reads each line in several views
    (`ocrlab.runtime.line.VIEWS`) and keeps the reading they agree on, for seven times the work;
    `colour` False reads grey only, without a model's second look in colour (`Checkpoint.colour`),
    which costs a colour CAPTCHA's unsure lines a second reading."""

    charset: str = ""
    lengths: tuple[int, int] | None = None
    thorough: bool = False
    colour: bool = True

    @property
    def for_lines(self) -> bool:
        """Whether the hint asks what only a line model does: a charset, a length or a thorough
        reading (reading without the look in colour is every other model's way anyway)."""
        return bool(self.charset) or self.lengths is not None or self.thorough

    def __post_init__(self) -> None:
        if self.lengths is not None:
            fewest, most = self.lengths
            if not 1 <= fewest <= most <= MAX_LENGTH:
                raise ConfigError(
                    f"a length hint needs 1 <= fewest <= most <= {MAX_LENGTH}, got {fewest}-{most}"
                )

    @classmethod
    def parse(
        cls,
        charset: str | None = None,
        length: int | str | Sequence[int] | None = None,
        thorough: bool = False,
        colour: bool = True,
    ) -> Hint | None:
        """A hint from user words: `charset` as `Charset.parse` reads it ('digits+upper' or the
        characters themselves); `length` N, 'N', 'A-B' or (A, B).
        None when none is given (an empty string gives nothing, as a blank form field)."""
        if length == "":
            length = None
        if not charset and length is None and not thorough and colour:
            return None
        return cls(
            Charset.parse(charset).chars if charset else "",
            None if length is None else _lengths(length),
            thorough,
            colour,
        )

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
    reader given keeps decoding freely). Any other reader is refused a hint that asks for a line
    model (`Hint.for_lines`), and given back as it is for one that only says not to look in
    colour: it never does."""
    if hint is None:
        return reader
    if getattr(reader, "kind", None) != "line" or not hasattr(reader, "hint"):
        if not hint.for_lines:
            return reader
        raise ConfigError(
            "a charset or length hint, or a thorough reading, is for a line model (the general "
            "reader, a fine-tuned one or its export); this model reads otherwise"
        )
    hint.tokens(reader.checkpoint.charset)  # type: ignore[attr-defined]  # fail before reading
    out = copy.copy(reader)
    out.hint = hint
    return out


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
