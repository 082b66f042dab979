"""explain() on the shipped knowledge graph: the mechanisms the sources give, polarity and context."""

from __future__ import annotations

import json

import pytest

from kg.causal.network import CausalNetwork, build_network, network_of
from kg.causal.why import explain
from kg.errors import UnknownNodeError
from kg.graph.asserted import load_asserted
from kg.model.types import CausalPath, Explanation, ExplanationStatus
from kg.model.vocab import MGKGID

PTH_SECRETION = "Impaired PTH secretion"
PTH_RESISTANCE = "End-organ PTH resistance"
VITAMIN_D = "Impaired vitamin D activation"


@pytest.fixture(scope="module")
def network() -> CausalNetwork:
    return build_network(load_asserted().graph)


def through(path: CausalPath) -> set[str]:
    """The local ids of every node a path passes."""
    nodes = {path.steps[0].subject.iri} | {step.object.iri for step in path.steps}
    return {node.removeprefix(str(MGKGID)) for node in nodes}


def group_paths(answer: Explanation, label: str) -> list[CausalPath]:
    return [p for g in answer.mechanisms if g.mechanism and g.mechanism.label == label for p in g.paths]


def link_severities(network: CausalNetwork, path: CausalPath) -> set[str | None]:
    """The severities of the asserted links a path uses, read back from the network."""
    return {
        network.link(step.subject.iri, step.object.iri, link.iri).context.severity
        for step in path.steps
        for link in step.links
    }


def test_hypocalcemia_has_exactly_the_three_mechanisms(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    assert answer.status is ExplanationStatus.EXPLAINED
    labels = [g.mechanism.label for g in answer.mechanisms if g.mechanism]
    assert sorted(labels) == sorted([PTH_SECRETION, PTH_RESISTANCE, VITAMIN_D])
    assert len(answer.mechanisms) == 3
    secretion = [through(p) for p in group_paths(answer, PTH_SECRETION)]
    expected = {
        "mg_atp",
        "adenylate_cyclase_activity",
        "camp",
        "pth_secretion",
        "functional_hypoparathyroidism",
    }
    assert any(expected <= nodes for nodes in secretion)
    assert any("pth1r_uncoupling" in through(p) for p in group_paths(answer, PTH_RESISTANCE))
    assert any("calcitriol" in through(p) for p in group_paths(answer, VITAMIN_D))


def test_every_step_is_cited_and_explained(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    for path in (*answer.paths, *answer.contradicting):
        assert path.hops == len(path.steps)
        assert path.steps[0].subject.iri == answer.source.iri
        assert path.steps[-1].object.iri == answer.finding.iri
        for step in path.steps:
            assert step.citations, f"uncited step {step.subject.label} -> {step.object.label}"
            assert f"[{step.citations[0].identifier}]" in path.explanation
            assert step.links
        merged = {c for s in path.steps for c in s.citations}
        merged |= {c for summary in path.corroboration for c in summary.citations}
        assert path.citation_count == len(merged), "the corroborating summaries' citations count too"


def test_paths_are_simple_ranked_and_deduplicated(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    assert [p.rank for p in answer.paths] == list(range(1, len(answer.paths) + 1))
    supports = [p.support for p in answer.paths]
    assert supports == sorted(supports, reverse=True), "better supported paths rank first"
    keys = [tuple((s.object.iri, s.sign) for s in p.steps) for p in (*answer.paths, *answer.contradicting)]
    assert len(keys) == len(set(keys))
    for path in answer.paths:
        nodes = [path.steps[0].subject.iri] + [s.object.iri for s in path.steps]
        assert len(nodes) == len(set(nodes))
        assert path.hops <= answer.max_hops


def test_polarity_composes_along_each_path(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    for path in (*answer.paths, *answer.contradicting):
        product = 1
        for step in path.steps:
            product *= step.sign
            assert step.predicate == ("increases" if step.sign == 1 else "decreases")
        assert path.net_sign == product
    assert all(p.net_polarity == "increases" for p in answer.paths)
    assert all(p.net_polarity == "decreases" for p in answer.contradicting)


@pytest.mark.parametrize(
    ("finding", "mechanism", "node"),
    [
        ("hypokalemia", "ROMK potassium wasting", "romk_mg_block_loss"),
        ("seizures", "NMDA receptor hyperexcitability", "nmda_mg_block_loss"),
        ("tetany", "NMDA receptor hyperexcitability", "nmda_mg_block_loss"),
        ("tremor", "NMDA receptor hyperexcitability", "nmda_mg_block_loss"),
        ("functional hypoparathyroidism", PTH_SECRETION, "pth_secretion"),
    ],
)
def test_other_findings_have_their_mechanism(
    network: CausalNetwork, finding: str, mechanism: str, node: str
) -> None:
    answer = explain(network, finding)
    assert answer.status is ExplanationStatus.EXPLAINED
    assert any(node in through(p) for p in group_paths(answer, mechanism))


def test_pth_secretion_shows_both_effects_labelled(network: CausalNetwork) -> None:
    answer = explain(network, "PTH secretion")
    assert not answer.contradicting  # a process: every path explains, labelled with its effect
    effects = {(p.net_polarity, p.context.severity) for p in answer.paths}
    assert ("increases", "mild") in effects
    assert ("decreases", "severe") in effects
    for path in answer.paths:
        assert path.net_polarity in path.explanation


def test_severe_context_drops_mild_links(network: CausalNetwork) -> None:
    answer = explain(network, "PTH secretion", context="severe")
    assert answer.paths
    assert all("mild" not in link_severities(network, p) for p in answer.paths)
    assert any(
        p.net_polarity == "decreases" and "severe" in link_severities(network, p) for p in answer.paths
    )
    assert "severe" in link_severities(network, answer.paths[0])  # context match ranks first


def test_mild_context_drops_severe_links(network: CausalNetwork) -> None:
    answer = explain(network, "PTH secretion", context="mild")
    assert all("severe" not in link_severities(network, p) for p in answer.paths)
    assert answer.paths[0].net_polarity == "increases"
    assert "mild" in link_severities(network, answer.paths[0])


def test_mild_context_explains_hypocalcemia_without_the_pth_defects(network: CausalNetwork) -> None:
    # The chapter places both PTH defects in severe deficiency, and mild stimulation of PTH release chained
    # into the severe-only functional hypoparathyroidism mixes phases: neither is offered under "mild".
    answer = explain(network, "hypocalcemia", context="mild")
    assert answer.status is ExplanationStatus.EXPLAINED
    assert not answer.contradicting
    assert all(link_severities(network, p) <= {None, "mild"} for p in answer.paths)
    assert not group_paths(answer, PTH_SECRETION)
    assert not group_paths(answer, PTH_RESISTANCE)
    assert group_paths(answer, VITAMIN_D)


@pytest.mark.parametrize("name", ["HP:0002901", "Hypocalcemia", "low calcium", "mgkgid:hypocalcemia"])
def test_names_resolve_to_the_same_finding(network: CausalNetwork, name: str) -> None:
    assert explain(network, name).finding.iri == str(MGKGID.hypocalcemia)


@pytest.mark.parametrize(
    ("name", "node"),
    [
        ("PTH receptor", "pth1r_uncoupling"),
        ("ROMK", "romk_mg_block_loss"),
        ("adenylate cyclase", "adenylate_cyclase_activity"),
    ],
)
def test_entities_resolve_to_the_nodes_about_them(network: CausalNetwork, name: str, node: str) -> None:
    assert network.resolve(name) == str(MGKGID[node])


def test_unknown_finding_suggests_the_closest(network: CausalNetwork) -> None:
    with pytest.raises(UnknownNodeError) as error:
        explain(network, "hypocalcaemiaa")
    assert "hypocalcemia" in error.value.suggestions


def test_known_unreachable_finding_has_no_path(network: CausalNetwork) -> None:
    answer = explain(network, "mgkgid:alkalosis")
    assert answer.status is ExplanationStatus.NO_PATH
    assert not answer.paths
    assert not answer.mechanisms
    assert "alkalosis" in answer.message


def test_findings_are_the_reachable_clinical_findings(network: CausalNetwork) -> None:
    findings = network.findings()
    iris = {ref.iri for ref in findings}
    assert str(MGKGID.hypocalcemia) in iris
    assert str(MGKGID.alkalosis) not in iris
    assert all(ref.kind == "ClinicalFinding" for ref in findings)
    for ref in findings:
        assert explain(network, ref.curie).status in (
            ExplanationStatus.EXPLAINED,
            ExplanationStatus.ONLY_CONTRADICTING,
        )
    assert str(MGKGID.alkalosis) in {ref.iri for ref in network.findings(include_unreachable=True)}


def test_explanation_round_trips_as_json(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    data = json.loads(answer.model_dump_json())
    assert data["finding"]["curie"] == "mgkgid:hypocalcemia"
    assert {"curie": "HP:0002901", "match": "exact"} in data["finding"]["xrefs"]
    assert Explanation.model_validate(data) == answer


def test_limits_bound_the_answer(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia", max_hops=3, max_paths=2)
    assert (answer.max_hops, answer.max_paths) == (3, 2)
    assert len(answer.paths) + len(answer.contradicting) <= 2
    assert all(p.hops <= 3 for p in answer.paths)


@pytest.mark.slow
def test_the_knowledge_graph_facade_serves_the_same_network(knowledge_graph: object) -> None:
    from kg.graph.knowledge import KnowledgeGraph

    assert isinstance(knowledge_graph, KnowledgeGraph)
    answer = explain(network_of(knowledge_graph), "hypocalcemia")
    assert len(answer.mechanisms) == 3
