"""Tests of kg.graph.reasoning on a small fixture graph: materialization, justification and the disk cache."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import owlrl
import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from kg.causal.justify import Justification, justify
from kg.errors import NotEntailedError, UnknownNodeError
from kg.graph.asserted import AssertedGraph, load_asserted
from kg.graph.reasoning import default_cache_dir, load_or_materialize, materialize
from kg.model.resources import ontology_file
from kg.model.vocab import MGKG, MGKGID, OBO
from tests.conftest import RESOURCES

RO_UPSTREAM, RO_POSITIVE, RO_NEGATIVE = OBO["RO_0002411"], OBO["RO_0002304"], OBO["RO_0002305"]
SIGNS = {MGKG.positiveEffect: 1, MGKG.negativeEffect: -1}


@pytest.fixture(scope="module")
def fixture_sources(resources_dir: Path) -> list[Path]:
    return [ontology_file(), resources_dir / "reasoning" / "chain.ttl"]


@pytest.fixture(scope="module")
def resources_dir() -> Path:
    return RESOURCES


@pytest.fixture(scope="module")
def small(fixture_sources: list[Path]) -> AssertedGraph:
    return load_asserted(fixture_sources)


@pytest.fixture(scope="module")
def small_inferred(small: AssertedGraph) -> Graph:
    return materialize(small.graph)


def signed_links(graph: Graph) -> list[tuple[URIRef, URIRef, URIRef, int]]:
    """(link, cause, effect, sign) for every asserted link."""
    rows = []
    for link, cause in graph.subject_objects(MGKG.cause):
        for prop, sign in SIGNS.items():
            for effect in graph.objects(link, prop):
                rows.append((URIRef(str(link)), URIRef(str(cause)), URIRef(str(effect)), sign))
    return rows


# --- materialize -------------------------------------------------------------------------------


def test_materialize_leaves_input_unchanged_and_returns_only_new_triples(small: AssertedGraph) -> None:
    before = set(small.graph)
    inferred = materialize(small.graph)
    assert set(small.graph) == before
    assert len(inferred) > 0
    assert not set(inferred) & before


def test_every_link_yields_causes_and_its_signed_relation(
    small: AssertedGraph, small_inferred: Graph
) -> None:
    links = signed_links(small.graph)
    assert len(links) == 4
    for _link, cause, effect, sign in links:
        assert (cause, MGKG.causes, effect) in small_inferred
        assert (cause, MGKG.causallyUpstreamOf, effect) in small_inferred
        assert (cause, RO_UPSTREAM, effect) in small_inferred
        signed, ro = (MGKG.increases, RO_POSITIVE) if sign > 0 else (MGKG.decreases, RO_NEGATIVE)
        opposite = MGKG.decreases if sign > 0 else MGKG.increases
        assert (cause, signed, effect) in small_inferred
        assert (cause, ro, effect) in small_inferred
        assert (cause, opposite, effect) not in small_inferred


def test_polarity_and_link_classes_are_derived(small: AssertedGraph, small_inferred: Graph) -> None:
    for link, _cause, _effect, sign in signed_links(small.graph):
        polarity, kind = (
            (MGKG.increase, MGKG.PositiveCausalLink) if sign > 0 else (MGKG.decrease, MGKG.NegativeCausalLink)
        )
        assert set(small_inferred.objects(link, MGKG.polarity)) == {polarity}
        assert (link, RDF.type, kind) in small_inferred


def test_upstream_is_transitive_and_directed(small_inferred: Graph) -> None:
    start, finding, island = MGKGID["fx-a"], MGKGID["fx-d"], MGKGID["fx-island"]
    assert (start, MGKG.causallyUpstreamOf, finding) in small_inferred
    assert (start, RO_UPSTREAM, finding) in small_inferred
    assert (start, MGKG.causes, finding) not in small_inferred  # no link a -> d: no one-hop shortcut
    assert (finding, MGKG.causallyUpstreamOf, start) not in small_inferred
    assert not set(small_inferred.triples((start, MGKG.causallyUpstreamOf, island)))


def test_superclasses_inverses_and_states(small_inferred: Graph) -> None:
    receptor = MGKGID["fx-entity"]
    for cls in (MGKG.Protein, MGKG.Entity, MGKG.Node):
        assert (receptor, RDF.type, cls) in small_inferred
    assert (MGKGID["fx-d"], RDF.type, MGKG.State) in small_inferred
    assert (MGKG.Receptor, RDFS.subClassOf, MGKG.Node) in small_inferred
    assert (receptor, MGKG.hasState, MGKGID["fx-b"]) in small_inferred
    assert (MGKGID["fx-a"], MGKG.causeOf, MGKGID["fx-link-ab"]) in small_inferred


def test_axiomatic_noise_is_dropped(small_inferred: Graph) -> None:
    for s, p, o in small_inferred:
        assert not isinstance(s, Literal)
        assert not isinstance(s, BNode)
        assert not isinstance(o, BNode)
        assert not (p in (OWL.sameAs, OWL.equivalentClass, RDFS.subClassOf) and s == o)
        assert OWL.Thing not in (s, o)
        assert RDFS.Resource not in (s, o)
        assert not str(s).startswith(("http://www.w3.org/2001/XMLSchema#", str(OWL)))


# --- justify ------------------------------------------------------------------------------------


def assert_connected(answer: Justification) -> None:
    for chain in answer.chains:
        assert chain.links[0].cause.iri == answer.subject.iri
        assert chain.links[-1].effect.iri == answer.object.iri
        for before, after in zip(chain.links, chain.links[1:], strict=False):
            assert before.effect.iri == after.cause.iri
        net = 1
        for link in chain.links:
            net *= link.sign
        assert chain.net_sign == net


def test_justify_upstream_gives_every_chain_with_parallel_links(
    small: AssertedGraph, small_inferred: Graph
) -> None:
    answer = justify((small.graph, small_inferred), "fx-a", "causallyUpstreamOf", "fx-d")
    assert_connected(answer)
    assert not answer.asserted
    middle = {chain.links[1].curie for chain in answer.chains}
    assert middle == {"mgkgid:fx-link-bc", "mgkgid:fx-link-bc-parallel"}
    assert all(len(chain.links) == 3 for chain in answer.chains)


def test_justify_carries_citations_with_section_and_document(
    small: AssertedGraph, small_inferred: Graph
) -> None:
    answer = justify((small.graph, small_inferred), "fx-b", "mgkg:increases", "fx-c")
    cited = {
        (c.identifier, c.section, c.document) for chain in answer.chains for c in chain.links[0].citations
    }
    assert ("fixture:2", "Section two", "A fixture document") in cited
    assert all(chain.links[0].polarity == "increases" for chain in answer.chains)


@pytest.mark.parametrize(
    "subject",
    ["fx-a", "mgkgid:fx-a", "https://w3id.org/mgkg/id/fx-a", "fixture start"],
)
@pytest.mark.parametrize("predicate", ["decreases", "mgkg:decreases", str(MGKG.decreases), "RO:0002305"])
def test_justify_accepts_local_ids_curies_iris_and_labels(
    small: AssertedGraph, small_inferred: Graph, subject: str, predicate: str
) -> None:
    answer = justify((small.graph, small_inferred), subject, predicate, "fx-b")
    assert [[link.curie for link in chain.links] for chain in answer.chains] == [["mgkgid:fx-link-ab"]]
    assert answer.chains[0].net_polarity == "decreases"


@pytest.mark.parametrize(
    ("subject", "predicate", "obj"),
    [
        ("fx-a", "increases", "fx-b"),  # wrong sign
        ("fx-d", "causallyUpstreamOf", "fx-a"),  # wrong direction
        ("fx-a", "causes", "fx-d"),  # a chain, not one link
        ("fx-a", "RO:0002304", "fx-d"),  # RO signed relations are not transitive
        ("fx-a", "causallyUpstreamOf", "fx-island"),
    ],
)
def test_justify_refuses_what_is_not_entailed(
    small: AssertedGraph, small_inferred: Graph, subject: str, predicate: str, obj: str
) -> None:
    with pytest.raises(NotEntailedError, match="not entailed"):
        justify((small.graph, small_inferred), subject, predicate, obj)


@pytest.mark.parametrize(("subject", "predicate"), [("fx-nowhere", "causes"), ("fx-a", "rdfs:label")])
def test_justify_names_unknown_names(
    small: AssertedGraph, small_inferred: Graph, subject: str, predicate: str
) -> None:
    with pytest.raises(UnknownNodeError):
        justify((small.graph, small_inferred), subject, predicate, "fx-b")


# --- the cache ----------------------------------------------------------------------------------


@pytest.fixture
def sources_copy(tmp_path: Path, fixture_sources: list[Path]) -> list[Path]:
    folder = tmp_path / "sources"
    folder.mkdir()
    return [Path(shutil.copy(path, folder / path.name)) for path in fixture_sources]


def refuse_reasoning(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("owlrl was called on a cache hit")

    monkeypatch.setattr(owlrl, "DeductiveClosure", boom)


def test_second_load_is_a_hit_without_reasoning(
    sources_copy: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    first, info = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert not info.hit
    assert info.state == "miss"
    assert info.written
    assert info.path is not None
    assert info.path.is_file()
    assert info.path.parent == cache_dir
    assert info.triples == len(first)
    refuse_reasoning(monkeypatch)
    second, again = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert again.hit
    assert again.state == "hit"
    assert again.key == info.key
    assert again.path == info.path
    assert set(second) == set(first)
    assert [p.name for p in cache_dir.iterdir()] == [info.path.name]  # no temp file left behind


def test_changing_any_input_invalidates_the_cache(
    sources_copy: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    _, first = load_or_materialize(load_asserted(sources_copy), cache_dir)
    with sources_copy[-1].open("a", encoding="utf-8") as facts:
        facts.write('\n# a harmless addition\nmgkgid:fx-island rdfs:comment "changed"@en .\n')
    graph, second = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert not second.hit
    assert second.key != first.key
    assert (MGKGID["fx-a"], MGKG.causallyUpstreamOf, MGKGID["fx-d"]) in graph
    refuse_reasoning(monkeypatch)
    _, third = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert third.hit
    assert third.key == second.key


@pytest.mark.parametrize("damage", ["truncate", "garbage", "edit"])
def test_a_corrupt_cache_file_is_rebuilt_with_a_warning(
    sources_copy: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    cache_dir = tmp_path / "cache"
    good, info = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert info.path is not None
    data = info.path.read_bytes()
    broken = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00\xff not n-triples",
        "edit": data.replace(b"causallyUpstreamOf", b"causallyDownstreamOf", 1),
    }[damage]
    info.path.write_bytes(broken)
    with caplog.at_level(logging.WARNING, logger="kg.graph.reasoning"):
        rebuilt, again = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert not again.hit
    assert again.written
    assert any("corrupt" in record.getMessage() for record in caplog.records)
    assert set(rebuilt) == set(good)
    assert info.path.read_bytes() == data


def test_cache_dir_defaults_to_the_user_cache_folder(
    sources_copy: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MGKG_CACHE_DIR is the caller's setting (api Settings, the CLI): reasoning reads no MGKG_ variable
    monkeypatch.setenv("MGKG_CACHE_DIR", str(tmp_path / "ignored-here"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # where platformdirs puts the user cache
    assert default_cache_dir() == tmp_path / "xdg" / "mgkg"
    _, info = load_or_materialize(load_asserted(sources_copy), None)
    assert info.path is not None
    assert info.path.parent == tmp_path / "xdg" / "mgkg"
    assert info.path.is_file()
    assert not (tmp_path / "ignored-here").exists()


def test_the_cache_is_keyed_by_engine(
    sources_copy: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    slow, first = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="owlrl")
    refuse_reasoning(monkeypatch)  # the fast engine must not call owlrl
    fast, second = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="fast")
    assert not second.hit
    assert (first.engine, second.engine) == ("owlrl", "fast")
    assert second.key != first.key
    assert set(fast) == set(slow)
    monkeypatch.setenv("MGKG_REASONER", "fast")  # the caller's setting: not read here
    _, third = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="fast")
    assert third.hit
    assert third.key == second.key
    _, fourth = load_or_materialize(load_asserted(sources_copy), cache_dir)
    assert fourth.hit
    assert (fourth.engine, fourth.key) == ("owlrl", first.key)  # no engine named: owlrl
    with pytest.raises(ValueError, match="Unknown inference engine"):
        load_or_materialize(load_asserted(sources_copy), cache_dir, engine="hermit")


def test_a_miss_says_why_at_debug_level(
    sources_copy: list[Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir = tmp_path / "cache"
    with caplog.at_level(logging.DEBUG, logger="kg.graph.reasoning"):
        _, first = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="fast")
        _, second = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="fast")
        _, third = load_or_materialize(load_asserted(sources_copy), cache_dir, engine="owlrl")
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert (first.state, second.state, third.state) == ("miss", "hit", "miss")
    assert any("inference cache miss" in m and "stale" not in m for m in messages)
    assert any("inference cache hit" in m and str(second.path) in m for m in messages)
    assert first.path is not None
    assert any("stale" in m and first.path.name in m and "engine owlrl" in m for m in messages)
