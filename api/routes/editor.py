"""The SPARQL query editor: YASGUI, served by the app, for a browser that GETs /sparql with no query."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from fastapi.responses import HTMLResponse

from api.routes.pages import STATIC_DIR
from kg.model.vocab import OBO, get_converter
from kg.sparql.named_queries import NamedQuery

_EDITOR_PREFIXES: Final = ("mgkg", "mgkgid", "obo", "skos", "dcterms", "rdf", "rdfs", "owl", "xsd")


@lru_cache(maxsize=1)
def editor_prefixes() -> dict[str, str]:
    """The prefixes of mgkg's graph, written at the top of the editor's first tab: their IRIs are those of
    the CURIE converter (kg.model.vocab), and OBO's PURL base.

    >>> editor_prefixes()["mgkgid"], editor_prefixes()["obo"]
    ('https://w3id.org/mgkg/id/', 'http://purl.obolibrary.org/obo/')
    """
    known = {**get_converter().prefix_map, "obo": str(OBO)}
    return {name: known[name] for name in _EDITOR_PREFIXES}


# YASGUI and CodeMirror set styles from script and add <style> elements, so styles may be inline here;
# scripts, connections, images and fonts stay on this origin.
_CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_PLACEHOLDER: Final = "__MGKG_EDITOR_SETTINGS__"


@lru_cache(maxsize=1)
def _template() -> str:
    return (STATIC_DIR / "sparql-editor.html").read_text(encoding="utf-8")


def wants_editor(accept: str | None) -> bool:
    """Whether a request with no query is a browser's: its Accept header names HTML before anything RDF.

    >>> wants_editor("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    True
    >>> wants_editor("text/turtle") or wants_editor(None) or wants_editor("*/*")
    False
    """
    if not accept:
        return False
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first in {"text/html", "application/xhtml+xml"}


def editor_page(endpoint: str, queries: Iterable[NamedQuery]) -> HTMLResponse:
    """The editor page for ``endpoint``, one example tab per named query."""
    settings = {
        "endpoint": endpoint,
        "prefixes": editor_prefixes(),
        "examples": [{"name": query.name, "title": query.title, "query": query.text} for query in queries],
    }
    # inside <script type="application/json">, only "</" could end the element early
    island = json.dumps(settings).replace("</", "<\\/")
    return HTMLResponse(_template().replace(_PLACEHOLDER, island), headers={"Content-Security-Policy": _CSP})
