"""kg.causal.consistency on its own: the rules as plain data, applied by the path search to a plain graph."""

from __future__ import annotations

import networkx as nx

from kg.causal.consistency import Checker, ConsistencyRules, LinkFacts, Rule, check_path
from kg.causal.search import find_paths, search_paths


def graph(*edges: tuple[str, str, str, int]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for u, v, key, sign in edges:
        g.add_edge(u, v, key=key, sign=sign)
    return g


def test_a_path_never_mixes_phases_even_walking_a_link_in_reverse() -> None:
    # s -(-)-> m (mild link walked from "less s") -(+)-> t (severe link): mixed phases, rejected
    g = graph(("s", "m", "mild-link", -1), ("m", "t", "severe-link", 1), ("s", "t", "plain", -1))
    rules = ConsistencyRules(
        links={
            "mild-link": LinkFacts("mild link", "mild", frozenset({"mild"})),
            "severe-link": LinkFacts("severe link", "severe", frozenset({"severe"})),
        }
    )
    assert len(find_paths(g, "s", "t")) == 2
    found = search_paths(g, "s", "t", checker=Checker(rules))
    assert [p.nodes for p in found.paths] == [("s", "t")]
    assert found.rejected == 1
    violation = check_path(rules, ("s", "m", "t"), (-1, 1), (("mild-link",), ("severe-link",)))
    assert violation is not None
    assert violation.rule is Rule.PHASE
    assert "mild" in violation.reason
    assert "severe" in violation.reason


def test_a_later_node_negates_the_condition_an_earlier_link_needs() -> None:
    g = graph(("s", "a", "needs-c", 1), ("a", "t", "plain", 1))
    rules = ConsistencyRules(
        links={"needs-c": LinkFacts("the link needing C", contexts=frozenset({"C"}))},
        negates={"t": frozenset({"C"})},
        labels={"C": "condition C", "t": "the target"},
    )
    assert not search_paths(g, "s", "t", checker=Checker(rules)).paths
    violation = check_path(rules, ("s", "a", "t"), (1, 1), (("needs-c",), ("plain",)))
    assert violation is not None
    assert (
        violation.reason
        == "it needs condition C (for the link 'the link needing C'), which the target negates"
    )


def test_a_parallel_link_that_holds_keeps_the_hop() -> None:
    g = graph(("s", "t", "needs-c", 1), ("s", "t", "free", 1))
    rules = ConsistencyRules(
        links={"needs-c": LinkFacts("x", contexts=frozenset({"C"}))}, negates={"s": frozenset({"C"})}
    )
    [path] = search_paths(g, "s", "t", checker=Checker(rules)).paths
    assert path.edges == (("free",),)


def test_an_intervention_raises_only_what_a_link_says_it_causes() -> None:
    g = graph(("drug", "x", "d-x", -1), ("x", "bad", "x-bad", -1), ("drug", "good", "d-good", 1))
    rules = ConsistencyRules(
        interventions=frozenset({"drug"}),
        states=frozenset({"bad", "good"}),
        caused_by={"drug": frozenset({"good"})},
    )
    assert not search_paths(g, "drug", "bad", checker=Checker(rules)).paths
    assert search_paths(g, "drug", "good", checker=Checker(rules)).paths
    assert search_paths(g, "drug", "bad").paths  # without the rules the chain would be offered


def test_states_that_exclude_each_other_never_share_a_path() -> None:
    g = graph(("s", "a", "s-a", 1), ("a", "t", "a-t", 1))
    rules = ConsistencyRules(excludes={"s": frozenset({"a"}), "a": frozenset({"s"})})
    assert not search_paths(g, "s", "t", checker=Checker(rules)).paths
    assert search_paths(g, "s", "t", checker=Checker(ConsistencyRules())).paths
