"""TRAPI 1.6 answers over the Biolink view: the meta knowledge graph, one-hop lookups and pathfinder queries.

Messages are plain JSON-able dicts (the API checks them against reasoner-pydantic's models); nothing here
imports api. Every edge has exactly one primary knowledge source, ``infores:mgkg`` (view.INFORES).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from kg.causal.why import explain
from kg.errors import MgkgError, UnknownNodeError
from kg.model.types import CausalPath, Explanation
from kg.model.vocab import VERSION
from kg.translator.biolink import biolink_version, descendants
from kg.translator.constraints import (
    UNSUPPORTED,
    check_qualifier_types,
    meets,
    qualifier_sets,
    unsupported,
    wants_decrease,
)
from kg.translator.elements import JSON, attribute, edge_json, node_json
from kg.translator.view import INFORES, BiolinkEdge, BiolinkNode, BiolinkView

log = logging.getLogger(__name__)

TRAPI_VERSION: Final = "1.6.0"
SCORING_METHOD: Final = (
    "mgkg rank score: (n - rank + 1) / n over the n sound paths found, rank being mgkg's own ranking"
    " (kg.causal.ranking: severity context matched, then fewer steps, then more source texts behind the"
    " least supported step, then more citations); higher is better, 1.0 is the best path."
)
CONSISTENCY_RULES: Final = (
    "Only sound paths are offered (kg.causal.consistency): every link in the same severity phase, no"
    " condition negated by a state on the path or by its start, no two states that exclude each other, no"
    " intervention credited with a state no source says it causes; a finding's paths must end in it"
    " occurring (net effect increases), the contradicting ones are left out and counted in the logs."
)


class TrapiQueryError(MgkgError):
    """A TRAPI query mgkg cannot answer as asked (its shape, not its content): the API answers 400.

    ``code`` is the TRAPI log code a client can branch on: ``UnsupportedConstraint`` for a constraint mgkg
    does not implement, ``QueryNotTraversable`` for a query graph of a shape it does not answer.
    """

    def __init__(self, message: str, code: str = "QueryNotTraversable") -> None:
        """Say what cannot be answered (``message``) and its TRAPI code."""
        super().__init__(message)
        self.code = code


def answer(view: BiolinkView, message: Mapping[str, Any]) -> JSON:
    """Answer a TRAPI message: a pathfinder query if its query graph has ``paths``, else a one-hop lookup."""
    query_graph = message.get("query_graph")
    if not isinstance(query_graph, Mapping):
        raise TrapiQueryError("the message has no query_graph")
    refused = unsupported(query_graph)
    if refused:
        log.debug("TRAPI query refused: unsupported %s", "; ".join(refused))
        raise TrapiQueryError(f"mgkg does not support {'; '.join(refused)}", code=UNSUPPORTED)
    body = _pathfinder(view, query_graph) if query_graph.get("paths") else _one_hop(view, query_graph)
    logs: list[tuple[str, str]] = body.pop("logs")
    now = datetime.now(UTC).isoformat()
    return {
        "message": {"query_graph": dict(query_graph), **body},
        "status": "Success",
        "description": f"mgkg {VERSION}: {len(body['results'])} results",
        "logs": [{"level": level, "message": line, "timestamp": now} for level, line in logs],
        "schema_version": TRAPI_VERSION,
        "biolink_version": biolink_version(),
    }


def _matches(node: BiolinkNode, qnode: Mapping[str, Any], view: BiolinkView) -> str | None:
    """Whether ``node`` fits the query node; the pinned CURIE it matched (or '' if unpinned), else None."""
    ids: Sequence[str] = qnode.get("ids") or ()
    if ids:
        for curie in ids:
            found = view.resolve(curie)
            if found is not None and found.id == node.id:
                return curie
        return None
    categories: Sequence[str] = qnode.get("categories") or ()
    if categories and not any(c in _expanded(categories) for c in node.categories):
        return None
    return ""


def _expanded(curies: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for curie in curies:
        out |= descendants(curie)
    return frozenset(out)


def _binding(node: BiolinkNode, pinned: str) -> list[JSON]:
    binding: JSON = {"id": node.id, "attributes": []}
    if pinned and pinned != node.id:
        binding["query_id"] = pinned
    return [binding]


def _one_hop(view: BiolinkView, query_graph: Mapping[str, Any]) -> JSON:
    nodes: Mapping[str, Mapping[str, Any]] = query_graph.get("nodes") or {}
    edges: Mapping[str, Mapping[str, Any]] = query_graph.get("edges") or {}
    if len(edges) != 1 or len(nodes) != 2:
        raise TrapiQueryError(
            f"mgkg answers one-hop queries (two nodes, one edge) and pathfinder queries; this query graph has"
            f" {len(nodes)} nodes and {len(edges)} edges"
        )
    ((qedge_id, qedge),) = edges.items()
    subject_key, object_key = str(qedge.get("subject")), str(qedge.get("object"))
    if subject_key not in nodes or object_key not in nodes:
        raise TrapiQueryError(f"edge {qedge_id} names a query node that is not in the query graph")
    for key in (subject_key, object_key):
        for curie in nodes[key].get("ids") or ():
            if view.resolve(curie) is None:
                log.debug("query node %s: %s names no mgkg node", key, curie)
    predicates = _expanded(qedge.get("predicates") or ("biolink:related_to",))
    sets = qualifier_sets(qedge)
    logs = [("WARNING", line) for line in check_qualifier_types(sets)]
    if qedge.get("knowledge_type") == "inferred":
        logs.append(("WARNING", "knowledge_type inferred: mgkg answers lookups only (asserted links)"))
    candidates: list[BiolinkEdge] = list(view.edges.values())
    if wants_decrease(sets):  # the same links stated with their subject going down, as on a path
        candidates += [view.directed(edge_id, -1) for edge_id in view.edges]
    kg_nodes: dict[str, JSON] = {}
    kg_edges: dict[str, JSON] = {}
    results: list[JSON] = []
    unqualified = 0
    for edge in candidates:
        if edge.predicate not in predicates:
            continue
        subject, obj = view.nodes[edge.subject], view.nodes[edge.object]
        s_pin, o_pin = _matches(subject, nodes[subject_key], view), _matches(obj, nodes[object_key], view)
        if s_pin is None or o_pin is None:
            continue
        if not meets(edge.qualifiers, sets):
            unqualified += 1
            continue
        kg_nodes[subject.id], kg_nodes[obj.id] = node_json(subject), node_json(obj)
        kg_edges[edge.id] = edge_json(edge)
        results.append(
            {
                "node_bindings": {subject_key: _binding(subject, s_pin), object_key: _binding(obj, o_pin)},
                "analyses": [
                    {"resource_id": INFORES, "edge_bindings": {qedge_id: [{"id": edge.id, "attributes": []}]}}
                ],
            }
        )
    log.debug(
        "one-hop query %s: %d edges match, %d fail its qualifier constraints",
        qedge_id,
        len(results),
        unqualified,
    )
    logs.append(
        ("INFO", f"one-hop lookup over mgkg's {len(view.edges)} asserted causal links: {len(results)} edges")
    )
    if sets:
        logs.append(
            (
                "INFO",
                f"qualifier_constraints on {qedge_id} honoured ({len(sets)} qualifier sets, any one"
                f" suffices): {unqualified} edges otherwise matching left out",
            )
        )
    return {
        "knowledge_graph": {"nodes": kg_nodes, "edges": kg_edges},
        "results": results,
        "auxiliary_graphs": {},
        "logs": logs,
    }


def _pinned(view: BiolinkView, nodes: Mapping[str, Mapping[str, Any]], key: str) -> tuple[BiolinkNode, str]:
    qnode = nodes.get(key)
    ids: Sequence[str] = (qnode or {}).get("ids") or ()
    if len(ids) != 1:
        raise TrapiQueryError(f"a pathfinder query pins both ends to one CURIE each; {key} has {len(ids)}")
    found = view.resolve(ids[0])
    if found is None:
        raise UnknownNodeError(ids[0], view.network.suggest(ids[0]), "node")
    return found, ids[0]


def _pathfinder(view: BiolinkView, query_graph: Mapping[str, Any]) -> JSON:
    paths: Mapping[str, Mapping[str, Any]] = query_graph["paths"]
    if len(paths) != 1:
        raise TrapiQueryError(f"a pathfinder query has exactly one path; this one has {len(paths)}")
    ((qpath_id, qpath),) = paths.items()
    nodes: Mapping[str, Mapping[str, Any]] = query_graph.get("nodes") or {}
    source, s_pin = _pinned(view, nodes, str(qpath.get("subject")))
    target, o_pin = _pinned(view, nodes, str(qpath.get("object")))
    explanation = explain(view.network, target.mgkg_id, source=source.mgkg_id)
    constraints = [c.get("intermediate_categories") or [] for c in qpath.get("constraints") or []]
    kept = [p for p in explanation.paths if _satisfies(view, p, constraints)]
    kg_nodes: dict[str, JSON] = {source.id: node_json(source), target.id: node_json(target)}
    kg_edges: dict[str, JSON] = {}
    aux: dict[str, JSON] = {}
    analyses: list[JSON] = []
    for path in kept:
        aux_id = f"mgkg-path-{path.rank}"
        aux[aux_id] = {
            "edges": _path_edges(view, path, kg_nodes, kg_edges),
            "attributes": _path_attributes(path),
        }
        analyses.append(
            {
                "resource_id": INFORES,
                "path_bindings": {qpath_id: [{"id": aux_id}]},
                "score": round((len(kept) - len(analyses)) / len(kept), 6),
                "scoring_method": SCORING_METHOD,
                "attributes": [
                    attribute(
                        "biolink:has_attribute",
                        CONSISTENCY_RULES,
                        original_attribute_name="mgkg:consistency_rules",
                    )
                ],
            }
        )
    results: list[JSON] = []
    if kept:
        inferred = _inferred_edge(view, source, target, list(aux))
        kg_edges[inferred[0]] = inferred[1]
        results.append(
            {
                "node_bindings": {
                    str(qpath["subject"]): _binding(source, s_pin),
                    str(qpath["object"]): _binding(target, o_pin),
                },
                "analyses": analyses,
            }
        )
    return {
        "knowledge_graph": {"nodes": kg_nodes, "edges": kg_edges},
        "results": results,
        "auxiliary_graphs": aux,
        "logs": _pathfinder_logs(explanation, len(kept)),
    }


def _satisfies(view: BiolinkView, path: CausalPath, constraints: Sequence[Sequence[str]]) -> bool:
    """Whether a path meets one of the constraints (each: a node of every listed category in between)."""
    if not constraints:
        return True
    inner = {category for step in path.steps[:-1] for category in view.node_of(step.object.iri).categories}
    return any(all(inner & descendants(category) for category in constraint) for constraint in constraints)


def _path_edges(
    view: BiolinkView, path: CausalPath, nodes: dict[str, JSON], edges: dict[str, JSON]
) -> list[str]:
    """The KG edges of a path, each link stated in the direction the path moves its subject."""
    direction = 1
    ids: list[str] = []
    for step in path.steps:
        for node in (view.node_of(step.subject.iri), view.node_of(step.object.iri)):
            nodes[node.id] = node_json(node)
        for link in step.links:
            edge = view.directed(link.curie, direction)
            edges[edge.id] = edge_json(edge)
            ids.append(edge.id)
        direction *= step.sign
    return ids


def _path_attributes(path: CausalPath) -> list[JSON]:
    named = (
        ("explanation", path.explanation),
        ("net_effect", path.net_polarity),
        ("mechanism", path.mechanism.curie if path.mechanism else None),
        ("rank", path.rank),
    )
    return [
        attribute("biolink:has_attribute", value, original_attribute_name=f"mgkg:{name}")
        for name, value in named
        if value is not None
    ]


def _inferred_edge(
    view: BiolinkView, source: BiolinkNode, target: BiolinkNode, aux: list[str]
) -> tuple[str, JSON]:
    """The entailed "source causes target" edge, supported by the paths' auxiliary graphs."""
    predicate, qualifiers = view.mapping.qualify(source.kind, target.kind, 1)
    edge_id = f"mgkg-inferred-{source.mgkg_id.split(':', 1)[1]}-causes-{target.mgkg_id.split(':', 1)[1]}"
    return edge_id, {
        "subject": source.id,
        "predicate": predicate,
        "object": target.id,
        "qualifiers": [{"qualifier_type_id": q.type_id, "qualifier_value": q.value} for q in qualifiers],
        "sources": [{"resource_id": INFORES, "resource_role": "primary_knowledge_source"}],
        "attributes": [
            attribute("biolink:knowledge_level", "logical_entailment"),
            attribute("biolink:agent_type", "automated_agent"),
            attribute("biolink:support_graphs", aux),
        ],
    }


def _pathfinder_logs(explanation: Explanation, kept: int) -> list[tuple[str, str]]:
    lines = [explanation.message, f"{kept} of {len(explanation.paths)} sound paths meet the path constraints"]
    if explanation.contradicting:
        lines.append(f"{len(explanation.contradicting)} paths contradict the finding's direction: left out")
    return [("INFO", line) for line in lines]
