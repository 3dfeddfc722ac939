"""Data layer: peak memory and speed of loading the hard + easy set of "Breaking CAPTCHA", against
its packed size.

The loader of "Breaking CAPTCHA" crashed beyond 60,000 images. ocrlab decodes every folder straight
into one preallocated uint8 array, so loading costs the array and nothing more. This writes (once,
cached) the hard set as packed shards and the easy set as PNG files, loads both with `load_many` in
a fresh process and prints that process's peak resident memory beside the bytes of the loaded array,
and the time taken; then checks that every row still carries its manifest's word.

    python benchmarks/bench_load.py [--quick] [--workers 2]

Full: the 100,000-image hard set + 1,000 easy (the 101,000 of "Breaking CAPTCHA"; 4.9 GB of disk
and memory);
--quick: 20,000 hard + 1,000 easy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from _common import report
from ocrlab.data.manifest import read_manifest
from ocrlab.synth import PRESETS, generate

CACHE = Path.home() / ".cache" / "ocrlab" / "bench"
CHILD = """
import json, resource, sys, time
from pathlib import Path
from ocrlab.data.load import load_many

def peak_rss():
    # VmHWM belongs to this process's own memory map; ru_maxrss can carry the parent's over exec
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

roots, workers, load = [Path(p) for p in sys.argv[1:-2]], int(sys.argv[-2]), sys.argv[-1] == "1"
start = time.perf_counter()
data = load_many(roots, workers=workers) if load else None
seconds = time.perf_counter() - start
out = {"peak_rss": peak_rss(), "seconds": seconds}
if data is not None:
    out.update(images=len(data), shape=list(data.images.shape[1:]), nbytes=data.images.nbytes,
               words=data.words[:: max(1, len(data) // 1000)])
print(json.dumps(out))
"""


def measure(roots: list[Path], workers: int, load: bool) -> dict[str, object]:
    """Peak RSS and time of a fresh process that imports the loader and (if `load`) loads."""
    argv = [sys.executable, "-c", CHILD, *map(str, roots), str(workers), "1" if load else "0"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def manifest_words(root: Path) -> list[str]:
    return [row.word for row in read_manifest(root / "manifest.csv")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 hard images, not 100,000")
    parser.add_argument("--workers", type=int, default=2, help="PNG decoding processes")
    args = parser.parse_args()

    n_hard = 20_000 if args.quick else 100_000
    hard = CACHE / f"hard-packed-{n_hard}"
    easy = CACHE / "easy-png"
    if not (hard / "manifest.csv").is_file():
        limit = n_hard if n_hard < 100_000 else None
        cfg = dataclasses.replace(PRESETS["hard"], limit=limit, format="packed")
        generate(cfg, hard, workers=args.workers, overwrite=hard.exists())
    if not (easy / "manifest.csv").is_file():
        generate(PRESETS["easy"], easy, workers=args.workers, overwrite=easy.exists())

    baseline = measure([hard, easy], args.workers, load=False)
    loaded = measure([hard, easy], args.workers, load=True)
    expected = manifest_words(hard) + manifest_words(easy)
    step = max(1, len(expected) // 1000)
    aligned = loaded["words"] == expected[::step]
    extra = int(loaded["peak_rss"]) - int(baseline["peak_rss"]) - int(loaded["nbytes"])
    mib = 1024 * 1024
    report(
        "load",
        {
            "images": loaded["images"],
            "image_shape": loaded["shape"],
            "workers": args.workers,
            "array_mib": round(int(loaded["nbytes"]) / mib, 1),
            "peak_rss_mib": round(int(loaded["peak_rss"]) / mib, 1),
            "interpreter_rss_mib": round(int(baseline["peak_rss"]) / mib, 1),
            "beyond_array_mib": round(extra / mib, 1),
            "peak_over_array": round(
                (int(loaded["peak_rss"]) - int(baseline["peak_rss"])) / int(loaded["nbytes"]), 3
            ),
            "seconds": round(float(loaded["seconds"]), 2),
            "images_per_s": round(int(loaded["images"]) / float(loaded["seconds"])),
            "labels_aligned": aligned,
        },
    )
    if not aligned:
        sys.exit("images and manifest words disagree")


if __name__ == "__main__":
    main()
