"""The SPARQL worker process: one pyoxigraph Store, length-prefixed frames in and out over two pipes.

Why a process: neither rdflib nor Oxigraph can cancel a running query from another thread, so the only
time limit that really stops the work is killing the process that runs it (kg.sparql's pool does that
and starts a replacement). Why a plain script run by path rather than ``multiprocessing``: a spawned
``multiprocessing`` child would import the ``kg`` package (rdflib, pydantic, ...) and fork is unsafe in a
threaded server; this file imports only the standard library and pyoxigraph, so a replacement worker is
ready in a fraction of a second.

The store is either loaded from an N-Quads dump (``nquads PATH``, the memory store) or an on-disk
Oxigraph store opened read-only (``oxigraph PATH``: nothing to load, several processes may share it).
Once it is open the worker caps its own data segment (``RLIMIT_DATA``) at what it uses then plus a
headroom, so that one query can take at most that much memory: past it an allocation fails, the worker
dies (Rust aborts on a failed allocation) and the parent reports the limit and starts a new worker.

Wire protocol (one request at a time, no text parsing on the hot path): the parent writes one frame,
a 4-byte big-endian length and a ``marshal``-encoded request tuple (query, media type, row limit,
default graphs, named graphs, substitutions; the last three None when the request has none). The worker
answers with one frame: a status byte and a 4-byte body length (:data:`REPLY_HEAD`), then the body
written by pyoxigraph's own serializers (or an error message), in a single ``writev``. Rows (SELECT) and
triples (CONSTRUCT/DESCRIBE) beyond the row limit are dropped and the status says ``TRUNCATED``, so
that a large answer neither floods the parent nor hides that it was cut. The first frame a worker
sends, once its store is open, has the status ``READY`` and the body ``sandbox`` when the egress
sandbox (kg/sparql/sandbox.py, loaded by path) was installed before the store was opened, empty when not.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import marshal
import os
import resource
import select
import struct
import sys
import time
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

REPLY_HEAD = struct.Struct("!BI")
"""The status byte and the body length that open every reply frame."""
REQUEST_HEAD = struct.Struct("!I")
"""The length that opens every request frame."""
OK, TRUNCATED, SYNTAX_ERROR, ENGINE_ERROR, READY = range(5)
"""Reply statuses: an answer, an answer cut at the row limit, two kinds of error (the body is the
message, UTF-8), and the worker's first frame once its store is open."""
MAX_BODY_BYTES = 64 * 2**20
"""A serialized SELECT answer larger than this is rewritten row by row and cut at the row limit."""

Request = tuple[str, str, int, "list[str] | None", "list[str] | None", "dict[str, dict[str, str]] | None"]
"""What the parent sends: query, media type, row limit, default graphs, named graphs, substitutions."""

_READ_CHUNK = 1 << 16
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


_ROW_MARKS: dict[str, tuple[bytes, int]] = {
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
    bytes pass :data:`MAX_BODY_BYTES`, so that a huge answer is never produced in full."""

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


def execute(store: ox.Store, request: Request) -> tuple[int, bytes]:
    """Run one request against the store; return the reply status and the serialized body.

    SELECT answers are written by pyoxigraph's own serializers (fast) into a sink that stops them as soon
    as they may pass the row limit (or :data:`MAX_BODY_BYTES`); only such an answer is run again, its
    first rows taken while iterating the solutions and written by the Python serializers above, so a
    cross product costs its first ``limit`` rows, never the whole answer.
    A request without dataset or substitutions (the common case) goes to the store with no argument to
    build.
    """
    text, media_type, limit, default_iris, named_iris, bound = request

    def run() -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        if default_iris is None and named_iris is None and not bound:
            return store.query(text, use_default_graph_as_union=True)
        default_graphs = _graphs(default_iris)
        return store.query(
            text,
            use_default_graph_as_union=default_graphs is None,
            default_graph=default_graphs,  # type: ignore[arg-type]  # list[NamedNode] is accepted
            named_graphs=_graphs(named_iris),  # type: ignore[arg-type]
            substitutions={ox.Variable(k): _term_from_wire(v) for k, v in (bound or {}).items()},
        )

    results = run()
    if isinstance(results, ox.QuerySolutions):
        sink = _BoundedSink(media_type, limit)
        try:
            results.serialize(sink, format=_NATIVE_RESULTS[media_type])  # type: ignore[arg-type]  # write() is all it calls
            return OK, sink.body()
        except _TooManyRowsError:
            del sink
        results = run()
        assert isinstance(results, ox.QuerySolutions)
        variables = [v.value for v in results.variables]
        kept = list(islice(results, limit + 1))
        body = serialize_solutions(variables, kept[:limit], media_type)
        return (TRUNCATED if len(kept) > limit else OK), body
    if isinstance(results, ox.QueryBoolean):
        return OK, results.serialize(format=_NATIVE_RESULTS[media_type]) or b""
    triples = list(islice(results, limit + 1))
    body = ox.serialize(triples[:limit], format=RDF_FORMATS[media_type], prefixes=PREFIXES) or b""
    return (TRUNCATED if len(triples) > limit else OK), body


def read_exactly(fd: int, size: int) -> bytes | None:
    """Read exactly ``size`` bytes from a blocking file descriptor; None at end of file."""
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_reply(fd: int, status: int, body: bytes) -> None:
    """Write one reply frame (status, body length, body) with one ``writev``: no concatenation copy."""
    done = os.writev(fd, [REPLY_HEAD.pack(status, len(body)), body])
    if done < REPLY_HEAD.size + len(body):  # a large body does not fit the pipe at once
        write_all(fd, (REPLY_HEAD.pack(status, len(body)) + body)[done:])


def open_store(kind: str, path: str) -> ox.Store:
    """The worker's store: an N-Quads dump loaded into memory, or an on-disk store opened read-only."""
    if kind == "oxigraph":
        return ox.Store.read_only(path)
    store = ox.Store()
    store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    return store


def limit_memory(headroom_bytes: int) -> None:
    """Cap this process's data segment at its present size plus ``headroom_bytes`` (0: no cap).

    Measured after the store is open, so that the headroom is what any one query may add (on-disk
    stores map their files, which the data limit does not count).
    """
    if headroom_bytes <= 0:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        in_use = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = in_use + headroom_bytes
    resource.setrlimit(
        resource.RLIMIT_DATA, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )


def _next_request(fd: int, spin: float, poller: select.poll) -> bytes | None:
    """The next request frame (without its length), polling for up to ``spin`` seconds before blocking.

    ``fd`` is non-blocking: a frame usually arrives whole and costs one ``read``; a large one is
    completed by waiting on ``poller``. None when the parent closed the pipe.
    """
    deadline = time.perf_counter() + spin
    while True:
        try:
            chunk = os.read(fd, _READ_CHUNK)
            break
        except BlockingIOError:
            if time.perf_counter() < deadline:
                os.sched_yield()  # a polite poll: any other runnable process goes first
            else:
                poller.poll()
    if not chunk:
        return None
    buffer = bytearray(chunk)
    while (
        len(buffer) < REQUEST_HEAD.size
        or len(buffer) < REQUEST_HEAD.size + REQUEST_HEAD.unpack_from(buffer)[0]
    ):
        poller.poll()
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer[REQUEST_HEAD.size :])


def install_sandbox() -> bool:
    """Deny this process network sockets (sandbox.py beside it, loaded by path: no kg import)."""
    spec = importlib.util.spec_from_file_location(
        "mgkg_sandbox", os.path.join(os.path.dirname(__file__), "sandbox.py")
    )
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return bool(module.deny_network())


def serve(
    kind: str,
    path: str,
    fd_in: int,
    fd_out: int,
    spin: float = 0.0,
    headroom: int = 0,
    sandbox: bool = True,
) -> None:
    """Deny network sockets (``sandbox``), open the store, cap memory, announce readiness (saying whether
    the sandbox is on), then answer requests until the parent closes the pipe.

    After each answer the worker polls for the next request for up to ``spin`` seconds before it
    blocks: waking a sleeping process costs tens of microseconds on a virtual machine, as much as a
    simple query, so back-to-back queries are answered without that wake-up.
    """
    sandboxed = install_sandbox() if sandbox else False
    store = open_store(kind, path)
    limit_memory(headroom)
    os.set_blocking(fd_in, False)
    poller = select.poll()
    poller.register(fd_in, select.POLLIN)
    write_reply(fd_out, READY, b"sandbox" if sandboxed else b"")
    while (data := _next_request(fd_in, spin, poller)) is not None:
        try:
            status, body = execute(store, marshal.loads(data))
        except SyntaxError as error:
            status, body = SYNTAX_ERROR, str(error).encode()
        except Exception as error:  # reported to the parent as an engine error; the worker keeps serving
            status, body = ENGINE_ERROR, f"{type(error).__name__}: {error}".encode()
        write_reply(fd_out, status, body)


if __name__ == "__main__":
    serve(
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
        float(sys.argv[5]),
        int(sys.argv[6]),
        sys.argv[7:8] != ["nosandbox"],
    )
