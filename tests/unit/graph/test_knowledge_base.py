"""The shipped knowledge base: source coverage, mechanism chains, identifiers, ontology metadata, stats."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from math import prod
from pathlib import Path

import networkx as nx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

import kg
from kg import AssertedGraph, compute_stats, load_asserted
from kg.graph.stats import find_markers
from kg.model.resources import facts_dir, ontology_file
from kg.model.vocab import (
    DCTERMS,
    ECO_CURATOR_INFERENCE,
    EFFECT_SIGNS,
    MGKG,
    MGKGID,
    SKOS,
    from_curie,
    to_curie,
)
from tests.conftest import REPO

SHARED = REPO.parent / "shared"
CHAPTER_FILE = "000_342be3fe82f1dde7.txt"
MARKER = re.compile(r"\[@problem_id:(\d+)\]")
MAPPINGS = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)


def shared_file(*parts: str) -> Path:
    """A file of the project's shared folder (beside the repository); under CI its absence is a failure."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI needs the shared sources and reference files")
        pytest.skip(f"{path} is not available outside the project workspace")
    return path


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of an identifiers TSV, skipping '#' comment lines."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


@dataclass(frozen=True)
class Link:
    iri: URIRef
    cause: URIRef
    effect: URIRef
    sign: int
    mechanisms: frozenset[URIRef]
    severities: frozenset[URIRef]


@pytest.fixture(scope="module")
def asserted() -> AssertedGraph:
    return load_asserted()


@pytest.fixture(scope="module")
def graph(asserted: AssertedGraph) -> Graph:
    return asserted.graph


@pytest.fixture(scope="module")
def links(graph: Graph) -> list[Link]:
    found = []
    for link in graph.subjects(RDF.type, MGKG.CausalLink):
        assert isinstance(link, URIRef)
        signed = [(e, sign) for p, sign in EFFECT_SIGNS.items() for e in graph.objects(link, p)]
        assert len(signed) == 1, link
        cause, (effect, sign) = graph.value(link, MGKG.cause), signed[0]
        assert isinstance(cause, URIRef)
        assert isinstance(effect, URIRef)
        found.append(
            Link(
                iri=link,
                cause=cause,
                effect=effect,
                sign=sign,
                mechanisms=frozenset(m for m in graph.objects(link, MGKG.mechanism) if isinstance(m, URIRef)),
                severities=frozenset(s for s in graph.objects(link, MGKG.severity) if isinstance(s, URIRef)),
            )
        )
    return found


def link_graph(links: list[Link], mechanisms: set[URIRef] | None = None) -> nx.MultiDiGraph:
    """The asserted causal links as a directed multigraph, optionally only those of some mechanisms."""
    network = nx.MultiDiGraph()
    for link in links:
        if mechanisms is None or link.mechanisms & mechanisms:
            network.add_edge(link.cause, link.effect, key=link.iri, sign=link.sign)
    return network


def cited_identifiers(graph: Graph, links: list[Link]) -> set[str]:
    return {
        str(identifier)
        for link in links
        for citation in graph.objects(link.iri, MGKG.citation)
        for identifier in graph.objects(citation, DCTERMS.identifier)
    }


# --- sources --------------------------------------------------------------------------------------------


def test_every_chapter_marker_is_cited_by_a_link(graph: Graph, links: list[Link]) -> None:
    text = shared_file("sources", CHAPTER_FILE).read_text(encoding="utf-8")
    markers = {f"problem:{number}" for number in MARKER.findall(text)}
    assert len(markers) >= 10
    assert markers - cited_identifiers(graph, links) == set()


def test_the_article_is_cited(graph: Graph, links: list[Link]) -> None:
    assert "droracle-2025" in cited_identifiers(graph, links)
    article = MGKGID["doc-droracle-hypocalcemia"]
    citing = {
        link.iri
        for link in links
        for c in graph.objects(link.iri, MGKG.citation)
        if graph.value(c, MGKG.sourceDocument) == article
    }
    assert citing


def test_chapter_citations_point_into_the_chapter(graph: Graph) -> None:
    chapter = MGKGID["doc-chapter-hypomagnesemia"]
    for citation, identifier in graph.subject_objects(DCTERMS.identifier):
        if str(identifier).startswith("problem:"):
            assert graph.value(citation, MGKG.sourceDocument) == chapter, citation
            assert graph.value(citation, MGKG.section) is not None, citation


def test_curator_inference_is_said_in_the_summary(graph: Graph, links: list[Link]) -> None:
    inferred = [link.iri for link in links if (link.iri, MGKG.evidenceType, ECO_CURATOR_INFERENCE) in graph]
    assert inferred, "the graph has bridging links; at least one should be marked as curator inference"
    for link in inferred:
        assert "Curator inference" in str(graph.value(link, MGKG.evidenceSummary)), link


# --- mechanisms -----------------------------------------------------------------------------------------


def test_every_mechanism_is_a_connected_chain(graph: Graph, links: list[Link]) -> None:
    mechanisms = set(graph.subjects(RDF.type, MGKG.Mechanism))
    assert len(mechanisms) >= 12
    for mechanism in mechanisms:
        assert isinstance(mechanism, URIRef)
        network = link_graph(links, {mechanism})
        assert network.number_of_edges() >= 1, f"{mechanism} has no links"
        assert nx.is_weakly_connected(network), f"{mechanism}'s links fall apart"


def waypoints_in_order(network: nx.MultiDiGraph, nodes: list[URIRef]) -> bool:
    return all(a in network and b in network and nx.has_path(network, a, b) for a, b in pairwise(nodes))


def signs_of_paths(network: nx.MultiDiGraph, source: URIRef, target: URIRef) -> Iterator[int]:
    for path in nx.all_simple_edge_paths(network, source, target):
        yield prod(network.edges[edge]["sign"] for edge in path)


CHAINS = [
    # mechanism, the chain from hypomagnesemia to the finding, in order
    (
        "mech-pth-secretion",
        [
            "mg_atp",
            "adenylate_cyclase_activity",
            "camp",
            "pth_secretion",
            "functional_hypoparathyroidism",
            "hypocalcemia",
        ],
    ),
    ("mech-pth-resistance", ["mg_atp", "adenylate_cyclase_activity", "pth1r_uncoupling", "hypocalcemia"]),
    ("mech-vitamin-d", ["vitamin_d_activation", "calcitriol", "hypocalcemia"]),
    ("mech-romk", ["intracellular_mg", "romk_mg_block_loss", "hypokalemia"]),
    ("mech-nmda", ["extracellular_mg", "nmda_mg_block_loss", "seizure"]),
    ("mech-nmda", ["extracellular_mg", "nmda_mg_block_loss", "tetany"]),
    ("mech-nmda", ["extracellular_mg", "nmda_mg_block_loss", "tremor"]),
]


@pytest.mark.parametrize(("mechanism", "chain"), CHAINS)
def test_named_chain_exists(links: list[Link], mechanism: str, chain: list[str]) -> None:
    network = link_graph(links, {MGKGID[mechanism], MGKGID["mech-mg-atp"]})
    nodes = [MGKGID["hypomagnesemia"], *(MGKGID[n] for n in chain)]
    assert waypoints_in_order(network, nodes), f"no chain {' -> '.join(chain)} in {mechanism}"
    # a finding's direction: every route from hypomagnesemia raises the finding (net sign +1)
    signs = list(signs_of_paths(network, nodes[0], nodes[-1]))
    assert signs
    assert set(signs) == {+1}


@pytest.mark.parametrize(
    ("state", "entity"),
    [("romk_mg_block_loss", "romk"), ("nmda_mg_block_loss", "nmda_receptor"), ("pth1r_uncoupling", "pth1r")],
)
def test_chain_states_are_about_the_named_entity(graph: Graph, state: str, entity: str) -> None:
    assert (MGKGID[state], MGKG.about, MGKGID[entity]) in graph


def test_biphasic_pth_links_carry_severity(links: list[Link]) -> None:
    to_secretion = [
        link
        for link in links
        if link.cause == MGKGID["hypomagnesemia"] and link.effect == MGKGID["pth_secretion"]
    ]
    assert any(link.sign == +1 and link.severities == {MGKG.mild} for link in to_secretion)
    assert any(link.sign == -1 and link.severities == {MGKG.severe} for link in to_secretion)


# --- identifiers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "entity_key", "curie"),
    [
        ("mg_atp", "mg_atp", "CHEBI:30617"),
        ("adenylate_cyclase_activity", "adenylate_cyclase_activity", "GO:0004016"),
        ("pth1r", "PTH1R", "HGNC:9608"),
        ("romk", "KCNJ1", "HGNC:6255"),
        ("nmda_receptor", "nmda_receptor_complex", "GO:0017146"),
    ],
)
def test_named_entities_map_to_their_identifiers(
    graph: Graph, node: str, entity_key: str, curie: str
) -> None:
    rows = [r for r in read_tsv(shared_file("reference", "identifiers.tsv")) if r["entity_key"] == entity_key]
    assert len(rows) == 1
    assert rows[0]["curie"] == curie
    assert rows[0]["status"] == "VERIFIED"
    mapped = {
        to_curie(str(o)) for p in (SKOS.exactMatch, SKOS.closeMatch) for o in graph.objects(MGKGID[node], p)
    }
    assert rows[0]["curie"] in mapped
    assert from_curie(rows[0]["curie"]) is not None


def test_every_mapping_is_a_verified_identifier() -> None:
    verified = {
        row["curie"]
        for path in (shared_file("reference", "identifiers.tsv"), REPO / "ontology" / "identifiers-extra.tsv")
        for row in read_tsv(path)
        if row["status"] == "VERIFIED"
    }
    facts = load_asserted(sorted(facts_dir().glob("*.ttl"))).graph
    mappings = [(s, o) for p in MAPPINGS for s, o in facts.subject_objects(p)]
    assert len(mappings) >= 30
    unverified = [(s, to_curie(str(o)) or str(o)) for s, o in mappings if to_curie(str(o)) not in verified]
    assert unverified == []


# --- ontology metadata ----------------------------------------------------------------------------------


def test_ontology_header() -> None:
    ontology = Graph().parse(ontology_file())
    (header,) = ontology.subjects(RDF.type, OWL.Ontology)
    version_iri = ontology.value(header, OWL.versionIRI)
    assert version_iri is not None
    assert kg.VERSION in str(version_iri)
    assert (header, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in ontology
    assert ontology.value(header, DCTERMS.source) is not None


def test_every_ontology_term_has_label_and_definition() -> None:
    ontology = Graph().parse(ontology_file())
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {t for kind in kinds for t in ontology.subjects(RDF.type, kind) if str(t).startswith(str(MGKG))}
    assert len(terms) >= 40
    missing = sorted(
        (str(t), what)
        for t in terms
        for what, predicate in (("label", RDFS.label), ("definition", SKOS.definition))
        if not isinstance(ontology.value(t, predicate), Literal)
    )
    assert missing == []


# --- stats ----------------------------------------------------------------------------------------------


def test_stats_count_what_the_graph_holds(asserted: AssertedGraph, links: list[Link]) -> None:
    stats = compute_stats(asserted, sources_dir=shared_file("sources", CHAPTER_FILE).parent)
    assert stats.links == len(links)
    assert stats.links_by_polarity == {
        "positive": sum(1 for link in links if link.sign == +1),
        "negative": sum(1 for link in links if link.sign == -1),
    }
    assert stats.mechanisms == len(set(asserted.graph.subjects(RDF.type, MGKG.Mechanism)))
    assert set(stats.links_by_mechanism) == {to_curie(str(m)) for link in links for m in link.mechanisms}
    assert sum(stats.links_by_mechanism.values()) == sum(len(link.mechanisms) for link in links)
    assert stats.nodes_by_kind["mgkg:ClinicalFinding"] == len(
        set(asserted.graph.subjects(RDF.type, MGKG.ClinicalFinding))
    )
    assert stats.cited_markers == sorted(cited_identifiers(asserted.graph, links))


def test_stats_list_chapter_markers_and_none_uncited(asserted: AssertedGraph) -> None:
    chapter = shared_file("sources", CHAPTER_FILE)
    stats = compute_stats(asserted, sources_dir=chapter.parent)
    expected = sorted({f"problem:{n}" for n in MARKER.findall(chapter.read_text(encoding="utf-8"))})
    assert stats.chapter_markers == expected
    assert stats.uncited_markers == []


def test_stats_report_an_uncited_marker(asserted: AssertedGraph, tmp_path: Path) -> None:
    text = shared_file("sources", CHAPTER_FILE).read_text(encoding="utf-8")
    (tmp_path / CHAPTER_FILE).write_text(text + "\nA new claim [@problem_id:1234567].\n", encoding="utf-8")
    stats = compute_stats(asserted, sources_dir=tmp_path)
    assert stats.uncited_markers == ["problem:1234567"]


def test_stats_without_source_texts(asserted: AssertedGraph, tmp_path: Path) -> None:
    stats = compute_stats(asserted, sources_dir=tmp_path)
    assert stats.chapter_markers is None
    assert stats.uncited_markers is None
    assert find_markers("no markers here") == []
