"""`python -m build` makes a wheel with the shipped models inside, and it installs and reads.

Offline and quick: the wheel is built without build isolation (setuptools is already here) from a
copy of the sources, installed with `pip --no-index --find-links` into a fresh venv, and the new
`ocrlab` command reads an image with the shipped model from inside that venv. The dependencies
(torch and the rest) are not reinstalled: the fresh venv sees this environment's site-packages
through a `.pth` file, and the wheel alone is installed (`--no-deps`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import ocrlab

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str | Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_reads(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    source = tmp_path / "source"
    source.mkdir()
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        dist,
        source,
        env=env,
    )
    (wheel,) = dist.glob("ocrlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in ("words", "captcha", "letters"):
        assert f"ocrlab/runtime/assets/{model}/model.safetensors" in names

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, env=env)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", env=env
        ).strip()
    )
    (purelib / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    # --ignore-installed: this environment's own (editable) ocrlab must not count as installed.
    _run(*pip, "--no-index", "--no-deps", "--ignore-installed", wheel, env=env)

    image = tmp_path / "x.png"
    ocrlab.render("harbour", style="hard", seed=0).save(image)
    out = _run(venv / "bin" / "ocrlab", "read", image, "--device", "cpu", env=env)
    assert out.startswith(f"{image}: harbour")
    where = _run(
        python,
        "-c",
        "import ocrlab.runtime.shipped as s; print(s.shipped_folder('words'))",
        env=env,
    )
    assert Path(where.strip()).is_relative_to(purelib)  # the wheel's copy, not this checkout's
