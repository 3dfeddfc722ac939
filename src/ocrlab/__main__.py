"""`python -m ocrlab` (and `torchrun -m ocrlab`): the same as the `ocrlab` command."""

import sys

from ocrlab.cli import main

sys.exit(main())
