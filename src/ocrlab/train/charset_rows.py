"""A model moved to another charset: the rows of its token-indexed layers follow their characters.

Fine-tuning a reader on labels with characters it never spelt (a CAPTCHA's digits, `#`, `@`)
gives those characters fresh rows in the embedding and output layers; every character both
charsets share keeps its trained row, wherever it now sits, so before any training the model
scores every known character exactly as it did. A narrower charset drops the other rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ocrlab.charset import carried_rows


def carry_rows(
    start: nn.Module, out: nn.Module, keys: Sequence[str], old: str, new: str
) -> dict[str, torch.Tensor]:
    """`out`'s tensors named `keys` (indexed by token in their first dimension) holding the rows
    `start` had for the specials and for every character of `old` that `new` keeps; rows of
    characters new to `new` keep `out`'s fresh initialisation."""
    src, dst = carried_rows(old, new)
    have, fresh = start.state_dict(), out.state_dict()
    rows = {}
    for key in keys:
        tensor = fresh[key].detach().clone()
        tensor[dst] = have[key].detach()[src]
        rows[key] = tensor
    return rows
