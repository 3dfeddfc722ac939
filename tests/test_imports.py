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
READING = {"torch", "numpy", "PIL", "onnx", "onnxruntime", "ocrlab.read", "ocrlab.scratch"}
ALLOWED: dict[str, set[str]] = {
    "__init__.py": {"PIL", "ocrlab.read", "ocrlab.data", "ocrlab.synth", "ocrlab.runtime", *BASE},
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
    "plots.py": {"numpy", "matplotlib", *BASE},
    "models": {"torch", "ocrlab.models", *BASE},
    "runtime": {"torch", "numpy", "PIL", "safetensors", "ocrlab.runtime", "ocrlab.data", *BASE},
    "train": {
        "torch",
        "numpy",
        "safetensors",
        "onnx",  # fine-tuning from an exported file reads it back (train/from_onnx.py)
        "onnxruntime",  # ... and checks it computes what the file does
        "ocrlab.train",
        "ocrlab.runtime",
        "ocrlab.models",
        "ocrlab.data",
        "ocrlab.synth",
        "ocrlab.scratch",
        "ocrlab.plots",
        "ocrlab.metrics",
        *BASE,
    },
    "read": {
        *READING,
        "ray",  # imported only by the Ray reader, when asked for
        "ocrlab.synth",
        "ocrlab.runtime",
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
        "ocrlab.runtime",
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


def test_reading_and_serving_never_import_training() -> None:
    """DESIGN.md rule 1: what `read/` and `serve/` share with `train/` lives in `runtime/`."""
    training = {"ocrlab.train", "ocrlab.experiments", "ocrlab.cli"}
    assert not (ALLOWED["read"] | ALLOWED["serve"]) & training
    offenders = [
        f"{path.relative_to(SRC)}: {sorted(_imports(path) & training)}"
        for part in ("read", "serve")
        for path in _modules(part)
        if _imports(path) & training
    ]
    assert not offenders, offenders


def _module_graph() -> dict[str, set[str]]:
    """Every ocrlab module → the ocrlab modules it imports at any depth of its body, full names
    (a name that is a package attribute, like `from ocrlab.models import build`, counts as the
    package)."""
    names = {
        ".".join(("ocrlab", *p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        for p in SRC.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("").parts
        me = ".".join(rel).removesuffix(".__init__")
        package = rel[:-1]  # a module's package; an __init__'s is its own
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package[: len(package) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for target in targets:
                while target and target not in names:
                    target = target.rpartition(".")[0]
                if target.startswith("ocrlab") and target != me:
                    found.add(target)
        graph[me] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of `graph` (a list of modules, first = last), or [] when there is none.
    A package's `__init__` importing its own submodules is how packages work, not a cycle."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if node.startswith(nxt + "."):  # a submodule importing its own package's __init__
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycles() -> None:
    assert _cycle(_module_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


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
        if path.relative_to(SRC).parts[0] not in ("cli", "serve", "__main__.py"):
            assert not _imports(path) & {"ocrlab.cli", "ocrlab.serve"}, path


def test_importing_ocrlab_loads_neither_torch_nor_matplotlib_nor_ray() -> None:
    code = (
        "import sys, ocrlab, ocrlab.synth, ocrlab.data.packed, ocrlab.cli; ocrlab.models(); "
        "print(sorted(sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    for heavy in ("'torch'", "'matplotlib'", "'ray'"):
        assert heavy not in loaded.stdout
