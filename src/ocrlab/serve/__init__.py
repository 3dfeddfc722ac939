"""The HTTP API and web page: `create_app(models, settings)` and `serve(models, settings)`.

A thin skin over named `Predictor`s (DESIGN.md rule 8). Nothing in ocrlab imports this package but
the CLI; it imports FastAPI, which nothing else may.
"""

from __future__ import annotations
