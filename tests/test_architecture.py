"""The packages are layers: each imports only the layers below it, and no module cycles.

Walks every ``import`` in ``src/llm_roofline`` (function-level imports included: a lazy
import is still a dependency) and resolves it to a module of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "llm_roofline"

# Rank of each subpackage: a module may import its own package and packages of lower rank.
# Packages of equal rank are independent of each other (engine never reads a preset file).
LAYERS = {
    "inputs": 0,
    "engine": 1,
    "catalog": 1,
    "studies": 2,
    "render": 3,
    "measure": 4,
    "validate": 5,
    "serve": 6,
    "cli": 7,
}
TOP = 8  # llm_roofline/__init__.py and __main__.py may import anything


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (``from . import x`` resolved to x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in known else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return TOP
    if parts[1] not in LAYERS:
        raise AssertionError(
            f"{module} is outside every layer: put it in one of {', '.join(LAYERS)}"
        )
    return LAYERS[parts[1]]


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_sits_in_a_layer() -> None:
    for name in modules():
        rank(name)


def test_no_module_imports_upward_or_sideways() -> None:
    bad = []
    for name, deps in graph().items():
        for dep in deps:
            if dep == "llm_roofline":  # lazy re-exports and __version__: the command line only
                if layer(name) != "cli" and rank(name) < TOP:
                    bad.append(f"{name} imports the top-level package")
                continue
            if layer(dep) == layer(name):
                continue
            if rank(dep) >= rank(name):
                bad.append(f"{name} (layer {layer(name)}) imports {dep} (layer {layer(dep)})")
    assert not bad, "\n".join(sorted(bad))


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                cycle = visit(dep)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycles() -> None:
    edges = {name: {d for d in deps if d != "llm_roofline"} for name, deps in graph().items()}
    # A package's __init__ re-exporting its own modules is not a cycle of logic.
    for name in list(edges):
        if (SRC.parent / Path(*name.split("."))).is_dir():
            edges[name] = {d for d in edges[name] if not d.startswith(name + ".")}
    cycle = find_cycle(edges)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("llm_roofline.engine.ops", "llm_roofline.inputs.model", True),
        ("llm_roofline.inputs.model", "llm_roofline.engine.ops", False),
        ("llm_roofline.engine.analyze", "llm_roofline.catalog.model_catalog", False),
        ("llm_roofline.cli.analyze", "llm_roofline.render.text", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    same = layer(importer) == layer(imported)
    assert (same or rank(imported) < rank(importer)) is allowed
