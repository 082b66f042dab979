"""Reading RDF files for `mgkg load`, shared by the kinds that can be written: streamed, checked, regraphed.

Files are streamed (pyoxigraph reads from a file object; ``.gz`` is decompressed on the fly), never
read whole into memory. A broken file stops the load with its file, line and column and leaves the
store as it was (each kind says how: kg.stores.oxigraph stages, kg.stores.remote checks first).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pyoxigraph as ox

from kg.errors import SourceSyntaxError
from kg.graph.files import Progress, parse_quads
from kg.stores.base import LoadError

_BATCH: Final = 20_000


class BrokenFileError(LoadError):
    """A file does not parse: ``path``, ``line`` and ``column`` say where."""

    def __init__(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        self.path, self.line, self.column = path, line, column
        where = str(path) if line is None else f"{path}:{line}" + ("" if column is None else f":{column}")
        super().__init__(f"{where}: {message}. Nothing from this file was written; fix it and load again.")


def file_error(error: SourceSyntaxError) -> BrokenFileError:
    """The error for a file that does not parse."""
    return BrokenFileError(error.path, error.line, error.column, error.detail)


def regraphed(path: Path, graph: ox.NamedNode, progress: Progress | None) -> Iterator[ox.Quad]:
    """Every statement of a file as a quad in ``graph`` (quad formats lose their own graph names)."""
    for quad in parse_quads(path, progress):
        yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)


def validate_file(path: Path) -> int:
    """Parse a file once without writing anything; return its triple count or raise BrokenFileError."""
    count = 0
    try:
        for _ in parse_quads(path):
            count += 1
    except SourceSyntaxError as error:
        raise file_error(error) from None
    return count


def ntriples_chunks(quads: Iterator[ox.Quad] | Iterator[ox.Triple]) -> Iterator[bytes]:
    """N-Triples in chunks of about _BATCH statements (graph names dropped)."""
    batch: list[ox.Triple] = []
    for quad in quads:
        batch.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        if len(batch) >= _BATCH:
            yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""
            batch = []
    if batch:
        yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""
