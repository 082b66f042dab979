"""What each Biolink edge carries: its one source, knowledge level, agent, citations, evidence and context."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from kg.causal.network import build_network
from kg.graph.asserted import load_asserted
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import DCTERMS, MGKG, MGKGID
from kg.translator.elements import edge_json
from kg.translator.kgx import edge_record
from kg.translator.view import BiolinkView, biolink_view

PMID = "PMID:12345678"
PRIMARY = {"resource_id": "infores:mgkg", "resource_role": "primary_knowledge_source"}


def _attributes(edge: dict[str, Any]) -> dict[str, Any]:
    return {
        a.get("original_attribute_name") or a["attribute_type_id"]: a["value"] for a in edge["attributes"]
    }


@pytest.fixture(scope="module")
def cited_by_pmid() -> tuple[BiolinkView, str]:
    """The asserted graph with one more citation, a PubMed id, on one link (only in memory)."""
    graph = Graph()
    graph += load_asserted().graph
    link = next(iter(sorted(graph.subjects(RDF.type, MGKG.CausalLink), key=str)))
    assert isinstance(link, URIRef)
    citation = MGKGID["citation-test-pmid"]
    graph.add((citation, RDF.type, MGKG.Citation))
    graph.add((citation, RDFS.label, Literal("a PubMed citation")))
    graph.add((citation, DCTERMS.identifier, Literal(PMID)))
    graph.add((link, MGKG.citation, citation))
    return BiolinkView(build_network(graph), graph), f"mgkgid:{str(link).removeprefix(str(MGKGID))}"


def test_a_curie_citation_is_a_publication_and_the_others_stay_free_text(
    cited_by_pmid: tuple[BiolinkView, str],
) -> None:
    view, link = cited_by_pmid
    edge = view.edges[link]
    assert edge.publications == (PMID,)
    assert edge.citations
    assert all(PMID not in text for text in edge.citations)
    attributes = _attributes(edge_json(edge))
    assert attributes["biolink:publications"] == [PMID]
    assert attributes["mgkg:citation"] == list(edge.citations)
    assert edge_record(edge)["publications"] == [PMID]
    others = [e for key, e in view.edges.items() if key != link]
    assert all(not e.publications for e in others)


def test_every_edge_has_one_primary_source_level_agent_and_evidence(knowledge_graph: KnowledgeGraph) -> None:
    view = biolink_view(knowledge_graph)
    levels = set()
    for edge in view.edges.values():
        trapi = edge_json(edge)
        assert trapi["sources"] == [PRIMARY]
        attributes = _attributes(trapi)
        assert attributes["biolink:agent_type"] == "manual_agent"
        levels.add(attributes["biolink:knowledge_level"])
        assert attributes["biolink:has_evidence"] == list(edge.evidence_types)
        assert attributes["biolink:supporting_text"] == edge.supporting_text
        assert "mgkg:citation" in attributes or "biolink:publications" in attributes
        curated_inference = set(edge.evidence_types) == {"ECO:0000305"}
        assert attributes["biolink:knowledge_level"] == (
            "logical_entailment" if curated_inference else "knowledge_assertion"
        )
    assert levels == {"knowledge_assertion", "logical_entailment"}


def test_context_travels_as_qualifier_or_attributes(knowledge_graph: KnowledgeGraph) -> None:
    """One tissue is an anatomical_context_qualifier; several stay attributes; severity is an attribute."""
    view = biolink_view(knowledge_graph)
    one = [e for e in view.edges.values() if len(e.tissues) == 1]
    several = [e for e in view.edges.values() if len(e.tissues) > 1]
    severe = [e for e in view.edges.values() if e.severity]
    assert one
    assert several
    assert severe
    for edge in one:
        qualifiers = {q["qualifier_type_id"]: q["qualifier_value"] for q in edge_json(edge)["qualifiers"]}
        assert qualifiers["biolink:anatomical_context_qualifier"] == edge.tissues[0]
        assert edge_record(edge)["anatomical_context_qualifier"] == edge.tissues[0]
    for edge in several:
        trapi = edge_json(edge)
        qualifier_types = {q["qualifier_type_id"] for q in trapi["qualifiers"]}
        assert "biolink:anatomical_context_qualifier" not in qualifier_types
        assert _attributes(trapi)["mgkg:tissue"] == list(edge.tissues)
    for edge in severe:
        assert _attributes(edge_json(edge))["mgkg:severity"] == [edge.severity]
