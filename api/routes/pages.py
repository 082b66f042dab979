"""The web page at GET / and its own static assets (HTML, CSS, JavaScript), served from the package."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

router = APIRouter(tags=["web page"])

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
"""The folder of the page's assets, inside the installed api package."""

STATIC_PATH: Final = "/static"
"""Where the assets are served (api/app.py mounts :func:`static_files` there)."""

# The page loads nothing from any other host; this policy makes the browser hold it to that.
_CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS: Final = {"Content-Security-Policy": _CSP}


class PageFiles(StaticFiles):
    """Starlette's StaticFiles (media types, ETag and Last-Modified, HEAD, 304, no path escapes) with the
    page's Content-Security-Policy on every file it serves; a missing file is a 404 problem+json."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at ``path``, with the policy header."""
        response = await super().get_response(path, scope)
        response.headers.update(_HEADERS)
        return response


def static_files() -> PageFiles:
    """The ASGI app that serves STATIC_DIR (mounted at :data:`STATIC_PATH`)."""
    return PageFiles(directory=STATIC_DIR)


@router.get("/", include_in_schema=False)
def get_page() -> FileResponse:
    """The interactive page: ask a why-question, explore the mechanism graph, download it, run SPARQL."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)
