"""The package's imports point one way (STYLE.md): no cycles, entry points imported by
nobody below them, and the foundation (store, index, adapters, runner, change sets,
executors) never reaching up into the service, the server or the orchestrator. Imports
under TYPE_CHECKING count too: a type name that points up is still a fold."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "zwarm_ls"

# Imported only by the command line, which is the one way in.
ENTRY_POINTS = {"zwarm_ls.server", "zwarm_ls.cli"}
FOUNDATION_PREFIXES = (
    "zwarm_ls.text", "zwarm_ls.aio", "zwarm_ls.errors", "zwarm_ls.protocol", "zwarm_ls.config",
    "zwarm_ls.store", "zwarm_ls.costs", "zwarm_ls.adapters", "zwarm_ls.turns",
    "zwarm_ls.runner", "zwarm_ls.foreign", "zwarm_ls.index", "zwarm_ls.changes",
    "zwarm_ls.executors",
    "zwarm_ls.models", "zwarm_ls.trust",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = current.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    names = [f"{base}.{alias.name}" for alias in node.names]
    return [base, *names]


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = resolve(name, path.name == "__init__.py", node)
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def is_foundation(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in FOUNDATION_PREFIXES)


def test_the_graph_is_read_from_the_package() -> None:
    graph = import_graph()
    assert "zwarm_ls.service" in graph["zwarm_ls.server"]
    assert "zwarm_ls.changes.shadow" in graph["zwarm_ls.changes.changeset"]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_entry_points_are_imported_only_from_the_command_line() -> None:
    graph = import_graph()
    back = sorted((src, dst) for src, targets in graph.items() for dst in targets
                  if dst in ENTRY_POINTS and src != "zwarm_ls.cli")
    assert back == []


def test_the_foundation_never_reaches_up() -> None:
    graph = import_graph()
    up = sorted((src, dst) for src, targets in graph.items() if is_foundation(src)
                for dst in targets if not is_foundation(dst) and dst != "zwarm_ls")
    assert up == []


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
