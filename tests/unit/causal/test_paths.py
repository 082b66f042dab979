"""Signed path search and explain() on a small fixture graph whose answers are known."""

from __future__ import annotations

import networkx as nx
import pytest

from kg.causal.network import CausalNetwork, build_network
from kg.causal.search import context_filter, find_paths, search_paths
from kg.causal.why import explain
from kg.errors import UnknownNodeError
from kg.graph.asserted import load_asserted
from kg.model.resources import ontology_file
from kg.model.types import ExplanationStatus
from kg.model.vocab import MGKGID
from tests.conftest import RESOURCES


def iri(local: str) -> str:
    return str(MGKGID[local])


@pytest.fixture(scope="module")
def fixture_network() -> CausalNetwork:
    path = RESOURCES / "paths-fixture.ttl"
    return build_network(load_asserted([ontology_file(), path]).graph)


# --- find_paths on plain networkx graphs -------------------------------------------------------


def signed_edges(*edges: tuple[str, str, int]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for number, (u, v, sign) in enumerate(edges):
        graph.add_edge(u, v, key=f"e{number}", sign=sign)
    return graph


def test_negative_edge_gives_negative_net_sign() -> None:
    paths = find_paths(signed_edges(("s", "a", 1), ("a", "t", -1)), "s", "t")
    assert [(p.nodes, p.net_sign) for p in paths] == [(("s", "a", "t"), -1)]


def test_two_negatives_make_a_positive() -> None:
    paths = find_paths(signed_edges(("s", "a", -1), ("a", "t", -1)), "s", "t")
    assert [p.net_sign for p in paths] == [1]
    assert paths[0].signs == (-1, -1)


def test_signed_state_revisiting_a_node_is_not_a_simple_path() -> None:
    # (s,+) -> (a,+) -> (b,-) -> (a,-) -> (t,-) exists in the signed graph but repeats a.
    graph = signed_edges(("s", "a", 1), ("a", "t", 1), ("a", "b", -1), ("b", "a", 1))
    paths = find_paths(graph, "s", "t")
    assert [p.nodes for p in paths] == [("s", "a", "t")]
    assert all(len(set(p.nodes)) == len(p.nodes) for p in paths)


def test_parallel_same_sign_edges_are_one_hop_and_opposite_signs_are_two_paths() -> None:
    graph = signed_edges(("s", "t", 1), ("s", "t", 1), ("s", "t", -1))
    paths = find_paths(graph, "s", "t")
    assert sorted(p.net_sign for p in paths) == [-1, 1]
    positive = next(p for p in paths if p.net_sign == 1)
    assert len(positive.edges[0]) == 2


def test_limits_are_respected() -> None:
    graph = signed_edges(("s", "a", 1), ("a", "b", 1), ("b", "t", 1), ("s", "t", 1), ("s", "b", 1))
    assert {p.hops for p in find_paths(graph, "s", "t", max_hops=2)} <= {1, 2}
    assert len(find_paths(graph, "s", "t", max_paths=1)) == 1
    assert find_paths(graph, "s", "t", max_paths=1)[0].hops == 1
    assert find_paths(graph, "s", "missing") == []
    assert find_paths(graph, "s", "s") == []


def test_dense_graph_search_stays_bounded() -> None:
    nodes = range(40)
    graph = nx.MultiDiGraph()
    for u in nodes:
        for v in nodes:
            if u != v:
                graph.add_edge(u, v, key=f"{u}-{v}", sign=1 if (u + v) % 3 else -1)
    result = search_paths(graph, 0, 39, max_hops=6, max_paths=25)
    paths = result.paths
    assert len(paths) == 25
    assert [p.hops for p in paths] == sorted(p.hops for p in paths)
    # bounded by what it examines, not by a clock: 25 paths of a complete graph need only the shortest
    # lengths (1 and 2 hops: 39 candidates), so the search never goes deep
    assert not result.truncated
    assert {p.hops for p in paths} <= {1, 2}
    assert result.work <= 2 * 39 * 39


def test_context_filter_drops_the_other_severity() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edge("s", "t", key="mild", sign=1, severity="mild")
    graph.add_edge("s", "t", key="severe", sign=-1, severity="severe")
    graph.add_edge("s", "t", key="any", sign=-1, severity=None)
    mild = find_paths(graph, "s", "t", allowed_edge=context_filter(graph, "mild"))
    assert {key for p in mild for hop in p.edges for key in hop} == {"mild", "any"}
    severe = find_paths(graph, "s", "t", allowed_edge=context_filter(graph, "severe"))
    assert {key for p in severe for hop in p.edges for key in hop} == {"severe", "any"}
    assert len(find_paths(graph, "s", "t", allowed_edge=context_filter(graph, None))) == 2


# --- the fixture graph through explain() -------------------------------------------------------


def test_a_shortcut_that_summarises_the_long_path_corroborates_it(fixture_network: CausalNetwork) -> None:
    """source -> a -> finding summarises source -> a -> b -> finding (same ends and net sign; a -| finding
    spans a -| b -> finding): it is folded into the long path as corroboration, not ranked above it."""
    answer = explain(fixture_network, "fixture finding", source="fx_source")
    assert answer.status is ExplanationStatus.EXPLAINED
    sequences = [[step.object.iri for step in path.steps] for path in answer.paths]
    assert sequences == [[iri("fx_a"), iri("fx_b"), iri("fx_finding")]]
    (long_path,) = answer.paths
    assert long_path.rank == 1
    (shortcut,) = long_path.corroboration
    assert [step.object.iri for step in shortcut.steps] == [iri("fx_a"), iri("fx_finding")]
    assert shortcut.spans == ((0, 0), (1, 2))
    cited = {c for step in long_path.steps for c in step.citations} | set(shortcut.citations)
    assert long_path.citation_count == len(cited)
    assert all(path.net_polarity == "increases" and path.net_sign == 1 for path in answer.paths)
    assert not answer.contradicting


def test_parallel_links_merge_into_one_step(fixture_network: CausalNetwork) -> None:
    answer = explain(fixture_network, "fixture finding", source="fx_source")
    first = answer.paths[0].steps[0]
    assert {link.iri for link in first.links} == {iri("fx-link-source-a-1"), iri("fx-link-source-a-2")}
    assert {c.identifier for c in first.citations} == {"problem:1", "problem:2"}
    assert first.predicate == "decreases"
    assert first.sign == -1
    assert not first.curator_inference  # only one of the two links is a curator inference
    second = answer.paths[0].steps[1]
    assert second.curator_inference
    assert "curator inference" in answer.paths[0].explanation


def test_mechanism_is_the_one_most_links_hold(fixture_network: CausalNetwork) -> None:
    answer = explain(fixture_network, "fixture finding", source="fx_source")
    (path,) = answer.paths
    (shortcut,) = path.corroboration
    assert shortcut.mechanism is not None
    assert shortcut.mechanism.label == "Mechanism X"
    assert path.mechanism is not None
    # source->a has two X links, a->b and b->finding two Y links: a tie, won by Y, nearer the finding
    assert path.mechanism.label == "Mechanism Y"
    # the folded shortcut does not form a group of its own
    assert [g.mechanism.label for g in answer.mechanisms if g.mechanism] == ["Mechanism Y"]


def test_unreachable_and_isolated_findings_have_no_path(fixture_network: CausalNetwork) -> None:
    for name in ("fixture unreachable cause", "fixture isolated finding"):
        answer = explain(fixture_network, name, source="fx_source")
        assert answer.status is ExplanationStatus.NO_PATH
        assert not answer.paths
        assert not answer.mechanisms
        assert answer.message


def test_severity_pair_on_a_process_gives_both_labelled_effects(fixture_network: CausalNetwork) -> None:
    answer = explain(fixture_network, "fixture process", source="fx_source")
    effects = {(p.net_polarity, p.context.severity) for p in answer.paths}
    assert effects == {("increases", "mild"), ("decreases", "severe")}
    mild = explain(fixture_network, "fixture process", source="fx_source", context="mild")
    assert [(p.net_polarity, p.context.severity) for p in mild.paths] == [("increases", "mild")]
    severe = explain(fixture_network, "fixture process", source="fx_source", context="severe")
    assert [(p.net_polarity, p.context.severity) for p in severe.paths] == [("decreases", "severe")]
    assert "severe" in severe.paths[0].explanation


def test_contradicting_paths_are_reported_apart(fixture_network: CausalNetwork) -> None:
    answer = explain(fixture_network, "fixture downstream finding", source="fx_source")
    assert [p.net_sign for p in answer.paths] == [1]
    assert [p.net_sign for p in answer.contradicting] == [-1]
    assert "contradicts" in answer.contradicting[0].explanation
    severe = explain(fixture_network, "fixture downstream finding", source="fx_source", context="severe")
    assert severe.status is ExplanationStatus.ONLY_CONTRADICTING
    assert not severe.paths
    assert len(severe.contradicting) == 1


def test_a_path_only_another_context_allows_is_filtered_by_context(fixture_network: CausalNetwork) -> None:
    answer = explain(fixture_network, "fixture mild-only finding", source="fx_source", context="severe")
    assert answer.status is ExplanationStatus.FILTERED_BY_CONTEXT
    assert not answer.paths
    assert explain(fixture_network, "fixture mild-only finding", source="fx_source").paths


def test_names_and_entities_resolve(fixture_network: CausalNetwork) -> None:
    assert fixture_network.resolve("HP:0000001") == iri("fx_finding")
    assert fixture_network.resolve("  FIXTURE   finding ") == iri("fx_finding")
    assert fixture_network.resolve("the start") == iri("fx_source")
    assert fixture_network.resolve("fixture receptor") == iri("fx_b")  # the state about it
    with pytest.raises(UnknownNodeError) as error:
        fixture_network.resolve("fixture findng")
    assert "fixture finding" in error.value.suggestions


def test_findings_lists_reachable_clinical_findings(fixture_network: CausalNetwork) -> None:
    reachable = {ref.iri for ref in fixture_network.findings(iri("fx_source"))}
    assert reachable == {iri("fx_finding"), iri("fx_downstream"), iri("fx_mild_only")}
    every = {ref.iri for ref in fixture_network.findings(iri("fx_source"), include_unreachable=True)}
    assert {iri("fx_isolated"), iri("fx_unreachable")} <= every
