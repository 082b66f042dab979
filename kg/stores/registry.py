"""The store registry: the kinds a store setting may name, its parser, and opening or loading any store."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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


async def open_store(spec: StoreSpec, options: OpenOptions | None = None) -> OpenedStore:
    """Open any store for reading: the knowledge graph /why reads, what the store holds, a started engine.

    ``options`` (default: kg.stores.base.OpenOptions()) holds the SPARQL engine's options, passed whole
    to the engine, and the memory store's inference cache folder and reasoner; the kind decides the rest
    (kg.stores.memory, .oxigraph, .remote). Blocking work runs in threads. Close the engine when done::

        knowledge, info, engine = await open_store(parse_store_setting("oxigraph:/var/lib/mgkg"))
        ...
        await engine.close()
    """
    chosen = options or OpenOptions()
    store = store_for(spec)
    logger.debug("opening store %s as %s (%s)", spec, type(store).__name__, chosen)
    return await store.open(spec, chosen)


def loader_for(spec: StoreSpec, options: WriteOptions | None = None) -> Loader:
    """What `mgkg load` writes ``spec`` with; LoadError at once when the store cannot be written (the
    memory store, a remote store without a write URL), before any reasoning is spent."""
    chosen = options or WriteOptions()
    logger.debug("loading into store %s", spec)
    return store_for(spec).loader(spec, chosen)
