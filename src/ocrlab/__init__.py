"""ocrlab: make text-image data, train recognisers for it, and read CAPTCHAs and letters.

Importing ocrlab is cheap: it loads neither torch nor matplotlib. The library API lives in the
subpackages (`ocrlab.synth`, `ocrlab.data`, `ocrlab.scratch`, ...); the `ocrlab` command is a thin
skin over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ocrlab.errors import UserError

__all__ = ["UserError", "__version__"]
