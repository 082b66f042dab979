"""The HTTP part of the benchmark: `mgkg load` into an on-disk store, a real `mgkg serve`, wrk against it.

For one graph size: load the files with ``mgkg load --store oxigraph:PATH`` (timed), start ``mgkg serve
--store oxigraph:PATH`` on a free 127.0.0.1 port with the /why and SPARQL answer caches off (every
request does its work), wait for ``/health``, then drive ``GET /health`` (the reference), ``/why`` and
``/sparql`` with wrk at each concurrency, rotating over several findings, and read the server's peak
memory (VmHWM of the server and of its SPARQL worker processes) from /proc before stopping it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from servers import answers, free_port, mgkg_command, running

ROUTES: Final = ("health", "sparql", "why")
"""Measured in this order: /why last, because at 100 connections on a large graph the server is still
working off queued /why searches seconds after wrk stops, and a route measured next would wait behind them
(at 2M triples /sparql at 1 connection then completed no request in its 3 s)."""
_UNITS: Final = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def load_store(files: Sequence[Path], location: Path, cache_dir: Path) -> dict[str, Any]:
    """Run `mgkg load` (fast reasoner for the mgkg graphs) and return its time and triple counts."""
    shutil.rmtree(location, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [*mgkg_command(), "load", *map(str, files), "--store", f"oxigraph:{location}", "--reasoner", "fast"],
        env={**os.environ, "MGKG_CACHE_DIR": str(cache_dir), "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    seconds = time.perf_counter() - started
    triples = sum(int(n) for n in re.findall(r"(\d+) triples", done.stderr))
    return {"cli_load_s": seconds, "cli_triples": triples, "cli_load_rate": triples / seconds}


def _peak_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a process, in KiB; 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of each of its threads, recursively)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def wrk(url: str, paths: Sequence[str], connections: int, seconds: float, work: Path) -> dict[str, float]:
    """Run wrk with a Lua script rotating over ``paths``; return p50/p99 (ms), req/s and errors."""
    script = work / "rotate.lua"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
    )
    threads = min(2, connections)
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    out = done.stdout

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no {label}% in wrk output:\n{out}")
        return float(found.group(1)) * _UNITS[found.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "n": float(requests.group(1)) if requests else 0.0,
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "rps": float(rps.group(1)) if rps else 0.0,
        "errors": float(bad.group(1) if bad else 0) + (sum(map(float, errors.groups())) if errors else 0.0),
    }


def measure(
    location: Path,
    findings: Sequence[str],
    sparql: str,
    levels: Sequence[int],
    seconds: float,
    work: Path,
) -> dict[str, Any]:
    """Serve the store with `mgkg serve`, measure each route at each concurrency, and the peak memory."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk); it drives the HTTP benchmark")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"MGKG_WHY_CACHE_SIZE": "0", "MGKG_SPARQL_CACHE_BYTES": "0"}
    serve = [*mgkg_command(), "serve", "--store", f"oxigraph:{location}", "--port", str(port)]
    started = time.perf_counter()
    with running(
        [*serve, "--log-level", "warning"],
        answers(f"{base}/health"),
        log=work / "serve.log",
        env=env,
        start_s=600,
    ) as server:
        result: dict[str, Any] = {"http_ready_s": time.perf_counter() - started}
        paths = {
            "health": ["/health"],
            "why": [f"/why?finding={urllib.parse.quote(f)}" for f in findings],
            "sparql": [f"/sparql?query={urllib.parse.quote(sparql % f)}" for f in findings],
        }
        for route in ROUTES:
            result[f"http_{route}"] = {str(c): wrk(base, paths[route], c, seconds, work) for c in levels}
        workers = _descendants(server.pid)
        result["http_server_peak_mib"] = _peak_kib(server.pid) / 1024
        result["http_total_peak_mib"] = (_peak_kib(server.pid) + sum(map(_peak_kib, workers))) / 1024
        result["http_processes"] = 1 + len(workers)
        return result
