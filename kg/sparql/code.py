"""The code of a SPARQL query text: its comments and the contents of its strings left out, when that is sure.

The guard's screen (kg.sparql.guard.screen_query) passes a query to the engine unparsed when neither
SERVICE nor FROM occurs in it; a word in a comment or a string used to send it to rdflib's parser, which
reads neither SPARQL 1.2 (triple terms, VERSION) nor everything Oxigraph reads, so that whether a query
was answered depended on its comments. :func:`code_of` removes what no engine reads as a keyword
(comments, string contents), so that the screen judges the code alone.

It must never take for a comment or a string what the engine reads as code. The one place where two
readings of a text differ is ``<``: the start of an IRI or the less-than operator. An IRI span holds no
space, quote, brace or ``<``, so the two readings agree again after its ``>``, unless the span holds
``'`` (the operator reading may open a string there: the text is refused as unsure) or ``#`` (the
operator reading may open a comment that runs to the end of the line: the rest of that line is read as
code, and a quote on it makes the text unsure). Outside every parenthesis ``<`` can only start an IRI
(the operator occurs in expressions, which are always bracketed), so there a span is an IRI and none of
that applies, as long as no span that might be an operator holds a parenthesis (read as an IRI it hides
it, read as less-than it does not); after such a span every span is unsure again. A text that is
unsure, or malformed in a way the engine refuses anyway (an unterminated string, a line end in a short
string), gives None: the screen then leaves it to the parser, as before.
"""

from __future__ import annotations

import re
from typing import Final

IRI: Final = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
"""SPARQL's IRIREF: no space, quote, brace, bar, caret, backtick, backslash or angle bracket inside."""
_SPECIAL: Final = re.compile(r"[#\\<'\"()]")
"""The characters where the reading of the code may change: comments, escapes, IRIs, strings, brackets."""
_STRING: Final = '""'
"""What a string literal becomes in the code: an empty string, so that the code stays a query."""


def code_of(text: str) -> str | None:
    """The text with comments made a space and strings made empty, or None when that is not sure.

    ``text`` is a normalised query text (kg.sparql.text: only LF ends a line, no codepoint escape left).

    >>> code_of("SELECT ?s # FROM here\\nWHERE { ?s ?p 'service' }")
    'SELECT ?s  \\nWHERE { ?s ?p "" }'
    >>> code_of("ASK { <urn:a/b> ?p '''from\\nservice''' }")
    'ASK { <urn:a/b> ?p "" }'
    >>> code_of("ASK { FILTER(?a<?b#x> '''\\n SERVICE <http://x/> {} #''') }") is None
    True
    >>> code_of("ASK { <urn:x#y> ?p 'a' }")  # outside parentheses < starts an IRI
    'ASK { <urn:x#y> ?p "" }'
    >>> code_of("ASK { FILTER(?o = <urn:x#y>) ?s ?p 'a' }") is None  # inside, it may be less-than
    True
    >>> code_of("ASK { ?s ?p 'open") is None
    True
    """
    code: list[str] = []
    index, end = 0, len(text)
    depth, trusted = 0, True  # parentheses open outside strings, comments and IRIs; whether that is sure
    while (special := _SPECIAL.search(text, index)) is not None:
        start = special.start()
        code.append(text[index:start])  # plain code up to the next character that may change the reading
        char, index = text[start], start
        if char == "#":
            line_end = text.find("\n", index)
            index = end if line_end < 0 else line_end
            code.append(" ")
        elif char == "\\":  # a prefixed name's escape (ex:a\#b): the next character is a name's
            code.append(text[index : index + 2])
            index += 2
        elif char == "<" and (iri := IRI.match(text, index)) is not None:
            span = iri.group()
            if depth or not trusted:  # maybe the less-than operator
                if "'" in span or ("#" in span and _has_quote_on_line(text, iri.end())):
                    return None
                trusted = trusted and "(" not in span and ")" not in span
            code.append(span)
            index = iri.end()
        elif char in "'\"":
            closing = _string_end(text, index)
            if closing is None:
                return None
            code.append(_STRING)
            index = closing
        else:
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(depth - 1, 0)
            code.append(char)
            index += 1
    code.append(text[index:])
    return "".join(code)


def _has_quote_on_line(text: str, start: int) -> bool:
    """Whether a quote follows ``start`` on the same line."""
    line_end = text.find("\n", start)
    rest = text[start : len(text) if line_end < 0 else line_end]
    return "'" in rest or '"' in rest


def _string_end(text: str, start: int) -> int | None:
    """Where the string literal opened at ``start`` ends (just past its closing quotes), or None when it
    does not end, or a short one meets a line end (the engine refuses both)."""
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    index, end = start + len(delimiter), len(text)
    while index < end:
        if text[index] == "\\":
            index += 2
        elif text.startswith(delimiter, index):
            return index + len(delimiter)
        elif text[index] == "\n" and len(delimiter) == 1:
            return None
        else:
            index += 1
    return None
