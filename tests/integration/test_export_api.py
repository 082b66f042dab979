"""HTTP exports: /why?format= and Accept negotiation, GET /export, the renderer's 503, the page's assets."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from api.routes.pages import STATIC_DIR
from kg.causal.network import network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.render.formats import MEDIA_TYPES


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(cache_dir=tmp_path_factory.mktemp("mgkg-cache"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _media(response_type: str) -> str:
    return response_type.split(";")[0].strip()


def _check_body(fmt: str, body: bytes) -> None:
    """Parse a body with the tool a user of that format would use."""
    if fmt == "svg":
        assert ET.fromstring(body).tag == "{http://www.w3.org/2000/svg}svg"
    elif fmt == "png":
        assert body.startswith(b"\x89PNG\r\n\x1a\n")
    elif fmt == "dot":
        assert body.decode().startswith("digraph")
    elif fmt == "graphml":
        assert nx.read_graphml(io.BytesIO(body)).number_of_edges() > 0
    elif fmt == "cyjs":
        assert json.loads(body)["elements"]["edges"]
    elif fmt == "mermaid":
        assert body.decode().splitlines()[0] == "flowchart LR"
    elif fmt == "nodelink":
        assert nx.node_link_graph(json.loads(body), edges="edges").number_of_edges() > 0
    else:
        raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", list(MEDIA_TYPES))
def test_why_answers_in_every_format(client: TestClient, fmt: str) -> None:
    response = client.get("/why", params={"finding": "hypocalcemia", "format": fmt})
    assert response.status_code == 200, response.text
    assert _media(response.headers["content-type"]) == MEDIA_TYPES[fmt]  # type: ignore[index]
    _check_body(fmt, response.content)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("image/svg+xml", "image/svg+xml"),
        ("text/vnd.graphviz;q=0.5, image/png", "image/png"),
        ("application/json;q=0.1, application/graphml+xml;q=0.9", "application/graphml+xml"),
        ("image/*;q=0.9, image/png;q=0.2", "image/svg+xml"),
        ("text/vnd.mermaid, application/json;q=0", "text/vnd.mermaid"),
        ("application/vnd.cytoscape+json", "application/vnd.cytoscape+json"),
    ],
)
def test_why_negotiates_the_accept_header_with_q_values(
    client: TestClient, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/why", params={"finding": "hypocalcemia"}, headers=headers)
    assert response.status_code == 200, response.text
    assert _media(response.headers["content-type"]) == expected


def test_format_parameter_wins_over_accept(client: TestClient) -> None:
    response = client.get(
        "/why", params={"finding": "hypocalcemia", "format": "mermaid"}, headers={"Accept": "image/png"}
    )
    assert _media(response.headers["content-type"]) == "text/vnd.mermaid"


def test_unservable_accept_and_unknown_format_are_problems(client: TestClient) -> None:
    refused = client.get("/why", params={"finding": "hypocalcemia"}, headers={"Accept": "application/pdf"})
    assert refused.status_code == 406
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "image/svg+xml" in refused.json()["detail"]
    unknown = client.get("/why", params={"finding": "hypocalcemia", "format": "jpeg"})
    assert unknown.status_code == 400
    assert "graphml" in unknown.json()["detail"]


def test_export_whole_graph_as_graphml(client: TestClient, knowledge_graph: KnowledgeGraph) -> None:
    response = client.get("/export", params={"format": "graphml"})
    assert response.status_code == 200
    read = nx.read_graphml(io.BytesIO(response.content))
    assert set(read) == set(network_of(knowledge_graph).graph)


def test_export_neighbourhood_and_explanation(client: TestClient, knowledge_graph: KnowledgeGraph) -> None:
    network = network_of(knowledge_graph)
    iri = network.resolve("hypocalcemia")
    near = client.get("/export", params={"node": "hypocalcemia", "radius": 1, "format": "cyjs"})
    assert near.status_code == 200
    iris = {n["data"]["iri"] for n in near.json()["elements"]["nodes"]}
    assert iris == {iri, *network.graph.predecessors(iri), *network.graph.successors(iri)}
    mermaid = client.get(
        "/export", params={"finding": "hypocalcemia", "context": "mild", "format": "mermaid"}
    )
    assert mermaid.status_code == 200
    assert "[severe]" not in mermaid.text, "a mild-context answer has no severe-only link"
    as_json = client.get("/export", params={"node": "hypocalcemia"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert nx.node_link_graph(as_json.json(), edges="edges").has_node(iri)


def test_export_problems(client: TestClient) -> None:
    unknown = client.get("/export", params={"node": "hypocalcemio", "format": "dot"})
    assert unknown.status_code == 404
    assert "hypocalcemia" in unknown.json()["suggestions"]
    both = client.get("/export", params={"node": "hypocalcemia", "finding": "hypocalcemia"})
    assert both.status_code == 400
    assert both.headers["content-type"].startswith("application/problem+json")


def test_missing_renderer_is_a_503_that_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("MGKG_RENDERER", "dot")  # read once, by the Settings the app is created with
    with TestClient(create_app(Settings(cache_dir=tmp_path / "cache"))) as client:
        for url, params in (
            ("/why", {"finding": "hypocalcemia", "format": "svg"}),
            ("/causes", {"finding": "high urinary magnesium", "format": "svg"}),
            ("/export", {"format": "png"}),
        ):
            response = client.get(url, params=params)
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "apt-get install graphviz" in response.json()["detail"]
        assert client.get("/why", params={"finding": "hypocalcemia", "format": "dot"}).status_code == 200


def test_page_and_its_assets_come_from_the_app(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references, "the page links its script and style sheet"
    for reference in references:
        assert not re.match(r"^(?:[a-z]+:)?//", reference), f"{reference} is on another host"
        if reference.startswith("/static/"):
            asset = client.get(reference)
            assert asset.status_code == 200
            assert asset.headers["content-security-policy"] == page.headers["content-security-policy"]
            suffix = reference.rpartition(".")[2]
            media = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml", "png": "image/png"}
            assert asset.headers["content-type"].startswith(media[suffix])
    # mgkg's own assets; the vendored YASGUI (static/vendor) is held offline by the editor's browser test
    for asset in (path for path in STATIC_DIR.iterdir() if path.is_file()):
        text = asset.read_text(encoding="utf-8")
        assert not re.search(
            r"""(?:url\(|from |import\(|src=|href=|fetch\()\s*["']?(?:https?:)?//""", text
        ), asset
    for missing in ("/static/..%2Fapp.py", "/static/../app.py", "/static/nothing.js"):
        response = client.get(missing)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
