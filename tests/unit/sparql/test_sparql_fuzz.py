"""Fuzz the guard against the engine: nothing the engine would fetch passes the guard (issue 11 §2).

Hypothesis writes SERVICE, SERVICE SILENT, FROM, FROM NAMED and LOAD with mixed case, codepoint
escapes, comments, every line-end character and nesting, aimed at a recording listener on 127.0.0.1.
Each text goes through the guard; each text the guard lets through runs on the real engine path (a
worker pool whose egress sandbox is switched OFF, so that a fetch would really happen) and the
listener must have seen nothing. The number of examples is bounded so that it takes seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, Literal, URIRef

from kg.sparql import CheckedQuery, EngineOptions, SparqlEngine, SparqlError, check_query
from tests.conftest import Listener, LoopThread

T = TypeVar("T")
LINE_ENDS = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"]


class _Loop(LoopThread):
    """An event loop in a thread, with an unsandboxed engine on a one-triple dataset."""

    def __init__(self) -> None:
        super().__init__()
        dataset = Dataset()
        dataset.graph(URIRef("https://w3id.org/mgkg/graph/asserted")).add(
            (URIRef("urn:a"), URIRef("urn:b"), Literal("c"))
        )
        self.engine = self.call(
            SparqlEngine.from_dataset(dataset, EngineOptions(workers=1, timeout_s=3.0, sandbox=False))
        )


@pytest.fixture(scope="module")
def unsandboxed() -> Iterator[_Loop]:
    loop = _Loop()
    try:
        yield loop
    finally:
        loop.call(loop.engine.close())
        loop.close()


def _escape(char: str, how: int) -> str:
    if how == 1:
        return f"\\u{ord(char):04X}"
    if how == 2:
        return f"\\U{ord(char):08x}"
    return char.swapcase() if how == 3 else char


@st.composite
def keyword(draw: st.DrawFn, word: str) -> str:
    """A keyword in mixed case, some letters written as codepoint escapes."""
    return "".join(_escape(c, draw(st.integers(0, 3))) for c in word)


separator = st.one_of(
    st.sampled_from([" ", "\t", *LINE_ENDS]),
    st.builds(
        lambda junk, end: f"#{junk}{end}", st.text("ab #<>{}\"'\\", max_size=6), st.sampled_from(LINE_ENDS)
    ),
    st.builds(lambda end: f"{end}# ", st.sampled_from(LINE_ENDS)),  # opens a comment the next end may close
)


@st.composite
def reaching_query(draw: st.DrawFn, url: str) -> str:
    """A query (or update) that names the listener through SERVICE, FROM, FROM NAMED or LOAD."""
    sep = [draw(separator) for _ in range(5)]
    iri = "<" + "".join(_escape(c, draw(st.sampled_from([0, 0, 0, 1]))) for c in f"{url}/fuzz") + ">"
    prologue = ""
    naming = draw(st.sampled_from(["iri", "prefix", "base"]))
    if naming == "prefix":  # the listener named through a prefixed name
        prologue, iri = f"PREFIX{sep[4]}p:{sep[0]}<{url}/>\n", "p:fuzz"
    elif naming == "base":  # ... or through a relative IRI
        prologue, iri = f"BASE{sep[4]}<{url}/>\n", "<fuzz>"
    return prologue + draw(_reaching_body(sep, iri))


@st.composite
def _reaching_body(draw: st.DrawFn, sep: list[str], iri: str) -> str:
    kind = draw(st.sampled_from(["service", "silent", "from", "named", "load"]))
    if kind in ("service", "silent"):
        word = draw(keyword("SERVICE")) + (f"{sep[4]}{draw(keyword('SILENT'))}" if kind == "silent" else "")
        depth = draw(st.integers(0, 3))
        opener = draw(st.sampled_from(["{", "OPTIONAL {", "{ } UNION {", "MINUS {"]))
        inner = f"{sep[1]}{word}{sep[2]}{iri}{sep[3]}{{ ?a ?b ?c }}"
        return "SELECT * WHERE {" + sep[0] + opener * depth + inner + " }" * depth + "\n}"
    if kind in ("from", "named"):
        word = draw(keyword("FROM")) + (f" {draw(keyword('NAMED'))}" if kind == "named" else "")
        return f"SELECT *{sep[0]}{word}{sep[1]}{iri}{sep[2]}WHERE {{ ?a ?b ?c }}\n"
    return f"{sep[0]}{draw(keyword('LOAD'))}{sep[1]}{iri}{sep[2]}"


def test_nothing_the_engine_would_fetch_passes_the_guard(listener: Listener, unsandboxed: _Loop) -> None:
    listener.connections.clear()
    control = CheckedQuery(f"SELECT * WHERE {{ SERVICE <{listener.url}/control> {{ ?a ?b ?c }} }}", "SELECT")
    unsandboxed.call(unsandboxed.engine.run(control, "application/sparql-results+json"))
    assert listener.connections, "the control: this engine fetches what it is given"
    listener.connections.clear()
    accepted: list[str] = []

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def attempt(data: st.DataObject) -> None:
        text = data.draw(reaching_query(listener.url))
        try:
            checked = check_query(text, unsandboxed.engine.graphs)
        except SparqlError:
            return
        accepted.append(text)
        with contextlib.suppress(SparqlError):  # the engine may refuse it: fine, if it fetched nothing
            unsandboxed.call(unsandboxed.engine.run(checked, "application/sparql-results+json"))
        assert listener.connections == [], f"fetched through the guard: {text!r}"

    attempt()
    assert listener.connections == []
    # the fuzz reaches the engine: texts whose SERVICE or FROM sits in a comment pass the guard and run
    assert accepted
