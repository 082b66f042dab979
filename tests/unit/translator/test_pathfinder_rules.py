"""A TRAPI pathfinder answer applies the consistency rules: a rule added in Turtle removes an analysis."""

from __future__ import annotations

from typing import Any

from kg.causal.network import build_network
from kg.graph.asserted import load_asserted
from kg.model.resources import ontology_file
from kg.translator.trapi import answer
from kg.translator.view import BiolinkView
from tests.conftest import RESOURCES

FIXTURE = RESOURCES / "paths-fixture.ttl"


def _view(*extra: str) -> BiolinkView:
    files = [ontology_file(), FIXTURE, *(RESOURCES / "consistency" / name for name in extra)]
    graph = load_asserted(files).graph
    return BiolinkView(build_network(graph), graph)


def _pathfinder(view: BiolinkView) -> dict[str, Any]:
    """The TRAPI answer to the pathfinder query fx_source -> fx_finding."""
    query = {
        "query_graph": {
            "nodes": {"n0": {"ids": ["mgkgid:fx_source"]}, "n1": {"ids": ["mgkgid:fx_finding"]}},
            "paths": {"p0": {"subject": "n0", "object": "n1"}},
        }
    }
    return answer(view, query)


def _through(response: dict[str, Any]) -> list[set[str]]:
    """The nodes each analysis' path runs through (its edges' subjects and objects)."""
    message = response["message"]
    edges = message["knowledge_graph"]["edges"]
    return [
        {
            end
            for e in message["auxiliary_graphs"][binding["id"]]["edges"]
            for end in (edges[e]["subject"], edges[e]["object"])
        }
        for result in message["results"]
        for analysis in result["analyses"]
        for binding in analysis["path_bindings"]["p0"]
    ]


def test_states_that_exclude_each_other_remove_the_analysis_on_which_both_hold() -> None:
    """excludes-b.ttl says the source and state B cannot hold together: the path through B goes."""
    before = _through(_pathfinder(_view()))
    assert any("mgkgid:fx_b" in nodes for nodes in before)
    after = _through(_pathfinder(_view("excludes-b.ttl")))
    assert after
    assert all("mgkgid:fx_b" not in nodes for nodes in after)


def test_when_the_rules_rule_out_every_path_the_answer_is_empty_and_says_why() -> None:
    response = _pathfinder(_view("negates-shortcut.ttl", "excludes-b.ttl"))
    assert response["message"]["results"] == []
    assert response["message"]["auxiliary_graphs"] == {}
    said = " ".join(entry["message"] for entry in response["logs"])
    assert "negates" in said
    assert "exclude each other" in said
