"""The REST routes on every store backend: /why, /findings, /entities, /links, /citations, /justify."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kg.render.document import expand_json
from tests.conftest import assert_problem
from tests.integration.api.conftest import MGKG, rows


def test_why_returns_the_explanation_model(client: TestClient) -> None:
    response = client.get("/why", params={"finding": "hypocalcemia"})
    assert response.status_code == 200
    explanation = expand_json(response.json())
    assert explanation.finding.label == "hypocalcemia"
    assert explanation.paths
    assert all(step.citations for path in explanation.paths for step in path.steps)
    assert client.get("/why", params={"finding": "hypocalcemia"}).json() == response.json()


def test_why_honours_its_parameters(client: TestClient) -> None:
    params = {"finding": "hypocalcemia", "context": "mild", "max_paths": "2", "max_hops": "6"}
    explanation = expand_json(client.get("/why", params=params).json())
    assert explanation.context == "mild"
    assert len(explanation.paths) <= 2
    assert all(path.hops <= 6 for path in explanation.paths)
    assert all(step.context.severity != "severe" for path in explanation.paths for step in path.steps)


def test_why_unknown_finding_is_404_with_closest_findings(client: TestClient) -> None:
    body = assert_problem(client.get("/why", params={"finding": "hypocalcaemiaa"}), 404)
    assert "hypocalcemia" in body["suggestions"]


@pytest.mark.parametrize(
    "params",
    [
        {"finding": "hypocalcemia", "context": "medium"},
        {"finding": "hypocalcemia", "max_hops": "0"},
        {"finding": "hypocalcemia", "max_hops": "1000"},
        {"finding": "hypocalcemia", "max_paths": "0"},
        {"finding": "hypocalcemia", "max_paths": "many"},
        {},
    ],
)
def test_why_bad_parameters_are_422(client: TestClient, params: dict[str, str]) -> None:
    assert_problem(client.get("/why", params=params), 422)


def test_findings_splits_reachable_and_unreachable(client: TestClient) -> None:
    body = client.get("/findings").json()
    reachable = {f["curie"] for f in body["reachable"]}
    assert "mgkgid:hypocalcemia" in reachable
    assert reachable.isdisjoint({f["curie"] for f in body["unreachable"]})
    sparql = {
        r["finding"]["value"] for r in rows(client, client.get("/queries").json() and _reachable_query())
    }
    assert {f["iri"] for f in body["reachable"]} <= sparql


def _reachable_query() -> str:
    return MGKG + (
        "SELECT ?finding WHERE { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf ?finding . "
        "?finding a mgkg:ClinicalFinding }"
    )


def test_entity_has_kind_ids_and_cited_links(client: TestClient) -> None:
    body = client.get("/entities/mgkgid:hypocalcemia").json()
    assert body["node"]["kind"] == "ClinicalFinding"
    assert any(x["curie"].startswith("HP:") for x in body["node"]["xrefs"])
    assert body["incoming"]
    for link in body["incoming"]:
        assert link["effect"]["curie"] == "mgkgid:hypocalcemia"
        assert link["citations"]
    for link in body["outgoing"]:
        assert link["cause"]["curie"] == "mgkgid:hypocalcemia"
    assert client.get("/entities/hypocalcemia").json() == body


def test_unknown_entity_is_404(client: TestClient) -> None:
    assert_problem(client.get("/entities/no_such_thing"), 404)


def test_link_and_its_evidence(client: TestClient) -> None:
    body = client.get("/links/mgkgid:link-camp-pth-secretion").json()
    assert body["cause"]["curie"] == "mgkgid:camp"
    assert body["predicate"] in ("increases", "decreases")
    assert body["citations"]
    assert body["evidence_types"]
    assert_problem(client.get("/links/link-that-does-not-exist"), 404)


def test_citations_list_every_source_with_resolvable_links(client: TestClient) -> None:
    sources = client.get("/citations").json()["sources"]
    assert sources
    for source in sources:
        for passage in source["passages"]:
            assert passage["links"]
            link = client.get(f"/links/{passage['links'][0]['curie']}").json()
            assert passage["citation"] in link["citations"]


def test_justify_names_the_asserted_links(client: TestClient) -> None:
    params = {"subject": "hypomagnesemia", "predicate": "mgkg:causallyUpstreamOf", "object": "hypocalcemia"}
    body = client.get("/justify", params=params).json()
    assert body["chains"]
    for chain in body["chains"]:
        assert chain["links"][0]["cause"]["curie"] == "mgkgid:hypomagnesemia"
        assert chain["links"][-1]["effect"]["curie"] == "mgkgid:hypocalcemia"
    backwards = {"subject": "hypocalcemia", "predicate": "mgkg:causes", "object": "cisplatin"}
    assert_problem(client.get("/justify", params=backwards), 404)
