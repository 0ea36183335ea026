"""The layering of DESIGN.md, checked on the source: the engines meet only in `contracts`; nothing imports in a
circle. Lazy imports inside functions count too (they are how circles used to hide)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contracts", "attribution", "mmm", "optimizer", "simulator", "planner")
#: Which of our packages each package may import (besides itself).
ALLOWED = {
    "contracts": set(),
    "attribution": {"contracts"},
    "mmm": {"contracts"},
    "optimizer": {"contracts"},
    "simulator": {"contracts"},
    "planner": {"contracts", "attribution", "mmm", "optimizer", "simulator"},
}


def _runtime_nodes(tree: ast.AST):
    """Every node that runs: the bodies of ``if TYPE_CHECKING:`` are type hints only and are skipped."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imports(path: Path) -> set[str]:
    """Fully qualified modules of ours that ``path`` imports at run time, anywhere in the file."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: -node.level] if not path.name == "__init__.py" else module.split(".")
                if path.name == "__init__.py" and node.level > 1:
                    base = base[: -(node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return {n for n in found if n.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            graph[module] |= _imports(path)
    return graph


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_layering_allows(package):
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.split(".")[0] == package
        for target in targets
        if target.split(".")[0] not in ALLOWED[package] | {package}
    )
    assert not bad, bad


def test_no_module_imports_in_a_circle():
    graph = _graph()
    modules = set(graph)
    # an import of a name inside a module ("mmm.results.FittedMMM") is an import of that module
    edges = {
        m: {t if t in modules else t.rsplit(".", 1)[0] for t in targets} & modules - {m} for m, targets in graph.items()
    }
    # a package's __init__ re-exports its modules: edges into a package's own __init__ from inside it are the
    # circle to look for, edges from __init__ down are expected
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt == node.rsplit(".", 1)[0] and node.startswith(nxt + "."):
                continue  # a module importing its own package's __init__ (e.g. `from mmm import io`) is a sibling
            if state.get(nxt) == 1:
                cycle.extend([*trail, node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*trail, node]):
                return True
        state[node] = 2
        return False

    for module in sorted(edges):
        if state.get(module) is None and visit(module, []):
            break
    assert not cycle, " -> ".join(cycle)
