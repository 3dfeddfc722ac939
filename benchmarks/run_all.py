"""Run every benchmark, each in its own process, then rebuild docs/benchmarks.md from the results.

`--quick` (what `make bench` runs) fits in 30 minutes on 2 CPU cores; `--full` writes the whole
100,000-image set and reads every held-out image, torch on the GPU when there is one. Each step
writes results/<name>.json; a failed step is reported and the others still run, the page is still
rebuilt, and the exit status is 1. Elapsed time is printed per step, and what could not be
measured (a missing model or dataset) is repeated at the end.

    python benchmarks/run_all.py --quick | --full [--only read mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import RESULTS, ROOT
from report import build

HERE = Path(__file__).resolve().parent
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def steps(full: bool) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (script and arguments, extra environment). Per-core figures get one BLAS thread;
    the MLP sets its own threads and the server bench measures default threads against one."""
    mode = "--full" if full else "--quick"
    cpus = str(os.cpu_count() or 1)
    return {
        "generate": (["bench_generate.py", *([] if full else ["--quick"])], ONE_THREAD),
        "read": (["bench_read.py", mode], ONE_THREAD),
        "mlp": (["bench_mlp.py", "--threads", cpus], {}),
        "serve": (["bench_serve.py"], {}),
        "load": (["bench_load.py", *([] if full else ["--quick"])], {}),
        "soak": (["bench_serve.py", "--soak", "10" if full else "1"], {}),
        "general": (["bench_general.py", mode], ONE_THREAD),
        "finetune": (
            ["bench_finetune.py"]
            if full
            else [
                "bench_finetune.py",
                "--styles",
                "captcha_images_v2",
                "stencil",
                "--minutes",
                "3",
            ],
            {},
        ),
    }


def not_measured(results: Path) -> list[str]:
    """The reasons read.json records for datasets or tools it could not measure."""
    path = results / "read.json"
    if not path.is_file():
        return []
    found = []
    for d in json.loads(path.read_text()).get("datasets", []):
        if "missing" in d:
            found.append(f"{d['name']}: {d['missing']}")
        for tool, m in d.get("tools", {}).items():
            if "missing" in m:
                found.append(f"{d['name']}, {tool}: {m['missing']}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="≤ 30 minutes on 2 CPU cores")
    mode.add_argument("--full", action="store_true", help="everything, for a GPU machine")
    parser.add_argument("--only", nargs="+", choices=list(steps(False)), help="run these steps")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="where the page goes")
    args = parser.parse_args()

    timings, failed = [], []
    total = time.perf_counter()
    for name, (argv, env) in steps(args.full).items():
        if args.only and name not in args.only:
            continue
        print(f"\n=== {name}: python benchmarks/{' '.join(argv)}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(HERE / argv[0]), *argv[1:]],
            cwd=ROOT,
            env={**os.environ, **env},
            check=False,
        )
        seconds = time.perf_counter() - start
        timings.append(
            f"{name:>9}: {seconds / 60:5.1f} min" + ("  FAILED" if done.returncode else "")
        )
        print(f"=== {name} took {seconds:.0f} s", flush=True)
        if done.returncode:
            failed.append(name)
    print(f"\nwrote {build(RESULTS, args.docs)}\n" + "\n".join(timings))
    print(f"{'total':>9}: {(time.perf_counter() - total) / 60:5.1f} min")
    for line in not_measured(RESULTS):
        print(f"NOT MEASURED {line}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
