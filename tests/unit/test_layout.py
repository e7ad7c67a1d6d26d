"""The package's shape: no import cycles (deferred and TYPE_CHECKING imports included), small files, and the
layout in docs/design.md naming what is in the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crossrank"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _target(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> the crossrank modules it imports anywhere in its body (functions and TYPE_CHECKING too)."""
    modules = module_names()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(_target(a.name, modules) for a in node.names if a.name.startswith("crossrank"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                if base.startswith("crossrank"):
                    found.update(_target(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base, modules)
                                 for a in node.names)
        graph[name] = {m for m in found if m is not None and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules() -> None:
    graph = import_graph()
    assert len(graph) > 50
    assert "crossrank.data.tables" in graph["crossrank.data.io"]  # the scan sees imports
    assert cycles(graph) == []


def test_no_import_cycles_between_subpackages() -> None:
    packages: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        top = ".".join(module.split(".")[:2])
        if module == "crossrank":
            continue  # the root re-exports the public names
        packages.setdefault(top, set()).update(".".join(m.split(".")[:2]) for m in imports
                                              if m != "crossrank" and not m.startswith(top + ".") and m != top)
    assert "crossrank.losses" in packages["crossrank.training"]
    assert cycles(packages) == []


def test_no_file_over_600_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_design_layout_names_every_package_and_module() -> None:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    layout = text.split("## 2. Layout", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"[\w/]+\.(?:py|md)\b|[\w]+/", layout))
    for path in sorted(PACKAGE.rglob("*")):
        if path.name == "__pycache__" or "__pycache__" in path.parts or path.name in ("__init__.py", "py.typed"):
            continue
        rel = path.relative_to(PACKAGE)
        key = f"{rel.name}/" if path.is_dir() else rel.name
        assert key in named or str(rel) in named, f"docs/design.md's layout does not mention crossrank/{rel}"
    for entry in re.findall(r"^\s{2}([\w]+(?:\.py|/))", layout, flags=re.M):
        assert (PACKAGE / entry.rstrip("/")).exists() or entry.rstrip("/") in ("tests", "bench", "examples"), entry
