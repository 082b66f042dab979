"""The only Settings of mgkg: from arguments or MGKG_* environment variables (pydantic-settings).

The CLI (api/cli) builds one Settings per command, its flags given as arguments over the environment,
and passes it down: to create_app(settings), to uvicorn's worker processes (pickled, not through
os.environ), and as plain arguments to the kg functions. Nothing below the CLI reads os.environ.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.sparql.options import EngineOptions

if TYPE_CHECKING:
    from kg.stores.base import OpenOptions


class Settings(BaseSettings):
    """Everything mgkg can be told; every field may be set as MGKG_<FIELD> (e.g. MGKG_PORT=9000), and a
    command-line flag of the same name beats the variable.

    The limits exist so that no single request can take the service down: queries are bounded in
    length, time and result rows, request bodies in bytes, and /why answers are cached per question.
    The SPARQL engine's defaults are kg.sparql.options.EngineOptions' own (but for ``sparql_per_client``:
    the service bounds each client, the library does not).
    """

    model_config = SettingsConfigDict(env_prefix="MGKG_", frozen=True, extra="ignore")

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        from kg.stores.registry import (
            parse_store_setting,  # here, not at import: uvicorn workers unpickle Settings
        )

        parse_store_setting(value)  # raises ValueError saying what is accepted
        return value

    host: str = Field(
        default="127.0.0.1", description="Interface to listen on (127.0.0.1: this machine only)."
    )
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port to listen on.")
    workers: int = Field(
        default=1, ge=1, le=64, description="uvicorn worker processes, each with its own graph."
    )
    store: str = Field(
        default="memory",
        description="The store: memory (default), oxigraph:PATH (written by mgkg load) or sparql:URL.",
    )
    cache_dir: Path | None = Field(default=None, description="Inference cache folder (default: user cache).")
    reasoner: Literal["owlrl", "fast"] = Field(
        default="owlrl",
        description="Inference engine for the memory store: owlrl (the reference) or fast (the ontology's "
        "OWL 2 RL rules, linear; same causal triples on the shipped graph). Part of the cache key.",
    )
    sparql_timeout_s: float = Field(
        default=EngineOptions.timeout_s, gt=0, le=600, description="Per-query time limit, seconds."
    )
    sparql_max_query_chars: int = Field(default=20_000, ge=100, description="Longest query text accepted.")
    sparql_max_rows: int = Field(
        default=EngineOptions.max_rows, ge=1, description="Rows (or triples) beyond this are cut."
    )
    sparql_memory_mb: int = Field(
        default=EngineOptions.memory_mb,
        ge=0,
        description="MiB of memory one SPARQL query may take in a worker, beyond the store (0: no limit); "
        "past it the worker is replaced and the client gets 507.",
    )
    sparql_workers: int = Field(
        default=EngineOptions.workers, ge=1, le=32, description="SPARQL worker processes per server worker."
    )
    sparql_cache_bytes: int = Field(
        default=EngineOptions.cache_bytes,
        ge=0,
        description="Bytes of SPARQL answers cached per worker (0: no cache).",
    )
    sparql_spin_us: int = Field(
        default=round(EngineOptions.spin_s * 1e6),
        ge=0,
        le=10_000,
        description="Microseconds the server and a SPARQL worker poll for each other before sleeping "
        "(cuts the wake-up latency of a lone query; 0 turns it off and saves that CPU).",
    )
    sparql_inline_rows: int = Field(
        default=EngineOptions.inline_rows,
        ge=0,
        le=10_000,
        description="One-pattern queries of at most this many rows (LIMIT + OFFSET) are answered in the "
        "server process, without a worker (kg.sparql.inline; 0: every query goes to a worker).",
    )
    sparql_memory_quads: int = Field(
        default=EngineOptions.memory_quads,
        ge=0,
        description="An on-disk store of at most this many quads is read into memory by the SPARQL workers "
        "and the server process (about 600 bytes a quad each; 0: always read from disk). pyoxigraph "
        "answers 3-7 times faster from memory.",
    )
    sparql_egress_sandbox: bool = Field(
        default=EngineOptions.sandbox,
        description="Deny the SPARQL worker processes network sockets (a seccomp filter, kg.sparql.sandbox); "
        "turn off only to diagnose. /health says whether it is in force.",
    )
    sparql_guard: bool = Field(
        default=True,
        description="Tests and diagnosis only, never in service: False lets /sparql queries reach the "
        "engine unchecked, to show that the egress sandbox holds on its own. Logged as a warning.",
    )
    sparql_per_client: int = Field(
        default=8,
        ge=0,
        description="SPARQL queries one client (by address) may have running or waiting for a worker at "
        "once; one more gets 429 (0: no bound). Cached answers do not count.",
    )
    sparql_preempt_s: float = Field(
        default=EngineOptions.preempt_after_s,
        gt=0,
        description="Seconds a SPARQL query runs before it may be stopped (503) to free its worker for "
        "other clients' queries, when every worker is busy with long queries.",
    )
    max_url_bytes: int = Field(
        default=60_000,
        ge=1_024,
        le=65_535,
        description="Longest request target (path and query string) accepted; longer gets 414 saying to "
        "send the query by POST (65,535 at most: the HTTP parser's own limit).",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a connection may take to send a request's line and headers before it is closed.",
    )
    renderer: Literal["auto", "dot", "wasm"] = Field(
        default="auto",
        description="Graphviz renderer for SVG/PNG: auto (the dot binary, else the bundled WebAssembly "
        "build), dot (the binary only) or wasm.",
    )
    dot: str = Field(default="dot", description="The Graphviz dot executable: a name on PATH or a path.")
    store_gsp_url: str | None = Field(
        default=None, description="Graph Store Protocol URL of a sparql: store (mgkg load writes there)."
    )
    store_update_url: str | None = Field(
        default=None,
        description="SPARQL Update URL of a sparql: store (mgkg load writes there without a GSP URL).",
    )
    cors_origins: str = Field(
        default="*",
        description="Origins (scheme://host[:port], comma-separated) whose pages may call the service from a "
        "browser (CORS); * lets any page, as public SPARQL endpoints do (nothing here is private or "
        "writable); empty: none.",
    )
    max_request_bytes: int = Field(default=256_000, ge=1_000, description="Largest request body accepted.")
    why_cache_size: int = Field(default=2048, ge=0, description="Cached /why answers (0 disables the cache).")

    @property
    def allowed_origins(self) -> list[str]:
        """:attr:`cors_origins` as a list (``*`` alone means any origin).

        >>> Settings(cors_origins=" https://a.org, http://b:8080 ,").allowed_origins
        ['https://a.org', 'http://b:8080']
        """
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def open_options(self) -> OpenOptions:
        """How the store opens and its SPARQL engine runs, from these settings: built once, passed whole.

        >>> options = Settings(sparql_workers=3, sparql_spin_us=0).open_options()
        >>> options.engine.workers, options.engine.spin_s, options.reasoner
        (3, 0.0, 'owlrl')
        """
        from kg.stores.base import OpenOptions  # here, not at import: uvicorn workers unpickle Settings

        engine = EngineOptions(
            workers=self.sparql_workers,
            timeout_s=self.sparql_timeout_s,
            max_rows=self.sparql_max_rows,
            cache_bytes=self.sparql_cache_bytes,
            per_client=self.sparql_per_client,
            spin_s=self.sparql_spin_us / 1e6,
            memory_mb=self.sparql_memory_mb,
            sandbox=self.sparql_egress_sandbox,
            preempt_after_s=self.sparql_preempt_s,
            inline_rows=self.sparql_inline_rows,
            memory_quads=self.sparql_memory_quads,
        )
        return OpenOptions(engine, self.cache_dir, self.reasoner)
