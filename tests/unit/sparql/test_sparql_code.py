"""kg.sparql.code: comments and strings are not code, and nothing the engine reads as code is taken for them.

The screen judges a query by its code alone (so that a word in a comment changes no answer); the fuzz
below builds texts from the pieces where two readings of a text can differ (``<`` as IRI or operator,
``#`` inside an IRI, quotes, long strings, line ends) around a SERVICE call to a recording listener, and
checks that whatever the guard passes, pyoxigraph runs without calling the listener.
"""

from __future__ import annotations

import contextlib

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.sparql import SparqlError, check_query
from kg.sparql.code import code_of
from kg.sparql.guard import screen_query
from kg.sparql.text import normalize_query
from tests.conftest import Listener

RISKY = ("FROM <default>", "FROM NAMED <urn:g>", "SERVICE <http://127.0.0.1:9/>", "from", "Service")


@pytest.mark.parametrize("word", RISKY)
@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ ?s ?p ?o }} # {word}",
        "# {word}\nSELECT * WHERE {{ ?s ?p ?o }}",
        "SELECT * WHERE {{ # {word}\n ?s ?p ?o }}",
        "SELECT ('{word}' AS ?x) {{}}",
        'SELECT ("""{word}\n{word}""" AS ?x) {{}}',
        "SELECT * WHERE {{ BIND(<<( <urn:a> <urn:b> <urn:c> )>> AS ?t) }} # {word}",
        "VERSION '1.2' SELECT * WHERE {{ BIND(TRIPLE(<urn:a>, <urn:b>, <urn:c>) AS ?t) # {word}\n}}",
    ],
)
def test_a_word_in_a_comment_or_a_string_leaves_the_query_screened(template: str, word: str) -> None:
    """Screened means judged by the engine's own parser (SPARQL 1.2 included), never by rdflib's."""
    text = normalize_query(template.format(word=word))
    assert screen_query(text) is not None
    ox.Store().query(text)  # the engine reads it (pyoxigraph: SPARQL 1.2)


@pytest.mark.parametrize(
    "text",
    [
        "ASK { FILTER(?a<?b#x> '''\n SERVICE <http://127.0.0.1:9/> {} #''') }",
        "ASK { FILTER(?a<'x>') SERVICE <http://127.0.0.1:9/> {} # ') }",
        "ASK { ?s ?p 'unterminated }",
        "ASK { ?s ?p 'line\nend' }",
    ],
)
def test_what_could_be_read_two_ways_is_not_screened(text: str) -> None:
    assert code_of(text) is None
    assert screen_query(text) is None


PIECES = (
    " ",
    "\n",
    "?a",
    "?b",
    "<",
    ">",
    "<urn:x#y>",
    "<urn:x'y>",
    "<?b#x>",
    "#",
    "# c\n",
    "'",
    '"',
    "'''",
    '"""',
    "'x'",
    "\\'",
    "\\#",
    "ex:a",
    "FILTER(",
    ")",
    "{",
    "}",
    ".",
    "&&",
    "SERVICE <{url}> { ?s ?p ?o }",
    "SERVICE",
    "<{url}>",
)


@pytest.fixture(scope="module")
def calls(listener: Listener) -> Listener:
    return listener


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14))
def test_nothing_the_guard_passes_calls_a_service(calls: Listener, pieces: list[str]) -> None:
    text = "PREFIX ex: <urn:ex#>\nASK { " + "".join(pieces).replace("{url}", calls.url) + " }"
    before = len(calls.connections)
    try:
        checked = check_query(text)
    except SparqlError:
        return  # refused: nothing runs
    with contextlib.suppress(SyntaxError, OSError, RuntimeError):
        ox.Store().query(checked.text)
    assert len(calls.connections) == before, checked.text
