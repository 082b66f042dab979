"""The guard's fast screen: the verdict on a query from its normalised text alone, with no parse.

A normalised text without ``\\u`` whose prologue a scan reads up to the query form, and in which neither
``SERVICE`` nor ``FROM`` occurs after that (in any case, even inside a string or a comment), cannot name
a service or a dataset; the engines parse such a text with a query-only grammar, so it cannot update
either. That costs a few microseconds, where rdflib's parser (kg.sparql.verdict) takes milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from kg.sparql.code import code_of

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

_PROLOGUE_FORM: Final = re.compile(
    r"(?:[ \t\r\n]++|\#[^\n\r]*+|(?:PREFIX[ \t\r\n]*+[A-Za-z0-9_.\-]*+:|BASE)[ \t\r\n]*+"
    r"<[^<>\"{}|^`\\\x00-\x20]*+>|VERSION(?:[ \t\r\n]++|\#[^\n\r]*+)*+"
    r"(?:\"[0-9A-Za-z.\-]*+\"|'[0-9A-Za-z.\-]*+'))*+"
    r"(?P<form>SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_])",
    re.IGNORECASE | re.ASCII,
)
"""A prologue (whitespace, comments, PREFIX, BASE and SPARQL 1.2 VERSION declarations) and the keyword of
the query form. Possessive quantifiers: a text that does not match fails in linear time."""


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


def screen_query(text: str) -> CheckedQuery | None:
    r"""The guard's verdict from a normalised text alone, when it proves it names no service and no graph.

    ``text`` must come from :func:`~kg.sparql.text.normalize_query` (only LF ends a line, no escape is
    left). None when it may name one (the text must then be parsed): one that is not ASCII (a
    reader may match keywords by Unicode case, where U+017F is an S); one with ``\u`` or ``\U``
    anywhere (a reader might expand it); one whose query form a prologue scan cannot read (updates
    among them); one in
    which SERVICE or FROM occurs anywhere in the code after the form's keyword, in any case (a false
    alarm only costs a parse); comments and strings are not code (kg.sparql.code.code_of), so a word
    there changes nothing, and a text whose comments and strings cannot be told apart for sure is
    parsed. Engines parse what passes with a query-only grammar, so it cannot update.

    >>> screen_query("PREFIX ex: <urn:ex#>  # a comment\nselect ?s WHERE { ?s ex:p ?o }").form
    'SELECT'
    >>> screen_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("ASK { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("INSERT DATA { <urn:a> <urn:b> <urn:c> }") is None
    True
    """
    if not text.isascii() or "\\u" in text or "\\U" in text:
        return None
    prologue = _PROLOGUE_FORM.match(text)
    if prologue is None:
        return None
    # Without escapes the text is as the engine tokenizes it, so the prologue just matched (comments,
    # PREFIX and BASE IRIs) is inert; SERVICE and FROM can only be in the rest. ASCII: lower() is the
    # exact case-insensitive match that SPARQL keywords have.
    # Comments and strings hold no keyword (kg.sparql.code; None when it cannot be sure where they are).
    code = code_of(text[prologue.end("form") :])
    if code is None:
        return None
    body = code.lower()
    if "service" in body or "from" in body:
        return None
    form: QueryForm = prologue["form"].upper()  # type: ignore[assignment]  # one of the four keywords
    return CheckedQuery(text, form, parsed=False)


def unguarded_query(text: str) -> CheckedQuery:
    """Tests and diagnosis only (MGKG_SPARQL_GUARD=false): the text as sent, unchecked, with its form
    guessed from its prologue (SELECT if none is found), so that the egress sandbox alone can be tried."""
    prologue = _PROLOGUE_FORM.match(text)
    form: QueryForm = prologue["form"].upper() if prologue else "SELECT"  # type: ignore[assignment]
    return CheckedQuery(text, form, parsed=False)
