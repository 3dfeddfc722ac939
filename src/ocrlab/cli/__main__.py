"""`python -m ocrlab.cli`: the `ocrlab` command, as tests and benchmarks start it in a subprocess.

It owns nothing but the exit: it runs `main` and exits with the status that returns.
"""

from __future__ import annotations

import sys

from ocrlab.cli import main

sys.exit(main())
