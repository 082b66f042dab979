"""The guard's fast screen: the verdict on a query from its normalised text alone, with no rdflib parse.

A normalised text without ``\\u`` whose prologue a scan reads up to the query form, and in whose code
(comments and strings left out) neither ``SERVICE`` nor ``FROM`` occurs after that, in any case, cannot
name a service or a dataset; the engines parse such a text with a query-only grammar, so it cannot
update either. That costs a few microseconds, where rdflib's parser (kg.sparql.verdict) takes
milliseconds. Code with those words is read by kg.sparql.clauses as Oxigraph reads it (SERVICE calls
refused, dataset clauses read), so that SPARQL 1.2, which rdflib cannot read, is judged too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final, Literal

from kg.sparql.clauses import find_service, read_dataset, resolve_sources, service_refusal
from kg.sparql.code import code_of
from kg.sparql.errors import QueryRefusedError

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

_LOG: Final = logging.getLogger(__name__)

_PROLOGUE_FORM: Final = re.compile(
    r"(?:[ \t\r\n]++|\#[^\n\r]*+|(?:PREFIX[ \t\r\n]*+[A-Za-z0-9_.\-]*+:|BASE)[ \t\r\n]*+"
    r"<[^<>\"{}|^`\\\x00-\x20]*+>|VERSION(?:[ \t\r\n]++|\#[^\n\r]*+)*+"
    r"(?:\"[0-9A-Za-z.\-]*+\"|'[0-9A-Za-z.\-]*+'))*+"
    r"(?P<form>SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_])",
    re.IGNORECASE | re.ASCII,
)
"""A prologue (whitespace, comments, PREFIX, BASE and SPARQL 1.2 VERSION declarations) and the keyword of
the query form. Possessive quantifiers: a text that does not match fails in linear time."""

_AMBIGUOUS_SERVICE: Final = (
    "This store's engine runs outside mgkg's egress sandbox, so the guard refuses what any engine might "
    "read as SERVICE: the word 'service' outside a comment or a string, where it is neither a variable, "
    "nor the local part of a prefixed name, nor an IRI outside parentheses (near {near!r}). Rename that "
    "prefix or name, or write the IRI out."
)
_UNREAD_DATASET: Final = (
    "This store's engine runs outside mgkg's egress sandbox, and the guard could not read this query's "
    "dataset clause for sure. Write it plainly after the query form's head, before WHERE or the group: "
    "FROM <iri> or FROM NAMED <iri> (or a prefixed name without dots, escapes or %)."
)


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard: its text, its form and the graphs its dataset clause names.

    ``parsed`` says whether rdflib parsed it (False for a screened text: the engine's parser is then the
    first to read it, and :func:`kg.sparql.guard.diagnose` explains what it rejects).
    """

    text: str
    form: QueryForm
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    parsed: bool = True


def screen_query(text: str, strict: bool = True) -> CheckedQuery | None:
    r"""The checked query when the screen passes a normalised text (:func:`read_screen`), else None
    (the text must be parsed, or is refused).

    >>> screen_query("PREFIX ex: <urn:ex#>  # a comment\nselect ?s WHERE { ?s ex:p ?o }").form
    'SELECT'
    >>> screen_query("SELECT * FROM <urn:g> WHERE { ?s ?p <<( ?a ?b ?c )>> }").from_graphs
    ('urn:g',)
    >>> screen_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("ASK { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("INSERT DATA { <urn:a> <urn:b> <urn:c> }") is None
    True
    """
    verdict = read_screen(text, strict)
    return verdict if isinstance(verdict, CheckedQuery) else None


def read_screen(text: str, strict: bool = True) -> CheckedQuery | QueryRefusedError | None:
    r"""The guard's verdict from a normalised text alone: the checked query, a refusal, or None when the
    text must be parsed (by rdflib, in a parser process).

    ``text`` must come from :func:`~kg.sparql.text.normalize_query` (only LF ends a line, no escape is
    left). None for a text with ``\u`` or ``\U`` anywhere (a reader might expand it); one whose query
    form a prologue scan cannot read (updates among them); one whose comments and strings cannot be told
    apart for sure (kg.sparql.code); one whose code is not ASCII (a reader may match keywords by Unicode
    case, where U+017F is an S). Engines parse what passes with a query-only grammar, so it cannot
    update.

    Code in which neither ``service`` nor ``from`` occurs, in any case, passes at once (the common path).
    Otherwise kg.sparql.clauses reads those words as Oxigraph does: a SERVICE call is refused here (403,
    whatever else the text holds, SPARQL 1.2 included), a dataset clause read for sure passes with its
    graphs. Where that reading could differ from an engine's (a ``service`` that is no call but that an
    engine might take for the keyword; a dataset clause that is not plainly one), a ``strict`` screen
    refuses the text (for an engine outside the egress sandbox: a remote store, where the guard is the
    only defence) and a lenient one leaves it to rdflib's parse (the local workers, which cannot open a
    socket anyway).

    >>> read_screen("VERSION '1.2' ASK { SERVICE <http://x/> { ?s ?p <<( ?a ?b ?c )>> } }").reason
    'service'
    >>> read_screen("PREFIX service: <urn:x#> ASK { ?s service:p ?o }").reason
    'service'
    >>> read_screen("PREFIX service: <urn:x#> ASK { ?s service:p ?o }", strict=False) is None
    True
    """
    if "\\u" in text or "\\U" in text:
        return None
    prologue = _PROLOGUE_FORM.match(text)
    if prologue is None:
        return None
    # Without escapes the text is as the engine tokenizes it, so the prologue just matched (comments,
    # PREFIX and BASE IRIs) is inert; SERVICE and FROM can only be in the rest. ASCII code: lower() is
    # the exact case-insensitive match that SPARQL keywords have.
    code = code_of(text[prologue.end("form") :])
    if code is None or not code.isascii():
        return None
    form: QueryForm = prologue["form"].upper()  # type: ignore[assignment]  # one of the four keywords
    lowered = code.lower()
    if "service" not in lowered and "from" not in lowered:
        return CheckedQuery(text, form, parsed=False)
    return _read_words(text, text[: prologue.start("form")], form, code, strict)


def _read_words(
    text: str, prologue: str, form: QueryForm, code: str, strict: bool
) -> CheckedQuery | QueryRefusedError | None:
    """The verdict on code in which ``service`` or ``from`` occurs (kg.sparql.clauses reads them)."""
    word = find_service(code)
    if word is not None:
        if word.target is not None:
            _LOG.debug("screen refused a SERVICE call to %s", word.target)
            if word.target.startswith(("?", "$")):
                return service_refusal(word.target)
            resolved = resolve_sources(prologue, [word.target])  # as Oxigraph resolves it, if it can
            return service_refusal(f"<{resolved[0]}>" if resolved else word.target)
        if strict:
            _LOG.debug("strict screen refused a word that may be SERVICE, near %r", word.near)
            return QueryRefusedError("service", _AMBIGUOUS_SERVICE.format(near=word.near))
        _LOG.debug("screen leaves a word that may be SERVICE (near %r) to the parser", word.near)
        return None
    dataset = read_dataset(prologue, form, code, strict)
    if dataset is None:
        if strict:
            _LOG.debug("strict screen refused a dataset clause it cannot read for sure")
            return QueryRefusedError("dataset", _UNREAD_DATASET)
        _LOG.debug("screen leaves a dataset clause it cannot read for sure to the parser")
        return None
    return CheckedQuery(text, form, dataset.default, dataset.named, parsed=False)


def unguarded_query(text: str) -> CheckedQuery:
    """Tests and diagnosis only (MGKG_SPARQL_GUARD=false): the text as sent, unchecked, with its form
    guessed from its prologue (SELECT if none is found), so that the egress sandbox alone can be tried."""
    prologue = _PROLOGUE_FORM.match(text)
    form: QueryForm = prologue["form"].upper() if prologue else "SELECT"  # type: ignore[assignment]
    return CheckedQuery(text, form, parsed=False)
