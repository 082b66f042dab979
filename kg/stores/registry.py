"""The store registry: the kinds a store setting may name, its parser, and opening or loading any store."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from kg.stores import memory, oxigraph, remote
from kg.stores.base import Loader, OpenedStore, OpenOptions, Store, StoreSpec, WriteOptions

logger = logging.getLogger(__name__)

STORES: Final[Mapping[str, Store]] = MappingProxyType(
    {store.kind: store for store in (memory.STORE, oxigraph.STORE, remote.STORE)}
)
"""Every store kind by name. A new kind is a module defining a :class:`~kg.stores.base.Store` and a
line here; nothing else names a kind."""


def _accepted() -> str:
    return ", ".join(store.syntax for store in STORES.values())


def parse_store_setting(text: str) -> StoreSpec:
    """Read a store setting (``--store`` / ``MGKG_STORE``): ``KIND`` or ``KIND:LOCATION``.

    ValueError says which settings are accepted.

    >>> parse_store_setting("oxigraph:/var/lib/mgkg")
    StoreSpec(kind='oxigraph', location='/var/lib/mgkg')
    >>> parse_store_setting("sparql:http://127.0.0.1:7878/query").location
    'http://127.0.0.1:7878/query'
    >>> parse_store_setting(" memory ").kind
    'memory'
    """
    kind, _, location = text.strip().partition(":")
    store = STORES.get(kind)
    try:
        if store is None:
            raise ValueError(f"there is no store kind {kind!r}")
        return StoreSpec(kind, store.parse_location(location))
    except ValueError as error:
        raise ValueError(f"Bad store setting {text!r} ({error}): use {_accepted()}.") from None


def store_for(spec: StoreSpec) -> Store:
    """The registered kind of ``spec``; ValueError for a kind no module registered."""
    store = STORES.get(spec.kind)
    if store is None:
        raise ValueError(f"Unknown store kind {spec.kind!r}: use {_accepted()}.")
    return store


async def open_store(
    spec: StoreSpec,
    *,
    workers: int = OpenOptions.workers,
    timeout_s: float = OpenOptions.timeout_s,
    max_rows: int = OpenOptions.max_rows,
    cache_bytes: int = OpenOptions.cache_bytes,
    spin_s: float = OpenOptions.spin_s,
    memory_mb: int = OpenOptions.memory_mb,
    per_client: int = OpenOptions.per_client,
    preempt_after_s: float = OpenOptions.preempt_after_s,
    cache_dir: Path | None = None,
    reasoner: str | None = None,
    sandbox: bool = OpenOptions.sandbox,
) -> OpenedStore:
    """Open any store for reading: the knowledge graph /why reads, what the store holds, a started engine.

    The keywords are the fields of kg.stores.base.OpenOptions, which documents them (``reasoner`` None:
    owlrl); the kind decides the rest (kg.stores.memory, .oxigraph, .remote). Blocking work runs in threads.
    """
    chosen = OpenOptions(
        workers=workers,
        timeout_s=timeout_s,
        max_rows=max_rows,
        cache_bytes=cache_bytes,
        spin_s=spin_s,
        memory_mb=memory_mb,
        per_client=per_client,
        preempt_after_s=preempt_after_s,
        cache_dir=cache_dir,
        reasoner=reasoner or OpenOptions.reasoner,
        sandbox=sandbox,
    )
    store = store_for(spec)
    logger.debug("opening store %s as %s (%s)", spec, type(store).__name__, chosen)
    return await store.open(spec, chosen)


def loader_for(spec: StoreSpec, options: WriteOptions | None = None) -> Loader:
    """What `mgkg load` writes ``spec`` with; LoadError at once when the store cannot be written (the
    memory store, a remote store without a write URL), before any reasoning is spent."""
    chosen = options or WriteOptions()
    logger.debug("loading into store %s", spec)
    return store_for(spec).loader(spec, chosen)
