"""Where ocrlab looks for data when the user names no folder.

Owns the one rule for the default data root, so every loader and the CLI agree on it: the
`OCRLAB_DATA` environment variable, then a `shared/data` folder beside the current project, then the
user cache. Imports the standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "OCRLAB_DATA"


def default_data_root() -> Path:
    """Return `$OCRLAB_DATA`, else `../shared/data` if it exists, else `~/.cache/ocrlab/data`.

    The path may not exist yet; loaders say which files to put there.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    shared = Path.cwd().parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return Path.home() / ".cache" / "ocrlab" / "data"
