"""The case form in headless Chromium on a real server: fill it with each vignette, get the explanation, the
picture (a step clicked shows its citations) and the meaning of every figure shown; the same answer as
POST /case gives."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


pytestmark = pytest.mark.slow

VIGNETTE_FILE = Path(__file__).resolve().parents[1] / "resources" / "case" / "vignettes.json"
VIGNETTES: dict[str, dict[str, Any]] = {
    name: entry["case"] for name, entry in json.loads(VIGNETTE_FILE.read_text(encoding="utf-8")).items()
}


@pytest.fixture(scope="module")
def server(page_server: str) -> str:
    """The page's server (tests/conftest.py: page_server)."""
    return page_server


def _post_case(server: str, case: dict[str, Any], fmt: str = "json") -> Any:
    request = urllib.request.Request(
        f"{server}/case?format={fmt}",
        data=json.dumps(case).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # the test's own server on 127.0.0.1
        return json.loads(response.read())


def _fill(page: Page, case: dict[str, Any]) -> None:
    """Fill the case form as a person would, from a vignette."""
    page.fill("#case-findings", ", ".join(case.get("findings", ())))
    page.fill("#case-absent", ", ".join(case.get("absent", ())))
    for field, value in case.get("labs", {}).items():
        if field == "fe_mg_percent":
            page.fill("#case-fe_mg_percent", str(value))
        else:
            page.select_option(f"#case-{field}", str(value).lower())
    for exposure in case.get("exposures", ()):
        page.check(f"#case-exposures input[value='{exposure}']")
    for treatment in case.get("treatments", ()):
        page.select_option(
            f"#case-treatments select[data-intervention='{treatment['intervention']}']", treatment["response"]
        )


def _open(browser: Browser, server: str, elsewhere: list[str]) -> Page:
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.on(
        "request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else elsewhere.append(r.url)
    )
    page.goto(f"{server}/")
    page.wait_for_selector("#case-exposures input[value='cisplatin']", state="attached", timeout=30_000)
    return page


@pytest.mark.parametrize("name", sorted(VIGNETTES))
def test_the_case_form_answers_each_vignette_as_post_case_does(
    server: str, browser: Browser, name: str
) -> None:
    case = VIGNETTES[name]
    expected = _post_case(server, case)
    elsewhere: list[str] = []
    page = _open(browser, server, elsewhere)
    _fill(page, case)
    page.click("#case-button")
    page.wait_for_selector("#case-status[data-done='true']", timeout=30_000)
    assert page.inner_text("#case-summary") == expected["summary"]
    assert "not a clinical decision" in page.inner_text("#case-disclaimer")
    shown = page.eval_on_selector_all(
        "#case-sections li[data-finding]", "items => items.map(i => i.dataset.finding)"
    )
    assert shown == [entry["finding"]["iri"] for entry in expected["explained"]]
    text = page.inner_text("#case-answer")
    assert expected["loss"]["message"] in page.inner_text("#case-loss")
    for entry in expected["not_explained"]:
        assert entry["finding"]["label"] in text
    for contradiction in expected["against"]:
        assert contradiction["message"] in page.inner_text("#case-against")
    for expectation in expected["what_if"]:
        assert expectation["message"] in page.inner_text("#case-what-if")
    for observation in expected["observations"]:
        assert observation["reading"] in page.inner_text("#case-readings")
    assert expected["proofs"]  # POST /case proves every explained finding
    assert page.locator("#case-proofs li").count() == len(expected["proofs"])
    # every figure shown is explained on the page
    keys = set(page.eval_on_selector_all("[data-figure]", "marks => marks.map(m => m.dataset.figure)"))
    explained = set(
        page.eval_on_selector_all("#case-figures dt", "terms => terms.map(t => t.dataset.figure)")
    )
    assert keys
    assert keys <= explained
    # the picture: one graph of the whole case, with every explained finding on it
    if expected["explained"]:
        page.wait_for_selector("#case-picture svg g.edge", timeout=30_000)
        nodes = set(page.eval_on_selector_all("#case-picture svg g.node", "gs => gs.map(g => g.id)"))
        cy = _post_case(server, case, "cyjs")
        by_iri = {n["data"]["iri"]: n["data"]["id"] for n in cy["elements"]["nodes"]}
        assert {by_iri[entry["finding"]["iri"]] for entry in expected["explained"]} <= nodes
    assert not elsewhere
    page.close()


def test_a_step_of_the_case_picture_shows_its_citations(server: str, browser: Browser) -> None:
    case = VIGNETTES["renal-cisplatin"]
    cy = _post_case(server, case, "cyjs")
    elsewhere: list[str] = []
    page = _open(browser, server, elsewhere)
    _fill(page, case)
    page.click("#case-button")
    page.wait_for_selector("#case-picture svg g.edge", timeout=30_000)
    edges = {e["data"]["id"]: e["data"] for e in cy["elements"]["edges"]}
    assert edges
    for edge_id in list(edges)[:3]:
        page.locator(f"#case-picture svg g.edge#{edge_id} path").first.dispatch_event("click")
        page.wait_for_selector("#case-step:not([hidden])", timeout=10_000)
        step = page.inner_text("#case-step")
        assert f"Citations ({edges[edge_id]['citation_count']})" in step
        assert f"Mechanism: {edges[edge_id]['mechanisms']}" in step
        for line in edges[edge_id]["citation_details"].split("\n"):
            assert line in step
    assert not elsewhere
    page.close()


def test_the_case_form_shows_what_cannot_be_interpreted(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/")
    page.fill("#case-findings", "no such finding at all")
    page.click("#case-button")
    page.wait_for_selector("#case-status.error", timeout=30_000)
    assert "findings[0]" in page.inner_text("#case-status")
    page.close()
