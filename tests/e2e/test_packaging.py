"""The wheel carries the graph: built, unpacked and loaded from another directory, it finds its data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PROBE = textwrap.dedent(
    """
    import json
    from rdflib.namespace import OWL, RDF
    import kg
    from kg.model.resources import queries_dir, shapes_file
    from kg.model.vocab import MGKG

    asserted = kg.load_asserted()
    graph = asserted.graph
    print(json.dumps({
        "kg_file": kg.__file__,
        "files": [str(p) for p in asserted.files],
        "ontologies": len(list(graph.subjects(RDF.type, OWL.Ontology))),
        "links": len(list(graph.subjects(RDF.type, MGKG.CausalLink))),
        "queries": sorted(p.name for p in queries_dir().glob("*.rq")),
        "shapes": str(shapes_file()) if shapes_file().is_file() else None,
        "conforms": kg.validate(asserted).conforms,
    }))
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from the working tree, offline (the build backend must already be installed)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (built,) = out.glob("mgkg-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    queries = sorted(p.name for p in (REPO / "queries").glob("*.rq"))
    assert queries
    for name in queries:
        assert f"kg/_data/queries/{name}" in names
    assert "kg/_data/ontology/shapes.ttl" in names
    assert "kg/_data/ontology/mgkg.ttl" in names
    for fact in (REPO / "kg" / "facts").glob("*.ttl"):
        assert f"kg/facts/{fact.name}" in names
    assert "kg/py.typed" in names
    assert "api/py.typed" in names  # typed for programs that build on the app (api.app.create_app)


@pytest.mark.slow
def test_unpacked_wheel_loads_the_shipped_graph(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout)
    assert Path(found["kg_file"]).is_relative_to(site), "the probe imported the checkout, not the wheel"
    assert all(Path(f).is_relative_to(site) for f in found["files"])
    assert any(Path(f).name == "mgkg.ttl" for f in found["files"])
    assert found["ontologies"] == 1
    assert found["links"] >= 50
    assert found["queries"] == sorted(p.name for p in (REPO / "queries").glob("*.rq"))
    assert found["shapes"] is not None
    assert Path(found["shapes"]).is_relative_to(site)
    assert found["conforms"] is True


def _imported_top_level_modules(folder: Path) -> set[str]:
    """The top-level names every module under ``folder`` imports (absolute imports only)."""
    import ast

    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.partition(".")[0])
    return names


def test_every_third_party_import_is_a_declared_dependency() -> None:
    """A plain `pip install` must bring everything kg/ and api/ import (extras count for optional code)."""
    import re
    from importlib.metadata import packages_distributions, requires

    declared = {
        re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in requires("mgkg") or []
    }
    distributions = packages_distributions()
    local = {"kg", "api", "__future__"}
    undeclared = {}
    for name in _imported_top_level_modules(REPO / "kg") | _imported_top_level_modules(REPO / "api"):
        if name in sys.stdlib_module_names or name in local:
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not owners & declared:
            undeclared[name] = sorted(owners)
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"
