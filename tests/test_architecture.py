"""The house rules that keep the code readable, checked on the source itself.

* No import circle in ``src/retold``: every import counts, at module level or inside a function
  (a lazy import is still a dependency), except those under ``if TYPE_CHECKING:``.
* A level is named in one place besides its own module: the registry. No other module imports a
  level's module, and no other module names a level in a string (the demo's planted kinds are
  named after the levels meant to find them, and are its ground truth: it is left out).
* The engine imports no level, and no stage or level imports the engine.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from retold.dedup import registry

SRC = Path(__file__).resolve().parents[1] / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path) -> set[str]:
    """The retold modules ``path`` imports (a name imported from a package is its submodule when
    there is one, else the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _type_checking(node)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "retold":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert cycles() == []


def test_a_level_is_named_only_in_its_module_and_the_registry() -> None:
    level_modules = set(registry.BUILTIN)
    names = {module: importlib.import_module(module).LEVEL.name for module in level_modules}
    for name, path in MODULES.items():
        if name in level_modules or name == "retold.dedup.registry" or name.startswith("retold.demo"):
            continue
        assert not (GRAPH[name] & level_modules), f"{name} imports a level's module"
        strings = {
            node.value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Constant)
        }
        for module, level in names.items():
            if level == "retold":  # also the product's name and its record field: see the registry
                continue
            assert level not in strings, f"{name} names the {level} level ({module})"


def test_the_engine_and_the_stages_keep_apart() -> None:
    engine = {m for m in MODULES if m.startswith("retold.engine")}
    for name in MODULES:
        if name.startswith(
            ("retold.dedup", "retold.repair", "retold.corpus", "retold.audit", "retold.report")
        ):
            assert not (GRAPH[name] & engine), f"{name} imports the engine"
