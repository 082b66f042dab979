"""Named queries: their headers, GET /queries, GET /queries/{name} with safely bound parameters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kg.model.resources import queries_dir
from kg.model.vocab import to_curie
from kg.render.document import expand_json
from kg.sparql.named_queries import NamedQueryError, bind_parameters, get_named_query, load_named_queries

EXAMPLES = {
    "why-links": {"finding": "mgkgid:hypocalcemia"},
    "mechanisms-of-finding": {"finding": "mgkgid:hypocalcemia"},
    "links-citing-source": {"marker": "problem:4415078"},
    "link-evidence": {"link": "mgkgid:link-camp-pth-secretion"},
    "entities-by-kind": {"kind": "mgkg:ClinicalFinding"},
    "severity-dependent-links": {"severity": "mgkg:severe"},
    "recommendations-for-finding": {"finding": "hypocalcemia"},
}
REQUIRED_TOPICS = {
    "why-links",
    "findings-reachable",
    "mechanisms-of-finding",
    "links-citing-source",
    "entities-by-kind",
    "renal-vs-extrarenal",
    "severity-dependent-links",
    "single-citation-links",
}


def bindings(client: TestClient, name: str, **params: str) -> list[dict[str, dict[str, str]]]:
    response = client.get(f"/queries/{name}", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, dict[str, str]]] = response.json()["results"]["bindings"]
    return rows


def test_every_file_has_a_header() -> None:
    files = sorted(queries_dir().glob("*.rq"))
    assert len(files) >= 8
    for path in files:
        head = path.read_text("utf-8").splitlines()[:3]
        assert head[0].startswith("# title:"), path
        assert any(line.startswith("# answers:") for line in head), path
    assert set(load_named_queries()) >= REQUIRED_TOPICS


def test_listing(client: TestClient) -> None:
    listed = {q["name"]: q for q in client.get("/queries").json()["queries"]}
    assert set(listed) == set(load_named_queries())
    assert all(q["title"] and q["description"] for q in listed.values())
    assert [p["name"] for p in listed["why-links"]["parameters"]] == ["finding", "source"]


@pytest.mark.parametrize("name", sorted(load_named_queries()))
def test_every_query_runs_and_answers(client: TestClient, name: str) -> None:
    assert bindings(client, name, **EXAMPLES.get(name, {}))


def test_why_in_sparql_covers_every_path_of_why(client: TestClient) -> None:
    links = {row["link"]["value"] for row in bindings(client, "why-links", finding="mgkgid:hypocalcemia")}
    explanation = expand_json(client.get("/why", params={"finding": "hypocalcemia"}).json())
    on_paths = {link.iri for path in explanation.paths for step in path.steps for link in step.links}
    assert on_paths
    assert on_paths <= links


def test_parameters_change_the_answer(client: TestClient) -> None:
    tetany = {r["link"]["value"] for r in bindings(client, "why-links", finding="mgkgid:tetany")}
    calcium = {r["link"]["value"] for r in bindings(client, "why-links", finding="mgkgid:hypocalcemia")}
    assert tetany != calcium
    mild = bindings(client, "severity-dependent-links", severity="mgkg:mild")
    assert mild
    assert {r["severity"]["value"] for r in mild} == {"https://w3id.org/mgkg/vocab#mild"}
    routes = {r["route"]["value"] for r in bindings(client, "renal-vs-extrarenal")}
    assert routes == {"renal", "extra-renal"}


def test_single_citation_links_have_one_citation(client: TestClient) -> None:
    for row in bindings(client, "single-citation-links")[:10]:
        link = client.get("/links/" + str(to_curie(row["link"]["value"]))).json()
        assert len(link["citations"]) == 1


@pytest.mark.parametrize(
    "value", ["x> } ; DROP ALL #", "<urn:a> . ?s ?p ?o", "not a curie", "mgkgid:a b", "javascript:alert(1)"]
)
def test_malformed_iris_are_refused(client: TestClient, value: str) -> None:
    response = client.get("/queries/link-evidence", params={"link": value})  # an iri parameter
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    unknown = client.get("/queries/why-links", params={"finding": value})  # a node parameter
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/unknown-node")


@pytest.mark.parametrize("name", ["HP:0002901", "hypocalcemia", "Hypocalcemia", "mgkgid:hypocalcemia"])
def test_node_parameters_take_what_why_takes(client: TestClient, name: str) -> None:
    """A finding by standard id, label or synonym binds the mgkg node, as in /why."""
    expected = bindings(client, "why-links", finding="<https://w3id.org/mgkg/id/hypocalcemia>")
    assert expected
    assert bindings(client, "why-links", finding=name) == expected
    mechanisms = bindings(client, "mechanisms-of-finding", finding=name)
    assert {row["finding"]["value"] for row in mechanisms} == {"https://w3id.org/mgkg/id/hypocalcemia"}


def test_unknown_node_parameter_is_404_with_suggestions(client: TestClient) -> None:
    response = client.get("/queries/why-links", params={"finding": "hypocalcemi"})
    assert response.status_code == 404
    body = response.json()
    assert body["type"].endswith("/unknown-node")
    assert "hypocalcemia" in body["suggestions"]


def test_string_values_are_bound_not_pasted(client: TestClient) -> None:
    hostile = '" } } SELECT * WHERE { ?s ?p ?o } #'
    assert bindings(client, "links-citing-source", marker=hostile) == []


def test_missing_unknown_and_bad_parameters(client: TestClient) -> None:
    assert client.get("/queries/why-links").status_code == 400
    assert (
        client.get("/queries/why-links", params={"finding": "mgkgid:tetany", "bogus": "1"}).status_code == 400
    )
    response = client.get("/queries/no-such-query")
    assert response.status_code == 404
    assert "why-links" in response.json()["known"]


def test_named_query_content_negotiation(client: TestClient) -> None:
    response = client.get("/queries/findings-reachable", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "source,finding,label"


def test_bind_parameters_validates() -> None:
    query = get_named_query("why-links")
    bound = bind_parameters(query, {"finding": "HP:0002901"})
    assert bound["finding"] == {"type": "iri", "value": "http://purl.obolibrary.org/obo/HP_0002901"}
    assert bound["source"]["value"] == "https://w3id.org/mgkg/id/hypomagnesemia"
    with pytest.raises(NamedQueryError):
        bind_parameters(query, {})
