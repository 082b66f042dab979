"""SSSOM export: every skos:*Match mapping of mgkg's nodes as an SSSOM TSV with its mapping-set metadata."""

from __future__ import annotations

import csv
import io
from typing import Final

import yaml  # type: ignore[import-untyped]
from rdflib import RDFS, Graph, URIRef

from kg.model.vocab import MGKGID, SKOS, VERSION, get_converter, to_curie

MAPPING_SET_ID: Final = f"https://w3id.org/mgkg/releases/{VERSION}/mappings.sssom.tsv"
LICENSE: Final = "https://creativecommons.org/licenses/by/4.0/"
"""The graph's licence (the ontology's dcterms:license), which its mappings share."""
JUSTIFICATION: Final = "semapv:ManualMappingCuration"
"""Every mapping was curated by hand, each identifier checked against its source ontology
(shared/reference/identifiers.tsv, ontology/identifiers-extra.tsv)."""
PREDICATES: Final = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
COLUMNS: Final = ("subject_id", "subject_label", "predicate_id", "object_id", "mapping_justification")
_EXTRA_PREFIXES: Final = {"semapv": "https://w3id.org/semapv/vocab/"}


def mappings(graph: Graph) -> list[tuple[str, str, str, str]]:
    """(subject CURIE, subject label, predicate CURIE, object CURIE) of every mapping of an mgkg node."""
    rows: list[tuple[str, str, str, str]] = []
    for predicate in PREDICATES:
        for subject, obj in graph.subject_objects(predicate):
            if not isinstance(subject, URIRef) or not str(subject).startswith(str(MGKGID)):
                continue
            subject_curie, object_curie = to_curie(str(subject)), to_curie(str(obj))
            if subject_curie is None or object_curie is None:
                continue
            label = graph.value(subject, RDFS.label)
            rows.append(
                (subject_curie, str(label or ""), f"skos:{str(predicate).rsplit('#', 1)[1]}", object_curie)
            )
    return sorted(rows)


def export_sssom(graph: Graph) -> str:
    """The SSSOM TSV: a YAML metadata block (mapping set id, licence, curie map) then one row per mapping."""
    rows = mappings(graph)
    prefixes = sorted({curie.split(":", 1)[0] for row in rows for curie in (row[0], row[2], row[3])})
    converter = get_converter()
    curie_map = {p: converter.expand(f"{p}:") or "" for p in prefixes} | _EXTRA_PREFIXES
    metadata = {
        "mapping_set_id": MAPPING_SET_ID,
        "mapping_set_version": VERSION,
        "mapping_set_title": "mgkg node mappings to standard identifiers",
        "license": LICENSE,
        "curie_map": dict(sorted(curie_map.items())),
    }
    out = io.StringIO()
    out.writelines(f"#{line}\n" for line in yaml.safe_dump(metadata, sort_keys=False).splitlines())
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow((*row, JUSTIFICATION))
    return out.getvalue()
