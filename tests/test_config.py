from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ocrlab.config import flatten, from_dict, load_toml, parse_overrides, replace, to_dict
from ocrlab.errors import ConfigError
from ocrlab.synth import PRESETS, GenerateConfig


def test_round_trip_through_dict() -> None:
    cfg = PRESETS["hard"]
    assert from_dict(GenerateConfig, to_dict(cfg)) == cfg


def test_overrides_are_parsed_as_toml_and_type_checked() -> None:
    got = replace(
        PRESETS["easy"],
        parse_overrides(
            ["font_size=28", 'backgrounds=["wood"]', "noise_levels=[0, 5]", "vocab=english"]
        ),
    )
    assert got.font_size == 28 and got.backgrounds == ("wood",) and got.noise_levels == (0.0, 5.0)
    assert got.vocab == "english"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nope": 1}, "unknown GenerateConfig key"),
        ({"kind": "medium"}, "kind must be one of"),
        ({"words": True}, "words must be an integer"),
        ({"words": 2.5}, "words must be int"),
        ({"backgrounds": "wood"}, "backgrounds must be a list"),
        ({"backgrounds": ["velvet"]}, "unknown backgrounds"),
        ({"colours": ["pink"]}, "colours must be among"),
        ({"upper_prob": 2.0}, "upper_prob"),
        ({"height": 64}, "give both height and width"),
    ],
)
def test_bad_values_are_rejected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        replace(PRESETS["hard"], overrides)


def test_malformed_override_and_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_overrides(["font_size"])
    (tmp_path / "c.toml").write_text("words = [")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_toml(tmp_path / "c.toml")
    (tmp_path / "ok.toml").write_text('words = 10\nbackgrounds = ["kraft"]\n')
    assert replace(PRESETS["hard"], load_toml(tmp_path / "ok.toml")).words == 10
    assert flatten({"a": 1, "train": {"epochs": 3, "opt": {"lr": 0.1}}}) == {
        "a": 1,
        "train.epochs": 3,
        "train.opt.lr": 0.1,
    }


@dataclass(frozen=True)
class Inner:
    epochs: int = 3


@dataclass(frozen=True)
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)


def test_nested_sections_and_dotted_keys() -> None:
    assert replace(Outer(), {"inner.epochs": 7}).inner.epochs == 7
    assert from_dict(Outer, {"inner": {"epochs": 2}}) == Outer("x", Inner(2))
    with pytest.raises(ConfigError, match="unknown Inner key"):
        replace(Outer(), {"inner.bogus": 1})
    with pytest.raises(ConfigError, match="unknown Outer section"):
        replace(Outer(), {"name.x": 1})
    with pytest.raises(ConfigError, match="must be a table"):
        from_dict(Outer, {"inner": 5})
