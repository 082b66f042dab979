"""What in a query's code may call a service or name a graph, read as Oxigraph reads it, or None when unsure.

The fast screen (kg.sparql.screen) passes a text unparsed when the words SERVICE and FROM are absent
from its code. This module reads the code of the texts that have them, so that a SPARQL 1.2 query with a
``FROM`` clause, a ``?from`` variable or an ``ex:service`` name is judged without rdflib's parser, which
reads no SPARQL 1.2. It never relies on two parsers agreeing: it reads the words the way Oxigraph's
parser does, measured (its keywords have no word boundary: ``servicesilent:a {}`` is ``SERVICE SILENT
:a``, ``from:g`` is ``FROM :g``, ``trueSERVICE`` is ``true SERVICE``; a prefixed name's local part stops
at a second dot), and wherever the reading could differ it says so:

- :func:`find_service`: every ``service`` in the code that is not certainly inside a variable, the local
  part of a prefixed name (up to its first dot) or an IRI outside any parenthesis (where ``<`` cannot be
  the less-than operator). One followed by what a SERVICE call needs (a target and ``{``) is a call; any
  other is a word the engine might still read as the keyword.
- :func:`read_dataset`: the dataset clause, read where the grammar puts it (after the query form's
  head, before the WHERE clause), as a strict sequence of ``FROM [NAMED] <iri> | prefix:name``; None
  when anything there is not plainly that. ``FROM`` cannot occur elsewhere (a subquery has no dataset
  clause), so the word past that point names no graph. Prefixed names and IRIs relative to a ``BASE``
  are resolved by Oxigraph itself (a one-row VALUES query under the text's own prologue), so that an
  IRI is what the engine would make of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from pyoxigraph import NamedNode, QuerySolutions, Store

from kg.sparql.code import IRI, code_of
from kg.sparql.errors import QueryRefusedError

_VAR: Final = re.compile(r"[?$][A-Za-z0-9_]+")
_SCAN: Final = {
    word: re.compile(
        rf"(?P<escape>\\.)|(?P<var>{_VAR.pattern})|(?P<iri>{IRI.pattern})"
        rf"|(?P<local>:[A-Za-z0-9_][A-Za-z0-9_\-]*)|(?P<paren>[()])|(?P<word>{word})",
        re.IGNORECASE,
    )
    for word in ("service", "from")
}
"""The spans a word scan tells apart: a prefixed name's escapes, variables and local parts (greedy in
Oxigraph: never a keyword), IRI-shaped spans, parentheses (an operator ``<`` only occurs inside them) and
the word."""
_CALL: Final = re.compile(
    rf"[ \t\n]*(?:silent)?[ \t\n]*(?P<target>{IRI.pattern}|{_VAR.pattern}|[^ \t\n{{}}()]*:[^ \t\n{{}}()]*)"
    r"[ \t\n]*\{",
    re.IGNORECASE,
)
"""What follows SERVICE in a call: SILENT, a target (IRI, variable or prefixed name) and a group."""
_SPACE: Final = re.compile(r"[ \t\n]*")
_NAME: Final = re.compile(
    r"(?:[A-Za-z](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?:(?:[A-Za-z0-9_][A-Za-z0-9_\-]*)?"
)
"""A prefixed name with no dot, escape or ``%`` in its local part: one Oxigraph reads as written."""
_BOUNDARY: Final = frozenset(" \t\n{<")
"""What may follow a FROM source so that it ends where Oxigraph ends it."""
_WORD: Final = re.compile(r"[A-Za-z]+(?=[ \t\n{]|$)")
_MODIFIERS: Final = frozenset({"order", "group", "having", "limit", "offset", "values"})
_BASE: Final = re.compile(r"(?<![A-Za-z0-9_:])base[ \t\n]*<", re.IGNORECASE)
_PROBE: Final = Store()
"""An empty in-memory store that resolves names under a text's prologue (a VALUES query, no data)."""


def service_refusal(term: str) -> QueryRefusedError:
    """The guard's refusal of a SERVICE call to ``term`` (``<iri>`` or ``?var``), whoever found it."""
    return QueryRefusedError(
        "service",
        f"SERVICE {term} is refused: this endpoint never makes a network request on a client's behalf. "
        "Run federated queries from your own client.",
    )


@dataclass(frozen=True)
class ServiceWord:
    """A ``service`` in the code: ``target`` is the call's target as written (None when no call follows,
    so that only an engine reading it unlike the grammar would call anything), ``near`` the code around."""

    target: str | None
    near: str


def find_words(code: str, word: str) -> Iterator[re.Match[str]]:
    """Each ``word`` (``service`` or ``from``) in the code that may be the keyword: not certainly inside a
    variable, the local part of a prefixed name up to its first dot, an escape, or an IRI outside every
    parenthesis (inside one, or after an IRI-shaped span holding a parenthesis, ``<`` may be less-than,
    and the span is read as code too).

    >>> [m.start() for m in find_words("?from ex:from <urn:from> from:g FILTER(?a=<http://x/from>)", "from")]
    [25, 52]
    """
    depth, trusted, position = 0, True, 0
    scan = _SCAN[word]
    while (found := scan.search(code, position)) is not None:
        kind, position = found.lastgroup, found.end()
        if kind == "paren":
            depth = depth + 1 if found.group() == "(" else max(depth - 1, 0)
        elif kind == "iri" and (depth or not trusted):  # maybe the operator: read inside it as code
            position = found.start() + 1
            trusted = trusted and not any(paren in found.group() for paren in "()")
        elif kind == "word":
            yield found


def find_service(code: str) -> ServiceWord | None:
    """The ``service`` in the code (comments and strings left out) that may be the keyword: the first
    call, else the first other such word, else None.

    >>> find_service("{ ?service ex:service ?o . <urn:service> ?p ?o }") is None
    True
    >>> find_service("{ ?s service:p ?o . SERVICE <http://x/> { } }").target
    '<http://x/>'
    >>> find_service("{ ?s ?p ex:a.b.service:x {} }").target  # Oxigraph: ex:a.b . SERVICE :x {}
    ':x'
    >>> find_service("{ ?s service:p ?o }").target is None
    True
    >>> find_service("{ FILTER(?o = <http://x/service>) }").target is None  # < may be less-than
    True
    """
    first: ServiceWord | None = None
    for found in find_words(code, "service"):
        call = _CALL.match(code, found.end())
        near = code[max(found.start() - 20, 0) : found.end() + 20].strip()
        if call is not None:
            return ServiceWord(call["target"], near)
        first = first or ServiceWord(None, near)
    return first


@dataclass(frozen=True)
class Dataset:
    """The graphs of a dataset clause: FROM and FROM NAMED, in order, as IRIs (relative ones as written,
    when the text declares no BASE: the endpoint's IRI resolves them, kg.sparql.answers.dataset_of)."""

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()


def read_dataset(prologue: str, form: str, code: str, strict: bool = True) -> Dataset | None:
    """The dataset clause of a query whose code after the form's keyword is ``code``, or None when unsure.

    ``prologue`` is the text before the keyword (PREFIX, BASE, VERSION, comments), which resolves names.
    ``strict``: also None when a ``from`` that may be the keyword occurs outside the clause (the grammar
    allows none there, but an engine with extensions might read one, say in a subquery).

    >>> read_dataset("", "SELECT", " ?s FROM <urn:g> FROM NAMED <urn:h> WHERE { ?s ?p ?o }")
    Dataset(default=('urn:g',), named=('urn:h',))
    >>> read_dataset("PREFIX : <urn:>\\n", "SELECT", " * from:g {}")  # Oxigraph: FROM :g
    Dataset(default=('urn:g',), named=())
    >>> read_dataset("", "ASK", " { ?s ?p ?from }")
    Dataset(default=(), named=())
    >>> read_dataset("", "SELECT", " * FROM named:g {}") is None  # FROM named:g, or FROM NAMED :g?
    True
    """
    position = _head_end(form, code)
    if position is None:
        return None
    sources: list[tuple[bool, str]] = []
    keywords: set[int] = set()
    while True:
        position = _skip(code, position)
        if code[position : position + 4].lower() != "from":
            break
        keywords.add(position)
        position = _skip(code, position + 4)
        named = code[position : position + 5].lower() == "named"
        if named:
            if code[position + 5 : position + 6] not in _BOUNDARY:  # NAMED:g, NAMEDx:g: two readings
                return None
            position = _skip(code, position + 5)
        source = IRI.match(code, position) or _NAME.match(code, position)
        if source is None or source.end() == position:
            return None
        if not source.group().startswith("<") and code[source.end() : source.end() + 1] not in _BOUNDARY:
            return None
        sources.append((named, source.group()))
        position = source.end()
    if not _ends_dataset(form, code, position):
        return None
    if strict and any(found.start() not in keywords for found in find_words(code, "from")):
        return None
    iris = resolve_sources(prologue, [token for _, token in sources])
    if iris is None:
        return None
    return Dataset(
        tuple(iri for (named, _), iri in zip(sources, iris, strict=True) if not named),
        tuple(iri for (named, _), iri in zip(sources, iris, strict=True) if named),
    )


def _ends_dataset(form: str, code: str, position: int) -> bool:
    """Whether the dataset clause plainly ends at ``position``: a group or WHERE follows (or, after
    DESCRIBE, nothing or a solution modifier), so that Oxigraph's reading of it ends there too."""
    rest = code[position:]
    word = _WORD.match(rest)
    if rest.startswith("{") or (word is not None and word.group().lower() == "where"):
        return True
    return form == "DESCRIBE" and (not rest or (word is not None and word.group().lower() in _MODIFIERS))


def _skip(code: str, position: int) -> int:
    match = _SPACE.match(code, position)
    return position if match is None else match.end()


def _head_end(form: str, code: str) -> int | None:
    """Where the head of the query form ends in its code (the projection, the template, the described
    resources), or None when it cannot be read plainly."""
    position = _skip(code, 0)
    if form == "ASK":
        return position
    if form == "CONSTRUCT":
        return _group_end(code, position) if code.startswith("{", position) else position
    if form == "SELECT":
        for modifier in ("distinct", "reduced"):
            if code[position : position + len(modifier)].lower() == modifier:
                position = _skip(code, position + len(modifier))
                break
        if code.startswith("*", position):
            return position + 1
    items = 0
    while True:
        position = _skip(code, position)
        if form == "DESCRIBE" and code.startswith("*", position) and not items:
            return position + 1
        item = _VAR.match(code, position)
        if item is None and form == "DESCRIBE":
            item = IRI.match(code, position) or _NAME.match(code, position)
            if item is not None and item.group().lower().startswith(("from", "where")):
                return None  # a name or the keyword: two readings
        if item is not None and item.end() > position:
            position, items = item.end(), items + 1
        elif form == "SELECT" and code.startswith("(", position):
            end = _parenthesis_end(code, position)
            if end is None:
                return None
            position, items = end, items + 1
        else:
            return position if items else None


def _group_end(code: str, start: int) -> int | None:
    """Just past the ``}`` closing the ``{`` at ``start`` (braces occur in no IRI, string or comment)."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] == "{":
            depth += 1
        elif code[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _parenthesis_end(code: str, start: int) -> int | None:
    """Just past the ``)`` closing the ``(`` at ``start``, or None when an IRI-shaped span in between
    holds a parenthesis (read as an IRI it hides it, read as less-than it does not)."""
    depth = 0
    index = start
    while index < len(code):
        char = code[index]
        if char == "\\":  # a prefixed name's escape: ex:a\( is no parenthesis
            index += 1
        elif char == "<" and (span := IRI.match(code, index)) is not None:
            if "(" in span.group() or ")" in span.group():
                return None
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def resolve_sources(prologue: str, tokens: list[str]) -> list[str] | None:
    """The IRIs Oxigraph makes of IRIs and prefixed names (FROM sources, a SERVICE target) under a text's
    prologue; an IRI written out stays as written when the prologue declares no BASE. None when Oxigraph
    cannot resolve one.

    >>> resolve_sources("PREFIX ex: <urn:x#>\\nBASE <http://a/b/>", ["ex:g", "<../h>"])
    ['urn:x#g', 'http://a/h']
    >>> resolve_sources("", ["<g>", "ex:g"]) is None
    True
    """
    if not tokens:
        return []
    has_base = _BASE.search(code_of(prologue) or prologue) is not None
    pending = [token for token in tokens if has_base or not token.startswith("<")]
    if not pending:
        return [token[1:-1] for token in tokens]
    names = " ".join(f"?g{index}" for index in range(len(pending)))
    probe = f"{prologue}\nSELECT * {{ VALUES ({names}) {{ ({' '.join(pending)}) }} }}"
    try:
        solutions = _PROBE.query(probe)
    except (SyntaxError, ValueError, OSError):
        return None
    assert isinstance(solutions, QuerySolutions)
    row = next(iter(solutions), None)
    values = [row[index] if row is not None else None for index in range(len(pending))]
    if not all(isinstance(value, NamedNode) for value in values):
        return None
    resolved = iter(value.value for value in values if isinstance(value, NamedNode))
    return [next(resolved) if has_base or not token.startswith("<") else token[1:-1] for token in tokens]
