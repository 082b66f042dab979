"""The web page at GET / and its own static assets (HTML, CSS, JavaScript), served from the package."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["web page"])

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
"""The folder of the page's assets, inside the installed api package."""

_MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# The page loads nothing from any other host; this policy makes the browser hold it to that.
_CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _asset(name: str) -> FileResponse:
    """A file of STATIC_DIR by its plain name; 404 for anything else (no subfolders, no '..')."""
    path = STATIC_DIR / name
    suffix = path.suffix.lower()
    if (
        "/" in name
        or "\\" in name
        or name.startswith(".")
        or suffix not in _MEDIA_TYPES
        or not path.is_file()
    ):
        raise HTTPException(status_code=404, detail=f"No static file {name!r}.")
    return FileResponse(path, media_type=_MEDIA_TYPES[suffix], headers={"Content-Security-Policy": _CSP})


@router.get("/", include_in_schema=False)
def get_page() -> FileResponse:
    """The interactive page: ask a why-question, explore the mechanism graph, download it, run SPARQL."""
    return _asset("index.html")


@router.get("/static/{name}", include_in_schema=False)
def get_static(name: str) -> FileResponse:
    """One of the page's own assets."""
    return _asset(name)
