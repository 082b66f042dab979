"""Load test: 60 s at 100 connections against a real `mgkg serve`, mixing /why, cached and uncached SPARQL
and a few runaway queries, with /health measured throughout.

Run from a checkout: ``python bench/bench_load.py [--seconds 60] [--why 30 --cached 25 --uncached 30
--runaway 5 --health 10]`` (connections per route class; 100 in all by default).

It starts ``mgkg serve`` on 127.0.0.1 (a free port, the service's default settings unless MGKG_* say
otherwise) and one ``wrk`` per route class, all at once, each with a Lua script that builds its requests
and counts the status codes it gets back:

- ``why``: ``GET /why`` over every reachable finding, context and ``max_paths`` 1-20, in turn (more
  questions than the /why answer cache holds, so some are worked out from scratch);
- ``cached``: five fixed SPARQL queries, run once before the load starts so that the answer cache
  holds them, from as many client addresses as connections;
- ``uncached``: a simple SELECT made unique by a trailing comment (``# <thread>-<n>``), so no cache
  answers it and the guard screens every text anew; each request comes from its own client address
  (``X-Forwarded-For``, which uvicorn trusts from 127.0.0.1), as many simple clients would;
- ``runaway``: cross products that outrun the time limit (504), the memory limit (507) or are stopped
  for the quick queries (503), from three client addresses;
- ``health``: ``GET /health``, whose latency percentiles are the figure: it must stay fast while the
  rest saturates the service.

It prints, per route class, the requests, the status-code histogram and socket errors, then whether
there was any 5xx besides the documented 503/504/507 of runaway queries, whether every uncached simple
query was answered (all 200, no socket error or timeout), and /health's p50/p99 (wrk's latency
distribution). Loopback only, bounded in time (``--seconds`` plus start-up).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from servers import answers, free_port, mgkg_command, running

PREFIXES = "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\nPREFIX mgkgid: <https://w3id.org/mgkg/id/>\n"
CACHED = [
    PREFIXES + "SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }",
    PREFIXES + "SELECT ?x WHERE { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf ?x }",
    PREFIXES + "SELECT ?l ?c ?e WHERE { ?l a mgkg:CausalLink ; mgkg:cause ?c ; mgkg:effect ?e }",
    "ASK { ?s ?p ?o }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
]
UNCACHED = PREFIXES + "SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypokalemia }"
RUNAWAY = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",  # time
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g",  # memory (and time)
]
RUNAWAY_DOCUMENTED = {503, 504, 507}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

# Shared Lua: count statuses per thread and print them (with the thread's socket errors) when done.
_LUA_COMMON = """
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
  n = 0
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("STATUS %d %d\\n", status, count))
    end
  end
end
"""


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


def rotating(paths: list[str], clients: int = 0) -> str:
    """A wrk script that sends GETs to ``paths`` in turn (from ``clients`` client addresses, if given)."""
    who = f"{{['X-Forwarded-For'] = '10.200.' .. id .. '.' .. (n % {clients})}}" if clients else "nil"
    return (
        _LUA_COMMON
        + f"local paths = {_lua_list(paths)}\n"
        + "function request()\n  n = n + 1\n"
        + f"  return wrk.format('GET', paths[(n % #paths) + 1], {who})\nend\n"
    )


def unique_queries(query: str) -> str:
    """A wrk script whose every request is a never-seen query text from a client address of its own."""
    base = "/sparql?query=" + quote(query) + quote("\n# ")
    return (
        _LUA_COMMON
        + f'local base = "{base}"\n'
        + "function request()\n"
        + "  n = n + 1\n"
        + "  local who = string.format('10.%d.%d.%d', id, math.floor(n / 256) % 256, n % 256)\n"
        + "  return wrk.format('GET', base .. id .. '-' .. n, {['X-Forwarded-For'] = who})\n"
        + "end\n"
    )


def runaways(paths: list[str], clients: int) -> str:
    """A wrk script sending runaway queries in turn from ``clients`` client addresses."""
    return (
        _LUA_COMMON
        + f"local paths = {_lua_list(paths)}\n"
        + "function request()\n"
        + "  n = n + 1\n"
        + f"  local who = '10.250.0.' .. ((n % {clients}) + 1)\n"
        + "  return wrk.format('GET', paths[(n % #paths) + 1], {['X-Forwarded-For'] = who})\n"
        + "end\n"
    )


@dataclass
class RouteLoad:
    """What one wrk run reports: requests, status histogram, socket errors, latency percentiles (ms)."""

    name: str
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    percentiles: dict[str, float] = field(default_factory=dict)


def parse_wrk(name: str, output: str) -> RouteLoad:
    """Read wrk's summary and the STATUS lines the script printed."""
    load = RouteLoad(name)
    found = re.search(r"(\d+) requests in", output)
    load.requests = int(found.group(1)) if found else 0
    for status, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.MULTILINE):
        load.statuses[int(status)] = load.statuses.get(int(status), 0) + int(count)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        load.socket_errors = dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
    for label, number, unit in re.findall(
        r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE
    ):
        load.percentiles[label] = float(number) * _UNITS[unit]
    return load


def machine() -> str:
    """The CPU model, its count and the Python that ran the server."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} x {model}, {system}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    for name, default in (("why", 30), ("cached", 25), ("uncached", 30), ("runaway", 5), ("health", 10)):
        parser.add_argument(f"--{name}", type=int, default=default, help=f"connections (default {default})")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [*mgkg_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with running(serve, answers(f"{base}/health")):
        for query in CACHED:  # into the answer cache before the load starts
            httpx.get(
                f"{base}/sparql", params={"query": query}, timeout=30, trust_env=False
            ).raise_for_status()
        reachable = httpx.get(f"{base}/findings", timeout=30, trust_env=False).json()["reachable"]
        findings = [str(f["curie"]) for f in reachable]
        why = [
            f"/why?finding={quote(f)}&max_paths={paths}" + (f"&context={context}" if context else "")
            for paths in range(1, 21)
            for context in ("", "mild", "severe")
            for f in findings
        ]  # more questions than the /why cache holds: some are answered from scratch
        scripts = {
            "why": rotating(why),
            "cached": rotating(["/sparql?query=" + quote(q) for q in CACHED], clients=args.cached),
            "uncached": unique_queries(UNCACHED),
            "runaway": runaways(["/sparql?query=" + quote(q) for q in RUNAWAY], clients=3),
            "health": rotating(["/health"]),
        }
        with tempfile.TemporaryDirectory(prefix="mgkg-bench-load-") as work:
            runs = {}
            for name, script in scripts.items():
                if not getattr(args, name):
                    continue
                path = Path(work) / f"{name}.lua"
                path.write_text(script)
                connections = getattr(args, name)
                command = ["wrk", "-t1", f"-c{connections}", f"-d{args.seconds}s", "--timeout", "30s"]
                command += ["--latency", "-s", str(path), base]
                runs[name] = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            outputs = {name: run.communicate(timeout=args.seconds + 120)[0] for name, run in runs.items()}
    loads = [parse_wrk(name, output) for name, output in outputs.items()]
    report(loads, args.seconds, sum(getattr(args, n) for n in scripts))


def report(loads: list[RouteLoad], seconds: int, connections: int) -> None:
    print(f"mgkg load test: {seconds} s, {connections} connections, on {machine()}\n")
    print(f"{'route':<9} {'requests':>9} {'req/s':>7}  statuses                         socket errors")
    for load in loads:
        histogram = " ".join(f"{s}:{c}" for s, c in sorted(load.statuses.items()))
        errors = " ".join(f"{k}:{v}" for k, v in load.socket_errors.items() if v) or "-"
        print(f"{load.name:<9} {load.requests:>9} {load.requests / seconds:>7.0f}  {histogram:<32} {errors}")
    by_name = {load.name: load for load in loads}
    empty = RouteLoad("none")
    unexpected = {
        load.name: {
            s: c
            for s, c in load.statuses.items()
            if s >= 500 and not (load.name == "runaway" and s in RUNAWAY_DOCUMENTED)
        }
        for load in loads
    }
    unexpected = {name: found for name, found in unexpected.items() if found}
    uncached = by_name.get("uncached", empty)
    answered = set(uncached.statuses) == {200} and not any(uncached.socket_errors.values())
    health = by_name.get("health", empty)
    print()
    print(f"5xx other than the runaways' documented 503/504/507: {unexpected or 'none'}")
    print(f"every uncached simple query answered (all 200, no socket error): {'yes' if answered else 'NO'}")
    p50, p90, p99 = (health.percentiles.get(p, float("nan")) for p in ("50", "90", "99"))
    print(f"/health latency under load: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
