"""The SPARQL worker process: one pyoxigraph Store, queries in on stdin, serialized results out on stdout.

Why a process: neither rdflib nor Oxigraph can cancel a running query from another thread, so the only
time limit that really stops the work is killing the process that runs it (kg.sparql's pool does that
and starts a replacement). Why a plain script run by path rather than ``multiprocessing``: a spawned
``multiprocessing`` child would import the ``kg`` package (rdflib, pydantic, ...) and fork is unsafe in a
threaded server; this file imports only the standard library and pyoxigraph, so a replacement worker is
ready in a fraction of a second.

Wire protocol (one request at a time): the parent writes one JSON object per line; the worker answers
with one JSON header line, then exactly ``header["length"]`` bytes of body. Rows (SELECT) and triples
(CONSTRUCT/DESCRIBE) beyond ``max_rows`` are dropped and ``truncated`` is set, so that a large answer
neither floods the parent nor hides that it was cut.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

READY = b"READY\n"
"""The line a worker prints once its store is loaded."""

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
"""Graph result formats (CONSTRUCT, DESCRIBE), by media type."""

PREFIXES = {
    "mgkg": "https://w3id.org/mgkg/vocab#",
    "mgkgid": "https://w3id.org/mgkg/id/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "obo": "http://purl.obolibrary.org/obo/",
}
"""Prefixes used to keep Turtle answers readable."""


def _term_json(term: Any) -> dict[str, str]:
    """One RDF term in the SPARQL 1.1 Query Results JSON format."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def _term_xml(term: Any) -> str:
    """One RDF term in the SPARQL Query Results XML format."""
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING):
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _term_csv(term: Any) -> str:
    """One RDF term as the SPARQL CSV format writes it: the bare value (blank nodes as _:label)."""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term.value) if hasattr(term, "value") else str(term)


def _term_tsv(term: Any) -> str:
    """One RDF term as the SPARQL TSV format writes it: Turtle/N-Triples syntax, tabs escaped."""
    return str(term).replace("\t", "\\t")


def serialize_solutions(variables: Sequence[str], rows: Sequence[Any], media_type: str) -> bytes:
    """Write SELECT solutions in one of the four SPARQL 1.1 results formats."""
    if media_type == "application/sparql-results+json":
        bindings = [{v: _term_json(row[v]) for v in variables if row[v] is not None} for row in rows]
        doc = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if media_type == "application/sparql-results+xml":
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
        body = "".join(
            "<result>"
            + "".join(
                f"<binding name={quoteattr(v)}>{_term_xml(row[v])}</binding>"
                for v in variables
                if row[v] is not None
            )
            + "</result>"
            for row in rows
        )
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head><results>{body}</results></sparql>\n"
        ).encode()
    if media_type == "text/csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow(["" if row[v] is None else _term_csv(row[v]) for v in variables])
        return buffer.getvalue().encode()
    if media_type == "text/tab-separated-values":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if row[v] is None else _term_tsv(row[v]) for v in variables) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"unsupported results format {media_type!r}")


def _term_from_wire(spec: dict[str, str]) -> Any:
    """Build a pyoxigraph term from the parent's JSON description (already validated there)."""
    if spec["type"] == "iri":
        return ox.NamedNode(spec["value"])
    if "lang" in spec:
        return ox.Literal(spec["value"], language=spec["lang"])
    if "datatype" in spec:
        return ox.Literal(spec["value"], datatype=ox.NamedNode(spec["datatype"]))
    return ox.Literal(spec["value"])


def _graphs(iris: Iterable[str] | None) -> list[ox.NamedNode] | None:
    return None if iris is None else [ox.NamedNode(iri) for iri in iris]


_NATIVE_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


class _ResultTooLargeError(Exception):
    """Raised by the capped writer to stop a native serialization that outgrew its byte budget."""


class _CappedWriter:
    """A binary sink for pyoxigraph's serializers that refuses to hold more than ``cap`` bytes."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size, self.parts = cap, 0, list[bytes]()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.cap:
            raise _ResultTooLargeError
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are kept in memory."""


def count_rows(body: bytes, media_type: str) -> int:
    """Count the solutions in a serialized SELECT answer, exactly, as cheaply as the format allows.

    A cheap upper bound comes first (byte counts that literal content can only raise); the exact count
    (a parse) is needed only when that bound passes the row limit.
    """
    if media_type == "application/sparql-results+json":
        return len(json.loads(body)["results"]["bindings"])
    if media_type == "application/sparql-results+xml":
        return body.count(b"<result>")  # '<' inside literals is escaped as &lt;
    if media_type == "text/csv":
        return max(sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1, 0)
    return max(body.count(b"\n") - 1, 0)  # TSV escapes newlines inside terms


def _row_bound(body: bytes, media_type: str) -> int:
    """An upper bound of the rows of a serialized SELECT answer, from byte counts alone."""
    if media_type == "application/sparql-results+json":
        return body.count(b"{")
    if media_type == "application/sparql-results+xml":
        return body.count(b"<result>")
    return body.count(b"\n")


def _serialize_native(results: ox.QuerySolutions, media_type: str, cap: int) -> bytes | None:
    """Serialize with pyoxigraph into a buffer of at most ``cap`` bytes; None when the answer outgrows it."""
    writer = _CappedWriter(cap)
    try:
        results.serialize(output=writer, format=_NATIVE_RESULTS[media_type])  # type: ignore[arg-type]
    except _ResultTooLargeError:
        return None
    return b"".join(writer.parts)


def execute(store: ox.Store, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Run one request against the store; return the reply header and the serialized body.

    SELECT answers are written by pyoxigraph's own serializers (fast) into a capped buffer; only an
    answer with more than ``max_rows`` rows (or more than ``max_bytes``) is run again and written by the
    Python serializers above, cut at the limit.
    """
    substitutions = {ox.Variable(k): _term_from_wire(v) for k, v in request.get("substitutions", {}).items()}
    default_graphs = _graphs(request.get("default_graphs"))

    def run() -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        return store.query(
            request["query"],
            use_default_graph_as_union=default_graphs is None,
            default_graph=default_graphs,  # type: ignore[arg-type]  # list[NamedNode] is accepted
            named_graphs=_graphs(request.get("named_graphs")),  # type: ignore[arg-type]
            substitutions=substitutions,
        )

    results = run()
    media_type: str = request["media_type"]
    limit: int = request["max_rows"]
    if isinstance(results, ox.QueryBoolean):
        return {"ok": True, "truncated": False}, results.serialize(format=_NATIVE_RESULTS[media_type]) or b""
    if isinstance(results, ox.QuerySolutions):
        body = _serialize_native(results, media_type, request.get("max_bytes", 64 * 2**20))
        if body is not None and (
            _row_bound(body, media_type) <= limit or count_rows(body, media_type) <= limit
        ):
            return {"ok": True, "truncated": False}, body
        results = run()
        assert isinstance(results, ox.QuerySolutions)
        variables = [v.value for v in results.variables]
        kept = list(islice(results, limit + 1))
        body = serialize_solutions(variables, kept[:limit], media_type)
        return {"ok": True, "truncated": len(kept) > limit}, body
    triples = list(islice(results, limit + 1))
    body = ox.serialize(triples[:limit], format=RDF_FORMATS[media_type], prefixes=PREFIXES) or b""
    return {"ok": True, "truncated": len(triples) > limit}, body


def serve(dump: str, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Load the N-Quads dump, announce readiness, then answer requests until stdin closes."""
    store = ox.Store()
    store.bulk_load(path=dump, format=ox.RdfFormat.N_QUADS)
    stdout.write(READY)
    stdout.flush()
    for line in stdin:
        try:
            header, body = execute(store, json.loads(line))
        except SyntaxError as error:
            header, body = {"ok": False, "kind": "syntax", "message": str(error)}, b""
        except Exception as error:  # reported to the parent as an engine error; the worker keeps serving
            header, body = {"ok": False, "kind": "engine", "message": f"{type(error).__name__}: {error}"}, b""
        header["length"] = len(body)
        stdout.write(json.dumps(header).encode() + b"\n" + body)
        stdout.flush()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
