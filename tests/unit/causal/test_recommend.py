"""Recommendations in the answers (kg.causal.recommend): /why JSON and pictures, `mgkg why`, the named query,
and where a normal-serum depletion leads (kg/facts/links-depletion.ttl), on every store backend."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from api.cli._app import console
from kg.causal.recommend import involvement
from kg.model.types import Explanation, ExplanationStatus, Recommendation
from kg.render.document import expand_json

runner = CliRunner()
MASKED = "magnesium depletion with normal serum magnesium"
"""A synonym of the node 'normal serum magnesium despite total-body depletion'."""


def why(client: TestClient, **params: str) -> Explanation:
    response = client.get("/why", params=params)
    assert response.status_code == 200, response.text
    return expand_json(response.json())


def by_curie(answer: Explanation) -> dict[str, Recommendation]:
    return {r.curie: r for r in answer.recommendations}


@pytest.mark.parametrize(
    "finding", ["hypocalcemia", "refractory hypokalemia", "tetany", "high urinary magnesium"]
)
def test_every_recommendation_is_cited_ordered_and_involved(client: TestClient, finding: str) -> None:
    answer = why(client, finding=finding)
    assert answer.recommendations, "every explained finding from hypomagnesemia has some advice"
    orders = [r.order for r in answer.recommendations]
    assert orders == sorted(orders), "in the sources' order"
    involved = involvement(answer.finding.iri, answer.paths)
    ranks = {path.rank for path in answer.paths}
    for recommendation in answer.recommendations:
        assert recommendation.citations
        assert all(c.document for c in recommendation.citations)
        assert recommendation.text
        assert recommendation.matched, "says why it is offered"
        assert {ref.iri for ref in recommendation.matched} <= set(involved)
        assert {ref.iri for ref in recommendation.matched} <= {ref.iri for ref in recommendation.applies_to}
        assert set(recommendation.paths) <= ranks


def test_calcium_alone_stays_ineffective_and_the_answer_says_why(client: TestClient) -> None:
    answer = why(client, finding="hypocalcemia")
    first = next(r for r in answer.recommendations if r.cautions_against)
    assert "mgkgid:mg_replacement" in {n.curie for n in first.recommends}
    assert "mgkgid:calcium_supplementation" in {n.curie for n in first.cautions_against}
    mechanisms = {ref.iri for ref in first.rationale}
    assert "https://w3id.org/mgkg/id/mech-pth-resistance" in mechanisms
    assert first.paths, "points to the paths through the mechanism that makes it refractory"
    for rank in first.paths:
        path = answer.paths[rank - 1]
        on_path = {link.iri for step in path.steps for link in step.links}
        if path.mechanism is not None:
            on_path.add(path.mechanism.iri)
        assert on_path & mechanisms | on_path & {ref.iri for ref in first.rationale}
    assert {c.identifier for c in first.citations} >= {"droracle-2025", "problem:4805231", "problem:4447348"}


def test_advice_follows_the_finding_not_a_fixed_list(client: TestClient) -> None:
    calcium = by_curie(why(client, finding="hypocalcemia"))
    potassium = by_curie(why(client, finding="refractory hypokalemia"))
    tetany = by_curie(why(client, finding="tetany"))
    cautions = {
        key: {n.curie for r in answer.values() for n in r.cautions_against}
        for key, answer in (("calcium", calcium), ("potassium", potassium), ("tetany", tetany))
    }
    assert cautions["calcium"] == {"mgkgid:calcium_supplementation"}
    assert cautions["potassium"] == {"mgkgid:potassium_replacement_alone"}
    assert cautions["tetany"] == set(), "neither calcium nor potassium is involved in tetany"
    romk = next(r for r in potassium.values() if r.cautions_against)
    assert "https://w3id.org/mgkg/id/mech-romk" in {ref.iri for ref in romk.rationale}
    assert any(
        n.curie.split(":")[1] == "potassium_replacement" for r in potassium.values() for n in r.recommends
    )
    # How to give magnesium, what to measure: every answer about a hypomagnesemic patient has them.
    for answer in (calcium, potassium, tetany):
        recommended = {n.curie for r in answer.values() for n in r.recommends}
        assert {"mgkgid:oral_mg", "mgkgid:alfacalcidol", "mgkgid:iv_mg", "mgkgid:urine_mg_24h"} <= recommended


def test_pictures_carry_the_recommendations(client: TestClient) -> None:
    answer = why(client, finding="hypocalcemia")
    dot = client.get("/why", params={"finding": "hypocalcemia", "format": "dot"})
    assert dot.status_code == 200
    assert "mgkg_recommendations" in dot.text
    assert "shape=note" in dot.text
    exported = client.get("/export", params={"finding": "hypocalcemia", "format": "dot"})
    assert exported.text == dot.text, "GET /export draws the same answer, advice included"
    graphml = client.get(
        "/why", params={"finding": "hypocalcemia"}, headers={"Accept": "application/graphml+xml"}
    )
    for recommendation in answer.recommendations:
        assert recommendation.text.split(".")[0][:30] in dot.text.replace("\\l", " ")
        assert recommendation.citations[0].identifier in graphml.text


def test_named_query_finds_the_recommendations_of_a_finding(client: TestClient) -> None:
    response = client.get("/queries/recommendations-for-finding", params={"finding": "HP:0002901"})
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    orders = [int(row["order"]["value"]) for row in rows]
    assert orders == sorted(orders)
    by_label = {row["label"]["value"]: row for row in rows}
    offered = why(client, finding="hypocalcemia").recommendations
    assert {r.label for r in offered} <= set(by_label), "SPARQL finds what /why offers (and more sources)"
    assert all(row["citations"]["value"] for row in rows)


def test_normal_serum_depletion_leads_somewhere(client: TestClient) -> None:
    for finding in ("hypokalemia", "refractory hypokalemia", "refractory hypocalcemia"):
        answer = why(client, finding=finding, source=MASKED)
        assert answer.status is ExplanationStatus.EXPLAINED, answer.message
        assert answer.source.curie == "mgkgid:masked_mg_deficiency"
        assert all(step.citations for path in answer.paths for step in path.steps)
    hypokalemia = why(client, finding="hypokalemia", source=MASKED)
    first = hypokalemia.paths[0].steps[0]
    assert first.curator_inference, "the step from the masked depletion to the cells is the curators' own"
    refractory = why(client, finding="refractory hypocalcemia", source=MASKED)
    cited = {(c.identifier, c.section) for p in refractory.paths for s in p.steps for c in s.citations}
    cited |= {
        (c.identifier, c.section) for p in refractory.paths for k in p.corroboration for c in k.citations
    }
    assert ("chapter", "Introduction") in cited
    advice = {r.curie for r in refractory.recommendations}
    assert "mgkgid:rec-suspect-normal-serum" in advice
    upstream = why(client, finding="hypokalemia", source="total-body magnesium depletion")
    assert upstream.status is ExplanationStatus.EXPLAINED


def test_cli_why_prints_the_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 300)
    result = runner.invoke(app, ["why", "hypocalcemia"])
    assert result.exit_code == 0, result.output
    assert "What the sources advise" in result.output
    assert "Not enough on its own: calcium supplementation alone" in result.output
    assert "[problem:4805231]" in result.output.split("What the sources advise")[1]
    as_json = runner.invoke(app, ["why", "hypocalcemia", "--json"])
    answer = expand_json(json.loads(as_json.stdout))
    assert answer.recommendations
    masked = runner.invoke(app, ["why", "hypokalemia", "--source", MASKED])
    assert masked.exit_code == 0
    assert "explained" in masked.output
