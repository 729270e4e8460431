"""The rules of docs/architecture.md, checked on the source: layers, cycles, access rules, size."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "repo_store", "keys", "clients")
# What each package may import from the others (docs/architecture.md): the server uses the
# store and the keys, the store uses the keys, the client shares only the keys' formats.
MAY_IMPORT = {
    "server": {"server", "repo_store", "keys"},
    "repo_store": {"repo_store", "keys"},
    "keys": {"keys"},
    "clients": {"clients", "keys"},
}
MAX_MODULE_LINES = 500


def modules() -> dict[str, Path]:
    """Every module of the four packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> Iterator[str]:
    """The project modules `name` imports, at any depth of its code, except for type checking."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            node.body = []  # names imported only for annotations make no cycle at run time
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from server import models` imports the module server.models.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


GRAPH = {name: set(imported(name, path)) for name, path in MODULES.items()}


def _without_parent_packages(name: str, targets: set[str]) -> set[str]:
    # Importing a.b.c runs a/__init__ and a/b/__init__ first; a package that imports its own
    # submodules is not a cycle of the code's design.
    return {t for t in targets if not name.startswith(t + ".")}


def cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = {name: _without_parent_packages(name, targets) for name, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle() -> None:
    assert cycles() == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    saved = dict(GRAPH)
    try:
        GRAPH["keys.files"] = GRAPH["keys.files"] | {"keys.protocol"}
        GRAPH["keys.protocol"] = GRAPH["keys.protocol"] | {"keys.files"}
        assert ["keys.files", "keys.protocol"] in cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_import_only_downwards(package: str) -> None:
    crossings = {
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if name.split(".")[0] == package
        for target in targets
        if target.split(".")[0] not in MAY_IMPORT[package]
    }
    assert crossings == set()


def _role_comparisons(tree: ast.AST) -> Iterator[int]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            for inner in ast.walk(side):
                if (
                    isinstance(inner, ast.Attribute)
                    and isinstance(inner.value, ast.Name)
                    and inner.value.id == "Role"
                ):
                    yield node.lineno


def test_access_rules_live_in_permissions() -> None:
    """No module but server/permissions.py compares roles (docs/architecture.md)."""
    found = [
        f"{name}:{line}"
        for name, path in MODULES.items()
        if name.startswith("server") and name != "server.permissions"
        for line in _role_comparisons(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_services_know_nothing_of_http() -> None:
    """Services raise domain errors and return domain objects; only the web layers speak HTTP."""
    web = {"flask", "flask_login", "flask_smorest", "flask_wtf", "werkzeug"}
    found = sorted(
        f"{name}: {target}"
        for name, path in MODULES.items()
        if name.startswith("server.services")
        for target in _all_imports(path)
        if target.split(".")[0] in web
    )
    assert found == []


def _all_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_modules_stay_small() -> None:
    large = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert large == {}
