"""Bounded, signed path search over a causal graph (pure: networkx only, no RDF)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import networkx as nx

EdgeFilter = Callable[[Hashable, Hashable, Hashable], bool]
"""Decides whether the edge (u, v, key) may be used; networkx's ``filter_edge`` for multigraphs."""

SIGN: Final = "sign"
"""Edge attribute holding the edge's sign: +1 (positive effect) or -1 (negative effect)."""
SEVERITY: Final = "severity"
"""Edge attribute holding the edge's severity context: 'mild', 'severe', or None."""

_SINK: Final = ("mgkg:paths", "sink")
"""A virtual node joining both signed copies of the target, so one Yen search finds paths of both signs."""


@dataclass(frozen=True)
class SignedPath:
    """A simple path with the sign of each hop, the edges behind each hop and the net sign.

    ``edges[i]`` holds the keys of every allowed edge from ``nodes[i]`` to ``nodes[i + 1]`` whose sign
    is ``signs[i]``: parallel edges with the same sign are one hop of the path.
    """

    nodes: tuple[Hashable, ...]
    signs: tuple[int, ...]
    edges: tuple[tuple[Hashable, ...], ...]

    @property
    def hops(self) -> int:
        """The number of hops (edges) of the path."""
        return len(self.signs)

    @property
    def net_sign(self) -> int:
        """The product of the hop signs: +1 if the source promotes the target along this path."""
        return compose_signs(self.signs)


def compose_signs(signs: tuple[int, ...] | list[int]) -> int:
    """Compose hop signs along a path: the product, so two negatives make a positive.

    >>> compose_signs([1, -1, 1])
    -1
    >>> compose_signs([-1, -1])
    1
    >>> compose_signs([])
    1
    """
    net = 1
    for sign in signs:
        net *= sign
    return net


def severity_allowed(severity: str | None, context: str | None) -> bool:
    """Whether a link of this severity holds in the requested context.

    A link tagged with the other severity is dropped; untagged links hold in every context.

    >>> severity_allowed("severe", "mild")
    False
    >>> severity_allowed(None, "mild")
    True
    >>> severity_allowed("mild", None)
    True
    """
    return context is None or severity is None or severity == context


def context_filter(graph: nx.MultiDiGraph, context: str | None) -> EdgeFilter | None:
    """An edge filter keeping the edges of ``graph`` that hold in ``context`` (None: no filter)."""
    if context is None:
        return None

    def allowed(u: Hashable, v: Hashable, key: Hashable) -> bool:
        return severity_allowed(graph.edges[u, v, key].get(SEVERITY), context)

    return allowed


def signed_graph(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """The signed-node graph of ``graph`` (INDRA's trick): node (n, s) means "n moved with sign s".

    An edge u -> v of sign e becomes (u, s) -> (v, s * e) for s in {+1, -1}; each signed edge keeps in
    ``keys`` the keys of all parallel edges of that sign, so parallel same-sign edges merge.

    >>> g = nx.MultiDiGraph()
    >>> _ = g.add_edge("a", "b", key="k1", sign=-1)
    >>> sorted(signed_graph(g).edges)
    [(('a', -1), ('b', 1)), (('a', 1), ('b', -1))]
    """
    signed = nx.DiGraph()
    for u, v, key, sign in graph.edges(keys=True, data=SIGN):
        for start in (1, -1):
            head, tail = (u, start), (v, start * sign)
            if signed.has_edge(head, tail):
                signed.edges[head, tail]["keys"].append(key)
            else:
                signed.add_edge(head, tail, keys=[key])
    return signed


def find_paths(
    graph: nx.MultiDiGraph,
    source: Hashable,
    target: Hashable,
    max_hops: int = 10,
    max_paths: int = 20,
    allowed_edge: EdgeFilter | None = None,
) -> list[SignedPath]:
    """Find up to ``max_paths`` simple paths of at most ``max_hops`` hops from source to target.

    Searches the signed-node graph of the allowed edges (a ``nx.subgraph_view``) with Yen's
    algorithm (``nx.shortest_simple_paths``), which yields paths shortest first and stays bounded on
    dense graphs. A path in the signed graph may pass a node twice with opposite signs; such paths
    are not simple in the causal graph and are skipped. Paths of both net signs are returned; two
    paths are the same only if they have the same nodes and the same hop signs. Ordered by hops.
    """
    if max_hops < 1 or max_paths < 1 or source == target:
        return []
    view = graph if allowed_edge is None else nx.subgraph_view(graph, filter_edge=allowed_edge)
    if source not in view or target not in view:
        return []
    signed = signed_graph(_corridor(view, source, target, max_hops))
    start = (source, 1)
    ends = [(target, sign) for sign in (1, -1) if (target, sign) in signed]
    if start not in signed or not ends:
        return []
    for end in ends:
        signed.add_edge(end, _SINK, keys=[])
    found: list[SignedPath] = []
    for candidate in islice(_bounded(signed, start, max_hops + 1), _examination_limit(max_paths)):
        path = _to_path(signed, candidate[:-1])
        if path is not None:
            found.append(path)
            if len(found) == max_paths:
                break
    return found


def _corridor(graph: nx.MultiDiGraph, source: Hashable, target: Hashable, max_hops: int) -> nx.MultiDiGraph:
    """The part of ``graph`` a path of at most ``max_hops`` hops can use: nodes within reach of both ends.

    A node u lies on such a path only if dist(source, u) + dist(u, target) <= max_hops, so two
    depth-limited breadth-first searches cut a dense graph down before the signed graph is built.

    >>> g = nx.MultiDiGraph([("s", "a"), ("a", "t"), ("s", "x"), ("x", "y"), ("y", "z"), ("z", "t")])
    >>> sorted(_corridor(g, "s", "t", 2))
    ['a', 's', 't']
    """
    ahead = nx.single_source_shortest_path_length(graph, source, cutoff=max_hops)
    behind = nx.single_source_shortest_path_length(graph.reverse(copy=False), target, cutoff=max_hops)
    keep = [node for node, hops in ahead.items() if node in behind and hops + behind[node] <= max_hops]
    return nx.subgraph_view(graph, filter_node=set(keep).__contains__)


def _examination_limit(max_paths: int) -> int:
    """How many signed paths to examine at most before giving up on finding ``max_paths`` simple ones.

    >>> _examination_limit(20)
    2000
    """
    return max_paths * 100


def _bounded(signed: nx.DiGraph, start: Any, max_edges: int) -> Iterator[list[Any]]:
    """Yen's simple paths from start to the sink, shortest first, stopping past ``max_edges`` edges."""
    try:
        for path in nx.shortest_simple_paths(signed, start, _SINK):
            if len(path) - 1 > max_edges:
                return
            yield path
    except nx.NetworkXNoPath:
        return


def _to_path(signed: nx.DiGraph, states: list[tuple[Hashable, int]]) -> SignedPath | None:
    """Turn a path of signed states into a SignedPath, or None if it repeats a node of the graph."""
    nodes = tuple(node for node, _ in states)
    if len(set(nodes)) != len(nodes):
        return None
    signs = tuple(states[i][1] * states[i + 1][1] for i in range(len(states) - 1))
    edges = tuple(tuple(signed.edges[states[i], states[i + 1]]["keys"]) for i in range(len(states) - 1))
    return SignedPath(nodes=nodes, signs=signs, edges=edges)
