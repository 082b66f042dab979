"""Tests of the KnowledgeGraph facade and `mgkg justify` on the shipped graph (reasoning takes seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, URIRef
from typer.testing import CliRunner

from api.cli import app
from kg.causal.justify import Justification, justify
from kg.causal.network import network_of
from kg.errors import NotEntailedError, UnknownNodeError
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import ASSERTED_GRAPH, DERIVED_PREDICATES, INFERRED_GRAPH, MGKG, MGKGID, OBO

pytestmark = pytest.mark.slow

ROMK_LINK = "mgkgid:link-intracellular-romk-block"


def links(graph: Graph) -> list[tuple[URIRef, URIRef, int]]:
    """(cause, effect, sign) of every asserted causal link."""
    rows: list[tuple[URIRef, URIRef, int]] = []
    for link, cause in graph.subject_objects(MGKG.cause):
        for prop, sign in ((MGKG.positiveEffect, 1), (MGKG.negativeEffect, -1)):
            rows.extend((URIRef(str(cause)), URIRef(str(e)), sign) for e in graph.objects(link, prop))
    return rows


def test_facade_holds_both_graphs_as_named_graphs(knowledge_graph: KnowledgeGraph) -> None:
    dataset = knowledge_graph.dataset
    assert len(dataset.graph(ASSERTED_GRAPH)) == len(knowledge_graph.asserted.graph)
    assert len(dataset.graph(INFERRED_GRAPH)) == len(knowledge_graph.inferred)
    assert not set(knowledge_graph.inferred) & set(knowledge_graph.asserted.graph)
    upstream = (MGKGID.hypomagnesemia, MGKG.causallyUpstreamOf, None, None)
    assert {str(graph) for *_, graph in dataset.quads(upstream)} == {str(INFERRED_GRAPH)}


# rdflib 7.6 warns from inside its own Dataset.triples whenever the default (union) graph is read
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_default_graph_is_the_union(knowledge_graph: KnowledgeGraph) -> None:
    dataset = knowledge_graph.dataset
    query = "ASK { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf ?x . ?x a mgkg:Node ; rdfs:label ?label }"
    assert dataset.query(query, initNs={"mgkg": MGKG, "mgkgid": MGKGID, "rdfs": RDFS}).askAnswer


def test_asserted_graph_holds_no_derived_shortcut(knowledge_graph: KnowledgeGraph) -> None:
    for predicate in DERIVED_PREDICATES:
        assert not set(knowledge_graph.asserted.graph.triples((None, predicate, None)))


def test_every_link_is_materialized_with_its_sign(knowledge_graph: KnowledgeGraph) -> None:
    inferred = knowledge_graph.inferred
    rows = links(knowledge_graph.asserted.graph)
    assert len(rows) == len(set(knowledge_graph.asserted.graph.subjects(RDF.type, MGKG.CausalLink)))
    for cause, effect, sign in rows:
        assert (cause, MGKG.causes, effect) in inferred
        assert (cause, MGKG.increases if sign > 0 else MGKG.decreases, effect) in inferred
        assert (cause, OBO["RO_0002304"] if sign > 0 else OBO["RO_0002305"], effect) in inferred


@pytest.mark.parametrize("finding", ["hypocalcemia", "hypokalemia", "seizure"])
def test_hypomagnesemia_is_upstream_of_its_findings(knowledge_graph: KnowledgeGraph, finding: str) -> None:
    for predicate in (MGKG.causallyUpstreamOf, OBO["RO_0002411"]):
        assert (MGKGID.hypomagnesemia, predicate, MGKGID[finding]) in knowledge_graph.inferred


def cache_folder(graph: KnowledgeGraph) -> Path:
    """The folder of the graph's inference cache file (a graph loaded from the sources always has one)."""
    assert graph.cache.path is not None
    return graph.cache.path.parent


def test_cache_is_a_hit_on_the_second_load(knowledge_graph: KnowledgeGraph) -> None:
    from kg.graph.knowledge import load_knowledge_graph

    again = load_knowledge_graph(cache_dir=cache_folder(knowledge_graph))
    assert again.cache.hit
    assert again.cache.key == knowledge_graph.cache.key
    assert set(again.inferred) == set(knowledge_graph.inferred)


def test_network_is_built_once(knowledge_graph: KnowledgeGraph) -> None:
    assert network_of(knowledge_graph) is network_of(knowledge_graph)


def test_justify_hypokalemia_through_romk(knowledge_graph: KnowledgeGraph) -> None:
    answer = justify(knowledge_graph, "hypomagnesemia", "mgkg:causallyUpstreamOf", "hypokalemia")
    assert answer.chains
    for chain in answer.chains:
        assert chain.links[0].cause.curie == "mgkgid:hypomagnesemia"
        assert chain.links[-1].effect.curie == "mgkgid:hypokalemia"
        for before, after in zip(chain.links, chain.links[1:], strict=False):
            assert before.effect.iri == after.cause.iri
        assert all(link.citations for link in chain.links)
    assert any(ROMK_LINK in [link.curie for link in chain.links] for chain in answer.chains)
    shortest = [len(chain.links) for chain in answer.chains]
    assert shortest == sorted(shortest)


def test_justify_refuses_the_reverse_direction(knowledge_graph: KnowledgeGraph) -> None:
    with pytest.raises(NotEntailedError):
        justify(knowledge_graph, "hypokalemia", "causallyUpstreamOf", "hypomagnesemia")
    with pytest.raises(UnknownNodeError):
        justify(knowledge_graph, "hypokalemiaa", "causallyUpstreamOf", "hypomagnesemia")


@pytest.fixture
def runner(knowledge_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MGKG_CACHE_DIR", str(cache_folder(knowledge_graph)))
    return CliRunner()


def test_cli_justify_prints_the_chain_with_citations(runner: CliRunner) -> None:
    result = runner.invoke(app, ["justify", "hypomagnesemia", "causallyUpstreamOf", "mgkgid:hypokalemia"])
    assert result.exit_code == 0, result.output
    assert ROMK_LINK in result.stdout
    assert "problem:4894404" in result.stdout


def test_cli_justify_json_is_a_justification(runner: CliRunner) -> None:
    result = runner.invoke(app, ["justify", "hypomagnesemia", "RO:0002411", "hypokalemia", "--json"])
    assert result.exit_code == 0, result.output
    answer = Justification.model_validate(json.loads(result.stdout))
    assert answer.predicate == "RO:0002411"
    assert answer.chains


@pytest.mark.parametrize(
    ("args", "code"),
    [(["hypokalemia", "causes", "hypomagnesemia"], 1), (["no-such-node", "causes", "hypokalemia"], 2)],
)
def test_cli_justify_exit_codes(runner: CliRunner, args: list[str], code: int) -> None:
    result = runner.invoke(app, ["justify", *args])
    assert result.exit_code == code
    assert "error" in result.output
