"""The shape of the code: no import circles, and every import points down the map of stedi/.

Imports are read from the source (lazy ones inside functions included), so an arrow that only a
rare code path takes still counts. The map, from the bottom (stedi/__init__.py tells the story):
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each unit may import its own modules and any unit of a lower layer, never one above.
LAYERS = [
    ("declarations and runtime", {"stedi.tables", "stedi.pseudonym", "stedi.runtime"}),
    ("data sets and intake", {"stedi.datasets", "stedi.intake"}),
    ("the erasure register and suppression list", {"stedi.privacy.register", "stedi.privacy.suppression"}),
    ("lakehouse I/O", {"stedi.lakehouse"}),
    ("quality gates", {"expectations", "stedi.gates"}),
    ("targets", {"stedi.targets"}),
    ("a job script's entry", {"stedi.script"}),
    ("jobs", {"stedi.job", "spark_jobs"}),
    ("the pipeline", {"stedi.pipeline", "stedi.privacy.runs"}),
    ("Glue Studio scripts", {"stedi.studio"}),
    ("query", {"stedi.query"}),
    ("the run report", {"stedi.report"}),
    ("erasure and its proof, and the erasure job's script", {"stedi.privacy", "spark_jobs.forget"}),
    ("AWS", {"stedi.aws"}),
    ("tools and the command", {"stedi.tools", "stedi.cli"}),
]


def modules() -> dict[str, Path]:
    found = {}
    for folder in ("stedi", "spark_jobs", "expectations"):
        for path in (ROOT / folder).rglob("*.py"):
            if "datadocs_assets" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def imports(found: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in found.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named = [f"{node.module}.{alias.name}" for alias in node.names]
                # `from package import module` needs that module, not the package's other modules
                targets = named if all(n in found for n in named) else [*named, node.module]
            for target in targets:
                while target and target not in found:
                    target = target.rpartition(".")[0]
                if target and target != name and (target != "stedi" or name == "stedi"):
                    graph[name].add(target)
    return graph


def unit(module: str) -> str:
    """The most specific unit of the map that holds the module."""
    found = [c for _, units in LAYERS for c in units if module == c or module.startswith(c + ".")]
    return max(found, key=len, default=module)


def layer(module: str) -> int:
    for index, (_, units) in enumerate(LAYERS):
        if unit(module) in units:
            return index
    raise AssertionError(f"{module} is on no layer of the map: add it to LAYERS")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(imports(modules())) == []


def test_every_import_points_down_the_map():
    found = modules()
    graph = imports(found)
    upward = sorted(
        f"{source} ({LAYERS[layer(source)][0]}) -> {target} ({LAYERS[layer(target)][0]})"
        for source, targets in graph.items()
        for target in targets
        if target != "stedi" and unit(source) != unit(target) and layer(target) > layer(source)
    )
    assert upward == []


def test_the_top_of_stedi_is_a_map_not_a_heap():
    top = sorted(p.stem for p in (ROOT / "stedi").glob("*.py") if p.stem != "__init__")
    packages = sorted(p.name for p in (ROOT / "stedi").iterdir() if (p / "__init__.py").exists())
    assert top == ["cli", "job", "pipeline", "pseudonym", "script", "tables"]
    assert packages == [
        "aws",
        "datasets",
        "gates",
        "intake",
        "lakehouse",
        "privacy",
        "query",
        "report",
        "runtime",
        "studio",
        "targets",
        "tools",
    ]
    described = (ROOT / "stedi" / "__init__.py").read_text()
    assert all(f"{name}/" in described for name in packages) and all(f"{name}.py" in described for name in top)
