"""The `ocrlab` command: one small handler per subcommand over the library API.

Each handler turns flags into a config, calls one library function and prints the result. User
mistakes (`UserError`, and an `OSError` about a path, such as an output that is a folder) print
one line on stderr and exit with status 2, without a traceback; a command over many images
reports each unreadable one and goes on, then exits 1 (`_batch`).
`main(argv)` returns the exit status so tests call it directly (a training rank whose group lost
a peer exits at once instead: see `dist.leave`). This module owns the top-level
parser, the `train` group and `main`; each subcommand's flags and handler live in the module
named for it (`generate`, `train_words`, `train_letters`, `read`, `data`, `serve`,
`experiment`), and helpers two of them share in `_common`. Handlers import the library lazily,
so importing this package stays cheap and never loads torch. Nothing outside this package
imports it.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ocrlab import __version__
from ocrlab.cli.data import _add_data
from ocrlab.cli.experiment import _add_experiment
from ocrlab.cli.finetune import _add_audit, _add_train_finetune
from ocrlab.cli.fonts import _add_fonts
from ocrlab.cli.generate import _add_generate
from ocrlab.cli.read import _add_eval, _add_export, _add_models, _add_predict, _add_read
from ocrlab.cli.serve import _add_label, _add_serve
from ocrlab.cli.train_general import _add_train_general
from ocrlab.cli.train_letters import _add_train_letters_cnn, _add_train_mlp
from ocrlab.cli.train_words import _add_train_classifier, _add_train_seq
from ocrlab.errors import UserError

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="train a model", description="Train a model into a run folder."
    )
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    _add_train_classifier(models)
    _add_train_seq(models)
    _add_train_mlp(models)
    _add_train_letters_cnn(models)
    _add_train_general(models)
    _add_train_finetune(models)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocrlab",
        description="Make text-image data, train recognisers for it, read CAPTCHAs and letters.",
    )
    parser.add_argument("--version", action="version", version=f"ocrlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(sub)
    _add_fonts(sub)
    _add_train(sub)
    _add_models(sub)
    _add_eval(sub)
    _add_predict(sub)
    _add_read(sub)
    _add_data(sub)
    _add_export(sub)
    _add_serve(sub)
    _add_experiment(sub)
    _add_audit(sub)
    _add_label(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (2 for a user mistake)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        status = handler(args)
        sys.stdout.flush()  # here, not at exit, where a reader that left costs a traceback
        return status
    except UserError as exc:
        print(f"ocrlab: error: {exc}", file=sys.stderr)
        _leave_broken_group(2)
        return 2
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        return 141  # `ocrlab eval ... | head`: the reader left, nothing more to say
    except OSError as exc:
        if exc.filename is None:
            raise  # not about a path the user gave: a bug's traceback is the one to read
        print(f"ocrlab: error: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        again = "; run the same command with --resume to continue" if "resume" in args else ""
        print(f"ocrlab: interrupted{again}", file=sys.stderr)
        return 130


def _leave_broken_group(status: int) -> None:
    """A training rank whose group lost a peer exits here, before any teardown (`dist.leave`)."""
    dist = sys.modules.get("ocrlab.train.dist")  # loaded by training alone: reading skips torch
    if dist is not None:
        dist.leave(status)


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has left; if so, it is pointed at the null
    device, so that Python's own flush at exit stays quiet. A write that failed has already
    dropped its text, so a flush may succeed on a broken pipe: poll asks the pipe itself."""
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except BrokenPipeError:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no file behind it (a test's capture)
        return False
    else:
        if not hasattr(select, "poll"):
            return False
        poll = select.poll()
        poll.register(fd, select.POLLOUT)
        gone = select.POLLERR | select.POLLHUP  # Linux says ERR, BSD and macOS HUP
        if not any(events & gone for _, events in poll.poll(0)):
            return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True
