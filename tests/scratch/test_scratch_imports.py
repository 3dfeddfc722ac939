"""`ocrlab.scratch` imports NumPy and the standard library only, and draws randomness explicitly."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import ocrlab.scratch

PACKAGE = Path(ocrlab.scratch.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
# Stdlib modules that would bring hidden global randomness.
FORBIDDEN_STDLIB = {"random", "secrets"}
ALLOWED_NP_RANDOM = {"Generator", "PCG64", "SeedSequence"}


def _imports(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append("." if node.level else node.module or "")
    return names


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    if name == "." or name.startswith("ocrlab.scratch"):
        return True
    if top in FORBIDDEN_STDLIB:
        return False
    return top == "numpy" or top == "__future__" or top in sys.stdlib_module_names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_numpy_and_stdlib(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = [name for name in _imports(tree) if not _allowed(name)]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_global_numpy_random(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "random"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id in {"np", "numpy"}
    }
    assert used <= ALLOWED_NP_RANDOM, f"{path.name} uses np.random.{used - ALLOWED_NP_RANDOM}"


def test_boundary_checker_catches_offenders() -> None:
    tree = ast.parse("import torch\nfrom ocrlab import errors\nimport random\nimport scipy.special")
    assert [name for name in _imports(tree) if not _allowed(name)] == [
        "torch",
        "ocrlab",
        "random",
        "scipy.special",
    ]
