"""The layout holds: no import cycles, training apart from inference, no oversized modules.

The import graph is read from the source with the standard library (``ast``), every
``import`` counted wherever it sits (module top or inside a function: a lazy import
in both directions is still a cycle in the design), except under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: package name -> source directory (pyproject's package-dir mapping)
SOURCES = {"heihachi": ROOT / "heihachi", "heihachi.plugins": ROOT / "plugins"}


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for package, base in SOURCES.items():
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join([package, *parts])] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ``known`` that module ``name`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name if is_pkg else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rpartition(".")[0]
                base = f"{pkg}.{base}" if base else pkg
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_graph_sees_real_imports():
    graph = import_graph()
    assert "heihachi.runtime.outputs" in graph["heihachi.runtime.runner"]
    assert "heihachi.index.store" in graph["heihachi.index.semantic"]
    assert "heihachi.plugins.drumnet.model" in graph["heihachi.plugins.drumnet_tasks"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_runtime_never_imports_training_code():
    for name, path in _modules().items():
        imported = {n.module or "" for n in ast.walk(ast.parse(path.read_text()))
                    if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(ast.parse(path.read_text()))
                     if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.split(".")[0] == "heihachi_train" for m in imported), (
            f"{name} imports heihachi_train: the installed package must not depend on the "
            "training code")


def test_training_code_is_outside_the_package():
    assert importlib.util.find_spec("heihachi_train.drumnet.train") is not None
    assert not (ROOT / "plugins" / "drumnet" / "train.py").exists()


def test_no_module_or_class_over_the_size_limits():
    sys.path.insert(0, str(ROOT / ".ci"))
    try:
        import sizes
    finally:
        sys.path.remove(str(ROOT / ".ci"))
    assert sizes.violations() == []


def test_every_subpackage_ships_in_the_wheel():
    """pyproject lists packages explicitly (plugins/ and conf/ are mapped into heihachi):
    a new room under heihachi/ must be added there or the wheel silently lacks it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    for init in (ROOT / "heihachi").rglob("__init__.py"):
        name = ".".join(("heihachi", *init.parent.relative_to(ROOT / "heihachi").parts))
        assert name in listed, f"{name} is missing from [tool.setuptools] packages"
