"""Reasoning upstream (kg/causal/causes.py): GET /causes on every store backend and `mgkg causes`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app
from kg.causal.causes import Causes, CausesStatus
from kg.causal.ranking import path_key
from kg.model.types import ExplanationStatus
from kg.render.document import expand_causes_json, expand_json

runner = CliRunner()
PROBLEM = "application/problem+json"


def causes(client: TestClient, finding: str, **params: str) -> Causes:
    response = client.get("/causes", params={"finding": finding, **params})
    assert response.status_code == 200, response.text
    return expand_causes_json(response.json())


def routes(client: TestClient) -> dict[str, set[str]]:
    """The renal and extra-renal etiologies, as the graph's own named query splits them (SPARQL)."""
    response = client.get("/queries/renal-vs-extrarenal")
    assert response.status_code == 200, response.text
    split: dict[str, set[str]] = {"renal": set(), "extra-renal": set()}
    for row in response.json()["results"]["bindings"]:
        split[row["route"]["value"]].add(row["cause"]["value"])
    assert split["renal"]
    assert split["extra-renal"]
    return split


@pytest.mark.parametrize("finding", ["high urinary magnesium", "FE_Mg above about 2-4%", "HP:0012608"])
def test_high_urinary_magnesium_has_the_renal_causes_only(client: TestClient, finding: str) -> None:
    split = routes(client)
    found = {cause.cause.iri for cause in causes(client, finding).causes}
    assert found == split["renal"]
    assert not found & split["extra-renal"]


def test_low_urinary_magnesium_has_the_extra_renal_causes_only(client: TestClient) -> None:
    split = routes(client)
    found = {cause.cause.iri for cause in causes(client, "low urinary magnesium").causes}
    assert found == split["extra-renal"]
    assert not found & split["renal"]


def test_low_urinary_magnesium_has_every_extra_renal_cause(client: TestClient) -> None:
    """The facts side of the property above, which holds without the consistency rules too."""
    found = {cause.cause.iri for cause in causes(client, "low urinary magnesium").causes}
    assert routes(client)["extra-renal"] <= found


@pytest.mark.parametrize("finding", ["hypocalcemia", "high urinary magnesium", "renal wasting"])
def test_each_cause_is_what_why_explains_from_it(client: TestClient, finding: str) -> None:
    answer = causes(client, finding, max_paths="2")
    assert answer.status is CausesStatus.FOUND
    assert answer.causes
    assert [c.rank for c in answer.causes] == list(range(1, len(answer.causes) + 1))
    assert [c.hops for c in answer.causes] == sorted(c.hops for c in answer.causes)
    # within equal steps, causes follow the one path ranking key of kg.causal.ranking (as /why ranks)
    for one, other in zip(answer.causes, answer.causes[1:], strict=False):
        if one.hops == other.hops:
            assert path_key(one.paths[0], None) <= path_key(other.paths[0], None)
    assert answer.recommendations
    assert all(r.citations for r in answer.recommendations)
    for cause in answer.causes:
        assert cause.kind in {"drug", "genetic disorder", "loss route", "etiology"}
        assert 1 <= len(cause.paths) <= 2
        for path in cause.paths:
            assert path.steps[0].subject.iri == cause.cause.iri
            assert path.steps[-1].object.iri == answer.finding.iri
            assert all(step.citations for step in path.steps)
        params = {"finding": finding, "source": cause.cause.iri, "max_paths": "2"}
        why = expand_json(client.get("/why", params=params).json())
        assert why.status is ExplanationStatus.EXPLAINED
        assert why.paths == cause.paths, "the same path search and rules as /why"


def test_a_finding_nothing_causes_says_so(client: TestClient) -> None:
    answer = causes(client, "alkalosis")
    assert answer.status is CausesStatus.NO_CAUSE
    assert answer.causes == ()
    assert "alkalosis" in answer.message


def test_unknown_finding_is_404_with_closest_names(client: TestClient) -> None:
    response = client.get("/causes", params={"finding": "high urinary magnesum"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "high urinary magnesium" in response.json()["suggestions"]


@pytest.mark.parametrize(
    "params",
    [
        {"finding": "hypocalcemia", "context": "medium"},
        {"finding": "hypocalcemia", "max_hops": "0"},
        {"finding": "hypocalcemia", "max_paths": "1000"},
        {},
    ],
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/causes", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)


def test_formats_by_name_and_by_accept(client: TestClient) -> None:
    answer = causes(client, "high FE_Mg")
    text = client.get("/causes", params={"finding": "high FE_Mg", "format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    for cause in answer.causes:
        assert cause.cause.label in text.text
    dot = client.get("/causes", params={"finding": "high FE_Mg"}, headers={"Accept": "text/vnd.graphviz"})
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    assert all(cause.cause.label in dot.text for cause in answer.causes)
    assert "mgkg_recommendations" in dot.text
    cyjs = client.get("/causes", params={"finding": "high FE_Mg", "format": "cytoscape"}).json()
    assert len(cyjs["elements"]["nodes"]) >= len(answer.causes) + 1
    bad = client.get("/causes", params={"finding": "high FE_Mg", "format": "gif"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith(PROBLEM)
    refused = client.get("/causes", params={"finding": "high FE_Mg"}, headers={"Accept": "image/gif"})
    assert refused.status_code == 406


def test_openapi_documents_causes_with_its_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/causes"]["get"]
    assert "Causes" in json.dumps(operation["responses"]["200"])
    assert {"404", "422"} <= set(operation["responses"])
    assert "CauseEntry" in schema["components"]["schemas"]
    assert "RecommendationEntry" in schema["components"]["schemas"]


def test_cli_causes() -> None:
    result = runner.invoke(app, ["causes", "high urinary magnesium"])
    assert result.exit_code == 0, result.output
    assert "cisplatin" in result.output
    assert "Gitelman syndrome" in result.output
    assert "poor dietary magnesium intake" not in result.output
    assert "What the sources advise" in result.output
    as_json = runner.invoke(app, ["causes", "high urinary magnesium", "--json", "--max-paths", "1"])
    answer = expand_causes_json(json.loads(as_json.stdout))
    assert answer.causes
    assert all(len(c.paths) == 1 for c in answer.causes)
    unknown = runner.invoke(app, ["causes", "high urinary magnesum"])
    assert unknown.exit_code == 2
    said = " ".join(unknown.output.split())  # the terminal wraps the one line
    assert "high urinary magnesium" in said
    assert "Traceback" not in said
    bad = runner.invoke(app, ["causes", "tetany", "--context", "medium"])
    assert bad.exit_code == 2
