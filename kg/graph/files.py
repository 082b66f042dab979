"""Reading RDF files safely: gzip by content, no entity bombs, nothing fetched, errors with file and line.

`mgkg load` (pyoxigraph, streaming) and `mgkg validate` (rdflib, after a pyoxigraph check) both read
files through this module, so that a file is judged the same way whichever command reads it:

- a name ending in ``.gz`` must hold gzip data and gzip data must be named ``.gz``; a truncated or
  corrupt gzip stream is an error naming the file, not an EOFError;
- an RDF/XML file may declare only short, plain internal entities (as ontology editors write for
  namespaces); an external DTD, an external or parameter entity, or an entity whose value refers to
  another (the billion-laughs bomb) is refused before any parser sees the file;
- a JSON-LD ``@context`` or ``@import`` that names a document (a URL or a relative path) is refused:
  contexts are never fetched. pyoxigraph has no document loader; rdflib would fetch, so every
  context of a JSON-LD file is checked before rdflib reads it;
- pyoxigraph's syntax errors keep their line and column.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final, NoReturn

import pyoxigraph as ox

from kg.errors import SourceSyntaxError

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with the number of (compressed) bytes just read from the file being read."""

GZIP_MAGIC: Final = b"\x1f\x8b"
PROLOG_LIMIT: Final = 1 << 20
"""The most bytes of an RDF/XML file read to find its DOCTYPE; a longer prolog is refused."""
MAX_ENTITY_CHARS: Final = 512
"""The longest internal entity value allowed: expansion stays under 200 times the file's size."""
MAX_ENTITIES: Final = 1000
MAX_JSON_DEPTH: Final = 1000
"""The deepest JSON-LD nesting read: pyoxigraph's JSON-LD parser recurses (5,000 levels crash the process)."""
_JSON_TOKENS: Final = re.compile(rb'\\.|["{}\[\]]', re.DOTALL)

_REMOTE_CONTEXT: Final = (
    "its JSON-LD @context names a document ({name}), and remote or file contexts are not fetched; "
    "put the context in the file itself (an object, not a URL)"
)
_ENTITY: Final = re.compile(r"<!ENTITY\s+([^\s%\"'<>]+)\s+(?:\"([^\"]*)\"|'([^']*)')\s*>")
_DOCTYPE_HEAD: Final = re.compile(r"<!DOCTYPE\s+[^\s\[>]+\s*")


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format of a file from its suffix (``.gz`` looked through).

    >>> rdf_format(Path("hetionet.nt.gz"))
    <RdfFormat N-Triples>
    >>> rdf_format(Path("x.jsonld")).name
    'JSON-LD'
    """
    name = path.name.removesuffix(".gz")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    found = ox.RdfFormat.from_extension({"owl": "rdf", "json": "jsonld"}.get(suffix, suffix))
    if found is None:
        raise SourceSyntaxError(
            path,
            None,
            f"unknown RDF format {suffix!r}; use .ttl, .nt, .nq, .trig, .rdf/.owl, .jsonld (or .gz)",
        )
    return found


class _Checked(io.RawIOBase):
    """A raw reader that reports the bytes it reads and turns gzip failures into SourceSyntaxError."""

    def __init__(self, path: Path, raw: BinaryIO, progress: Progress | None) -> None:
        self.path, self.raw, self.progress = path, raw, progress

    def readable(self) -> bool:
        """Always: this wraps a file opened for reading."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read into ``buffer``, report how much was read, and name the file if the data is corrupt."""
        try:
            count = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise SourceSyntaxError(self.path, None, f"broken gzip data: {error}") from None
        if self.progress is not None:
            self.progress(int(count))
        return int(count)


@contextmanager
def open_rdf(path: Path, progress: Progress | None = None) -> Iterator[BinaryIO]:
    """Open an RDF file for streaming, decompressing gzip, after the safety checks of this module.

    ``progress`` counts the bytes read from disk. Read errors inside the stream (a truncated gzip
    member) surface as SourceSyntaxError naming the file.
    """
    _check_gzip_name(path)
    fmt = rdf_format(path)
    if fmt == ox.RdfFormat.RDF_XML:
        with _open_plain(path, None) as head_stream:
            check_xml_prolog(path, head_stream.read(PROLOG_LIMIT))
    if fmt == ox.RdfFormat.JSON_LD:
        with _open_plain(path, None) as json_stream:
            check_json_depth(path, json_stream)
    with _open_plain(path, progress) as stream:
        yield stream


@contextmanager
def _open_plain(path: Path, progress: Progress | None) -> Iterator[BinaryIO]:
    with open(path, "rb") as raw:
        stream: BinaryIO = io.BufferedReader(_Checked(path, raw, progress), 1 << 20)
        if path.name.endswith(".gz"):
            unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
            stream = io.BufferedReader(_Checked(path, unzipped, None), 1 << 20)  # type: ignore[arg-type]
        yield stream


def _check_gzip_name(path: Path) -> None:
    """The name says gzip exactly when the content is gzip."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
    if path.name.endswith(".gz") and magic != GZIP_MAGIC:
        raise SourceSyntaxError(path, None, "the name ends in .gz but the file is not gzip data; rename it")
    if not path.name.endswith(".gz") and magic == GZIP_MAGIC:
        raise SourceSyntaxError(
            path, None, "the file is gzip data but its name does not end in .gz; rename it"
        )


def check_xml_prolog(path: Path, head: bytes) -> None:
    """Refuse an RDF/XML prolog whose DOCTYPE could fetch or expand without bound.

    Allowed: no DOCTYPE, or one whose internal subset holds only comments and ``<!ENTITY name "value">``
    with a value of at most MAX_ENTITY_CHARS characters and no ``&``, ``%`` or ``<`` in it.

    >>> check_xml_prolog(Path("a.rdf"), b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY owl "http://x#">]><r/>')
    >>> check_xml_prolog(Path("a.rdf"), b'<!DOCTYPE r [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><r/>')
    Traceback (most recent call last):
    ...
    kg.errors.SourceSyntaxError: a.rdf: refused: the DOCTYPE declares entity 'b' whose value is not plain \
text of at most 512 characters (entity expansion is refused). Fix the file and load again; nothing was loaded.
    """
    text = head.decode("utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8", "replace")
    at = 1 if text.startswith("\ufeff") else 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        for opener, closer in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opener, at):
                end = text.find(closer, at)
                if end < 0:
                    _refuse(path, "the XML prolog does not end within the first MiB")
                at = end + len(closer)
                break
        else:
            if text.startswith("<!DOCTYPE", at):
                _check_doctype(path, text, at)
            return


def _check_doctype(path: Path, text: str, at: int) -> None:
    head = _DOCTYPE_HEAD.match(text, at)
    if head is None:
        _refuse(path, "the DOCTYPE cannot be read")
    at = head.end()
    if text.startswith(("SYSTEM", "PUBLIC"), at):
        _refuse(path, "the DOCTYPE names an external DTD (it would be fetched)")
    if text.startswith(">", at):
        return
    if not text.startswith("[", at):
        _refuse(path, "the DOCTYPE cannot be read")
    at += 1
    entities = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if text.startswith("<!--", at):
            end = text.find("-->", at)
            if end < 0:
                _refuse(path, "the DOCTYPE does not end within the first MiB")
            at = end + 3
            continue
        if text.startswith("]", at):
            closing = re.compile(r"\]\s*>").match(text, at)
            if closing is None:
                _refuse(path, "the DOCTYPE cannot be read")
            return
        entity = _ENTITY.match(text, at)
        if entity is None:
            _refuse(
                path,
                "the DOCTYPE declares something other than plain internal entities (external or "
                "parameter entities, elements, attributes are refused)",
            )
        value = entity.group(2) if entity.group(2) is not None else entity.group(3)
        if len(value) > MAX_ENTITY_CHARS or any(c in value for c in "&%<"):
            _refuse(
                path,
                f"the DOCTYPE declares entity {entity.group(1)!r} whose value is not plain text of at most "
                f"{MAX_ENTITY_CHARS} characters (entity expansion is refused)",
            )
        entities += 1
        if entities > MAX_ENTITIES:
            _refuse(path, f"the DOCTYPE declares more than {MAX_ENTITIES} entities")
        at = entity.end()


def check_json_depth(path: Path, stream: BinaryIO, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` objects and arrays, reading the stream once in chunks.

    >>> import io
    >>> check_json_depth(Path("a.jsonld"), io.BytesIO(b'{"a": [{"b": "[[[\\\\\\"{{"}]}'), limit=3)
    >>> check_json_depth(Path("a.jsonld"), io.BytesIO(b'[[[[]]]]'), limit=3)
    Traceback (most recent call last):
    ...
    kg.errors.SourceSyntaxError: a.jsonld: refused: the JSON nests objects and arrays deeper than 3 levels. \
Fix the file and load again; nothing was loaded.
    """
    depth, in_string, carry = 0, False, b""
    while chunk := stream.read(1 << 20):
        buffer, end = carry + chunk, 0
        for match in _JSON_TOKENS.finditer(buffer):
            token, end = match.group(), match.end()
            if token == b'"':
                in_string = not in_string
            elif in_string or len(token) == 2:
                continue
            elif token in (b"{", b"["):
                depth += 1
                if depth > limit:
                    _refuse(path, f"the JSON nests objects and arrays deeper than {limit} levels")
            else:
                depth -= 1
        carry = b"\\" if buffer.endswith(b"\\") and end < len(buffer) else b""


def _refuse(path: Path, reason: str) -> NoReturn:
    logger.debug("refused %s before any parser read it: %s", path, reason)
    raise SourceSyntaxError(path, None, f"refused: {reason}")


def syntax_error(path: Path, error: SyntaxError) -> SourceSyntaxError:
    """pyoxigraph's SyntaxError as a SourceSyntaxError with the file, line and column."""
    message = " ".join(str(error.msg).split())
    if "LoadDocumentCallback" in message:
        return SourceSyntaxError(path, None, _REMOTE_CONTEXT.format(name="a URL or path"))
    return SourceSyntaxError(path, error.lineno, f"syntax error: {message}", column=error.offset)


def parse_quads(
    path: Path, progress: Progress | None = None, base_iri: str | None = None
) -> Iterator[ox.Quad]:
    """Every statement of a file, streamed by pyoxigraph; raises SourceSyntaxError with file and line."""
    with open_rdf(path, progress) as stream:
        try:
            yield from ox.parse(stream, format=rdf_format(path), base_iri=base_iri)
        except SyntaxError as error:
            raise syntax_error(path, error) from None


def check_jsonld_contexts(path: Path, data: bytes) -> None:
    """Refuse a JSON-LD document any of whose contexts (at any depth, scoped or imported) is a document.

    rdflib fetches such contexts with urllib, so this runs before rdflib reads the file.

    >>> check_jsonld_contexts(Path("a.jsonld"), b'{"@context": {"p": "http://x/p"}, "p": 1}')
    >>> check_jsonld_contexts(Path("a.jsonld"), b'{"@graph": [{"@context": ["http://x/c"]}]}')
    Traceback (most recent call last):
    ...
    kg.errors.SourceSyntaxError: a.jsonld: its JSON-LD @context names a document ('http://x/c'), and remote \
or file contexts are not fetched; put the context in the file itself (an object, not a URL). Fix the file \
and load again; nothing was loaded.
    """
    try:
        document = json.loads(data)
    except RecursionError:
        raise SourceSyntaxError(path, None, "the JSON is nested too deeply to read") from None
    except ValueError as error:
        line = error.lineno if isinstance(error, json.JSONDecodeError) else None
        raise SourceSyntaxError(path, line, f"syntax error: {error}") from None
    pending: list[object] = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("@context", "@import"):
                    for named in value if isinstance(value, list) else [value]:
                        if isinstance(named, str):
                            raise SourceSyntaxError(path, None, _REMOTE_CONTEXT.format(name=repr(named)))
                pending.append(value)
