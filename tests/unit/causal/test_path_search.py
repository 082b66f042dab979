"""Path search: exactness against brute force, the work bound and its report, the per-context index cache."""

from __future__ import annotations

import random
from collections.abc import Hashable
from itertools import pairwise

import networkx as nx
import pytest

import kg.causal.network
import kg.causal.search
from kg.causal.search import build_index, search_paths
from kg.causal.why import explain
from kg.graph.knowledge import KnowledgeGraph
from kg.model.types import ExplanationStatus

SignedTuple = tuple[tuple[Hashable, ...], tuple[int, ...]]
"""A path as (nodes, hop signs)."""


def random_signed(seed: int, nodes: int = 9, edges: int = 30) -> nx.MultiDiGraph:
    """A small random signed multigraph with parallel edges of both signs and cycles."""
    rng = random.Random(seed)
    graph = nx.MultiDiGraph()
    for i in range(edges):
        u, v = rng.randrange(nodes), rng.randrange(nodes)
        if u != v:
            graph.add_edge(u, v, key=f"e{i}", sign=rng.choice((1, -1)))
    return graph


def every_signed_path(graph: nx.MultiDiGraph, source: int, target: int, max_hops: int) -> set[SignedTuple]:
    """Every simple path with every choice of hop sign, by brute force (networkx's all_simple_paths)."""
    found: set[SignedTuple] = set()
    if source not in graph or target not in graph:
        return found
    for nodes in nx.all_simple_paths(graph, source, target, cutoff=max_hops):
        choices: list[list[int]] = [[]]
        for u, v in pairwise(nodes):
            signs = sorted({data["sign"] for data in graph[u][v].values()})
            choices = [[*done, sign] for done in choices for sign in signs]
        found.update((tuple(nodes), tuple(signs)) for signs in choices)
    return found


@pytest.mark.parametrize("seed", range(12))
def test_search_finds_exactly_the_simple_signed_paths_shortest_first(seed: int) -> None:
    graph = random_signed(seed)
    expected = every_signed_path(graph, 0, 1, 5)
    search = search_paths(graph, 0, 1, max_hops=5, max_paths=10_000)
    assert not search.truncated
    assert {(p.nodes, p.signs) for p in search.paths} == expected
    assert len(search.paths) == len(expected)
    assert [p.hops for p in search.paths] == sorted(p.hops for p in search.paths)
    # the cached whole-graph index gives the same paths as the per-call corridor
    indexed = search_paths(graph, 0, 1, max_hops=5, max_paths=10_000, index=build_index(graph))
    assert indexed.paths == search.paths


@pytest.mark.parametrize("seed", range(6))
def test_a_cut_answer_holds_the_shortest_paths(seed: int) -> None:
    graph = random_signed(seed, nodes=8, edges=40)
    every = every_signed_path(graph, 0, 1, 6)
    search = search_paths(graph, 0, 1, max_hops=6, max_paths=4)
    assert len(search.paths) == min(4, len(every))
    if search.paths:
        longest = search.paths[-1].hops
        shorter = {path for path in every if len(path[1]) < longest}
        assert shorter <= {(p.nodes, p.signs) for p in search.paths}


def test_the_work_bound_stops_the_search_and_says_so() -> None:
    nodes = range(30)
    graph = nx.MultiDiGraph()
    for u in nodes:
        for v in nodes:
            if u != v and (u, v) != (0, 29):
                graph.add_edge(u, v, key=f"{u}-{v}", sign=1 if (u * v) % 2 else -1)
    bounded = search_paths(graph, 0, 29, max_hops=8, max_paths=100_000, max_work=5_000)
    assert bounded.truncated
    assert 5_000 <= bounded.work <= 5_001
    assert all(len(set(p.nodes)) == len(p.nodes) and p.hops <= 8 for p in bounded.paths)
    free = search_paths(graph, 0, 29, max_hops=3, max_paths=100_000, max_work=10**7)
    assert not free.truncated
    assert len(free.paths) == len(every_signed_path(graph, 0, 29, 3))


def test_an_answer_cut_by_the_work_bound_says_so_in_its_message(knowledge_graph: KnowledgeGraph) -> None:
    network = kg.causal.network.network_of(knowledge_graph)
    full = explain(network, "hypocalcemia")
    assert "work limit" not in full.message
    offered = len(full.paths) + len(full.contradicting)
    # some bound below what the full search needs cuts the answer short, and the answer says so
    cuts = [explain(network, "hypocalcemia", max_work=work) for work in (4, 8, 16, 32, 64)]
    shorter = [cut for cut in cuts if len(cut.paths) + len(cut.contradicting) < offered]
    assert shorter
    assert all("work limit" in cut.message for cut in shorter)
    nothing = explain(network, "hypocalcemia", max_work=1)
    assert nothing.status is ExplanationStatus.NO_PATH
    assert "work limit" in nothing.message


def test_the_signed_index_is_built_once_per_context(
    knowledge_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = kg.causal.network.build_network(knowledge_graph.asserted)
    built: list[object] = []
    stock = kg.causal.search.build_index

    def counting(*args: object, **kwargs: object) -> object:
        built.append(args)
        return stock(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.causal.network, "build_index", counting)
    for finding in ("hypocalcemia", "tetany", "hypokalemia", "hypocalcemia"):
        for context in (None, "mild", "severe"):
            explain(network, finding, context=context)
    assert len(built) == 3
    assert network.signed_index("mild") is network.signed_index("mild")
    assert network.signed_index("mild") is not network.signed_index("severe")
