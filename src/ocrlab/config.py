"""Frozen-dataclass configuration: strict loading from dicts, TOML and `key=value` overrides.

Every config in ocrlab is a frozen dataclass with documented defaults and `Literal` choices. This
module turns untrusted input (a JSON file saved beside a dataset, a TOML file, `--set key=value`
flags) into such a dataclass, checking every type and rejecting unknown keys, so a typo is an error
rather than a silent default. Imports the standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from ocrlab.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

C = TypeVar("C")


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build `cls` from `data`, checking every value's type; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} key(s) {unknown}; valid keys: {sorted(names)}")
    values = {k: _coerce(v, hints[k], k) for k, v in data.items()}
    return cls(**values)


def replace(config: C, overrides: dict[str, Any]) -> C:
    """A copy of `config` with `overrides` applied and type-checked; `a.b` reaches nested ones."""
    data = to_dict(config)
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = data
        for name in parents:
            if not isinstance(node.get(name), dict):
                raise ConfigError(f"unknown {type(config).__name__} section {name!r} in {key!r}")
            node = node[name]
        node[leaf] = value
    return from_dict(type(config), data)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Parse `key=value` strings: a value that parses as TOML is TOML, else a string."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected key=value, got {pair!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def load_toml(path: Path) -> dict[str, Any]:
    """The table of a TOML config file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables → dotted keys (`{"train": {"epochs": 3}}` → `{"train.epochs": 3}`), the form
    `replace` takes, so a TOML file overrides single fields of a section, not the whole section."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key} must be one of {list(args)}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError("; ".join(errors))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table of {hint.__name__} settings, got {value!r}")
        return from_dict(hint, value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        item = args[0] if args else Any
        return tuple(_coerce(v, item, key) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is Any or (isinstance(hint, type) and isinstance(value, hint)):
        if hint is int and isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    raise ConfigError(f"{key} must be {getattr(hint, '__name__', hint)}, got {value!r}")
