"""The architecture as tests: every module imports, no import cycles, layers flow one way, kg is lazy."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import api
import kg

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("kg", "api")

# A string that names a module the way an import string or `python -m` does: "api.app:create_app",
# "kg.sparql.parsers" (as the argument after "-m"), or "-m kg.x" inside a longer command line.
IMPORT_STRING = re.compile(r"(?:kg|api)(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_][\w.]*)?")
DASH_M = re.compile(r"-m\s+((?:kg|api)(?:\.[A-Za-z_]\w*)*)")

# What each layer of kg may import besides itself: model <- graph <- causal <- render, with sparql and
# stores beside them (sparql on the model; stores on the graph and the SPARQL engine) and the Translator
# views on the causal layer; api on top of all. Every module of kg is in one layer (a test checks it).
KG_LAYERS = (
    "kg.errors",
    "kg.model",
    "kg.graph",
    "kg.causal",
    "kg.render",
    "kg.sparql",
    "kg.stores",
    "kg.translator",
)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "kg.errors": frozenset(),
    "kg.model": frozenset({"kg.errors"}),
    "kg.graph": frozenset({"kg.errors", "kg.model"}),
    "kg.causal": frozenset({"kg.errors", "kg.model", "kg.graph"}),
    "kg.render": frozenset({"kg.errors", "kg.model", "kg.graph", "kg.causal"}),
    "kg.sparql": frozenset({"kg.errors", "kg.model", "kg.graph"}),
    "kg.stores": frozenset({"kg.errors", "kg.model", "kg.graph", "kg.sparql"}),
    "kg.translator": frozenset({"kg.errors", "kg.model", "kg.graph", "kg.causal"}),
    "api": frozenset(KG_LAYERS),
}

# Inside a layer, the modules others build on, with the only modules of their own package they may import:
# the SPARQL errors and the fast screen need nothing of kg.sparql but a lexical scanner (rdflib's verdict
# builds on both, the guard on all three); reading the links out of RDF needs only the rules and the
# search's edge keys, not the network it feeds; the answer document's models need none of the code that
# fills them.
MAY_IMPORT_WITHIN: dict[str, frozenset[str]] = {
    "kg.sparql.errors": frozenset(),
    # the comment and string scanner, and the reader of SERVICE and dataset clauses in the code
    "kg.sparql.screen": frozenset({"kg.sparql.code", "kg.sparql.clauses", "kg.sparql.errors"}),
    "kg.sparql.clauses": frozenset({"kg.sparql.code", "kg.sparql.errors"}),
    "kg.sparql.text": frozenset(),
    "kg.sparql.verdict": frozenset({"kg.sparql.errors", "kg.sparql.screen", "kg.sparql.clauses"}),
    "kg.causal.links": frozenset({"kg.causal.consistency", "kg.causal.search"}),
    "kg.causal.prose": frozenset({"kg.causal.network"}),
    "kg.render.schema": frozenset(),
}

HEAVY = ("rdflib", "networkx", "pyoxigraph", "owlrl", "pyshacl", "fastapi")


@dataclass(frozen=True)
class Edge:
    """One import of a module by another, and where it is written."""

    source: str
    target: str
    line: int
    how: str  # "import", "type-checking" (under `if TYPE_CHECKING:`), or "string" (an import string)


def module_files() -> dict[str, Path]:
    """Every module of kg and api, by dotted name, found by walking the packages on disk."""
    found: dict[str, Path] = {}
    for package in (kg, api):
        found[package.__name__] = Path(package.__file__ or "")
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            spec = info.module_finder.find_spec(info.name, None)
            assert spec is not None
            assert spec.origin is not None
            found[info.name] = Path(spec.origin)
    return found


@cache
def modules() -> dict[str, Path]:
    """The module files, computed once per test session."""
    return module_files()


def resolve(name: str) -> str | None:
    """The longest prefix of a dotted name that is one of our modules (an imported name may be a class)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules():
            return candidate
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module and its classes and functions: prose, not import strings."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def edges_of(name: str, path: Path) -> Iterator[Edge]:
    """The imports a module makes: at module level, in functions, under TYPE_CHECKING, by import string."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            guarded.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        how = "type-checking" if id(node) in guarded else "import"
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` imports the module a.b.c when c is one, and a.b otherwise
            targets = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            how = "string"
            if IMPORT_STRING.fullmatch(node.value):
                targets = [node.value.partition(":")[0]]
            targets += DASH_M.findall(node.value)
        for target in targets:
            resolved = resolve(target)
            if resolved is not None and resolved != name:
                yield Edge(name, resolved, getattr(node, "lineno", 0), how)


@cache
def import_graph() -> tuple[Edge, ...]:
    """Every import edge between the modules of kg and api, read from the code."""
    edges = (edge for name, path in sorted(modules().items()) for edge in edges_of(name, path))
    return tuple(dict.fromkeys(edges))  # one edge per import statement, in the order they are written


def layer_of(name: str) -> str | None:
    """The layer a module belongs to (the longest matching prefix in MAY_IMPORT), None for the kg root."""
    best = None
    for layer in MAY_IMPORT:
        if (name == layer or name.startswith(f"{layer}.")) and (best is None or len(layer) > len(best)):
            best = layer
    return best


def cycles(edges: tuple[Edge, ...]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# --- every module imports -------------------------------------------------------------------------------


def test_the_walk_finds_the_packages() -> None:
    names = set(modules())
    assert {"kg", "kg.errors", "kg.causal.search", "kg.sparql._worker", "api.app", "api.cli"} <= names
    assert len(names) > 50


@pytest.mark.parametrize("name", sorted(module_files()))
def test_every_module_imports(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__name__ == name


# --- the import graph -----------------------------------------------------------------------------------


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        '''"""Docstrings that name kg.graph.files are prose, not imports."""
from typing import TYPE_CHECKING

import kg.errors
from kg.model import vocab
from kg.causal.why import explain

if TYPE_CHECKING:
    from kg.render.document import answer_document


def later() -> None:
    from kg.sparql import guard
    app = "api.app:create_app"
    command = ["python", "-m", "kg.sparql.parsers"]
    line = "python -m kg.stores.load --help"
''',
        encoding="utf-8",
    )
    found = {(edge.target, edge.how) for edge in edges_of("kg.probe", source)}
    assert found == {
        ("kg.errors", "import"),
        ("kg.model.vocab", "import"),
        ("kg.causal.why", "import"),
        ("kg.render.document", "type-checking"),
        ("kg.sparql.guard", "import"),
        ("api.app", "string"),
        ("kg.sparql.parsers", "string"),
        ("kg.stores.load", "string"),
    }


def test_relative_imports_resolve_against_the_package(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text("from . import search\nfrom ..model.types import Step\n", encoding="utf-8")
    found = {edge.target for edge in edges_of("kg.causal.probe", source)}
    assert found == {"kg.causal.search", "kg.model.types"}


def test_cycles_are_found() -> None:
    edges = (Edge("a", "b", 1, "import"), Edge("b", "c", 1, "import"), Edge("c", "a", 1, "import"))
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles(edges[:2]) == []


def test_no_import_cycles_between_modules() -> None:
    runtime = tuple(edge for edge in import_graph() if edge.how != "type-checking")
    found = cycles(runtime)
    detail = [
        [
            f"{e.source} -> {e.target} (line {e.line}, {e.how})"
            for e in runtime
            if {e.source, e.target} <= set(c)
        ]
        for c in found
    ]
    assert found == [], json.dumps(detail, indent=1)


def test_kg_never_imports_api() -> None:
    wrong = [e for e in import_graph() if e.source.startswith("kg") and layer_of(e.target) == "api"]
    assert wrong == []


def test_layers_flow_one_way() -> None:
    wrong = []
    for edge in import_graph():
        source, target = layer_of(edge.source), layer_of(edge.target)
        if source is None or target is None or source == target:
            continue
        if target not in MAY_IMPORT[source]:
            wrong.append(f"{edge.source} -> {edge.target} (line {edge.line}, {edge.how})")
    assert wrong == [], "\n".join(wrong)


def test_every_module_of_kg_is_in_a_layer() -> None:
    """A new package of kg gets its row in MAY_IMPORT (else the layer test would not see its imports)."""
    assert [name for name in modules() if name != "kg" and layer_of(name) is None] == []


def test_the_lower_modules_of_a_layer_stay_low() -> None:
    assert set(MAY_IMPORT_WITHIN) <= set(modules())
    wrong = []
    for edge in import_graph():
        allowed = MAY_IMPORT_WITHIN.get(edge.source)
        same_package = edge.target.rpartition(".")[0] == edge.source.rpartition(".")[0]
        if allowed is not None and same_package and edge.target not in allowed:
            wrong.append(f"{edge.source} -> {edge.target} (line {edge.line}, {edge.how})")
    assert wrong == [], "\n".join(wrong)


def test_the_package_root_only_reexports() -> None:
    """kg/__init__ reaches its modules lazily, by name; none of kg's modules imports the package root."""
    assert not [e for e in import_graph() if e.target == "kg" and e.source.startswith("kg.")]
    eager = [e for e in import_graph() if e.source == "kg" and e.how == "import"]
    assert eager == []


# --- the public surface ---------------------------------------------------------------------------------


def _fresh(code: str) -> str:
    """Run Python code in a fresh interpreter (same sys.path) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, timeout=120
    )
    return done.stdout


def test_import_kg_is_lazy() -> None:
    code = f"import json, sys, kg; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    assert json.loads(_fresh(code)) == []


def test_a_public_name_imports_its_module_on_first_use() -> None:
    code = "import sys, kg; kg.explain; print('networkx' in sys.modules, 'kg.causal.why' in sys.modules)"
    assert _fresh(code).split() == ["True", "True"]


def test_every_public_name_is_served_and_listed() -> None:
    for name in kg.__all__:
        assert getattr(kg, name) is not None
    assert set(kg.__all__) <= set(dir(kg))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = kg.nothing_here


def test_the_type_checking_imports_match_the_table() -> None:
    """The TYPE_CHECKING block (what mypy and IDEs see) imports each name from the module the table says."""
    tree = ast.parse((REPO / "kg" / "__init__.py").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    table: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    seen.update({alias.name: stmt.module for alias in stmt.names})
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "_EXPORTS":
            assert isinstance(node, ast.AnnAssign)
            assert node.value is not None
            table = ast.literal_eval(node.value)
    assert table
    assert seen == table
    assert set(kg.__all__) == {*table, "__version__"}
    for name, module in table.items():
        value = getattr(kg, name)
        if hasattr(value, "__module__") and not isinstance(value, str):
            assert value.__module__ == module, name


def test_the_version_is_written_once() -> None:
    """pyproject.toml holds the version; the metadata, kg.__version__ and the ontology agree with it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert kg.__version__ == project["version"] == kg.VERSION
    ontology = (REPO / "ontology" / "mgkg.ttl").read_text(encoding="utf-8")
    assert f'owl:versionInfo "{project["version"]}"' in ontology
    assert f"/releases/{project['version']}/ontology" in ontology
