"""The Biolink mapping (ontology/biolink.ttl) holds against the Biolink model, read offline with bmt."""

from __future__ import annotations

import pytest
from rdflib import RDFS, Graph

from kg.graph.knowledge import KnowledgeGraph
from kg.model.resources import ontology_file
from kg.model.vocab import MGKG
from kg.translator.biolink import BiolinkMapping, load_mapping, toolkit
from kg.translator.view import biolink_view

ASPECTS = "GeneOrGeneProductOrChemicalEntityAspectEnum"
DIRECTIONS = "DirectionQualifierEnum"


@pytest.fixture(scope="module")
def mapping() -> BiolinkMapping:
    return load_mapping()


def _concrete(curie: str) -> bool:
    element = toolkit().get_element(curie)
    return element is not None and not element.abstract and not element.mixin and not element.deprecated


def test_every_category_is_a_concrete_biolink_class(mapping: BiolinkMapping) -> None:
    for category in mapping.categories():
        assert toolkit().is_category(category), category
        assert _concrete(category), category


def test_every_node_kind_of_the_ontology_is_mapped(mapping: BiolinkMapping) -> None:
    tbox = Graph().parse(ontology_file())
    kinds = {str(c).removeprefix(str(MGKG)) for c in tbox.transitive_subjects(RDFS.subClassOf, MGKG.Node)}
    assert kinds - set(mapping.kinds) == set()


def test_predicates_qualifiers_and_values_are_biolink(mapping: BiolinkMapping) -> None:
    tk = toolkit()
    for predicate in (mapping.predicate, mapping.qualified_predicate, mapping.occurrence_predicate):
        assert tk.is_predicate(predicate), predicate
        assert _concrete(predicate), predicate
    for qualifier in (*mapping.context_qualifiers.values(), "biolink:qualified_predicate"):
        assert tk.is_qualifier(qualifier), qualifier
    for kind in mapping.kinds.values():
        if kind.aspect is not None:
            assert tk.is_permissible_value_of_enum(ASPECTS, kind.aspect), kind.aspect
    for direction in mapping.directions.values():
        assert tk.is_permissible_value_of_enum(DIRECTIONS, direction), direction


def test_every_edge_qualifier_is_a_biolink_qualifier(knowledge_graph: KnowledgeGraph) -> None:
    view = biolink_view(knowledge_graph)
    tk = toolkit()
    seen = {q.type_id for edge in view.edges.values() for q in edge.qualifiers}
    assert "biolink:object_direction_qualifier" in seen
    for type_id in seen:
        assert tk.is_qualifier(type_id), type_id


def test_lower_mg_atp_decreases_adenylate_cyclase_activity(knowledge_graph: KnowledgeGraph) -> None:
    """The link Mg-ATP -> adenylate cyclase activity, as a path from hypomagnesemia states it."""
    view = biolink_view(knowledge_graph)
    mg_atp, cyclase = view.resolve("mgkgid:mg_atp"), view.resolve("mgkgid:adenylate_cyclase_activity")
    assert mg_atp is not None
    assert cyclase is not None
    (asserted,) = [e for e in view.edges_from(mg_atp) if e.object == cyclase.id]
    assert asserted.sign == 1
    down = view.directed(asserted.id, -1)
    qualifiers = {q.type_id: q.value for q in down.qualifiers}
    assert down.predicate == "biolink:affects"
    assert qualifiers["biolink:qualified_predicate"] == "biolink:causes"
    assert qualifiers["biolink:subject_aspect_qualifier"] == "abundance"
    assert qualifiers["biolink:subject_direction_qualifier"] == "decreased"
    assert qualifiers["biolink:object_direction_qualifier"] == "decreased"
    up = {q.type_id: q.value for q in asserted.qualifiers}
    assert up["biolink:object_direction_qualifier"] == "increased"


def test_finding_to_finding_is_plain_causes(knowledge_graph: KnowledgeGraph) -> None:
    view = biolink_view(knowledge_graph)
    source = view.resolve("HP:0002917")
    assert source is not None
    assert source.mgkg_id == "mgkgid:hypomagnesemia"
    plain = [e for e in view.edges_from(source) if e.predicate == "biolink:causes"]
    assert plain
    for edge in plain:
        assert not any("direction" in q.type_id or "aspect" in q.type_id for q in edge.qualifiers)
