"""Draw one CAPTCHA of a given text, in a named style: `render(text, style, seed)` → Pillow image.

The `captcha` library's `generate(text)`, for ocrlab's own looks: `STYLES` maps a name to a
drawing function `(text, seed) -> Image`; "easy" and "hard" draw like the dataset presets of the
same names (`ocrlab.synth.plan.PRESETS`): one of the bundled fonts, a background, an ink colour
and a noise level, all drawn from `seed`, through the generator's own `render`. A new style is
one entry. NumPy and Pillow only.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from ocrlab.errors import ConfigError
from ocrlab.rng import SAMPLES, make_rng
from ocrlab.synth import backgrounds
from ocrlab.synth.fonts import check_fonts, load_font, resolve_fonts
from ocrlab.synth.plan import PRESETS
from ocrlab.synth.render import COLOURS, Canvas, Style, render

StyleFn = Callable[[str, int], Image.Image]
CANVAS = Canvas(48, 336)
"""The smallest canvas drawn: that of the shipped words model's training set (a longer text
gets a wider one), so the shipped readers see text placed as they were trained on."""


def preset_style(preset: str) -> StyleFn:
    """A style that draws like the dataset preset `preset`, with the text's own casing."""
    cfg = PRESETS[preset]

    def draw(text: str, seed: int) -> Image.Image:
        if not text or text != text.strip() or "\n" in text:
            raise ConfigError(f"render draws one line of text without outer spaces, got {text!r}")
        fonts = resolve_fonts(None)
        check_fonts(fonts, text, cfg.font_size)
        rng = make_rng(seed, SAMPLES)
        font = load_font(fonts[int(rng.integers(len(fonts)))].path, cfg.font_size)
        left, top, right, bottom = font.getbbox(text, anchor="ls")  # this text, as drawn
        need = (int(bottom - top) + 2 * cfg.margin, int(right - left) + 2 * cfg.margin)
        canvas = Canvas(max(need[0], CANVAS.height), max(need[1], CANVAS.width))
        texture = cfg.backgrounds[int(rng.integers(len(cfg.backgrounds)))]
        background = backgrounds.make_texture(texture, rng, canvas.height, canvas.width)
        style = Style(
            COLOURS[cfg.colours[int(rng.integers(len(cfg.colours)))]],
            cfg.noise_levels[int(rng.integers(len(cfg.noise_levels)))],
            jitter=cfg.kind == "hard",
        )
        return Image.fromarray(render(text, font, background, style, rng))

    return draw


STYLES: dict[str, StyleFn] = {
    "easy": preset_style("easy"),
    "hard": preset_style("hard"),
}


def render_text(text: str, style: str = "easy", seed: int = 0) -> Image.Image:
    """One image of `text` in the named style; the same (text, style, seed), the same pixels."""
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; choose from {sorted(STYLES)}")
    return STYLES[style](text, seed)
