"""Quick scale tests: the generator's determinism and shape, fast-vs-owlrl inference, bounded path search."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import Counter
from types import ModuleType
from typing import Any

import networkx as nx
import pytest
from rdflib import OWL, RDF, BNode, Graph, URIRef
from rdflib.term import Node

from kg.causal.search import DEFAULT_MAX_WORK, search_paths
from kg.graph.asserted import AssertedGraph, load_asserted
from kg.graph.reasoning import materialize
from kg.graph.rules import UnsupportedAxiomError, infer
from kg.model.resources import ontology_file
from kg.model.vocab import DERIVED_PREDICATES, MGKG, MGKGID
from tests.conftest import REPO

BENCH = REPO / "bench"
CAUSAL_PREDICATES = (*DERIVED_PREDICATES, MGKG.polarity)


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_generator()


# --- the generator ------------------------------------------------------------------------------


def test_generator_is_deterministic_and_exact(generator: ModuleType) -> None:
    first = list(generator.generate(4000, seed=3))
    assert first == list(generator.generate(4000, seed=3))
    assert first != list(generator.generate(4000, seed=4))
    assert len(first) == 4000
    assert len(set(first)) == 4000


def test_generated_graph_is_biomedical_shaped_and_joined_to_the_shipped_one(generator: ModuleType) -> None:
    graph = Graph().parse(data="".join(generator.generate(6000, seed=1)), format="nt")
    assert len(graph) == 6000
    kinds = Counter(str(o).replace("#", "/").rsplit("/", 1)[-1] for o in graph.objects(None, RDF.type))
    for kind in ("Gene", "Protein", "ChemicalEntity", "PhenotypicFeature", "Disease", "CausalLink"):
        assert kinds[kind] > 0
    links = set(graph.subjects(RDF.type, MGKG.CausalLink))
    shipped_findings = {URIRef(iri) for iri in generator.FINDINGS}
    causes: set[Node] = set()
    effects: set[Node] = set()
    for link in links:
        assert len(set(graph.objects(link, MGKG.cause))) == 1
        signed = [*graph.objects(link, MGKG.positiveEffect), *graph.objects(link, MGKG.negativeEffect)]
        assert len(signed) == 1
        assert set(graph.objects(link, MGKG.citation))
        assert set(graph.objects(link, MGKG.evidenceType))
        causes.update(graph.objects(link, MGKG.cause))
        effects.update(signed)
    assert MGKGID.hypomagnesemia in causes
    assert effects & shipped_findings
    plain = {URIRef(predicate) for _, predicate, _ in generator.PLAIN_EDGES}
    degrees = Counter(s for s, p, _ in graph if p in plain)
    out = sorted(degrees.values())
    mean = sum(out) / len(out)
    assert out[-1] > 2 * mean  # a hub
    assert out[len(out) // 2] < mean  # right-skewed: most nodes have fewer edges than the mean


# --- fast engine against owlrl ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> AssertedGraph:
    return load_asserted()


@pytest.fixture(scope="module")
def by_engine(shipped: AssertedGraph) -> dict[str, Graph]:
    return {engine: materialize(shipped.graph, engine) for engine in ("owlrl", "fast")}


@pytest.mark.parametrize("predicate", CAUSAL_PREDICATES, ids=lambda p: str(p).rsplit("/", 1)[-1])
def test_fast_engine_derives_the_same_causal_triples_as_owlrl(
    by_engine: dict[str, Graph], predicate: URIRef
) -> None:
    reference = set(by_engine["owlrl"].triples((None, predicate, None)))
    assert reference  # the shipped graph entails some of each
    assert set(by_engine["fast"].triples((None, predicate, None))) == reference


@pytest.mark.parametrize("kind", ["links", "nodes"])
def test_fast_engine_derives_the_same_class_memberships(
    shipped: AssertedGraph, by_engine: dict[str, Graph], kind: str
) -> None:
    links = set(shipped.graph.subjects(RDF.type, MGKG.CausalLink))

    def types(graph: Graph) -> set[tuple[Any, Any]]:
        return {(s, o) for s, o in graph.subject_objects(RDF.type) if (s in links) == (kind == "links")}

    assert types(by_engine["owlrl"])
    assert types(by_engine["fast"]) == types(by_engine["owlrl"])


def test_fast_engine_matches_owlrl_on_the_whole_inferred_graph(by_engine: dict[str, Graph]) -> None:
    assert set(by_engine["fast"]) == set(by_engine["owlrl"])


def test_fast_engine_matches_owlrl_through_a_causal_cycle() -> None:
    graph = Graph().parse(ontology_file())
    ring = [MGKGID[f"ring-{i}"] for i in range(3)]
    for i, (cause, effect) in enumerate(zip(ring, [*ring[1:], ring[0]], strict=True)):
        link = MGKGID[f"ring-link-{i}"]
        graph.add((link, RDF.type, MGKG.CausalLink))
        graph.add((link, MGKG.cause, cause))
        graph.add((link, MGKG.negativeEffect if i == 0 else MGKG.positiveEffect, effect))
    owlrl, fast = materialize(graph, "owlrl"), materialize(graph, "fast")
    assert (ring[0], MGKG.causallyUpstreamOf, ring[0]) in owlrl
    for predicate in CAUSAL_PREDICATES:
        assert set(fast.triples((None, predicate, None))) == set(owlrl.triples((None, predicate, None)))


def test_fast_engine_refuses_constructs_it_does_not_implement() -> None:
    graph = Graph().parse(ontology_file())
    restriction = BNode()
    graph.add((restriction, OWL.onProperty, MGKG.cause))
    graph.add((restriction, OWL.someValuesFrom, MGKG.Node))
    with pytest.raises(UnsupportedAxiomError, match="owlrl"):
        infer(lambda predicate: graph.triples((None, predicate, None)))


# --- path search on a dense network -------------------------------------------------------------


def dense_network(edges: int, nodes: int, seed: int = 7) -> nx.MultiDiGraph:
    """A signed multigraph with Zipf-skewed out- and in-degrees (hubs at both ends of the index range)."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(nodes)]
    heads = rng.choices(range(nodes), weights=weights, k=edges)
    tails = rng.choices(range(nodes), weights=weights[::-1], k=edges)
    graph = nx.MultiDiGraph()
    graph.add_edges_from(
        (u, v, f"e{i}", {"sign": 1 if i % 3 else -1})
        for i, (u, v) in enumerate(zip(heads, tails, strict=True))
    )
    return graph


@pytest.fixture(scope="module")
def dense() -> nx.MultiDiGraph:
    return dense_network(200_000, 20_000)


@pytest.mark.parametrize(("source", "target"), [(0, 19_999), (0, 5), (100, 19_000), (19_999, 0)])
@pytest.mark.parametrize(("max_hops", "max_paths"), [(4, 5), (6, 20)])
def test_path_search_on_a_dense_network_stays_within_its_bounds(
    dense: nx.MultiDiGraph, source: int, target: int, max_hops: int, max_paths: int
) -> None:
    result = search_paths(dense, source, target, max_hops=max_hops, max_paths=max_paths)
    paths = result.paths
    assert len(paths) <= max_paths
    assert all(1 <= path.hops <= max_hops for path in paths)
    assert all(len(set(path.nodes)) == len(path.nodes) for path in paths)
    assert all(path.nodes[0] == source and path.nodes[-1] == target for path in paths)
    assert [path.hops for path in paths] == sorted(path.hops for path in paths)
    # the edge that trips the work bound is counted, never followed
    assert result.work <= DEFAULT_MAX_WORK + 1
    assert result.truncated == (result.work > DEFAULT_MAX_WORK)


@pytest.mark.parametrize(("source", "target", "max_work"), [(0, 5, 50), (0, 19_999, 1_000)])
def test_the_work_bound_stops_a_dense_search_and_says_so(
    dense: nx.MultiDiGraph, source: int, target: int, max_work: int
) -> None:
    whole = search_paths(dense, source, target, max_hops=6, max_paths=20)
    cut = search_paths(dense, source, target, max_hops=6, max_paths=20, max_work=max_work)
    assert not whole.truncated
    assert whole.work > max_work
    assert cut.truncated
    assert cut.work <= max_work + 1
    # what a cut search offers is the start of the whole answer, shortest first, never other paths
    assert cut.paths == whole.paths[: len(cut.paths)]
    assert len(cut.paths) < len(whole.paths)


def test_a_near_pair_examines_only_a_small_corridor(dense: nx.MultiDiGraph) -> None:
    hub, spoke = 0, next(v for v in dense.successors(0) if v != 0)
    result = search_paths(dense, hub, spoke, max_hops=2, max_paths=5)
    assert result.paths
    assert result.paths[0].hops == 1
    assert not result.truncated
    # the hub has thousands of out-links; a search confined to the nodes within two hops of both ends
    # examines a handful of them (over the whole graph's index it would examine nearly all of them)
    assert result.work < dense.out_degree(hub) // 10
