"""DESIGN.md rule 1: imports point down the flow. Walks every module's imports with ast."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ocrlab"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
BASE = {"ocrlab", "ocrlab.errors", "ocrlab.rng", "ocrlab.config", "ocrlab.charset"}
ALLOWED: dict[str, set[str]] = {
    "scratch": {"numpy", "ocrlab.scratch"},
    "synth": {
        "numpy",
        "PIL",
        "pypdf",
        "docx",
        "english_words",
        "ray",  # imported only by the Ray engine, when asked for
        "ocrlab.synth",
        "ocrlab.data",
        *BASE,
    },
    "data": {"numpy", "PIL", "scipy", "ocrlab.data", *BASE},
    "metrics.py": {"numpy", *BASE},
    "rng.py": {"numpy"},
    "config.py": {"tomli", *BASE},
    "errors.py": set(),
    "charset.py": {"ocrlab", "ocrlab.errors"},
    "export.py": {"torch", "numpy", "onnx", "onnxruntime", "ocrlab.read", "ocrlab.data", *BASE},
    "plots.py": {"numpy", "matplotlib", *BASE},
    "models": {"torch", "ocrlab.models", *BASE},
    "train": {
        "torch",
        "numpy",
        "safetensors",
        "ocrlab.train",
        "ocrlab.models",
        "ocrlab.data",
        "ocrlab.plots",
        "ocrlab.metrics",
        *BASE,
    },
    "read": {
        "ray",  # imported only by the Ray reader, when asked for
        "ocrlab.export",
        "torch",
        "numpy",
        "PIL",
        "ocrlab.read",
        "ocrlab.scratch",
        "ocrlab.synth",
        "ocrlab.train",
        "ocrlab.models",
        "ocrlab.data",
        "ocrlab.metrics",
        *BASE,
    },
    "serve": {
        "fastapi",
        "starlette",
        "pydantic",
        "uvicorn",
        "numpy",
        "PIL",
        "ocrlab.serve",
        "ocrlab.read",
        "ocrlab.data",
        *BASE,
    },
}


def _imports(path: Path) -> set[str]:
    """Top-level packages imported, with ocrlab's own imports named down to the subpackage."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.ImportFrom):  # relative: resolve against the module's package
            package = path.relative_to(SRC.parent).with_suffix("").parts[: -node.level]
            modules = [".".join([*package, *([node.module] if node.module else [])])]
        for module in modules:
            parts = module.split(".")
            names.add(".".join(parts[:2]) if parts[0] == "ocrlab" else parts[0])
    return names


def _modules(part: str) -> list[Path]:
    target = SRC / part
    return sorted(target.rglob("*.py")) if target.is_dir() else [target]


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(part: str) -> None:
    for path in _modules(part):
        extra = _imports(path) - STDLIB - ALLOWED[part]
        assert not extra, f"{path.relative_to(SRC)} imports {sorted(extra)}"


def test_no_unseedable_randomness_anywhere() -> None:
    allowed = ("np.random.Generator", "np.random.PCG64", "np.random.SeedSequence")
    for path in SRC.rglob("*.py"):
        assert not _imports(path) & {"random", "secrets"}, path
        text = path.read_text(encoding="utf-8")
        for name in allowed:
            text = text.replace(name, "")
        assert "np.random." not in text, f"{path} uses NumPy's global random state"


def test_nothing_imports_the_cli_or_the_server() -> None:
    for path in SRC.rglob("*.py"):
        # `python -m ocrlab` (how torchrun starts a rank) is the command's own entry point
        if path.relative_to(SRC).parts[0] not in ("cli", "serve", "__main__.py"):
            assert not _imports(path) & {"ocrlab.cli", "ocrlab.serve"}, path


def test_importing_ocrlab_loads_neither_torch_nor_matplotlib_nor_ray() -> None:
    imports = "ocrlab, ocrlab.synth, ocrlab.data.packed, ocrlab.cli"
    code = f"import sys, {imports}; print(sorted(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    for heavy in ("'torch'", "'matplotlib'", "'ray'"):
        assert heavy not in loaded.stdout
