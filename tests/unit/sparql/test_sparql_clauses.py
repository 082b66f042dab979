"""SERVICE however hidden: every disguise Oxigraph reads as a call is refused; nothing that passes calls.

Oxigraph's keywords have no word boundary (``servicesilent:a {}`` is ``SERVICE SILENT :a``, ``trueSERVICE``
is ``true SERVICE``) and a prefixed name's local part stops at its second dot, so the screen
(kg.sparql.clauses) reads the words as Oxigraph does. Each disguise below is first run on pyoxigraph
with no guard, to prove that the engine really calls the recording listener; then the guard must refuse
it, strict (a remote store) and lenient (the local workers) alike. A hypothesis fuzz then glues the
pieces of those disguises together and checks that whatever either guard passes calls nothing.
"""

from __future__ import annotations

import contextlib

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.sparql import QueryRefusedError, SparqlError, SparqlSyntaxError, check_query
from tests.conftest import Listener

STRICT = frozenset({"urn:ex#g"})
"""A strict guard: the graphs a remote store holds (the engine is beyond the egress sandbox)."""
LENIENT = None
"""A lenient guard: the local workers (any graph may be named; they cannot open a socket anyway)."""
PROLOGUE = "PREFIX ex: <urn:ex#>\nPREFIX : <{url}/>\n"
MATCH = "?s ?p 'c'"
"""A pattern that matches the probe store's one triple, so that the engine goes on to the call."""

DISGUISES = [
    "SERVICE <{url}/a> {{ }}",
    "sErViCe<{url}/a>{{}}",
    "SERVICE\n# a comment\n<{url}/a> {{ }}",
    "SERVICE SILENT <{url}/a> {{ }}",
    "SERVICEsilent<{url}/a>{{}}",
    "service:a {{ }}",  # SERVICE :a
    "servicesilent:a {{ }}",  # SERVICE SILENT :a
    "VALUES ?e {{ <{url}/a> }} SERVICE ?e {{ }}",  # Oxigraph never calls an unbound ?e: no control
    ". SERVICE <{url}/a> {{ }}",
    "OPTIONAL {{ SERVICE <{url}/a> {{ }} }}",
    "FILTER EXISTS {{ SERVICE <{url}/a> {{ }} }}",
    "{{ SELECT * WHERE {{ SERVICE <{url}/a> {{ }} }} }}",
    "FILTER(?s<?b) SERVICE<{url}/a>{{}}",
    "; service:a {{ }}",  # an empty predicate-object list, then SERVICE :a
    ". ?x ?y ex:a.b.service:a {{ }}",  # ex:a.b . SERVICE :a
    "BIND(<<( ?s ?p ?o )>> AS ?t) SERVICE <{url}/a> {{ }}",  # SPARQL 1.2, which rdflib cannot read
    "{{| ?q ?r |}} SERVICE <{url}/a> {{ }}",  # an annotation (SPARQL 1.2)
    ", trueSERVICE <{url}/a> {{ }}",  # true SERVICE
    ", 1SERVICE <{url}/a> {{ }}",  # 1 SERVICE
]


def _probe_store() -> ox.Store:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c")))
    return store


def _run(text: str) -> None:
    """Run a text on pyoxigraph with no guard and no sandbox; what it cannot run it cannot call from."""
    with contextlib.suppress(SyntaxError, OSError, RuntimeError):
        result = _probe_store().query(text)
        if isinstance(result, ox.QuerySolutions):
            list(result)


@pytest.mark.parametrize("disguise", DISGUISES)
def test_every_disguised_service_call_is_refused(listener: Listener, disguise: str) -> None:
    text = (
        PROLOGUE.format(url=listener.url)
        + f"SELECT * WHERE {{ {MATCH} {disguise.format(url=listener.url)} }}"
    )
    before = len(listener.connections)
    _run(text)
    if "?e" not in disguise:
        assert len(listener.connections) > before, f"the control: Oxigraph calls the listener for {text!r}"
    for graphs in (STRICT, LENIENT):
        with pytest.raises(SparqlError) as caught:
            check_query(text, graphs)
        assert isinstance(caught.value, QueryRefusedError), text  # 403, SPARQL 1.2 or not
        assert caught.value.reason == "service", text


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?service WHERE {{ ?service ?p ?o }}",
        "SELECT * WHERE {{ ?s ex:service ?o . ?s ex:a-service ?o }}",
        "SELECT * WHERE {{ ?s ?p <urn:x:service> }}",
        "SELECT * WHERE {{ ?s ?p ?o }} # SERVICE <{url}/a> {{ }}\n",
        "SELECT * WHERE {{ ?s ?p 'SERVICE <{url}/a> {{ }}' }}",
        "VERSION '1.2' SELECT * WHERE {{ ?s ?p ?o ~ ?service {{| ex:service ?x |}} }}",
    ],
)
def test_a_word_that_is_no_call_is_not_refused(listener: Listener, text: str) -> None:
    query = PROLOGUE.format(url=listener.url) + text.format(url=listener.url)
    for graphs in (STRICT, LENIENT):
        assert check_query(query, graphs).parsed is False  # screened: the engine's own parser reads it


PIECES = (
    " ",
    "\n",
    "# c\n",
    "#",
    "'",
    "'x'",
    "?s",
    "?service",
    "ex:a",
    "ex:a.b.",
    "ex:service",
    "service",
    "SERVICE",
    "silent",
    ":a",
    "true",
    "1",
    "<",
    ">",
    "<{url}/a>",
    "(",
    ")",
    "FILTER(",
    "{",
    "}",
    "{|",
    "|}",
    "<<(",
    ")>>",
    "~",
    ".",
    ";",
    ",",
    MATCH,
)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
def test_nothing_either_guard_passes_calls_a_service(listener: Listener, pieces: list[str]) -> None:
    text = (
        PROLOGUE.format(url=listener.url)
        + f"ASK {{ {MATCH} "
        + "".join(pieces).replace("{url}", listener.url)
        + " }"
    )
    for graphs in (STRICT, LENIENT):
        try:
            checked = check_query(text, graphs)
        except SparqlError:
            continue  # refused: nothing runs
        before = len(listener.connections)
        _run(checked.text)
        assert len(listener.connections) == before, checked.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PREFIX service: <urn:x#> SELECT * WHERE { ?s service:p ?o }", "service"),  # may be SERVICE :p
        ("PREFIX ex: <urn:ex#> SELECT * WHERE { ?s ?p ex:a.service }", "service"),  # ex:a . service
        ("PREFIX named: <urn:ex#> SELECT * FROM named:g WHERE { ?s ?p ?o }", "dataset"),  # or FROM NAMED :g?
        ("PREFIX ex: <urn:ex#> SELECT * FROM ex:a.g WHERE { ?s ?p ?o }", "dataset"),  # where ends the name?
    ],
)
def test_what_engines_may_read_two_ways_is_refused_strictly_and_parsed_leniently(
    text: str, reason: str
) -> None:
    """A remote store's engine is beyond the sandbox: the strict guard refuses and says why; the local
    workers cannot open a socket, so the lenient guard leaves the text to rdflib, as before."""
    with pytest.raises(QueryRefusedError) as caught:
        check_query(text, STRICT)
    assert caught.value.reason == reason
    assert "outside mgkg's egress sandbox" in str(caught.value)
    assert check_query(text, LENIENT).parsed is True  # read by rdflib's parser


def test_a_from_outside_the_dataset_clause_is_refused_strictly() -> None:
    """The grammar has no FROM in a subquery, but an engine with extensions might read one there."""
    text = "SELECT * WHERE { { SELECT * FROM <http://127.0.0.1:9/x> WHERE { ?s ?p ?o } } }"
    with pytest.raises(QueryRefusedError) as caught:
        check_query(text, STRICT)
    assert caught.value.reason == "dataset"
    assert check_query(text, LENIENT).from_graphs == ()  # the lenient guard leaves it to the engine ...
    with pytest.raises(SyntaxError):  # ... which refuses it (400 over HTTP) and so fetches nothing
        ox.Store().query(text)


def test_an_escaped_parenthesis_in_the_head_does_not_hide_the_dataset_clause() -> None:
    text = "PREFIX ex: <urn:ex#>\nSELECT (ex:a\\( AS ?x) FROM <urn:ex#g> WHERE { ?s ?p ?o }"
    ox.Store().query(text)  # Oxigraph reads ex:a\( as a name
    for graphs in (STRICT, LENIENT):
        checked = check_query(text, graphs)
        assert (checked.from_graphs, checked.parsed) == (("urn:ex#g",), False)


def test_a_malformed_text_is_a_syntax_error_before_a_refusal() -> None:
    """What Oxigraph refuses as malformed is a 400, as on Oxigraph, even when it names a service."""
    for text in (
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o }",
        "PREFIX service: <urn:x#> SELECT * WHERE { ?s service:p ?o",
    ):
        with pytest.raises(SyntaxError):
            ox.Store().query(text)
        for graphs in (STRICT, LENIENT):
            with pytest.raises(SparqlSyntaxError):
                check_query(text, graphs)
