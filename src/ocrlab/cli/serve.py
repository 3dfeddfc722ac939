"""`ocrlab serve`: the HTTP API and web page over trained models.

It owns the subcommand's flags and its handler, which builds `ServeSettings` from the flags
given (the rest keep the settings' defaults) and hands the `--model` list to
`ocrlab.serve.app.serve` (none: every shipped model).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    from ocrlab.serve.app import serve
    from ocrlab.serve.settings import ServeSettings, parse_models

    flags = {
        "host": args.host,
        "port": args.port,
        "device": args.device,
        "workers": args.workers,
        "queue": args.queue,
        "timeout_s": args.timeout,
        "gallery": args.gallery,
    }
    settings = ServeSettings(**{k: v for k, v in flags.items() if v is not None})
    serve(parse_models(args.model), settings)
    return 0


def _add_serve(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="HTTP API and web page for trained models",
        description="Serve trained models over HTTP: POST /v1/read, GET /v1/models, GET /health, "
        "GET /v1/gallery, OpenAPI docs at /docs and a web page at /. Models load once, at "
        "start-up.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=MODEL",
        help="a model to serve under NAME: a shipped name, a run folder, an MLP .npz or an "
        ".onnx file (repeatable; the first is the default; without NAME= its own name); "
        "default: every shipped model (default, words, captcha, letters)",
    )
    p.add_argument("--gallery", type=Path, help="an ocrlab dataset to show samples of")
    p.add_argument("--device", help="auto, cpu or cuda (default auto)")
    p.add_argument("--workers", type=int, help="reads at once; more requests queue (default 2)")
    p.add_argument(
        "--queue",
        type=int,
        help="requests that may wait for a worker; beyond them 503 with Retry-After (default 64)",
    )
    p.add_argument("--timeout", type=float, help="seconds a request may take (default 10)")
    p.set_defaults(handler=cmd_serve)
