"""Import layering: data -> models -> studies -> reports/CLI, and no import cycles.

Every import of an ``analysis`` module counts, including imports inside functions: a lazy
import is still a dependency, and hiding a cycle in a function only delays it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"

#: Layers, bottom to top. A module may import from its own layer and the ones below. A
#: member names a module or package (``"data"``) or a dotted submodule (``"models.scenarios"``);
#: a module belongs to the layer of its longest matching member.
LAYERS: dict[str, tuple[str, ...]] = {
    # Shared vocabulary and plumbing with no domain logic (analysis/base/).
    "base": ("base",),
    # Raw facts -> validated ledger and partner panel; live loaders (analysis/data/).
    "data": ("data",),
    # Figures, labels, number formats and CSV tables for readers (analysis/present/).
    "present": ("present",),
    # Estimators and indices on plain arguments (analysis/models/).
    "models": ("models",),
    # Applications of the models: scenarios, the ranking's indicators, its validation.
    "applications": ("models.scenarios", "models.indicators", "models.validation"),
    # Typed parameters, declared once, with one settings group per study.
    "config": ("config", "config_types", "params"),
    # One study per report.
    "studies": ("studies",),
    # Running reports and the command line.
    "top": ("reports", "cli", "notebooks"),
}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(path: Path, modules: frozenset[str] = frozenset()) -> set[str]:
    """The ``analysis`` modules ``path`` imports, relative imports resolved to absolute ones.

    ``from analysis.pkg import name`` counts ``pkg.name`` when that is one of ``modules``
    (a submodule), else the package ``pkg`` itself.
    """
    module = _module_name(path)
    # The package a relative import of level 1 starts from: a package's own name for its
    # __init__, the parent package for any other module.
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                target = f"analysis.{target}" if target else "analysis"
            else:
                target = node.module or ""
            if target == "analysis":
                found.update(a.name for a in node.names)
            elif target.startswith("analysis."):
                inner = target.removeprefix("analysis.")
                for a in node.names:
                    found.add(f"{inner}.{a.name}" if f"{inner}.{a.name}" in modules else inner)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("analysis.")
                for a in node.names
                if a.name.startswith("analysis.")
            )
    return found


def _graph() -> dict[str, set[str]]:
    paths = {
        _module_name(p): p
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.parent != PACKAGE or p.name != "__init__.py"
    }
    modules = frozenset(paths)
    return {m: _imports(p, modules) - {m} for m, p in paths.items()}


def _layer(module: str) -> int:
    best, rank = "", -1
    for r, members in enumerate(LAYERS.values()):
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > len(best):
                best, rank = member, r
    if rank >= 0:
        return rank
    raise AssertionError(
        f"analysis.{module} is in no layer: add it to LAYERS in {Path(__file__).name}"
    )


def test_every_module_has_a_layer():
    for module in _graph():
        _layer(module)


def test_no_module_imports_from_a_higher_layer():
    names = list(LAYERS)
    upward = [
        f"analysis.{m} ({names[_layer(m)]}) imports analysis.{d} ({names[_layer(d)]})"
        for m, deps in _graph().items()
        for d in sorted(deps)
        if _layer(d) > _layer(m)
    ]
    assert not upward, "\n".join(upward)


def _package_of(module: str, graph: dict[str, set[str]]) -> str:
    # ``from analysis.data import x`` resolves to the package module ``data``.
    return module if module in graph else module.rsplit(".", 1)[0]


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (modules and the modules they import), or []."""
    edges = {
        m: {_package_of(d, graph) for d in deps if _package_of(d, graph) in graph}
        for m, deps in graph.items()
    }
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        seen[node] = 1
        stack.append(node)
        for dep in sorted(edges[node]):
            if seen.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in seen and (found := visit(dep)):
                return found
        stack.pop()
        seen[node] = 2
        return []

    for node in sorted(edges):
        if node not in seen and (found := visit(node)):
            return found
    return []


def test_no_import_cycles():
    """No module reaches itself through imports, lazy and relative ones included.

    Nothing is exempt: a package's ``__init__`` importing its submodules is an edge, and a
    submodule importing its own package (``from analysis.data import x`` inside ``data/``)
    closes a cycle through that ``__init__``.
    """
    cycle = _cycle(_graph())
    assert not cycle, "import cycle: " + " -> ".join(f"analysis.{c}" for c in cycle)


def test_the_cycle_test_can_fail():
    """A lazy import back down the chain (as ``data.imports`` -> ``data.ledger`` was) is caught."""
    fake = _graph()
    fake["data.imports"] = {*fake["data.imports"], "data.ledger"}
    assert _cycle(fake)[0] in {"data.imports", "data.ledger", "data.ledger.ledger"}


def test_the_layering_test_can_fail(monkeypatch):
    """An upward import is caught (guards against a test that can never fail)."""
    fake = _graph()
    low = min(fake, key=_layer)  # a module of the bottom layer
    fake[low] = {"reports.batch"}
    monkeypatch.setattr(sys.modules[__name__], "_graph", lambda: fake)
    bottom = next(iter(LAYERS))
    with pytest.raises(AssertionError, match=rf"analysis\.{low} \({bottom}\) imports"):
        test_no_module_imports_from_a_higher_layer()


#: The model modules of ``../shared/design/layers.md`` (estimators and indices on plain
#: arguments) and the parts they must never import (by first name: a package covers its
#: submodules).
MODELS = ("models",)
NEVER_FROM_MODELS = {
    # Models take plain arguments, not the params object.
    "config": "Models -> Config",
    "params": "Models -> Config",
    # Models draw no figures and format no text.
    "present": "Models -> Present",
}


def _never_broken(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"analysis.{m} imports analysis.{d} ({NEVER_FROM_MODELS[d.split('.')[0]]})"
        for m, deps in graph.items()
        if m.split(".")[0] in MODELS
        for d in sorted(deps)
        if d.split(".")[0] in NEVER_FROM_MODELS
    ]


def test_models_import_neither_config_nor_presentation():
    broken = _never_broken(_graph())
    assert not broken, "\n".join(broken)


def test_the_never_test_can_fail():
    fake = _graph()
    model = next(m for m in sorted(fake) if m.split(".")[0] in MODELS)
    present = next(k for k, why in NEVER_FROM_MODELS.items() if why == "Models -> Present")
    fake[model] = {"config", present}
    assert len(_never_broken(fake)) == 2
