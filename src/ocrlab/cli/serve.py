"""`ocrlab serve`: the HTTP API and web page over trained models.

It owns the subcommand's flags and its handler, which builds `ServeSettings` from the flags
given (the rest keep the settings' defaults) and hands the `--model` list to
`ocrlab.serve.app.serve` (none: every shipped model).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _positive
from ocrlab.errors import ConfigError


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {number}")
    return number


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
    p.add_argument("--port", type=_port, help="port (default 8000)")
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
    p.add_argument(
        "--workers", type=_positive, help="reads at once; more requests queue (default 2)"
    )
    p.add_argument(
        "--queue",
        type=int,
        help="requests that may wait for a worker; beyond them 503 with Retry-After (default 64)",
    )
    p.add_argument("--timeout", type=float, help="seconds a request may take (default 10)")
    p.set_defaults(handler=cmd_serve)


def cmd_label(args: argparse.Namespace) -> int:
    from ocrlab.read.hint import Hint, hinted
    from ocrlab.read.resolve import load
    from ocrlab.serve.label import create_label_app, serve_labels

    hint = Hint.parse(args.charset, args.length, args.thorough, args.colour)  # fails before reading
    _free(args.host, args.port)  # before minutes of reading, not after
    reader = hinted(load(args.model, args.device), hint)
    print(f"reading {args.folder} with {args.model} to order the images ...", flush=True)
    app = create_label_app(args.folder, reader)
    labeller = app.state.labeller
    if labeller.unreadable:
        print(f"ocrlab: left out {len(labeller.unreadable)} unreadable image(s), e.g. "
              f"{labeller.unreadable[0]}", file=sys.stderr)  # fmt: skip
    if labeller.unlabelled:
        print(f"labels go to {args.folder / 'labels.csv'}; once it exists it is the folder's "
              "labels, and file names no longer count as labels")  # fmt: skip
    where = f":{args.port}" if args.port else " (a free port: uvicorn names it below)"
    print(f"{len(labeller.queue)} image(s) to label, {labeller.labelled} labelled already: "
          f"http://{args.host}{where}", flush=True)  # fmt: skip
    serve_labels(app, args.host, args.port)
    return 0


def _free(host: str, port: int) -> None:
    """Refuse a port another program holds (as the server would bind it, address reuse on)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); try --port"
            ) from None


def _add_label(sub: Any) -> None:
    p = sub.add_parser(
        "label",
        help="label a folder of images in the browser (for fine-tuning)",
        description="Serve a page that shows the folder's unlabelled images one at a time, least "
        "confident first, with the model's reading filled in and its least certain characters "
        "marked: Enter accepts, typing corrects. Labels go to FOLDER/labels.csv as they are made.",
    )
    p.add_argument("folder", type=Path, help="a folder of images")
    p.add_argument("--model", default="general", help="the reader that pre-fills labels")
    p.add_argument(
        "--charset", help="line models: pre-fill told the scheme's characters (as ocrlab read)"
    )
    p.add_argument("--length", metavar="N|A-B", help="line models: pre-fill told the length")
    p.add_argument(
        "--thorough",
        action="store_true",
        help="line models: pre-fill reading each image it is unsure of in seven views (as "
        "ocrlab read --thorough): surer readings, up to seven times the start-up reading",
    )
    p.add_argument(
        "--no-colour",
        dest="colour",
        action="store_false",
        help="line models: pre-fill reading in grey only (as ocrlab read --no-colour)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=_port, default=8001, help="port (default 8001)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.set_defaults(handler=cmd_label)
