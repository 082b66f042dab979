"""The web page in a real browser: headless Debian chromium driven by Playwright, against a real server.

The page's Content-Security-Policy forbids eval, so the test waits on selectors, never on JS strings.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Screenshots go to a temporary folder; MGKG_UPDATE_DOCS=1 writes them into docs/ for the README instead,
# so that an ordinary test run leaves the work tree as it found it.
DOCS_DIR = REPO / "docs"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """Where the screenshots and the exported SVG are saved."""
    return DOCS_DIR if os.environ.get("MGKG_UPDATE_DOCS") == "1" else tmp_path


MECHANISMS = ("Impaired PTH secretion", "End-organ PTH resistance", "Impaired vitamin D activation")

pytestmark = pytest.mark.slow


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # only ever 127.0.0.1
        body: bytes = response.read()
        return body


@pytest.fixture(scope="module")
def server(page_server: str) -> str:
    """The page's server (tests/conftest.py: page_server)."""
    return page_server


def _watch_hosts(page: Page, base: str) -> list[str]:
    """Collect every request the page makes to anything but the app itself."""
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else elsewhere.append(r.url)
    )
    return elsewhere


def _view_box(page: Page) -> str:
    value: str = page.locator("#graph svg").get_attribute("viewBox") or ""
    return value


def _ask(page: Page, finding: str) -> None:
    page.fill("#finding", finding)
    page.click("#ask-button")
    page.wait_for_selector("#graph[data-ready='true'] svg g.edge", timeout=30_000)


def test_ask_about_hypocalcemia_and_explore_the_graph(server: str, browser: Browser, docs: Path) -> None:
    cy: dict[str, Any] = json.loads(_get(f"{server}/why?finding=hypocalcemia&format=cyjs"))
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    elsewhere = _watch_hosts(page, server)
    page.goto(f"{server}/")
    page.wait_for_selector("#finding-list option", state="attached")
    _ask(page, "hypocalcemia")

    mechanisms = page.inner_text("#mechanisms")
    for name in MECHANISMS:
        assert name in mechanisms
    shown_edges = page.locator("#graph svg g.edge").count()
    assert shown_edges == len(cy["elements"]["edges"])

    cited = next(e["data"] for e in cy["elements"]["edges"] if "problem:" in e["data"]["citations"])
    page.locator(f"#graph g.edge#{cited['id']} text").first.click()
    details = page.inner_text("#details")
    assert "problem:" in details
    for identifier in cited["citations"].split("; "):
        assert identifier in details
    assert cited["evidence_summary"][:40] in details

    finding = next(n["data"] for n in cy["elements"]["nodes"] if n["data"]["label"] == "hypocalcemia")
    page.locator(f"#graph g.node#{finding['id']}").click()
    details = page.inner_text("#details")
    assert finding["curie"] in details
    assert finding["xrefs"].split(" ")[0] in details, "the node's standard identifiers are shown"

    before = _view_box(page)
    page.click("#zoom-in")
    zoomed = _view_box(page)
    assert zoomed != before
    box = page.locator("#graph").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    assert _view_box(page) != zoomed
    panned_from = _view_box(page)
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 120, steps=5)
    page.mouse.up()
    assert _view_box(page) != panned_from
    page.click("#zoom-fit")

    links = page.locator("#download-links a")
    formats = {href.split("format=")[-1] for href in links.evaluate_all("els => els.map(e => e.href)")}
    assert formats >= {"dot", "svg", "png", "graphml", "cyjs", "mermaid", "json"}

    page.locator(f"#graph g.edge#{cited['id']} text").first.click()  # leave a selected step in the picture
    docs.mkdir(exist_ok=True)
    page.screenshot(path=str(docs / "screenshot.png"))
    (docs / "hypocalcemia.svg").write_bytes(_get(f"{server}/why?finding=hypocalcemia&format=svg"))
    assert not elsewhere, f"the page requested other hosts: {elsewhere}"
    page.close()


@pytest.mark.parametrize("finding", ["hypokalemia", "hypocalcemia"])
def test_paths_read_as_steps_with_numbered_references(server: str, browser: Browser, finding: str) -> None:
    answer: dict[str, Any] = json.loads(_get(f"{server}/why?finding={finding}"))
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.goto(f"{server}/?finding={finding}")
    page.wait_for_selector("#graph[data-ready='true'] svg g.edge", timeout=30_000)
    panel = page.inner_text("#mechanisms")
    assert "null" not in panel
    assert "undefined" not in panel
    assert "[object" not in panel
    assert page.locator("#mechanisms .path").count() == len(answer["paths"])
    # every marker [n] points at the n-th entry of the numbered reference list, which reads as people cite
    references = page.locator("#references li").all_inner_texts()
    assert references
    markers = page.locator("#mechanisms a.ref, #advice a.ref").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert {int(href.removeprefix("#ref-")) for href in markers} == set(range(1, len(references) + 1))
    texts = {citation["text"] for citation in answer["citations"].values()}
    assert set(references) <= texts
    assert all(text.endswith("]") and ", " in text for text in references)
    # the steps say what changes; the picture is drawn at a legible size (its text at 9 px or more)
    assert "→" in panel
    font = page.evaluate(
        """() => {
        const svg = document.querySelector('#graph svg');
        const text = svg.querySelector('g.node text');
        const scale = svg.getScreenCTM().a;
        return parseFloat(text.getAttribute('font-size')) * scale;
      }"""
    )
    assert font >= 9, f"node labels are drawn {font:.1f} px high"
    page.close()


def test_what_causes_it_lists_the_causes_with_advice(server: str, browser: Browser) -> None:
    answer: dict[str, Any] = json.loads(_get(f"{server}/causes?finding=high%20urinary%20magnesium"))
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    elsewhere = _watch_hosts(page, server)
    page.goto(f"{server}/")
    page.check("input[name='question'][value='causes']")
    _ask(page, "high urinary magnesium")
    shown = page.inner_text("#mechanisms")
    assert page.inner_text("#mechanisms-title") == "Causes"
    assert "null" not in shown
    assert answer["causes"], "the chapter names renal causes of high urinary magnesium"
    for cause in answer["causes"]:
        assert answer["nodes"][cause["cause"]]["label"] in shown
    advice = page.inner_text("#advice")
    references = page.locator("#references li").all_inner_texts()
    for recommendation in answer["recommendations"]:
        assert recommendation["text"][:40] in advice
        cited = answer["citations"][recommendation["citations"][0]]["text"]
        assert cited in references, "the advice's citations are in the numbered reference list"
    assert "question=causes" in page.url, "the address says which question was asked"

    why: dict[str, Any] = json.loads(_get(f"{server}/why?finding=hypocalcemia"))
    page.check("input[name='question'][value='why']")
    _ask(page, "hypocalcemia")
    page.wait_for_selector("#advice .recommendation")
    advice = page.inner_text("#advice")
    assert why["recommendations"]
    for recommendation in why["recommendations"]:
        assert recommendation["text"][:40] in advice
    assert not elsewhere, f"the page requested other hosts: {elsewhere}"
    page.close()


def test_sparql_box_runs_named_and_written_queries(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/")
    page.wait_for_selector("#query-select option[value='findings-reachable']", state="attached")
    page.select_option("#query-select", "findings-reachable")
    page.click("#run-named")
    page.wait_for_selector("#results tbody tr")
    assert "hypocalcemia" in page.inner_text("#results")
    page.click("#run-query")
    # the written query selects ?finding ?label: wait for its two-column table to replace the named one's
    page.wait_for_selector("#results thead tr:not(:has(th:nth-child(3))) th:nth-child(2):has-text('label')")
    assert page.locator("#results tbody tr").count() > 0
    page.close()


def test_phone_width_has_no_horizontal_overflow(server: str, browser: Browser, docs: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.goto(f"{server}/?finding=hypocalcemia&context=severe")
    page.wait_for_selector("#graph[data-ready='true'] svg g.edge", timeout=30_000)
    assert page.is_checked("input[name='context'][value='severe']")
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]}px wide in a {widths[1]}px viewport"
    graph = page.locator("#graph").bounding_box()
    assert graph is not None
    assert graph["width"] <= 390
    page.screenshot(path=str(docs / "screenshot-phone.png"), full_page=False)
    page.close()


def test_api_docs_render_offline(server: str, browser: Browser) -> None:
    """Swagger UI comes from the app itself: /docs renders every route with no request elsewhere."""
    page = browser.new_page()
    elsewhere = _watch_hosts(page, server)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert "/why" in page.inner_text("body")
    assert elsewhere == []
    assert page.request.get(f"{server}/redoc").status == 404  # no ReDoc page: it would fetch from a CDN
    page.close()
