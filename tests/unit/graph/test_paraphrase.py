"""Every literal the project ships is its own wording: none shares eight running words with a source text."""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal
from rdflib.namespace import DCTERMS

from kg.model.vocab import MGKG
from tests.conftest import REPO

ROOT = REPO
SOURCES = ROOT.parent.parent / "shared" / "sources"
RUN = 8
BIBLIOGRAPHIC = {DCTERMS.title, DCTERMS.isPartOf}
"""A source's own title is quoted, not paraphrased: titles (and a source document's label) are exempt."""


def _words(text: str) -> list[str]:
    """Case-folded words, punctuation dropped (hyphens and slashes split words)."""
    return re.findall(r"[a-z0-9]+", text.casefold().replace("\u2019", "").replace("'", ""))


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _source_dir() -> Path:
    for candidate in (SOURCES, Path("/work/shared/sources")):
        if candidate.is_dir():
            return candidate
    raise AssertionError("the shared source texts are missing")


def _literals() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in [*sorted((ROOT / "ontology").glob("*.ttl")), *sorted((ROOT / "kg" / "facts").glob("*.ttl"))]:
        graph = Graph().parse(path)
        documents = set(graph.subjects(RDF.type, MGKG.SourceDocument))
        for subject, predicate, value in graph:
            if predicate in BIBLIOGRAPHIC or (predicate == RDFS.label and subject in documents):
                continue
            if isinstance(value, Literal):
                found.append((f"{path.name}: {subject}", str(value)))
    return found


def test_no_literal_shares_eight_consecutive_words_with_a_source() -> None:
    source_runs: set[tuple[str, ...]] = set()
    for text in sorted(_source_dir().glob("*.txt")):
        source_runs |= _runs(_words(text.read_text(encoding="utf-8")))
    copied = [
        f"{where}: {' '.join(run)}"
        for where, value in _literals()
        for run in sorted(_runs(_words(value)) & source_runs)[:1]
    ]
    assert not copied, "paraphrase these (eight or more words copied from a source):\n" + "\n".join(copied)


def test_the_check_sees_a_copied_sentence() -> None:
    text = (_source_dir() / "000_342be3fe82f1dde7.txt").read_text(encoding="utf-8")
    sentence = "The body maintains calcium levels with exquisite precision, using parathyroid hormone"
    assert _runs(_words(sentence.upper() + "!")) & _runs(_words(text))
