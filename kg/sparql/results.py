"""SPARQL result formats: the one table of names and media types, and answers written at the row limit.

The table (:data:`RESULTS_FORMATS`, :data:`GRAPH_FORMATS`, :data:`FORMAT_ALIASES`) says which names a
client may give and which media types answer each query form; pyoxigraph resolves a media type to its
own serializer (``QueryResultsFormat.from_media_type``, ``RdfFormat.from_media_type``), so there is no
second table. Answers are written by pyoxigraph's serializers. What the row limit needs beyond them:
pyoxigraph cannot build a ``QuerySolutions`` from rows a caller kept, so the first ``limit`` rows of
a cut answer are written as TSV with pyoxigraph's own term syntax (``str(term)``, lossless) and parsed
back into a ``QuerySolutions`` that pyoxigraph then writes in the format asked for (byte for byte what
it writes for an uncut answer); and a sink that stops pyoxigraph's writer once an answer may pass the
limit, so that a huge answer is never produced in full.

This module imports only the standard library and pyoxigraph: the worker, a plain script, loads it by
path; the remote store (kg.stores.remote) imports it as a module.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pyoxigraph as ox

_SERIALIZERS: Final[dict[str, ox.QueryResultsFormat | ox.RdfFormat]] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
"""Every answer format by short name: pyoxigraph's format, whose table gives its media type (the tables
below take theirs from it, without parameters such as CSV's charset)."""

RESULTS_FORMATS: Final[dict[str, str]] = {
    name: fmt.media_type.split(";")[0]
    for name, fmt in _SERIALIZERS.items()
    if isinstance(fmt, ox.QueryResultsFormat)
}
"""SELECT/ASK result formats: short name -> media type; the first is the default."""

GRAPH_FORMATS: Final[dict[str, str]] = {
    name: fmt.media_type for name, fmt in _SERIALIZERS.items() if isinstance(fmt, ox.RdfFormat)
}
"""CONSTRUCT/DESCRIBE result formats: short name -> media type; the first is the default."""

FORMAT_ALIASES: Final[dict[str, str]] = {
    "ttl": "turtle",
    "nt": "ntriples",
    "json-ld": "jsonld",
    "rdf": "rdfxml",
}
"""Other names clients use for the graph formats: alias -> short name."""

_RESULTS_HINTS: Final[dict[str, str]] = {
    **{name: name for name in RESULTS_FORMATS},
    **{media: name for name, media in RESULTS_FORMATS.items()},
    "srj": "json",
    "srx": "xml",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
_GRAPH_HINTS: Final[dict[str, str]] = {
    **{name: name for name in GRAPH_FORMATS},
    **{media: name for name, media in GRAPH_FORMATS.items()},
    **FORMAT_ALIASES,
    "n3": "turtle",
    "text/n3": "turtle",
    "application/turtle": "turtle",
    "n-triples": "ntriples",
    "rdf+xml": "rdfxml",
    "xml": "rdfxml",
    "application/xml": "rdfxml",
    "json": "jsonld",
    "application/json": "jsonld",
    "application/x-json+ld": "jsonld",
}
FORMAT_HINTS: Final[dict[str, dict[str, str]]] = {"results": _RESULTS_HINTS, "graph": _GRAPH_HINTS}
"""What a ``format=`` / ``output=`` / ``results=`` value (lowercased) means for SELECT/ASK ("results") and
for CONSTRUCT/DESCRIBE ("graph"): the names clients send (SPARQLWrapper sends xml, json, csv, tsv,
turtle, n3, json-ld, rdf+xml and media types; Fuseki and Virtuoso take json and xml for graphs too)."""

ACCEPT_ALIASES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "results": (("json", "application/json"), ("xml", "application/xml")),
    "graph": (("jsonld", "application/json"), ("rdfxml", "application/xml"), ("turtle", "text/n3")),
}
"""Generic media types an Accept header may name for a form's formats, (short name, media type) pairs
offered after the exact ones: ``Accept: application/json`` gets SPARQL JSON results or JSON-LD."""


def hinted_format(form: str, hints: Iterable[str]) -> str | None:
    """The short name of the first hint that names a format this query form is answered in, else None.

    Hints that name a format of the other forms (``format=xml`` on a SELECT is results XML, on a
    CONSTRUCT RDF/XML; ``format=turtle`` on a SELECT fits nothing) are passed over, as Fuseki and
    Oxigraph pass them over: the Accept header then decides.

    >>> hinted_format("CONSTRUCT", ["xml"]), hinted_format("SELECT", ["turtle", "json"])
    ('rdfxml', 'json')
    >>> hinted_format("ASK", ["n3", ""]) is None
    True

    A hint may be a list of media types, as an Accept header (SPARQLWrapper sends its Accept header as
    ``format=`` for JSON-LD, RDF/XML and TSV):

    >>> hinted_format("DESCRIBE", ["json-ld", "application/ld+json,application/x-json+ld"])
    'jsonld'
    """
    table = FORMAT_HINTS["results" if form in ("SELECT", "ASK") else "graph"]
    for hint in hints:
        for word in _words(hint):
            name = table.get(word)
            if name is not None:
                return name
    return None


def _words(hint: str) -> list[str]:
    """The format names of a hint: its comma-separated items, lowercased, without media-type parameters."""
    return [item.split(";")[0].strip().lower() for item in hint.split(",") if item.split(";")[0].strip()]


def is_known_format(value: str) -> bool:
    """Whether a ``format=`` value names a format of any query form (or is empty: no format asked for).

    >>> is_known_format("JSON-LD"), is_known_format(""), is_known_format("png")
    (True, True, False)
    >>> is_known_format("image/png, text/turtle;q=0.9")
    True
    """
    words = _words(value)
    return not words or any(word in table for table in FORMAT_HINTS.values() for word in words)


PREFIXES: Final[dict[str, str]] = {
    "mgkg": "https://w3id.org/mgkg/vocab#",
    "mgkgid": "https://w3id.org/mgkg/id/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "obo": "http://purl.obolibrary.org/obo/",
}
"""Prefixes that keep Turtle answers readable (a literal copy: the worker cannot import kg.model)."""

MAX_BODY_BYTES: Final = 64 * 2**20
"""A SELECT answer larger than this is written again from its first rows (see :func:`write_bounded`)."""


def formats_for(form: str) -> dict[str, str]:
    """The result formats (short name -> media type) a query form (SELECT, ASK, ...) can be answered in.

    >>> list(formats_for("ASK")), formats_for("DESCRIBE")["turtle"]
    (['json', 'xml', 'csv', 'tsv'], 'text/turtle')
    """
    return RESULTS_FORMATS if form in ("SELECT", "ASK") else GRAPH_FORMATS


def results_format(media_type: str) -> ox.QueryResultsFormat:
    """pyoxigraph's SELECT/ASK serializer for a media type; ValueError when it has none.

    >>> results_format("text/csv")
    <QueryResultsFormat SPARQL Results in CSV>
    """
    found = ox.QueryResultsFormat.from_media_type(media_type)
    if found is None:
        raise ValueError(f"unsupported results format {media_type!r}")
    return found


def rdf_format(media_type: str) -> ox.RdfFormat:
    """pyoxigraph's RDF serializer for a media type; ValueError when it has none.

    >>> rdf_format("application/n-triples")
    <RdfFormat N-Triples>
    """
    found = ox.RdfFormat.from_media_type(media_type)
    if found is None:
        raise ValueError(f"unsupported graph format {media_type!r}")
    return found


RDF_FORMATS: Final[dict[str, ox.RdfFormat]] = {media: rdf_format(media) for media in GRAPH_FORMATS.values()}
"""pyoxigraph's serializer of each graph media type of :data:`GRAPH_FORMATS`, resolved by pyoxigraph."""


def serialize_solutions(variables: Sequence[str], rows: Iterable[Any], media_type: str) -> bytes:
    r"""Write SELECT solutions (pyoxigraph ``QuerySolution`` rows) in one of the four results formats.

    The rows go through TSV in pyoxigraph's own term syntax, which is lossless, and pyoxigraph writes
    them (see the module docstring for why not straight from the rows).

    >>> row = {"s": ox.NamedNode("urn:a"), "o": ox.Literal("a\tb", language="en")}
    >>> serialize_solutions(["s", "o"], [row, {"s": None, "o": None}], "text/csv")
    b's,o\r\nurn:a,a\tb\r\n,\r\n'
    """
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join("" if row[v] is None else str(row[v]) for v in variables) for row in rows]
    tsv = ("\n".join(lines) + "\n").encode()
    solutions = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return solutions.serialize(format=results_format(media_type)) or b""


def serialize_triples(triples: Iterable[ox.Triple], media_type: str) -> bytes:
    """Write CONSTRUCT/DESCRIBE triples in a graph format, with the readable :data:`PREFIXES`."""
    return ox.serialize(triples, format=rdf_format(media_type), prefixes=PREFIXES) or b""


def count_rows(body: bytes, media_type: str) -> int:
    """Count the solutions in a serialized SELECT answer, exactly, as cheaply as the format allows."""
    if media_type == "application/sparql-results+json":
        return len(json.loads(body)["results"]["bindings"])
    if media_type == "application/sparql-results+xml":
        return body.count(b"<result>")  # '<' inside literals is escaped as &lt;
    if media_type == "text/csv":
        return max(sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1, 0)
    return max(body.count(b"\n") - 1, 0)  # TSV escapes newlines inside terms


_ROW_MARKS: Final[dict[str, tuple[bytes, int]]] = {
    "application/sparql-results+json": (b"},{", 1),  # between rows (and nowhere else outside literals)
    "application/sparql-results+xml": (b"<result>", 0),  # '<' inside literals is escaped as &lt;
    "text/csv": (b"\n", -1),  # the header line, then a line per row (more if a value holds a newline)
    "text/tab-separated-values": (b"\n", -1),  # TSV escapes newlines inside terms
}
"""Per SELECT results format: a byte string that occurs once per row (or more often, never less) and
the number to add to its count to bound the rows from above."""


class _TooManyRowsError(Exception):
    """Raised from inside pyoxigraph's serializer once the answer may hold more rows than the limit."""


class _BoundedSink:
    """Where pyoxigraph writes a SELECT answer: it keeps the bytes and stops the writing (by raising
    :class:`_TooManyRowsError`) as soon as an upper bound of the rows written passes ``limit`` or the
    bytes pass :data:`MAX_BODY_BYTES`."""

    def __init__(self, media_type: str, limit: int) -> None:
        self._mark, self._offset = _ROW_MARKS[media_type]
        self._limit = limit
        self._chunks: list[bytes] = []
        self._marks = 0
        self._size = 0
        self._tail = b""  # the end of the last chunk, so that a mark split across two chunks counts

    def write(self, chunk: bytes) -> int:
        """Keep a chunk; raise once the answer may hold more than the limit."""
        data = self._tail + chunk
        self._marks += data.count(self._mark) - self._tail.count(self._mark)
        self._tail = data[-(len(self._mark) - 1) :] if len(self._mark) > 1 else b""
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self._marks + self._offset > self._limit or self._size > MAX_BODY_BYTES:
            raise _TooManyRowsError
        return len(chunk)

    def flush(self) -> None:
        """Nothing to flush: the bytes are kept in memory."""

    def body(self) -> bytes:
        """Everything written."""
        return b"".join(self._chunks)


def write_bounded(solutions: ox.QuerySolutions, media_type: str, limit: int) -> bytes | None:
    """The whole answer written by pyoxigraph, or None as soon as it may hold more than ``limit`` rows
    (or :data:`MAX_BODY_BYTES`): the caller then writes its first rows with :func:`serialize_solutions`."""
    sink = _BoundedSink(media_type, limit)
    try:
        solutions.serialize(sink, format=results_format(media_type))  # type: ignore[arg-type]  # write() is all it calls
    except _TooManyRowsError:
        return None
    return sink.body()
