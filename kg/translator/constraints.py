"""TRAPI query constraints: qualifier_constraints honoured, the ones mgkg cannot honour named, never ignored.

TRAPI 1.6 lets a query edge carry ``qualifier_constraints`` (OR between constraints, AND within one's
``qualifier_set``) and ``attribute_constraints``, and a query node ``constraints`` and a
``set_interpretation``. mgkg honours qualifier constraints, reading each value with its Biolink descendants
(a constraint ``increased`` also matches ``upregulated``, ``activity_or_abundance`` matches ``abundance``,
``qualified_predicate biolink:affects`` matches ``biolink:causes``); the others it cannot honour are named
by :func:`unsupported` so that the query is refused (TRAPI code ``UnsupportedConstraint``) rather than
answered as if they were not there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Final

from kg.translator.biolink import DOWN, Qualifier, descendants, toolkit

log = logging.getLogger(__name__)

UNSUPPORTED: Final = "UnsupportedConstraint"
"""The TRAPI log code of a constraint a knowledge provider does not implement."""
SUBJECT_DIRECTION: Final = "biolink:subject_direction_qualifier"


def unsupported(query_graph: Mapping[str, Any]) -> list[str]:
    """What in ``query_graph`` mgkg cannot honour, one phrase each (empty when it can answer it all).

    >>> unsupported({"nodes": {"n0": {"constraints": [{"id": "biolink:p_value"}]}}, "edges": {}})
    ['query node n0: constraints (attribute constraints on nodes; biolink:p_value)']
    >>> unsupported({"nodes": {"n0": {"set_interpretation": "BATCH", "constraints": []}}, "edges": {}})
    []
    """
    found: list[str] = []
    nodes: Mapping[str, Mapping[str, Any]] = query_graph.get("nodes") or {}
    for key, qnode in nodes.items():
        if qnode.get("constraints"):
            ids = _ids(qnode["constraints"])
            found.append(f"query node {key}: constraints (attribute constraints on nodes; {ids})")
        interpretation = qnode.get("set_interpretation") or "BATCH"
        if interpretation != "BATCH":
            found.append(f"query node {key}: set_interpretation {interpretation} (mgkg answers BATCH only)")
    edges: Mapping[str, Mapping[str, Any]] = query_graph.get("edges") or {}
    for key, qedge in edges.items():
        if qedge.get("attribute_constraints"):
            found.append(f"query edge {key}: attribute_constraints ({_ids(qedge['attribute_constraints'])})")
    if query_graph.get("paths") and edges:
        found.append("a query graph with both paths and edges (a pathfinder query has paths only)")
    for key, qpath in (query_graph.get("paths") or {}).items():
        for constraint in qpath.get("constraints") or ():
            others = sorted(k for k, v in constraint.items() if k != "intermediate_categories" and v)
            if others:
                found.append(f"query path {key}: path constraint {', '.join(others)}")
    return found


def _ids(constraints: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(str(c.get("id") or c.get("name") or "?") for c in constraints)


def qualifier_sets(qedge: Mapping[str, Any]) -> list[list[Qualifier]]:
    """The query edge's qualifier constraints, each the list of qualifiers an edge must all carry."""
    return [
        [
            Qualifier(str(q["qualifier_type_id"]), str(q["qualifier_value"]))
            for q in c.get("qualifier_set") or ()
        ]
        for c in qedge.get("qualifier_constraints") or ()
    ]


def meets(qualifiers: Sequence[Qualifier], sets: Sequence[Sequence[Qualifier]]) -> bool:
    """Whether an edge with ``qualifiers`` meets one of the qualifier ``sets`` (every qualifier of it).

    No sets: every edge meets them. A qualifier of the set is met by an edge qualifier of the same type
    whose value is the set's value or one of its Biolink descendants.

    >>> up = [Qualifier("biolink:object_direction_qualifier", "increased")]
    >>> meets(up, [[Qualifier("biolink:object_direction_qualifier", "increased")]])
    True
    >>> meets(up, [[Qualifier("biolink:object_direction_qualifier", "decreased")]])
    False
    >>> meets(up, [])
    True
    """
    if not sets:
        return True
    have = {(q.type_id, q.value) for q in qualifiers}
    return any(
        all(any((want.type_id, v) in have for v in _values(want.type_id, want.value)) for want in qset)
        for qset in sets
    )


def wants_decrease(sets: Sequence[Sequence[Qualifier]]) -> bool:
    """Whether a qualifier set asks for a subject that goes down (mgkg then states links that way too).

    mgkg asserts each link with its cause going up; "what does lower Mg-ATP abundance cause" asks for the
    same links stated with the subject decreased, as a pathfinder answer states them on a path.
    """
    return any(
        want.type_id == SUBJECT_DIRECTION and DOWN in _values(want.type_id, want.value)
        for qset in sets
        for want in qset
    )


def check_qualifier_types(sets: Sequence[Sequence[Qualifier]]) -> list[str]:
    """Warnings for qualifier types Biolink does not have (no edge can carry them, so none is returned)."""
    return [
        f"{want.type_id} is not a Biolink qualifier: no mgkg edge carries it"
        for qset in sets
        for want in qset
        if not toolkit().is_qualifier(want.type_id)
    ]


@cache
def _values(type_id: str, value: str) -> frozenset[str]:
    """``value`` and its Biolink descendants, as the qualifier ``type_id`` reads them."""
    element = toolkit().get_element(type_id)
    if type_id == "biolink:qualified_predicate":
        return descendants(value)
    enum = getattr(element, "range", None)
    if enum and toolkit().is_enum(enum) and toolkit().is_permissible_value_of_enum(enum, value):
        found = toolkit().get_permissible_value_descendants(value, enum)
        if found:
            return frozenset(found)
    log.debug("qualifier %s: %s matched as given (no Biolink hierarchy read for it)", type_id, value)
    return frozenset({value})
