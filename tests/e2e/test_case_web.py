"""The case form in headless Chromium on a real server: fill it, get the explanation and the picture."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    """Fail under CI (the browser test must run there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; .ci/run installs chromium and the test extra installs playwright")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, start_server: Callable[..., AbstractContextManager[str]]
) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1, started as a subprocess; yields its base URL."""
    if shutil.which("dot") is None:
        _unavailable("Graphviz `dot` is not installed")
    log = tmp_path_factory.mktemp("case-server") / "server.log"
    env = {"MGKG_CACHE_DIR": str(tmp_path_factory.mktemp("mgkg-cache"))}
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1"]
    with start_server(command, log, env) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


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
