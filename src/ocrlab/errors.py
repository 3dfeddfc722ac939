"""User-facing errors.

Every mistake a user can make (a bad flag, a missing file, a corrupt image, a font without a glyph)
raises a subclass of `UserError` carrying one clear sentence. The CLI prints that sentence without a
traceback and exits with status 2; library callers catch `UserError` to tell user mistakes from
bugs. Imports nothing from ocrlab.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input, explained in one sentence."""


class ConfigError(UserError):
    """An invalid configuration value, an unknown key or an absurd size."""


class VocabError(UserError):
    """A document that yields no usable vocabulary, or too few words."""


class FontError(UserError):
    """A missing or corrupt font, or one that lacks glyphs it must draw."""


class DatasetError(UserError):
    """A dataset folder that is missing, incomplete, corrupt or not ours to overwrite."""


class ImageError(UserError):
    """An image that cannot be decoded, is too large, or has an unusable shape."""


class BlankImageError(ImageError):
    """An image with nothing to read: one colour, or no ink at all."""
