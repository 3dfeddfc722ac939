from __future__ import annotations

import random
import string

import pytest

from ocrlab.charset import BOS, EOS, PAD, Charset, Tokenizer
from ocrlab.errors import ConfigError, DatasetError


def test_round_trip_and_layout() -> None:
    tok = Tokenizer(Charset.parse("alnum"), max_len=8)
    ids = tok.encode("aB3")
    assert ids[0] == BOS and ids[4] == EOS and ids[5:] == [PAD] * 5 and len(ids) == tok.length
    assert tok.decode(ids) == "aB3"
    rng = random.Random(0)
    for _ in range(200):
        text = "".join(rng.choice(tok.charset.chars) for _ in range(rng.randint(1, 8)))
        assert tok.decode(tok.encode(text)) == text


def test_case_sensitive_by_default() -> None:
    tok = Tokenizer(Charset.parse("alnum"), 4)
    assert tok.encode("a") != tok.encode("A")


@pytest.mark.parametrize(
    ("texts", "message"),
    [([""], "empty"), (["ab!"], "outside the charset: '!'"), (["abcdefghi"], "at most 8")],
)
def test_bad_labels(texts: list[str], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        Tokenizer(Charset.parse("alnum"), 8).encode_batch(texts)


def test_charsets() -> None:
    assert Charset.from_texts(["2b827", "bx"]).chars == "278bx"
    assert Charset.parse("digits").size == 14
    with pytest.raises(ConfigError):
        Charset("aa")
    assert Charset.parse("digits+upper").chars == string.digits + string.ascii_uppercase
    assert Charset.parse("digits, lower") == Charset.parse("digits+lower")  # a URL's '+'
    assert Charset.parse("abca").chars == "abc"  # the characters themselves, each once
    assert Charset.parse("ab+cd").chars == "ab+cd"  # no part is a name: characters
    with pytest.raises(ConfigError, match="did you mean 'digits'"):
        Charset.parse("digit")  # a mistyped name, not the characters d, i, g, t
    with pytest.raises(ConfigError, match="unknown charset name 'hex'"):
        Charset.parse("digits+hex")
    with pytest.raises(ConfigError):
        Tokenizer(Charset("a"), 0)


def test_decode_stops_at_eos_and_skips_specials() -> None:
    tok = Tokenizer(Charset("ab"), 4)
    assert tok.decode([BOS, 4, PAD, 5, EOS, 4]) == "ab"
    assert tok.decode([99, 4]) == "a"
