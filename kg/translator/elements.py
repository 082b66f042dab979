"""TRAPI 1.6 elements: Biolink nodes and edges as TRAPI Nodes and Edges, and the meta knowledge graph."""

from __future__ import annotations

from typing import Any

from kg.translator.view import INFORES, BiolinkEdge, BiolinkNode, BiolinkView

JSON = dict[str, Any]
"""A JSON object, as TRAPI messages are built here (reasoner-pydantic checks them at the API)."""


def attribute(type_id: str, value: object, **extra: object) -> JSON:
    return {"attribute_type_id": type_id, "value": value, **extra}


def node_json(node: BiolinkNode) -> JSON:
    """A TRAPI Node: name, categories, and the equivalent and close identifiers as xrefs (when it has any)."""
    xrefs = [c for c in (*node.equivalents, *node.close) if c != node.id]
    return {
        "name": node.name,
        "categories": list(node.categories),
        "attributes": [attribute("biolink:xref", xrefs)] if xrefs else [],
    }


def edge_json(edge: BiolinkEdge) -> JSON:
    """A TRAPI Edge: predicate, qualifiers, one primary source, knowledge level, agent type, citations."""
    attributes: list[JSON] = [
        attribute("biolink:knowledge_level", edge.knowledge_level),
        attribute("biolink:agent_type", edge.agent_type),
    ]
    if edge.publications:
        attributes.append(attribute("biolink:publications", list(edge.publications)))
    if edge.evidence_types:
        attributes.append(attribute("biolink:has_evidence", list(edge.evidence_types)))
    if edge.supporting_text:
        attributes.append(attribute("biolink:supporting_text", edge.supporting_text))
    extra = (
        ("citation", list(edge.citations)),
        ("severity", [edge.severity] if edge.severity else []),
        ("tissue", list(edge.tissues)),
        ("condition", list(edge.conditions)),
        ("mechanism", list(edge.mechanisms)),
    )
    for name, values in extra:
        if values:
            attributes.append(
                attribute("biolink:has_attribute", values, original_attribute_name=f"mgkg:{name}")
            )
    return {
        "subject": edge.subject,
        "predicate": edge.predicate,
        "object": edge.object,
        "qualifiers": [{"qualifier_type_id": q.type_id, "qualifier_value": q.value} for q in edge.qualifiers],
        "sources": [{"resource_id": INFORES, "resource_role": "primary_knowledge_source"}],
        "attributes": attributes,
    }


def meta_knowledge_graph(view: BiolinkView) -> JSON:
    """The TRAPI MetaKnowledgeGraph: categories with id prefixes, each (category, predicate, category).

    The triples and qualifier values include the links stated with their subject going down, which a
    one-hop query gets by asking for ``subject_direction_qualifier: decreased``.
    """
    prefixes: dict[str, set[str]] = {}
    for node in view.nodes.values():
        for category in node.categories:
            prefixes.setdefault(category, set()).update(c.split(":", 1)[0] for c in node.equivalents)
    triples: dict[tuple[str, str, str], dict[str, set[str]]] = {}
    # a one-hop query asking for a subject going down is answered with the links stated that way too
    stated = [*view.edges.values(), *(view.directed(edge_id, -1) for edge_id in view.edges)]
    for edge in stated:
        for s in view.nodes[edge.subject].categories:
            for o in view.nodes[edge.object].categories:
                qualifiers = triples.setdefault((s, edge.predicate, o), {})
                for q in edge.qualifiers:
                    qualifiers.setdefault(q.type_id, set()).add(q.value)
    attributes = [
        {"attribute_type_id": t, "constraint_use": False}
        for t in ("biolink:knowledge_level", "biolink:agent_type", "biolink:supporting_text")
    ]
    return {
        "nodes": {c: {"id_prefixes": sorted(p)} for c, p in sorted(prefixes.items())},
        "edges": [
            {
                "subject": s,
                "predicate": p,
                "object": o,
                "knowledge_types": ["lookup"],
                "attributes": attributes,
                "qualifiers": [
                    {"qualifier_type_id": t, "applicable_values": sorted(v)} for t, v in sorted(q.items())
                ],
            }
            for (s, p, o), q in sorted(triples.items())
        ],
    }
