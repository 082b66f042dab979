"""The KGX and SSSOM exports: KGX checked against the Biolink model (bmt), SSSOM validated with sssom-py."""

from __future__ import annotations

import csv
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
from rdflib import URIRef

from kg.causal.network import network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import MGKGID
from kg.translator.biolink import toolkit
from kg.translator.kgx import EDGE_COLUMNS, MULTIVALUED, NODE_COLUMNS, export_kgx
from kg.translator.sssom import PREDICATES, export_sssom
from kg.translator.view import biolink_view

KGX_REQUIRED_EDGE = {"primary_knowledge_source"}
"""What the KGX format requires of an edge beyond the Biolink model's required slots of an association."""


def _required(cls: str) -> set[str]:
    """The slots the Biolink model (through bmt) requires of ``cls``, as KGX column names."""
    view = toolkit().view
    return {s.replace(" ", "_") for s in view.class_slots(cls) if view.induced_slot(s, cls).required}


def _tsv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_kgx_tsv_holds_against_the_biolink_model(knowledge_graph: KnowledgeGraph) -> None:
    """What `kgx validate` checks, with bmt: required columns, Biolink categories, predicates, qualifiers
    and enum values, and every edge's ends among the nodes."""
    nodes_text, edges_text = export_kgx(biolink_view(knowledge_graph), "tsv")
    nodes, edges = _tsv(nodes_text), _tsv(edges_text)
    tk = toolkit()
    assert set(nodes[0]) >= _required("named thing")
    assert set(edges[0]) >= _required("association") | KGX_REQUIRED_EDGE
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == network_of(knowledge_graph).graph.number_of_nodes()
    for node in nodes:
        for category in node["category"].split("|"):
            assert tk.is_category(category), category
    assert len(edges) == network_of(knowledge_graph).graph.number_of_edges()
    qualifier_columns = [c for c in EDGE_COLUMNS if c.endswith("qualifier") or c == "qualified_predicate"]
    for edge in edges:
        assert {edge["subject"], edge["object"]} <= set(ids)
        assert tk.is_predicate(edge["predicate"]), edge["predicate"]
        assert tk.is_permissible_value_of_enum("KnowledgeLevelEnum", edge["knowledge_level"])
        assert tk.is_permissible_value_of_enum("AgentTypeEnum", edge["agent_type"])
        assert edge["primary_knowledge_source"] == "infores:mgkg"
        for column in qualifier_columns:
            assert tk.is_qualifier(column), column
        if edge["qualified_predicate"]:
            assert tk.is_predicate(edge["qualified_predicate"])
        if edge["object_aspect_qualifier"]:
            assert tk.is_permissible_value_of_enum(
                "GeneOrGeneProductOrChemicalEntityAspectEnum", edge["object_aspect_qualifier"]
            )


def test_kgx_jsonl_says_what_the_tsv_says(knowledge_graph: KnowledgeGraph) -> None:
    view = biolink_view(knowledge_graph)
    tsv_nodes, tsv_edges = (_tsv(t) for t in export_kgx(view, "tsv"))
    json_nodes, json_edges = (
        [json.loads(line) for line in t.splitlines()] for t in export_kgx(view, "jsonl")
    )
    for tsv_rows, json_rows, columns in (
        (tsv_nodes, json_nodes, NODE_COLUMNS),
        (tsv_edges, json_edges, EDGE_COLUMNS),
    ):
        assert len(tsv_rows) == len(json_rows)
        for row, record in zip(tsv_rows, json_rows, strict=True):
            for column in columns:
                value = record.get(column, [] if column in MULTIVALUED else "")
                assert row[column] == ("|".join(value) if isinstance(value, list) else value)


def _sssom(path: Path) -> Any:
    with warnings.catch_warnings():
        # sssom's LinkML runtime warns at import about a patch it still applies on Python < 3.13
        warnings.simplefilter("ignore", DeprecationWarning)
        from sssom.constants import SchemaValidationType
        from sssom.parsers import parse_sssom_table
        from sssom.validators import validate

        mappings = parse_sssom_table(str(path))
        validate(mappings, [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness])
    return mappings


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_sssom_export_validates_with_sssom_py(knowledge_graph: KnowledgeGraph, tmp_path: Path) -> None:
    graph = knowledge_graph.asserted.graph
    path = tmp_path / "mgkg.sssom.tsv"
    path.write_text(export_sssom(graph), encoding="utf-8")
    mappings = _sssom(path)
    expected = [
        (s, o)
        for p in PREDICATES
        for s, o in graph.subject_objects(p)
        if isinstance(s, URIRef) and str(s).startswith(str(MGKGID))
    ]
    assert len(mappings.df) == len(expected)
    metadata = mappings.metadata
    assert metadata["mapping_set_id"].startswith("https://w3id.org/mgkg/")
    assert metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert set(mappings.df["mapping_justification"]) == {"semapv:ManualMappingCuration"}
    hypomagnesemia = mappings.df[mappings.df["subject_id"] == "mgkgid:hypomagnesemia"]
    pairs = set(zip(hypomagnesemia["predicate_id"], hypomagnesemia["object_id"], strict=True))
    assert ("skos:exactMatch", "HP:0002917") in pairs


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_sssom_missing_a_prefix_is_caught(
    knowledge_graph: KnowledgeGraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """sssom-py names the missing prefix in its error (before 0.4.21) or in the validation error it logs
    before raising (0.4.21 and later)."""
    text = export_sssom(knowledge_graph.asserted.graph)
    broken = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#  mgkgid:"))
    path = tmp_path / "broken.sssom.tsv"
    path.write_text(broken, encoding="utf-8")
    with caplog.at_level(logging.ERROR), pytest.raises(Exception, match=r"mgkgid|validation error") as caught:
        _sssom(path)
    assert "mgkgid" in str(caught.value) + caplog.text
