"""Fixtures for the synth tests: many fonts, from what matplotlib always ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrlab.synth.fonts import load_font, matplotlib_font_dir, missing_glyphs

LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture(scope="session")
def many_fonts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder linking every matplotlib font that draws a-z and A-Z: wide bold faces, narrow
    and monospaced ones, italics with overhanging strokes (over twenty in all)."""
    folder = tmp_path_factory.mktemp("many-fonts")
    for path in sorted(matplotlib_font_dir().glob("*.ttf")):
        if not missing_glyphs(load_font(path, 32), LATIN):
            (folder / path.name).symlink_to(path)
    return folder
