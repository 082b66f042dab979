"""Bounded, signed path search over a causal graph (pure: networkx only, no RDF)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol, TypeVar

import networkx as nx

EdgeFilter = Callable[[Hashable, Hashable, Hashable], bool]
"""Decides whether the edge (u, v, key) may be used; networkx's ``filter_edge`` for multigraphs."""

SIGN: Final = "sign"
"""Edge attribute holding the edge's sign: +1 (positive effect) or -1 (negative effect)."""
SEVERITY: Final = "severity"
"""Edge attribute holding the edge's severity context: 'mild', 'severe', or None."""


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


State = tuple[Hashable, int]
"""A node of the signed-node graph: (node, sign), "the node moved with this sign"."""

C = TypeVar("C")


class PathChecker(Protocol[C]):
    """Decides, hop by hop, whether a path being extended can still hold (kg.causal.consistency's Checker).

    ``begin`` gives the check state of the empty path at the source; ``extend`` the state after one more
    hop to ``node`` (moved with ``sign``) over the parallel links ``keys``, or None when the path breaks a
    rule, so the search prunes it there; ``hop_keys`` the links of each hop that hold on a finished path.
    """

    def begin(self, source: Hashable) -> C: ...

    def extend(self, state: C, node: Hashable, sign: int, keys: Sequence[Hashable]) -> C | None: ...

    def hop_keys(self, state: C) -> tuple[tuple[Hashable, ...], ...]: ...


DEFAULT_MAX_WORK: Final = 60_000
"""Edges a search may examine before it stops and reports itself truncated (a few tens of ms)."""


@dataclass(frozen=True)
class SignedIndex:
    """The signed-node graph of some allowed edges as plain adjacency tuples, built once and then only read.

    ``successors[(u, s)]`` lists ``((v, s * e), keys)`` for each sign e of the allowed edges u -> v
    (``keys``: the parallel edges of that sign); ``predecessors`` is the reverse adjacency. Nothing
    here changes after construction, so one index serves concurrent searches.
    """

    successors: Mapping[State, tuple[tuple[State, tuple[Hashable, ...]], ...]]
    predecessors: Mapping[State, tuple[State, ...]]
    checker: PathChecker[Any] | None = None
    """The consistency check every search of this index applies (None: every path is offered)."""

    @classmethod
    def of(cls, signed: nx.DiGraph, checker: PathChecker[Any] | None = None) -> SignedIndex:
        """Index a signed-node graph (as made by :func:`signed_graph`), searched under ``checker``."""
        successors = {
            state: tuple((tail, tuple(data["keys"])) for tail, data in signed.succ[state].items())
            for state in signed
        }
        predecessors = {state: tuple(signed.pred[state]) for state in signed}
        return cls(successors, predecessors, checker)

    def unchecked(self) -> SignedIndex:
        """The same index without its consistency check (to tell why no sound path was found)."""
        return replace(self, checker=None)

    def distances_to(self, target: Hashable, cutoff: int) -> dict[State, int]:
        """Hops from each state to either signed copy of ``target`` (breadth-first, up to ``cutoff``).

        The exact signed distance is a lower bound on the length of any simple path through the state,
        so the search can drop every state that cannot reach the target within the hops left.
        """
        frontier = [(target, sign) for sign in (1, -1) if (target, sign) in self.predecessors]
        distance = dict.fromkeys(frontier, 0)
        for hops in range(1, cutoff + 1):
            ahead: list[State] = []
            for state in frontier:
                for head in self.predecessors[state]:
                    if head not in distance:
                        distance[head] = hops
                        ahead.append(head)
            if not ahead:
                break
            frontier = ahead
        return distance


def build_index(
    graph: nx.MultiDiGraph, allowed_edge: EdgeFilter | None = None, checker: PathChecker[Any] | None = None
) -> SignedIndex:
    """The :class:`SignedIndex` of the edges of ``graph`` that ``allowed_edge`` keeps (all when None)."""
    view = graph if allowed_edge is None else nx.subgraph_view(graph, filter_edge=allowed_edge)
    return SignedIndex.of(signed_graph(view), checker)


@dataclass(frozen=True)
class PathSearch:
    """The outcome of a path search: the paths found, and whether the work bound cut the search short.

    ``truncated`` is True when the search examined ``max_work`` edges before it had found
    ``max_paths`` paths or tried every length up to ``max_hops``: more (or shorter-ranked) paths may
    exist. ``work`` is the number of edges examined; ``rejected`` the extensions the consistency check
    refused (each prunes every path through it).
    """

    paths: tuple[SignedPath, ...]
    truncated: bool
    work: int
    rejected: int = 0


def find_paths(
    graph: nx.MultiDiGraph,
    source: Hashable,
    target: Hashable,
    max_hops: int = 10,
    max_paths: int = 20,
    allowed_edge: EdgeFilter | None = None,
) -> list[SignedPath]:
    """Find up to ``max_paths`` simple paths of at most ``max_hops`` hops from source to target.

    The paths of :func:`search_paths`, shortest first (see there). Paths of both net signs are
    returned; two paths are the same only if they have the same nodes and the same hop signs.
    """
    return list(search_paths(graph, source, target, max_hops, max_paths, allowed_edge).paths)


def search_paths(
    graph: nx.MultiDiGraph,
    source: Hashable,
    target: Hashable,
    max_hops: int = 10,
    max_paths: int = 20,
    allowed_edge: EdgeFilter | None = None,
    *,
    index: SignedIndex | None = None,
    max_work: int = DEFAULT_MAX_WORK,
    checker: PathChecker[Any] | None = None,
) -> PathSearch:
    """Find up to ``max_paths`` simple signed paths of at most ``max_hops`` hops, shortest first.

    Searches the signed-node graph (INDRA's trick) of the allowed edges: ``index`` when given (built
    once per network and context, see :func:`build_index`; ``allowed_edge`` is then ignored), else the
    signed graph of the hop corridor of ``graph``. Exact hop distances to the target (one backward
    breadth-first search) bound a depth-first search run for each length in turn, so a state is only
    entered when the target is still reachable in the hops left, and paths come out by length. A path
    never passes a node twice, whatever the sign. At most ``max_work`` edges are examined; a search
    stopped by that bound says so (``truncated``) instead of failing silently.

    Every extension is checked by the index's ``checker`` (or ``checker`` when no index is given):
    a hop it refuses is pruned at once, so only paths whose links can hold together come out, and each
    hop lists only the parallel links that hold on its path.
    """
    if max_hops < 1 or max_paths < 1 or source == target:
        return PathSearch((), False, 0)
    if index is None:
        view = graph if allowed_edge is None else nx.subgraph_view(graph, filter_edge=allowed_edge)
        if source not in view or target not in view:
            return PathSearch((), False, 0)
        index = SignedIndex.of(signed_graph(_corridor(view, source, target, max_hops)), checker)
    start: State = (source, 1)
    distance = index.distances_to(target, max_hops)
    if start not in distance:
        return PathSearch((), False, 0)
    found: list[SignedPath] = []
    counts = [0, 0]  # work, rejected
    for length in range(distance[start], max_hops + 1):
        complete = _paths_of_length(
            index, distance, start, target, length, max_paths, found, counts, max_work
        )
        if not complete:
            return PathSearch(tuple(found), True, counts[0], counts[1])
        if len(found) == max_paths:
            break
    return PathSearch(tuple(found), False, counts[0], counts[1])


def _paths_of_length(
    index: SignedIndex,
    distance: Mapping[State, int],
    start: State,
    target: Hashable,
    length: int,
    max_paths: int,
    found: list[SignedPath],
    counts: list[int],
    max_work: int,
) -> bool:
    """Append the simple paths of exactly ``length`` hops to ``found`` (depth first, until ``max_paths``).

    ``counts`` holds the work done and the extensions the checker refused so far, updated in place.
    Returns False when ``max_work`` stopped the search early.
    """
    checker = index.checker
    states: list[State] = [start]
    keys: list[tuple[Hashable, ...]] = []
    checks: list[Any] = [checker.begin(start[0]) if checker is not None else None]
    on_path = {start[0]}
    pending = [iter(index.successors.get(start, ()))]
    while pending:
        left = length - len(states)  # hops still to go after the next one
        for tail, edge_keys in pending[-1]:
            counts[0] += 1
            if counts[0] > max_work:
                return False
            node = tail[0]
            reaches = node == target and left == 0
            if not reaches and (
                node == target or left == 0 or node in on_path or distance.get(tail, left + 1) > left
            ):
                continue
            check = None
            if checker is not None:
                check = checker.extend(checks[-1], node, tail[1], edge_keys)
                if check is None:
                    counts[1] += 1
                    continue
            if reaches:
                hops = checker.hop_keys(check) if checker is not None else (*keys, edge_keys)
                found.append(_signed_path([*states, tail], list(hops)))
                if len(found) == max_paths:
                    return True
                continue
            states.append(tail)
            keys.append(edge_keys)
            checks.append(check)
            on_path.add(node)
            pending.append(iter(index.successors.get(tail, ())))
            break
        else:
            pending.pop()
            checks.pop()
            if keys:
                keys.pop()
            on_path.discard(states.pop()[0])
    return True


def _signed_path(states: list[State], keys: list[tuple[Hashable, ...]]) -> SignedPath:
    """A SignedPath from its signed states and the edge keys of each hop."""
    signs = tuple(states[i][1] * states[i + 1][1] for i in range(len(states) - 1))
    return SignedPath(nodes=tuple(node for node, _ in states), signs=signs, edges=tuple(keys))


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
