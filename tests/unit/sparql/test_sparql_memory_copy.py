"""A small on-disk store is answered from a copy in memory (EngineOptions.memory_quads), a large one from
disk, and the answers are the same either way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.sparql import EngineOptions, answer_query
from kg.sparql._worker import fits_in_memory, load_worker_store
from kg.stores.base import OpenOptions
from kg.stores.registry import open_store, parse_store_setting

UNORDERED = "SELECT ?s ?o WHERE { ?s a ?o } LIMIT 1000"
"""One pattern, answered in the server process; its rows come in index order, so they are compared as a
set (the LIMIT is above the answer's size: the whole answer, not the first rows of a longer one)."""
QUERIES = [
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\nSELECT ?e (COUNT(?l) AS ?n) WHERE { ?l a mgkg:CausalLink ; "
    "mgkg:effect ?e } GROUP BY ?e ORDER BY DESC(?n) ?e",
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20",
    UNORDERED,
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s ?p ?o LIMIT 30",
]


def _quads(store: ox.Store) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, None))


def test_a_store_within_the_bound_is_copied_whole_and_a_larger_one_stays_on_disk(
    oxigraph_store: Path,
) -> None:
    location = str(oxigraph_store)
    on_disk = load_worker_store("oxigraph", location, fits_in_memory("oxigraph", location, 0))
    count = len(_quads(on_disk))
    assert fits_in_memory("oxigraph", location, count)
    assert not fits_in_memory("oxigraph", location, count - 1)
    copy = load_worker_store("oxigraph", location, fits_in_memory("oxigraph", location, count))
    assert _quads(copy) == _quads(on_disk)
    copy.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o")))  # memory
    larger = load_worker_store("oxigraph", location, fits_in_memory("oxigraph", location, count - 1))
    for store in (on_disk, larger):
        with pytest.raises(RuntimeError, match="read-write"):  # a read-only on-disk store refuses writes
            store.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o")))


async def _answers(location: Path, memory_quads: int) -> list[bytes]:
    options = OpenOptions(EngineOptions(workers=1, cache_bytes=0, memory_quads=memory_quads))
    _, _, engine = await open_store(parse_store_setting(f"oxigraph:{location}"), options)
    try:
        return [
            (
                await answer_query(
                    engine, text, lambda form: "text/csv" if form != "CONSTRUCT" else "text/turtle"
                )
            ).body
            for text in QUERIES
        ]
    finally:
        await engine.close()


def test_answers_from_memory_and_from_disk_are_the_same(oxigraph_store: Path) -> None:
    from_disk = asyncio.run(_answers(oxigraph_store, 0))
    from_memory = asyncio.run(_answers(oxigraph_store, EngineOptions().memory_quads))
    assert all(from_disk)
    for text, memory, disk in zip(QUERIES, from_memory, from_disk, strict=True):
        if text != UNORDERED:
            assert memory == disk
        else:  # the same rows, in whatever order each store's index holds them
            assert sorted(memory.splitlines()) == sorted(disk.splitlines())
            assert len(disk.splitlines()) < 1000  # the whole answer, not the first rows of a longer one
