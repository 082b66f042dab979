"""KGX export: the Biolink view's nodes and edges as KGX TSV or JSON Lines (what KG-Hub and ROBOKOP merge)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from typing import Final, Literal

from kg.translator.view import INFORES, BiolinkEdge, BiolinkNode, BiolinkView

KgxFormat = Literal["tsv", "jsonl"]
"""The two KGX serialisations mgkg writes."""

NODE_COLUMNS: Final = ("id", "category", "name", "xref", "provided_by")
"""KGX node columns: id and category are required; xref holds mgkg's own and every mapped CURIE."""
QUALIFIERS: Final = (
    "qualified_predicate",
    "subject_aspect_qualifier",
    "subject_direction_qualifier",
    "object_aspect_qualifier",
    "object_direction_qualifier",
    "anatomical_context_qualifier",
)
EDGE_COLUMNS: Final = (
    "id",
    "subject",
    "predicate",
    "object",
    *QUALIFIERS,
    "knowledge_level",
    "agent_type",
    "primary_knowledge_source",
    "publications",
    "has_evidence",
    "supporting_text",
)
"""KGX edge columns: subject, predicate, object, knowledge_level, agent_type, primary_knowledge_source are
required; the qualifiers are Biolink's own slots; publications holds publication CURIEs (mgkg's citations
are source texts without one, so it is mostly empty and supporting_text carries the curators' paraphrase)."""
MULTIVALUED: Final = frozenset({"category", "xref", "provided_by", "publications", "has_evidence"})
"""Columns that hold lists: '|'-joined in TSV, arrays in JSON Lines (the KGX convention)."""


def node_record(node: BiolinkNode) -> dict[str, str | list[str]]:
    """One KGX node record."""
    return {
        "id": node.id,
        "category": list(node.categories),
        "name": node.name,
        "xref": [c for c in (*node.equivalents, *node.close) if c != node.id],
        "provided_by": [INFORES],
    }


def edge_record(edge: BiolinkEdge) -> dict[str, str | list[str]]:
    """One KGX edge record (an asserted causal link, stated with its cause going up)."""
    record: dict[str, str | list[str]] = {
        "id": edge.id,
        "subject": edge.subject,
        "predicate": edge.predicate,
        "object": edge.object,
    }
    qualifiers = {q.type_id.removeprefix("biolink:"): q.value for q in edge.qualifiers}
    for name in QUALIFIERS:
        record[name] = qualifiers.get(name, "")
    record.update(
        knowledge_level=edge.knowledge_level,
        agent_type=edge.agent_type,
        primary_knowledge_source=INFORES,
        publications=list(edge.publications),
        has_evidence=list(edge.evidence_types),
        supporting_text=edge.supporting_text,
    )
    return record


def nodes_of(view: BiolinkView) -> list[dict[str, str | list[str]]]:
    """Every node record, by id."""
    return [node_record(view.nodes[key]) for key in sorted(view.nodes)]


def edges_of(view: BiolinkView) -> list[dict[str, str | list[str]]]:
    """Every edge record, by id."""
    return [edge_record(view.edges[key]) for key in sorted(view.edges)]


def serialize(records: Sequence[dict[str, str | list[str]]], columns: Sequence[str], fmt: KgxFormat) -> str:
    """Records as KGX TSV (a header row, lists '|'-joined) or JSON Lines (empty values left out).

    >>> serialize([{"id": "HP:1", "category": ["biolink:PhenotypicFeature"]}], ("id", "category"), "tsv")
    'id\\tcategory\\nHP:1\\tbiolink:PhenotypicFeature\\n'
    """
    if fmt == "jsonl":
        return "".join(
            json.dumps({k: v for k, v in r.items() if v}, ensure_ascii=False) + "\n" for r in records
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for record in records:
        row = record.get
        writer.writerow(
            "|".join(value) if isinstance(value := row(column, ""), list) else value for column in columns
        )
    return out.getvalue()


def export_kgx(view: BiolinkView, fmt: KgxFormat) -> tuple[str, str]:
    """The (nodes, edges) files' text in ``fmt``."""
    return serialize(nodes_of(view), NODE_COLUMNS, fmt), serialize(edges_of(view), EDGE_COLUMNS, fmt)


def archive_kgx(view: BiolinkView, fmt: KgxFormat) -> bytes:
    """Both files in one gzipped tar, ``mgkg_nodes.<fmt>`` and ``mgkg_edges.<fmt>``, the same bytes each time.

    KGX reads a TSV pair straight from such an archive (``kgx transform -i tsv -c tar.gz``); it tells the
    nodes file from the edges file by the ``nodes`` and ``edges`` in their names.
    """
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for part, text in zip(("nodes", "edges"), export_kgx(view, fmt), strict=True):
            data = text.encode("utf-8")
            member = tarfile.TarInfo(f"mgkg_{part}.{fmt}")
            member.size, member.mode = len(data), 0o644
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
