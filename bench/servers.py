"""Run a server process on 127.0.0.1 until it answers, and stop it: shared by the benchmarks and the tests.

Benchmark scripts (run as ``python bench/NAME.py``) import it as a sibling module, ``from servers import
running``; the tests (pytest from the repository root) as ``bench.servers``. The caller picks the port
(:func:`free_port`) and writes it into the command, since every server spells it its own way (``mgkg serve
--port``, ``oxigraph serve --bind``, a Virtuoso ini), and says when the server is ready with a probe
(:func:`answers` for an HTTP URL, or any callable).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener that never goes through a proxy from the environment: the servers are on 127.0.0.1."""


class ServerStartError(RuntimeError):
    """A server exited before it answered, or did not answer in time; the message ends with its log's tail."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server about to be started."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mgkg_command() -> list[str]:
    """The command line that runs ``mgkg``: the installed script, else ``python -m api.cli``."""
    mgkg = shutil.which("mgkg")
    return [mgkg] if mgkg else [sys.executable, "-m", "api.cli"]


def answers(url: str) -> Callable[[], bool]:
    """A readiness probe: true once ``GET url`` answers 200 (any other answer or none: not yet)."""

    def probe() -> bool:
        try:
            with _DIRECT.open(url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return probe


@contextmanager
def running(
    command: Sequence[str],
    ready: Callable[[], bool],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    start_s: float = 180,
    stop_s: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` (its output to ``log``, else discarded; ``env`` on top of this process's
    environment), poll ``ready`` until it is true, yield the process, and stop it on the way out
    (SIGTERM, then SIGKILL after ``stop_s``).

    Raises ServerStartError when the process exits first or ``ready`` is still false after ``start_s``.
    """
    with ExitStack() as files:  # the child keeps its own copy of the log file
        output = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            list(command), stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        _wait(process, ready, start_s, command, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(
    process: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    start_s: float,
    command: Sequence[str],
    log: Path | None,
) -> None:
    """Poll ``ready`` every 0.2 s until it is true; ServerStartError if the process exits or time runs out."""
    deadline = time.monotonic() + start_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            status = process.poll()
            what = f"exited with status {status}" if status is not None else f"no answer in {start_s:g} s"
            tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
            raise ServerStartError(f"{' '.join(command)}: {what}\n{tail}".rstrip())
        time.sleep(0.2)
