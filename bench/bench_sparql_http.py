"""Side by side over HTTP: `mgkg serve` beside `oxigraph serve-read-only` on a copy of the same on-disk store.

Run from a checkout: ``python bench/bench_sparql_http.py [--rounds 5] [--seconds 3] [--connections 20]
[--baseline DIR] [--env NAME=VALUE ...] [--variant LABEL:NAME=VALUE ...]``.

One run: ``mgkg load`` writes the shipped graph (asserted + inferred) into an on-disk Oxigraph store in a
temporary folder; the folder is copied; ``mgkg serve --store oxigraph:STORE`` starts with its answer
caches off (``MGKG_SPARQL_CACHE_BYTES=0``, ``MGKG_WHY_CACHE_SIZE=0``: every request does its work; and
``MGKG_SPARQL_PER_CLIENT`` raised to the connection count, since every wrk connection comes from one
address) and
``oxigraph serve-read-only --union-default-graph`` starts on the copy (Oxigraph keeps no answer cache).
wrk (one thread, ``--connections`` connections, Accept: SPARQL JSON) then drives, per round and in turn:
each query on Oxigraph and on mgkg, mgkg's ``/health`` and ``/why?finding=hypocalcemia``. The two sides of
every ratio are measured back to back (:func:`measurement_order`), each after a second of warm-up on the
same URL; the order rotates from round to round, and every figure printed is the median over the rounds;
ratios are each round's own ratio, medianed, so that the drift of a shared machine (other tenants, other
jobs) hits both columns of a ratio alike. Client, both servers and mgkg's SPARQL workers share the
machine's CPUs: the ratios are the figures, not the absolute rates. Beside each rate, the CPU time the
serving process and its children (mgkg's workers) spent per request, read from /proc: on a shared machine
the time the hypervisor gives other tenants (steal) lowers every rate but not this, so the simple SELECT's
CPU over ``/health``'s is printed per round as well.

``--baseline DIR`` serves a second mgkg from another checkout (``git archive REV | tar -x -C DIR``) in
the same rounds, labelled ``base``: before and after in one run. ``--env NAME=VALUE`` sets a setting of
the measured mgkg only. ``--variant LABEL:NAME=VALUE[,NAME=VALUE]`` serves one more mgkg of this checkout
with those settings, labelled LABEL (``--variant disk:MGKG_SPARQL_MEMORY_QUADS=0`` compares one setting).

Targets (issue 12): mgkg at least 0.5x Oxigraph's throughput on the join and the aggregate; mgkg's simple
SELECT at least 0.8x its own /health; p99 under 20 ms at 20 connections.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from servers import answers, free_port, mgkg_command, running

PREFIXES: Final = "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\n"
QUERIES: Final = {
    "simple": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10",
    "join": PREFIXES + "SELECT ?l ?c ?e WHERE { ?l a mgkg:CausalLink ; mgkg:cause ?c ; mgkg:effect ?e }",
    "aggregate": PREFIXES
    + "SELECT ?e (COUNT(?l) AS ?n) WHERE { ?l a mgkg:CausalLink ; mgkg:effect ?e } "
    + "GROUP BY ?e ORDER BY DESC(?n)",
}
"""The queries both servers answer: a simple SELECT (LIMIT 10), a 3-pattern join, a COUNT / GROUP BY."""
ENGINE_BOUND: Final = ("join", "aggregate")
ACCEPT: Final = "application/sparql-results+json"
PAUSE_S: Final = 0.5
"""Between two measurements, at least: the queries of the connections wrk just closed are stopped and their
workers replaced, before the next measurement starts (it would otherwise meet them)."""
QUIET_IDLE: Final = 0.85
QUIET_WAIT_S: Final = 5.0
"""After the pause, wait (up to ``QUIET_WAIT_S``) until the CPUs are at least ``QUIET_IDLE`` idle over a
tenth of a second: a replacement worker starting, or a server still answering what the last measurement
left queued, would otherwise be charged to whatever is measured next."""
WARM_UP_S: Final = 1.0
"""Each measurement is preceded by this long a run of the same URL, not counted (then the pause and the wait
for a quiet machine, as between measurements): the measured seconds start on a server already answering
that request, not in whatever state the measurement before left it."""
_UNITS: Final = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


@dataclass(frozen=True)
class Load:
    """What one wrk run measured: requests per second, p50 and p99 latency (ms), non-2xx answers, socket
    errors (connect, read, write, timeout), requests answered, and the CPU time the serving process and its
    children (mgkg's SPARQL workers) spent per request, in µs (:func:`process_ticks`)."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    socket_errors: int = 0
    requests: int = 0
    cpu_us: float = float("nan")


def _ms(text: str) -> float:
    """A wrk duration ('850.00us', '1.20ms', '2.01s') in milliseconds.

    >>> _ms("850.00us"), _ms("1.5ms"), _ms("2s")
    (0.85, 1.5, 2000.0)
    """
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"not a wrk duration: {text}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def wrk(url: str, connections: int, seconds: float) -> Load:
    """Drive one URL with wrk (one thread: the CPUs are left to the servers) for ``seconds``; SPARQL
    queries ask for SPARQL JSON, the other routes send no Accept header (their default answer)."""
    accept = ["-H", f"Accept: {ACCEPT}"] if "query=" in url else []
    run = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *accept, url]
    out = subprocess.run(run, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout

    def grab(pattern: str) -> str:
        found = re.search(pattern, out)
        if found is None:
            raise RuntimeError(f"{pattern!r} not in wrk's output:\n{out}")
        return found.group(1)

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        float(grab(r"Requests/sec:\s+([\d.]+)")),
        _ms(grab(r"\s50%\s+(\S+)")),
        _ms(grab(r"\s99%\s+(\S+)")),
        int(bad.group(1)) if bad else 0,
        sum(map(int, sockets.groups())) if sockets else 0,
        int(grab(r"(\d+) requests in")),
    )


def process_ticks(pid: int) -> int:
    """The CPU time (user + system, clock ticks) process ``pid`` and its live descendants have used so far.

    A serving process's CPU time per request is the figure that holds when the machine's CPUs are shared:
    time the hypervisor gives to other tenants ("steal") lowers every rate measured but not this.
    """
    ticks = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat", encoding="ascii") as stat:
                # the fields after the command name, which may hold spaces
                fields = stat.read().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile (a replaced worker)
            continue
    return ticks


def wrk_on(url: str, connections: int, seconds: float, pid: int) -> Load:
    """:func:`wrk`, with the CPU time per request of the process ``pid`` (and its children) that serves it."""
    before = process_ticks(pid)
    load = wrk(url, connections, seconds)
    if not load.requests:
        return load
    used_s = (process_ticks(pid) - before) / os.sysconf("SC_CLK_TCK")
    return replace(load, cpu_us=used_s * 1e6 / load.requests)


def _cpu_times() -> tuple[int, int]:
    """The machine's (idle, total) CPU time so far, in clock ticks (/proc/stat's first line)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)  # idle + iowait


def wait_until_quiet(idle: float = QUIET_IDLE, wait_s: float = QUIET_WAIT_S) -> None:
    """Return once the CPUs were at least ``idle`` idle over a tenth of a second (or after ``wait_s``)."""
    give_up = time.monotonic() + wait_s
    while time.monotonic() < give_up:
        idle_0, total_0 = _cpu_times()
        time.sleep(0.1)
        idle_1, total_1 = _cpu_times()
        if (idle_1 - idle_0) / max(total_1 - total_0, 1) >= idle:
            return


def load_shipped_graph(store: Path) -> None:
    """Write the shipped graph (asserted + inferred named graphs) into an on-disk Oxigraph store."""
    subprocess.run([*mgkg_command(), "load", "--store", f"oxigraph:{store}"], check=True, capture_output=True)


def measure(
    rounds: int,
    seconds: float,
    connections: int,
    baseline: Path | None = None,
    extra: dict[str, str] | None = None,
    more: dict[str, dict[str, str]] | None = None,
) -> dict[str, list[Load]]:
    """Load, copy, serve both (and a baseline mgkg from another checkout, if given), and run every
    measurement once per round in a rotating order."""
    if shutil.which("wrk") is None or shutil.which("oxigraph") is None:
        raise SystemExit("this benchmark needs wrk and the oxigraph CLI (pip install oxigraph) on PATH")
    with tempfile.TemporaryDirectory(prefix="mgkg-bench-http-") as tmp, ExitStack() as servers:
        store, copy = Path(tmp) / "store", Path(tmp) / "oxigraph-copy"
        load_shipped_graph(store)
        shutil.copytree(store, copy)
        ox_port = free_port()
        ox = f"http://127.0.0.1:{ox_port}"
        oxigraph = ["oxigraph", "serve-read-only", "--location", str(copy), "--bind", f"127.0.0.1:{ox_port}"]
        ready = answers(f"{ox}/query?query=ASK%7B%7D")
        server = servers.enter_context(running([*oxigraph, "--union-default-graph"], ready, start_s=300))
        urls: dict[str, tuple[str, int]] = {}
        for name, text in QUERIES.items():
            urls[f"oxigraph {name}"] = (f"{ox}/query?query={urllib.parse.quote(text)}", server.pid)
        variants = {"mgkg": {**(extra or {})}}
        if baseline is not None:
            variants["base"] = {"PYTHONPATH": str(baseline)}
        variants |= more or {}
        for label, overrides in variants.items():
            urls |= _start_mgkg(servers, label, store, connections, overrides)
        found: dict[str, list[Load]] = {label: [] for label in urls}
        for number in range(rounds):
            for label in measurement_order(list(urls), list(variants), number):
                url, pid = urls[label]
                settled_wrk(url, connections, WARM_UP_S, pid)  # warm-up, not counted
                found[label].append(settled_wrk(url, connections, seconds, pid))
            print(f"round {number + 1}/{rounds} done", file=sys.stderr)
    return found


def settled_wrk(url: str, connections: int, seconds: float, pid: int) -> Load:
    """:func:`wrk_on`, once the last run's queries are stopped (``PAUSE_S``) and the machine is quiet."""
    time.sleep(PAUSE_S)
    wait_until_quiet()
    return wrk_on(url, connections, seconds, pid)


def measurement_order(labels: list[str], variants: list[str], number: int) -> list[str]:
    """Round ``number``'s order: the two sides of every ratio back to back (each query on Oxigraph and on
    every mgkg; each mgkg's ``/health``, simple SELECT and ``/why``), the groups in an order that rotates
    from round to round, and each group's own order reversed every other round.

    >>> measurement_order(["oxigraph simple", "oxigraph join", "mgkg /health", "mgkg /why", "mgkg simple",
    ...                    "mgkg join"], ["mgkg"], 1)
    ['mgkg join', 'oxigraph join', 'oxigraph simple', 'mgkg /why', 'mgkg simple', 'mgkg /health']
    """
    groups = [[f"{v} /health", f"{v} simple", f"{v} /why"] for v in variants]
    groups += [
        [f"oxigraph {name}", *(f"{v} {name}" for v in variants)] for name in QUERIES if name != "simple"
    ]
    groups.append(["oxigraph simple"])
    groups = [[label for label in group if label in labels] for group in groups]
    groups = [group[::-1] if number % 2 else group for group in groups if group]
    shift = number % len(groups)
    return [label for group in groups[shift:] + groups[:shift] for label in group]


def _start_mgkg(
    servers: ExitStack, label: str, store: Path, connections: int, overrides: dict[str, str]
) -> dict[str, tuple[str, int]]:
    """Start one `mgkg serve` on the store (answer caches off) and return its measurements' URLs, each
    with the server's process id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # caches off; all connections come from one address, so the per-client bound must admit them all
    env = {
        "MGKG_SPARQL_CACHE_BYTES": "0",
        "MGKG_WHY_CACHE_SIZE": "0",
        "MGKG_SPARQL_PER_CLIENT": str(connections),
        **overrides,
    }
    serve = [*mgkg_command(), "serve", "--store", f"oxigraph:{store}", "--port", str(port)]
    pid = servers.enter_context(
        running([*serve, "--log-level", "warning"], answers(f"{base}/health"), env=env, start_s=300)
    ).pid
    urls = {f"{label} /health": f"{base}/health", f"{label} /why": f"{base}/why?finding=hypocalcemia"}
    for name, text in QUERIES.items():
        urls[f"{label} {name}"] = f"{base}/sparql?query={urllib.parse.quote(text)}"
    return {label: (url, pid) for label, url in urls.items()}


def _rate(load: Load) -> float:
    return load.rps


def _median(loads: list[Load], pick: Callable[[Load], float]) -> float:
    return statistics.median(pick(load) for load in loads)


def _ratios(top: list[Load], bottom: list[Load], pick: Callable[[Load], float] = _rate) -> list[float]:
    """Each round's ratio of a figure (by default the throughput)."""
    return [pick(a) / pick(b) for a, b in zip(top, bottom, strict=True)]


def _ratio(top: list[Load], bottom: list[Load], pick: Callable[[Load], float] = _rate) -> float:
    """The median over the rounds of each round's ratio of a figure (by default the throughput)."""
    return statistics.median(_ratios(top, bottom, pick))


def report(found: dict[str, list[Load]], rounds: int, seconds: float, connections: int) -> None:
    """Print the table, the ratios and whether each target is met."""
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
        f"Python {sys.version.split()[0]}; wrk 1 thread, {connections} connections, {seconds:g} s per "
        f"measurement, {rounds} interleaved rounds; "
        "answer caches off; medians over the rounds"
    )
    heads = f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'socket':>7} {'CPU us/req':>11}"
    print(f"\n{'measurement':20} {heads}")
    for label, loads in found.items():
        print(
            f"{label:20} {_median(loads, lambda x: x.rps):8.0f} {_median(loads, lambda x: x.p50_ms):8.2f} "
            f"{_median(loads, lambda x: x.p99_ms):8.2f} {sum(x.errors for x in loads):8d} "
            f"{sum(x.socket_errors for x in loads):7d} {_median(loads, lambda x: x.cpu_us):11.0f}"
        )
    print("(CPU: the serving process and its children, per request answered; for mgkg's join and aggregate")
    print(" most of it is the SPARQL workers')")
    variants = [label.removesuffix(" /health") for label in found if label.endswith(" /health")]
    print(f"\n{'query':10} " + " ".join(f"{v + '/oxigraph':>14}" for v in variants))
    for name in QUERIES:
        ratios = (_ratio(found[f"{v} {name}"], found[f"oxigraph {name}"]) for v in variants)
        print(f"{name:10} " + " ".join(f"{r:14.2f}" for r in ratios))
    for variant in variants:
        simple, health = found[f"{variant} simple"], found[f"{variant} /health"]
        each_round = _ratios(simple, health)
        simple_of_health = statistics.median(each_round)
        why_of_health = _ratio(found[f"{variant} /why"], found[f"{variant} /health"])
        each = " ".join(f"{ratio:.2f}" for ratio in each_round)
        print(f"\n{variant} simple SELECT / {variant} /health: {simple_of_health:.2f} (rounds: {each})")
        over = [a.cpu_us - b.cpu_us for a, b in zip(simple, health, strict=True)]
        by_cpu = _ratio(health, simple, lambda load: load.cpu_us)
        print(
            f"{variant} server CPU per request, simple SELECT over /health: {statistics.median(over):.0f} us "
            f"(rounds: {' '.join(f'{x:.0f}' for x in over)}); /health's CPU / simple's: {by_cpu:.2f}"
        )
        print(f"{variant} /why (cache off) / {variant} /health: {why_of_health:.2f}")
        engine = min(_ratio(found[f"{variant} {n}"], found[f"oxigraph {n}"]) for n in ENGINE_BOUND)
        p99 = {n: _median(found[f"{variant} {n}"], lambda x: x.p99_ms) for n in QUERIES}
        ox_p99 = {n: _median(found[f"oxigraph {n}"], lambda x: x.p99_ms) for n in QUERIES}
        errors = sum(x.errors for label, loads in found.items() if label.startswith(variant) for x in loads)
        # p99 at a fixed number of connections is queueing (Little's law: about connections / throughput),
        # so for the engine-bound queries it is shown beside Oxigraph's own p99 on the same query.
        bound_p99 = ", ".join(f"{n} {p99[n]:.1f} ms (oxigraph {ox_p99[n]:.1f} ms)" for n in ENGINE_BOUND)
        for target, met, figure in (
            ("mgkg >= 0.5x oxigraph on join and aggregate", engine >= 0.5, f"worst {engine:.2f}x"),
            ("simple SELECT >= 0.8x mgkg /health", simple_of_health >= 0.8, f"{simple_of_health:.2f}x"),
            ("simple SELECT p99 < 20 ms", p99["simple"] < 20, f"{p99['simple']:.1f} ms"),
            ("join and aggregate p99 < 20 ms", max(p99[n] for n in ENGINE_BOUND) < 20, bound_p99),
            ("no errors from mgkg", errors == 0, f"{errors}"),
        ):
            print(f"{variant}: target {target}: {'MET' if met else 'NOT MET'} ({figure})")


def _settings(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` items as a dict (``--env``, ``--variant``)."""
    return dict(item.split("=", 1) for item in items)


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every measurement")
    parser.add_argument("--seconds", type=float, default=3, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also serve (as 'base') the mgkg of another checkout (git archive)",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for the measured mgkg"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL:NAME=VALUE[,NAME=VALUE]",
        help="also serve this checkout's mgkg with these settings, labelled LABEL",
    )
    options = parser.parse_args()
    extra = _settings(options.env)
    more = {
        label: _settings(settings.split(","))
        for label, _, settings in (variant.partition(":") for variant in options.variant)
    }
    found = measure(options.rounds, options.seconds, options.connections, options.baseline, extra, more)
    report(found, options.rounds, options.seconds, options.connections)


if __name__ == "__main__":
    main()
