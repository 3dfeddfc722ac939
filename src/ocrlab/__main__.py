"""`python -m ocrlab`: the `ocrlab` command, as `torchrun -m ocrlab train ...` starts it per rank.

It owns nothing but the exit: it runs `ocrlab.cli.main` and exits with the status that returns.
"""

from __future__ import annotations

import sys

from ocrlab.cli import main

sys.exit(main())
