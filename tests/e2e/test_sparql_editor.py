"""The query editor in a real browser: GET /sparql in headless Chromium shows YASGUI, served by the app,
runs a query and shows its rows, and no request goes to any host but the app (every request recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kg.sparql.named_queries import load_named_queries
from tests.conftest import MgkgStarter

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(oxigraph_store: Path, serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` over the on-disk store; yields its base URL."""
    with serve_mgkg(env={"MGKG_STORE": f"oxigraph:{oxigraph_store}"}) as base:
        yield base


class Recorder:
    """Every request the page makes, and every console error (a CSP violation is one)."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.methods: list[tuple[str, str]] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)
        self.methods.append((request.method, request.url))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def elsewhere(self, base: str) -> list[str]:
        """The requests to anything but the app itself (data: and blob: URLs stay in the page)."""
        return [url for url in self.requests if not url.startswith((f"{base}/", "data:", "blob:"))]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        yield opened
    finally:
        opened.close()


def test_the_editor_runs_a_query_and_talks_to_no_other_host(server: str, page: Page) -> None:
    recorder = Recorder(page)
    response = page.goto(f"{server}/sparql")
    assert response is not None
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=30_000)

    tabs = page.inner_text(".tabsList")
    for name in load_named_queries():
        assert name in tabs  # each named query is an example tab
    editor_text = page.inner_text(".yasqe .CodeMirror")
    assert "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>" in editor_text  # mgkg's prefixes, written out

    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr td", timeout=30_000)
    rows = page.locator(".yasr table tbody tr").count()
    assert rows == 10  # the first tab's query: ten causal links (LIMIT 10)
    results = page.inner_text(".yasr table tbody")
    assert "mgkgid:" in results or "https://w3id.org/mgkg/id/" in results

    assert ("POST", f"{server}/sparql") in recorder.methods  # the query went to this endpoint
    assert recorder.elsewhere(server) == []
    assert not [error for error in recorder.errors if "Content Security Policy" in error]


def test_a_named_query_tab_runs_against_the_endpoint(server: str, page: Page) -> None:
    """An example tab's query (a named query, its parameters at their defaults where it has them) runs."""
    recorder = Recorder(page)
    page.goto(f"{server}/sparql")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=30_000)
    page.locator(".tabsList .tab", has_text="entities-by-kind").click()
    page.wait_for_selector(".tabPanel.active .yasqe .CodeMirror", timeout=10_000)
    page.click(".tabPanel.active .yasqe_queryButton")
    page.wait_for_selector(".tabPanel.active .yasr table tbody tr td", timeout=30_000)
    assert page.locator(".tabPanel.active .yasr table tbody tr").count() > 0
    assert recorder.elsewhere(server) == []
