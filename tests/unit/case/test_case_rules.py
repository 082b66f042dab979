"""The case explainer's reading rules (kg/facts/case-observations.toml) and its answers on a fixture graph."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from kg.causal.case import explain_case
from kg.causal.case_model import Case, Labs, load_case_rules
from kg.causal.network import CausalNetwork, build_network
from kg.graph.asserted import load_asserted
from kg.model.resources import default_sources

FIXTURE = Path(__file__).resolve().parents[2] / "resources" / "case" / "extra-link.ttl"


@pytest.fixture(scope="module")
def network() -> CausalNetwork:
    return build_network(load_asserted().graph)


def test_every_node_the_rules_name_is_a_node_of_the_graph(network: CausalNetwork) -> None:
    rules = load_case_rules()
    readings = [*rules.readings, *(r for b in rules.bands for r in (b.below, b.inside, b.above))]
    named = {rules.default_source, *(t.intervention for t in rules.treatments)}
    named |= {iri for r in readings for iri in (*r.present, *r.absent, *([r.source] if r.source else []))}
    named |= {iri for t in rules.treatments for iri in (t.when_present, *t.present)}
    for iri in sorted(named):
        assert network.node(iri).iri == iri


def test_every_reading_names_a_value_the_case_model_accepts() -> None:
    hints = typing.get_type_hints(Labs)
    for reading in load_case_rules().readings:
        accepted = {str(a).lower() for a in typing.get_args(typing.get_args(hints[reading.field])[0])}
        accepted |= {"true", "false"} if hints[reading.field] == (bool | None) else set()
        assert reading.value in accepted, (reading.field, reading.value)
        for field, value in reading.when:
            assert field in Labs.model_fields, field
            assert value, field


def test_every_reading_that_is_not_the_curators_cites_a_source() -> None:
    rules = load_case_rules()
    for reading in [*rules.readings, *(r for b in rules.bands for r in (b.below, b.inside, b.above))]:
        if reading.present and not reading.curator_inference:
            assert reading.citations, (reading.field, reading.value)


def test_a_link_added_in_turtle_changes_the_case_answer(network: CausalNetwork) -> None:
    case = Case(findings=("alkalosis",))
    before = explain_case(network, case)
    assert [f.finding.label for f in before.not_explained] == ["alkalosis"]
    extended = build_network(load_asserted([*default_sources(), FIXTURE]).graph)
    after = explain_case(extended, case)
    assert [f.finding.label for f in after.explained] == ["alkalosis"]
    links = {link.iri for p in after.explained[0].paths for s in p.steps for link in s.links}
    assert any(iri.endswith("link-fixture-hypomagnesemia-alkalosis") for iri in links)
