"""The flags that spread work over processes and machines, and `ocrlab data merge`.

It owns `--engine`, `--address` and `--shard` of `ocrlab generate` (`generate_with` picks the
library function they ask for: `synth.generate`, the Ray engine, or one part of N), the `data
merge` subcommand that joins the parts, and `ocrlab read --engine ray` (which writes the `--out`
file of `ocrlab.cli._batch`). Ray is imported only when `--engine ray` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _positive, _progress_bar


def _add_generate_scale_flags(p: Any) -> None:
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: --workers processes on this machine; ray: one Ray task per shard of the plan "
        "on a Ray cluster (pip install 'ocrlab[distributed]'); same bytes either way",
    )
    p.add_argument(
        "--address",
        help="with --engine ray: auto (the running cluster) or ray://HOST:PORT; default: start a "
        "local cluster on this machine. --out must be a path every node sees",
    )
    p.add_argument(
        "--shard",
        metavar="K/N",
        help="render only part K of N (0 ≤ K < N) into --out, for a Slurm array or a Kubernetes "
        "indexed job; join the N part folders with `ocrlab data merge`",
    )


def generate_with(args: argparse.Namespace, plan: Any, progress: Any) -> int:
    """Render the plan (made once, by the caller) as the flags ask; returns the number of images
    written into --out."""
    from ocrlab.errors import ConfigError

    common = {"resume": args.resume, "overwrite": args.overwrite, "progress": progress}
    if args.shard is not None:
        from ocrlab.synth.shards import generate_part, parse_shard, part_size

        if args.engine == "ray":
            raise ConfigError("--shard splits the work without Ray; use one or the other")
        shard = parse_shard(args.shard)
        generate_part(plan, args.out, shard, **common)
        return part_size(plan, shard)
    if args.engine == "ray":
        from ocrlab.synth.ray_engine import generate_ray

        generate_ray(plan, args.out, address=args.address, **common)
        return len(plan.ids)
    if args.address is not None:
        raise ConfigError("--address is for --engine ray")
    from ocrlab.synth import generate

    generate(plan, args.out, workers=args.workers, **common)
    return len(plan.ids)


def cmd_data_merge(args: argparse.Namespace) -> int:
    from ocrlab.synth.shards import merge

    merge(args.parts, args.out, overwrite=args.overwrite)
    print(f"merged {len(args.parts)} parts into {args.out} (manifest.csv, preview.png)")
    return 0


def _add_data_merge(kinds: Any) -> None:
    q = kinds.add_parser(
        "merge",
        help="join the part folders of `ocrlab generate --shard K/N` into one dataset",
        description="Join the N part folders that `ocrlab generate --shard K/N` wrote (K = 0 .. "
        "N-1, same flags otherwise) into one dataset, byte-identical to what one `ocrlab "
        "generate` would write. Images are hard-linked where the filesystem allows, else copied.",
    )
    q.add_argument("parts", type=Path, nargs="+", help="the part folders, in any order")
    q.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    q.add_argument("--overwrite", action="store_true", help="replace an ocrlab dataset in --out")
    q.set_defaults(handler=cmd_data_merge)


def _add_read_scale_flags(p: Any) -> None:
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: read here; ray: read the images with Ray Data, one reader per actor, into "
        "--out FILE.jsonl (pip install 'ocrlab[distributed]')",
    )
    p.add_argument("--address", help="with --engine ray: auto or ray://HOST:PORT (default local)")
    p.add_argument(
        "--actors", type=_positive, help="with --engine ray: readers (default: one per CPU)"
    )
    p.add_argument(
        "--batch-size", type=_positive, default=64, help="with --engine ray: images per batch (64)"
    )


def read_with_ray(args: argparse.Namespace) -> int:
    """`ocrlab read --engine ray SOURCE... --out FILE.jsonl`: the lines, resuming and exit status
    of `ocrlab read --out` (`ocrlab.cli._batch`)."""
    from ocrlab.errors import ConfigError
    from ocrlab.read.ray_read import read_ray

    if args.out is None:
        raise ConfigError("--engine ray reads into --out FILE.jsonl")
    if args.debug is not None:
        raise ConfigError("--debug is for the local engine")
    with _progress_bar(None, f"read → {args.out}") as bar:
        tally = read_ray(
            [Path(p) for p in args.images], args.out, model=args.model, address=args.address,
            actors=args.actors, batch_size=args.batch_size, top_k=args.top_k, strict=args.strict,
            charset=args.charset, length=args.length, thorough=args.thorough, colour=args.colour,
            progress=bar.update,
        )  # fmt: skip
    print(
        f"wrote {tally.written:,} result(s) to {args.out}; {tally.skipped:,} were already "
        f"there; {tally.failed:,} image(s) failed",
        file=sys.stderr,
    )
    return 1 if tally.failed else 0
