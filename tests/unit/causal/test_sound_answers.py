"""Sound answers (issue 10): every offered path's links can hold together, checked through kg.explain, the CLI
and /why, by a property test over the shipped graph that re-derives the rules from the RDF itself, and on
the fixture graph with rules added in Turtle only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, RDFS, Graph, URIRef
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.config import Settings
from kg.causal.network import CausalNetwork, build_network
from kg.causal.why import explain
from kg.graph.asserted import load_asserted
from kg.model.resources import ontology_file
from kg.model.types import CausalPath, Corroboration, Explanation, ExplanationStatus
from kg.model.vocab import MGKG, MGKGID
from kg.render.document import expand_json
from tests.conftest import RESOURCES

RESOURCES = RESOURCES
FIXTURE = RESOURCES / "paths-fixture.ttl"
runner = CliRunner()


@pytest.fixture(scope="module")
def rdf() -> Graph:
    return load_asserted().graph


@pytest.fixture(scope="module")
def network(rdf: Graph) -> CausalNetwork:
    return build_network(rdf)


@pytest.fixture(scope="module")
def client(store_setting: str) -> Iterator[TestClient]:
    """The app on each store backend (tests/conftest.py's store_setting): the rules must reach the causal
    view of every store."""
    with TestClient(create_app(Settings(store=store_setting, sparql_cache_bytes=0))) as test_client:
        yield test_client


def iri(local: str) -> str:
    return str(MGKGID[local])


def flat(text: str) -> str:
    return " ".join(text.split())


# --- an independent reading of the rules, straight from the RDF ----------------------------------------


def instances(rdf: Graph, cls: URIRef) -> set[str]:
    """Every resource typed with ``cls`` or a subclass of it (rdfs:subClassOf*)."""
    classes = set(rdf.transitive_subjects(RDFS.subClassOf, cls))
    return {str(s) for c in classes for s in rdf.subjects(RDF.type, c)}


def broken_rules(rdf: Graph, source: str, path: CausalPath | Corroboration) -> list[str]:
    """The rules an offered path breaks, re-derived from the links' own triples (not from kg's own rules)."""
    broken: list[str] = []
    links = [URIRef(link.iri) for step in path.steps for link in step.links]
    phases = {str(p) for link in links for p in rdf.objects(link, MGKG.severity)}
    if len(phases) > 1:
        broken.append(f"phases {sorted(phases)}")
    holding, moved = [source], 1
    for step in path.steps:
        moved *= step.sign
        if moved > 0:
            holding.append(step.object.iri)
    negated = {str(c) for node in holding for c in rdf.objects(URIRef(node), MGKG.negates)}
    for link in links:
        needs = {str(c) for c in rdf.objects(link, MGKG.condition)} | {
            str(p) for p in rdf.objects(link, MGKG.severity)
        }
        if needs & negated:
            broken.append(f"{link} needs {sorted(needs & negated)}")
    for one in holding:
        for other in holding:
            if (URIRef(one), MGKG.excludes, URIRef(other)) in rdf:
                broken.append(f"{one} excludes {other}")
    if source in instances(rdf, MGKG.Intervention):
        states = instances(rdf, MGKG.State)
        said = {
            str(effect)
            for link in rdf.subjects(MGKG.cause, URIRef(source))
            for effect in rdf.objects(link, MGKG.positiveEffect)
        }
        broken += [
            f"{source} credited with {node}" for node in holding[1:] if node in states and node not in said
        ]
    return broken


def sources_and_findings(rdf: Graph, network: CausalNetwork) -> tuple[list[str], list[str]]:
    starts = instances(rdf, MGKG.Etiology) | instances(rdf, MGKG.Intervention) | {iri("hypomagnesemia")}
    starts |= {node for node in network.graph if network.graph.in_degree(node) == 0}
    findings = instances(rdf, MGKG.ClinicalFinding)
    return sorted(s for s in starts if s in network.graph), sorted(f for f in findings if f in network.graph)


# --- the examples of the issue -------------------------------------------------------------------------


def test_replacement_never_explains_hypocalcemia_and_is_said_to_correct_it(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia", source="magnesium replacement")
    assert not answer.paths
    assert answer.status is ExplanationStatus.ONLY_CONTRADICTING
    assert answer.contradicting  # what the replacement is expected to correct
    assert "expected to correct" in answer.message
    for context in ("mild", "severe"):
        assert not explain(network, "hypocalcemia", source="magnesium replacement", context=context).paths


def test_cisplatin_does_not_explain_low_urinary_magnesium_and_says_why(network: CausalNetwork) -> None:
    answer = explain(network, "low urinary magnesium", source="cisplatin")
    assert answer.status is ExplanationStatus.INCONSISTENT
    assert not answer.paths
    assert not answer.contradicting
    condition = network.rules.label(iri("normally-responding-kidney"))
    assert condition in answer.message
    assert "negates" in answer.message
    assert network.node(iri("impaired_tubular_mg_reabsorption")).label in answer.message
    # the same finding from an extra-renal cause is explained through the responding kidney
    assert (
        explain(network, "low urinary magnesium", source="chronic diarrhea").status
        is ExplanationStatus.EXPLAINED
    )
    assert (
        explain(network, "high urinary magnesium", source="cisplatin").status is ExplanationStatus.EXPLAINED
    )


def test_no_mild_phase_path_into_severe_only_consequences(rdf: Graph, network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    assert answer.status is ExplanationStatus.EXPLAINED
    assert not answer.contradicting
    for path in answer.paths:
        severities = {link.severity for step in path.steps for link in step.links} - {None}
        assert len(severities) <= 1, path.explanation


def test_mild_context_has_no_pth_secretion_explanation_of_hypocalcemia(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia", context="mild")
    assert answer.paths
    assert all(iri("pth_secretion") not in {s.object.iri for s in p.steps} for p in answer.paths)
    assert not any(p.mechanism and p.mechanism.iri == iri("mech-pth-secretion") for p in answer.paths)


def test_refractory_findings_are_explained_by_what_makes_them_refractory(network: CausalNetwork) -> None:
    for finding, mechanisms in (
        ("refractory hypocalcemia", {iri("mech-pth-resistance"), iri("mech-pth-secretion")}),
        ("refractory hypokalemia", {iri("mech-romk")}),
    ):
        answer = explain(network, finding)
        assert answer.paths
        assert {p.mechanism.iri for p in answer.paths if p.mechanism} <= mechanisms
        assert all(p.mechanism is None or p.mechanism.iri != iri("mech-treatment") for p in answer.paths)
    through = [{s.subject.iri for s in p.steps} for p in explain(network, "refractory hypocalcemia").paths]
    assert any(iri("functional_hypoparathyroidism") in nodes for nodes in through)


@pytest.mark.parametrize(
    ("name", "node"),
    [
        ("muscle cramp", "muscle_spasm"),
        ("cramps", "muscle_spasm"),
        ("low calcium", "hypocalcemia"),
        ("low potassium", "hypokalemia"),
        ("low magnesium", "hypomagnesemia"),
        ("convulsion", "seizure"),
    ],
)
def test_clinical_synonyms_resolve(network: CausalNetwork, name: str, node: str) -> None:
    assert network.resolve(name) == iri(node)


def test_the_cli_answers_soundly() -> None:
    result = runner.invoke(cli, ["why", "low urinary magnesium", "--source", "cisplatin"])
    assert result.exit_code == 0, result.output
    assert "(inconsistent)" in result.output
    assert "negates" in flat(result.output)
    result = runner.invoke(cli, ["why", "hypocalcemia", "--source", "magnesium replacement", "--json"])
    answer = expand_json(json.loads(result.stdout))
    assert not answer.paths


def test_why_over_http_answers_soundly(client: TestClient) -> None:
    body = client.get("/why", params={"finding": "low urinary magnesium", "source": "cisplatin"}).json()
    answer = expand_json(body)
    assert answer.status is ExplanationStatus.INCONSISTENT
    assert "negates" in answer.message
    body = client.get("/why", params={"finding": "hypocalcemia", "context": "mild"}).json()
    answer = expand_json(body)
    assert answer.paths
    assert not answer.contradicting
    assert not any(p.mechanism and p.mechanism.iri == iri("mech-pth-secretion") for p in answer.paths)
    body = client.get("/why", params={"finding": "hypocalcemia", "source": "magnesium replacement"}).json()
    assert not expand_json(body).paths


# --- the property: no offered path of the shipped graph breaks a rule ------------------------------------


@pytest.mark.parametrize("context", [None, "mild", "severe"])
def test_every_offered_path_holds_together(rdf: Graph, network: CausalNetwork, context: str | None) -> None:
    starts, findings = sources_and_findings(rdf, network)
    assert len(starts) > 5
    assert len(findings) > 20
    offered = 0
    for source in starts:
        for finding in findings:
            if source == finding:
                continue
            answer = explain(network, finding, source=source, context=context)  # type: ignore[arg-type]
            shown = (*answer.paths, *answer.contradicting)
            summaries = [summary for p in shown for summary in p.corroboration]
            offered_paths: list[CausalPath | Corroboration] = [*shown, *summaries]
            for path in offered_paths:
                offered += 1
                assert path.steps[0].subject.iri == source
                assert not broken_rules(rdf, source, path), (source, finding, path.explanation)
    assert offered > 50


# --- rules are data: added in Turtle, they change answers with no code change ------------------------------


def fixture_network(*extra: str) -> CausalNetwork:
    files = [ontology_file(), FIXTURE, *(RESOURCES / "consistency" / name for name in extra)]
    return build_network(load_asserted(files).graph)


def routes(answer: Explanation) -> list[list[str]]:
    """Every offered route, a path's corroborating summaries included (ranking folds them into the path)."""
    offered = [path.steps for path in answer.paths]
    offered += [summary.steps for path in answer.paths for summary in path.corroboration]
    return [[step.object.iri.removeprefix(str(MGKGID)) for step in steps] for steps in offered]


def test_a_negation_in_turtle_drops_the_path_that_needs_the_condition() -> None:
    before = explain(fixture_network(), "fixture finding", source="fx_source")
    assert ["fx_a", "fx_finding"] in routes(before)
    after = explain(fixture_network("negates-shortcut.ttl"), "fixture finding", source="fx_source")
    assert routes(after) == [["fx_a", "fx_b", "fx_finding"]]


def test_an_exclusion_in_turtle_drops_the_path_on_which_both_hold() -> None:
    after = explain(fixture_network("excludes-b.ttl"), "fixture finding", source="fx_source")
    assert routes(after) == [["fx_a", "fx_finding"]]


def test_when_rules_rule_out_every_path_the_answer_names_them(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="kg.causal.why"):
        answer = explain(
            fixture_network("negates-shortcut.ttl", "excludes-b.ttl"), "fixture finding", source="fx_source"
        )
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused the path")]
    assert any("rule negated_context" in m for m in refusals), refusals  # the debug log names the rule
    assert any("rule exclusive_states" in m for m in refusals), refusals
    assert answer.status is ExplanationStatus.INCONSISTENT
    assert not answer.paths
    assert "fixture condition" in answer.message
    assert "negates" in answer.message
    assert "fixture state B" in answer.message
    assert "exclude each other" in answer.message


# --- curation fixes found in review (issue 10, section 5) --------------------------------------------------


def test_the_intracellular_step_is_cited_for_the_cells_the_path_runs_through(network: CausalNetwork) -> None:
    def first_step(finding: str, through: str) -> list[str]:
        answer = explain(network, finding)
        path = next(p for p in answer.paths if through in {s.object.iri for s in p.steps})
        step = next(s for s in path.steps if s.object.iri == iri("intracellular_mg"))
        return [link.iri for link in step.links]

    assert first_step("hypokalemia", iri("romk_mg_block_loss")) == [iri("link-hypomg-intracellular-kidney")]
    assert first_step("hypocalcemia", iri("camp")) == [iri("link-hypomg-intracellular-parathyroid")]
    answer = explain(network, "hypocalcemia")
    chain = next(p for p in answer.paths if iri("camp") in {s.object.iri for s in p.steps})
    assert chain.steps[0].curator_inference


@pytest.mark.parametrize("finding", ["tremor", "tetany", "seizure"])
def test_neuron_findings_follow_the_sections_opening_sentence(network: CausalNetwork, finding: str) -> None:
    answer = explain(network, finding)
    assert answer.paths
    for path in answer.paths:
        last = path.steps[-1]
        assert last.subject.iri == iri("neuronal_hyperexcitability")
        assert [(c.identifier, c.section) for c in last.citations] == [("chapter", "The Unsettled Neuron")]


def test_mappings_and_synonyms_keep_their_meaning(network: CausalNetwork) -> None:
    uncoupling = {x.curie for x in network.node(iri("pth1r_uncoupling")).xrefs}
    assert "HP:0000852" not in uncoupling  # pseudohypoparathyroidism is a separate hereditary disorder
    low_pth = {(x.curie, x.match.value) for x in network.node(iri("inappropriately_low_pth")).xrefs}
    assert ("HP:0031817", "narrow") in low_pth
    assert network.resolve("magnesium deficiency") != iri("hypomagnesemia")  # serum finding vs body stores
