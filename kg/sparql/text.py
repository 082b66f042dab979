"""Normalise a SPARQL query text once, so that the guard and every engine read the same characters.

Two parsers read a query here (rdflib's for the guard, Oxigraph's or a remote server's to run it) and
they disagree on where a comment ends (Oxigraph at CR or LF, rdflib at LF only) and on codepoint
escapes (rdflib expands ``\\u`` and ``\\U`` over the whole text, with 4 or 8 digits after either,
before it parses, as the SPARQL spec says; Oxigraph only inside strings, IRIs and names). So the text
is rewritten once, checked, and exactly that text is run:

1. Codepoint escapes (``\\u`` + 4, ``\\U`` + 8 hex digits) are expanded everywhere, as the SPARQL spec
   says (section 19.2). An escape that makes a backslash, a surrogate or no character, one written
   right after a backslash, and any ``\\u``/``\\U`` and hex digits left after expansion (which one
   parser or another would expand again) are refused: such a text is ambiguous.
2. Every character some parser takes for a line end (CR LF, CR, VT, FF, FS, GS, RS, NEL, LS, PS) becomes
   LF, so that a comment ends at the same place for every reader. Inside a long string literal such
   a character is therefore read as LF (write the ``\\r`` string escape to keep a CR).
3. Brackets may nest at most :data:`MAX_NESTING` deep (Oxigraph's parser overflows its stack at a few
   thousand, rdflib's at a few dozen), counted in both readings of a ``<`` (IRI or operator).
"""

from __future__ import annotations

import re
from typing import Final

MAX_NESTING: Final = 500
"""The deepest nesting of ``{``, ``(`` and ``[`` a query may have; Oxigraph's parser dies near 4,000."""

_ESCAPE: Final = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LEFTOVER: Final = re.compile(r"\\[uU][0-9A-Fa-f]{4}")
"""What rdflib would still expand (it takes 4 or 8 digits after either letter, in any case)."""
_LINE_ENDS: Final = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_TOKENS: Final = re.compile(r"""[{}()\[\]#<]|'''|\"\"\"|'|\"""")
_IRI: Final = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_OPENERS: Final = {"}": "{", ")": "(", "]": "["}
_STRING_ENDS: Final = {
    quote: re.compile(r"(?:\\.|[^\\])*?" + quote, re.DOTALL) for quote in ("'''", '"""', "'", '"')
}
"""From just inside a string to its closing quote (a backslash escapes one character)."""


class UnreadableTextError(ValueError):
    """A query text that readers would not read alike, or that nests too deep: what and where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message, self.line, self.column = message, line, column
        super().__init__(message)


def _where(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _ambiguous(text: str, offset: int, why: str) -> UnreadableTextError:
    line, column = _where(text, offset)
    return UnreadableTextError(
        f"{why}, which SPARQL readers do not read alike; write the character itself (or, in a string, "
        'its string escape such as \\" or \\\\)',
        line,
        column,
    )


def expand_escapes(text: str) -> str:
    r"""Expand SPARQL codepoint escapes as the spec says; refuse what could be read two ways.

    >>> expand_escapes("ASK { \\u0053ERVICE }")
    'ASK { SERVICE }'
    >>> expand_escapes('SELECT ("\\u00530041" AS ?x) {}')
    'SELECT ("S0041" AS ?x) {}'
    >>> expand_escapes('ASK { "\\u005C" }')
    Traceback (most recent call last):
    ...
    kg.sparql.text.UnreadableTextError: the escape \u005C makes a backslash or no character, ...
    """
    if "\\" not in text:
        return text

    def expand(match: re.Match[str]) -> str:
        start = match.start()
        if start and text[start - 1] == "\\":
            raise _ambiguous(text, start, "a codepoint escape follows a backslash")
        code = int(match[1] or match[2], 16)
        if code == 0x5C or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise _ambiguous(text, start, f"the escape {match[0]} makes a backslash or no character")
        return chr(code)

    expanded = _ESCAPE.sub(expand, text)
    leftover = _LEFTOVER.search(expanded)
    if leftover is not None:
        raise _ambiguous(expanded, leftover.start(), f"{leftover[0]} is left after expanding escapes")
    return expanded


def nesting_depth(text: str, iris: bool) -> int:
    """The deepest bracket nesting outside strings and comments; ``iris``: a ``<...>`` that could be an
    IRI is one (skipped) rather than a less-than operator. A closer only closes its own opener."""
    stack: list[str] = []
    deepest = 0
    position = 0
    while (token := _TOKENS.search(text, position)) is not None:
        kind, position = token[0], token.end()
        if kind in "{([":
            stack.append(kind)
            deepest = max(deepest, len(stack))
        elif kind in "})]":
            if stack and stack[-1] == _OPENERS[kind]:
                stack.pop()
        elif kind == "#":
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
        elif kind == "<":
            iri = _IRI.match(text, token.start()) if iris else None
            position = iri.end() if iri is not None else position
        else:  # a string: to its closing quote (no escapes left to expand; a backslash escapes one char)
            closing = _STRING_ENDS[kind].match(text, position)
            position = len(text) if closing is None else closing.end()
    return deepest


def normalize_query(text: str) -> str:
    r"""The text every reader of a query reads: escapes expanded, line ends LF, nesting bounded.

    >>> normalize_query("SELECT * WHERE { # \r SERVICE <http://x/> { ?a ?b ?c } # \n }")
    'SELECT * WHERE { # \n SERVICE <http://x/> { ?a ?b ?c } # \n }'
    """
    normalized = _LINE_ENDS.sub("\n", expand_escapes(text))
    if sum(map(normalized.count, "{([")) > MAX_NESTING:  # else it cannot nest deeper: no need to count
        depth = max(nesting_depth(normalized, True), nesting_depth(normalized, False))
        if depth > MAX_NESTING:
            raise UnreadableTextError(
                f"brackets nest {depth} deep, more than the {MAX_NESTING} this endpoint reads; flatten "
                "the query (fewer nested groups or parentheses)"
            )
    return normalized
