"""How a SPARQL engine runs its queries: one frozen value, chosen once by the caller and passed whole."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    """The limits and tuning of a SPARQL engine, local worker pool or remote store alike.

    The service builds one from its Settings (``Settings.open_options``), the CLI from its flags, a library
    user writes one or takes these defaults; the store hands it unchanged to the engine it starts (a remote
    store opens at least 8 connections). Nothing here reads the environment.

    ``workers``: the queries that run at once (worker processes, or HTTP connections to a remote store).
    ``timeout_s``: a query's time limit, waiting for a worker included. ``max_rows``: rows (or triples)
    past this are cut and the answer marked truncated. ``cache_bytes``: the answer cache's bound (0: no
    cache). ``per_client``: the queries one client may have running or waiting (0: no bound).
    The local pool's own (kg/sparql/pool.py): ``spin_s`` bounds the short polls that spare a process
    wake-up on each side of a round trip (0 turns them off); ``memory_mb`` is what one query may add to a
    worker's memory (0: no limit); ``sandbox`` denies workers network sockets (kg.sparql.sandbox; off only
    to diagnose); ``preempt_after_s`` is how long a query runs before it may be stopped for other clients'
    quick queries (kg/sparql/scheduler.py); ``pin_cpus`` pins this process and the workers to different
    CPUs (for a single server process only); ``inline_rows`` lets a one-pattern query of at most that many
    rows (LIMIT + OFFSET) be answered in the serving process without a worker (kg.sparql.inline; 0: off).
    ``memory_quads``: an on-disk store of at most this many quads is read into memory by each process that
    answers from it (the workers and the inline answerer; 0: never), since pyoxigraph answers from memory
    three to seven times faster than from its on-disk store (a ``read_only`` store is a snapshot of the
    files when it opens either way); a larger store is read from disk.

    >>> EngineOptions().timeout_s, EngineOptions(workers=4).max_rows
    (10.0, 10000)
    """

    workers: int = 2
    timeout_s: float = 10.0
    max_rows: int = 10_000
    cache_bytes: int = 32 * 2**20
    per_client: int = 0
    spin_s: float = 1e-3
    memory_mb: int = 1024
    sandbox: bool = True
    preempt_after_s: float = 2.0
    pin_cpus: bool = False
    inline_rows: int = 1000
    memory_quads: int = 50_000
