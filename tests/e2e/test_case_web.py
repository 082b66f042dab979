"""The case form in headless Chromium on a real server: fill it, get the explanation and the picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(page_server: str) -> str:
    """The page's server (tests/conftest.py: page_server)."""
    return page_server


def test_the_case_form_explains_renal_wasting_on_cisplatin(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else elsewhere.append(r.url)
    )
    page.goto(f"{server}/")
    page.wait_for_selector("#case-exposures input[value='cisplatin']", state="attached", timeout=30_000)
    page.fill("#case-findings", "refractory hypokalemia, cramps")
    page.select_option("#case-serum_ca", "low")
    page.select_option("#case-pth", "normal")
    page.fill("#case-fe_mg_percent", "5")
    page.check("#case-exposures input[value='cisplatin']")
    page.select_option("#case-treatments select[data-intervention='calcium infusion']", "no_response")
    page.click("#case-button")
    page.wait_for_selector("#case-picture svg g.edge", timeout=30_000)
    text = page.inner_text("#case-answer")
    for expected in (
        "hypocalcemia refractory to calcium alone",
        "Loss: renal",
        "cisplatin",
        "intracellular Mg2+",
    ):
        assert expected in text
    assert "not a clinical decision" in page.inner_text("#case-disclaimer")
    assert page.locator("#case-sections li[data-finding]").count() >= 4
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
