"""The fast inference engine: the OWL 2 RL rules mgkg's ontology uses, applied in time linear in the data."""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Final

from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef
from rdflib.term import Node

from kg.errors import MgkgError

logger = logging.getLogger(__name__)

Triple = tuple[Node, Node, Node]
TripleSource = Callable[[URIRef], Iterable[Triple]]
"""Return every triple with the given predicate (``lambda p: graph.triples((None, p, None))``)."""

_UNSUPPORTED_PREDICATES: Final = (
    OWL.someValuesFrom,
    OWL.allValuesFrom,
    OWL.intersectionOf,
    OWL.unionOf,
    OWL.complementOf,
    OWL.oneOf,
    OWL.hasKey,
    OWL.sameAs,
    OWL.maxCardinality,
    OWL.maxQualifiedCardinality,
    OWL.hasSelf,
)
_UNSUPPORTED_TYPES: Final = frozenset(
    {OWL.SymmetricProperty, OWL.InverseFunctionalProperty, OWL.AllDifferent, OWL.AllDisjointClasses}
)


class UnsupportedAxiomError(MgkgError):
    """The graph uses an OWL construct the fast engine does not implement; use the owlrl engine."""

    def __init__(self, construct: str) -> None:
        self.construct = construct
        super().__init__(
            f"The fast inference engine does not implement {construct}; reason with engine='owlrl' instead."
        )


def _closure(pairs: Iterable[tuple[Node, Node]]) -> dict[Node, set[Node]]:
    """Map each node to everything reachable from it (strictly: itself only through a cycle).

    >>> sorted(_closure([(1, 2), (2, 3)])[1])
    [2, 3]
    >>> sorted(_closure([(1, 2), (2, 1)])[1])
    [1, 2]
    """
    successors: dict[Node, set[Node]] = defaultdict(set)
    for a, b in pairs:
        successors[a].add(b)
    reach: dict[Node, set[Node]] = {}
    for start in list(successors):
        seen: set[Node] = set()
        stack = list(successors[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(successors.get(node, ()))
        reach[start] = seen
    return reach


def _list_items(head: Node, first: dict[Node, Node], rest: dict[Node, Node]) -> list[Node]:
    items: list[Node] = []
    while head in first:
        items.append(first[head])
        head = rest.get(head, RDF.nil)
    return items


@dataclass
class Schema:
    """The TBox compiled into lookup tables: closed hierarchies, inverses, domains, chains, restrictions."""

    superclasses: dict[Node, set[Node]] = field(default_factory=dict)
    superproperties: dict[Node, set[Node]] = field(default_factory=dict)
    inverses: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    domains: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    ranges: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    chains_first: dict[Node, list[tuple[Node, Node]]] = field(default_factory=lambda: defaultdict(list))
    chains_second: dict[Node, list[tuple[Node, Node]]] = field(default_factory=lambda: defaultdict(list))
    values_of_class: dict[Node, list[tuple[Node, Node]]] = field(default_factory=lambda: defaultdict(list))
    classes_of_value: dict[tuple[Node, Node], list[Node]] = field(default_factory=lambda: defaultdict(list))
    transitive: set[Node] = field(default_factory=set)
    derived: list[Triple] = field(default_factory=list)
    """The closed class and property hierarchy, domains and ranges (scm-* rules), as triples."""

    def predicates(self) -> set[Node]:
        """Every predicate a rule reads or writes: only these ABox triples need to be read."""
        wanted: set[Node] = {RDF.type, *self.transitive, *self.domains, *self.ranges}
        for table in (self.superproperties, self.inverses):
            for key, values in table.items():
                wanted.add(key)
                wanted.update(values)
        for first, pairs in self.chains_first.items():
            wanted.add(first)
            wanted.update(node for pair in pairs for node in pair)
        wanted.update(p for pairs in self.values_of_class.values() for p, _ in pairs)
        return wanted


def compile_schema(source: TripleSource, types: Iterable[Triple]) -> Schema:
    """Read the TBox through ``source`` and close it; raise UnsupportedAxiomError on what is not handled."""
    for predicate in _UNSUPPORTED_PREDICATES:
        if any(True for _ in islice(source(predicate), 1)):
            raise UnsupportedAxiomError(str(predicate))
    schema = Schema()
    for s, _, o in types:
        if o in _UNSUPPORTED_TYPES:
            raise UnsupportedAxiomError(str(o))
        if o == OWL.TransitiveProperty:
            schema.transitive.add(s)
    stated: set[Triple] = {
        t for p in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range) for t in source(p)
    }
    sco = [(s, o) for s, p, o in stated if p == RDFS.subClassOf]
    spo = [(s, o) for s, p, o in stated if p == RDFS.subPropertyOf]
    for s, _, o in source(OWL.equivalentClass):
        sco += [(s, o), (o, s)]
    for s, _, o in source(OWL.equivalentProperty):
        spo += [(s, o), (o, s)]
    schema.superclasses = _closure(sco)
    schema.superproperties = _closure(spo)
    for s, _, o in source(OWL.inverseOf):
        schema.inverses[s].add(o)
        schema.inverses[o].add(s)
    for predicate, table in ((RDFS.domain, schema.domains), (RDFS.range, schema.ranges)):
        declared: dict[Node, set[Node]] = defaultdict(set)
        for s, _, o in source(predicate):
            declared[s].add(o)
        for prop in {*declared, *schema.superproperties}:
            supers = {prop, *schema.superproperties.get(prop, ())}
            classes = set().union(*(declared.get(q, set()) for q in supers))
            for cls in list(classes):
                classes |= schema.superclasses.get(cls, set())
            if classes:
                table[prop] = classes
                schema.derived.extend((prop, predicate, cls) for cls in classes)
    first = {s: o for s, _, o in source(RDF.first)}
    rest = {s: o for s, _, o in source(RDF.rest)}
    for target, _, head in source(OWL.propertyChainAxiom):
        chain = _list_items(head, first, rest)
        if len(chain) != 2:
            raise UnsupportedAxiomError(f"a property chain of {len(chain)} properties")
        schema.chains_first[chain[0]].append((chain[1], target))
        schema.chains_second[chain[1]].append((chain[0], target))
    on_property = {s: o for s, _, o in source(OWL.onProperty)}
    for restriction, _, value in source(OWL.hasValue):
        prop = on_property[restriction]
        schema.values_of_class[restriction].append((prop, value))
        schema.classes_of_value[(prop, value)].append(restriction)
    schema.derived.extend((c, RDFS.subClassOf, d) for c, ds in schema.superclasses.items() for d in ds)
    schema.derived.extend((p, RDFS.subPropertyOf, q) for p, qs in schema.superproperties.items() for q in qs)
    schema.derived = [t for t in schema.derived if t not in stated]
    return schema


@dataclass
class RuleStats:
    """What one run did: triples read, derived, and the size of each transitive closure."""

    read: int = 0
    derived: int = 0
    closure: dict[str, int] = field(default_factory=dict)
    rounds: int = 0


class _Engine:
    """A worklist forward chainer: every triple is processed once, against indexes of the chain rules."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.known: set[Triple] = set()
        self.queue: deque[Triple] = deque()
        self.by_subject: dict[Node, dict[Node, set[Node]]] = defaultdict(lambda: defaultdict(set))
        self.by_object: dict[Node, dict[Node, set[Node]]] = defaultdict(lambda: defaultdict(set))

    def add(self, triple: Triple) -> None:
        if triple not in self.known:
            self.known.add(triple)
            self.queue.append(triple)

    def run(self) -> None:
        schema, add = self.schema, self.add
        while self.queue:
            s, p, o = self.queue.popleft()
            if p == RDF.type:
                for cls in schema.superclasses.get(o, ()):
                    add((s, RDF.type, cls))
                for prop, value in schema.values_of_class.get(o, ()):
                    add((s, prop, value))
                continue
            for sup in schema.superproperties.get(p, ()):
                add((s, sup, o))
            for inverse in schema.inverses.get(p, ()):
                add((o, inverse, s))
            for cls in schema.domains.get(p, ()):
                add((s, RDF.type, cls))
            if not isinstance(o, Literal):
                for cls in schema.ranges.get(p, ()):
                    add((o, RDF.type, cls))
            for restriction in schema.classes_of_value.get((p, o), ()):
                add((s, RDF.type, restriction))
            for second, target in schema.chains_first.get(p, ()):
                self.by_object[p][o].add(s)
                for z in list(self.by_subject[second].get(o, ())):
                    add((s, target, z))
            for first, target in schema.chains_second.get(p, ()):
                self.by_subject[p][s].add(o)
                for x in list(self.by_object[first].get(s, ())):
                    add((x, target, o))

    def close_transitive(self, prop: Node) -> int:
        """Add the transitive closure of ``prop`` (on the DAG of its strongly connected components)."""
        import networkx as nx  # deferred: only reasoning needs it

        graph = nx.DiGraph()
        graph.add_edges_from((s, o) for s, p, o in self.known if p == prop)
        condensed = nx.condensation(graph)
        members: dict[int, list[Node]] = {c: list(condensed.nodes[c]["members"]) for c in condensed}
        reach: dict[int, set[Node]] = {}
        pairs = 0
        for component in reversed(list(nx.topological_sort(condensed))):
            below: set[Node] = set()
            for child in condensed.successors(component):
                below.update(members[child])
                below |= reach[child]
            if len(members[component]) > 1 or graph.has_edge(members[component][0], members[component][0]):
                below.update(members[component])
            reach[component] = below
            for node in members[component]:
                pairs += len(below)
                for target in below:
                    self.add((node, prop, target))
        return pairs


def infer(source: TripleSource) -> tuple[set[Triple], RuleStats]:
    """Derive what the OWL 2 RL rules of mgkg's ontology entail from ``source``; return only new triples.

    Rules: cax-sco/eqc (class memberships through the closed hierarchy), prp-spo1/eqp (super-properties),
    prp-inv, prp-dom, prp-rng, prp-spo2 (two-property chains), cls-hv1/hv2 (hasValue restrictions),
    prp-trp (transitive properties, closed per strongly connected component), and the scm-* closure of
    the hierarchy, domains and ranges. Not derived: owl:sameAs from functional properties (consistent
    data only yields the reflexive ones, which materialize() drops anyway). Other OWL constructs raise
    UnsupportedAxiomError rather than being silently ignored.
    """
    types = list(source(RDF.type))
    schema = compile_schema(source, types)
    engine = _Engine(schema)
    stats = RuleStats()
    asserted: set[Triple] = set()
    for predicate in schema.predicates():
        for triple in types if predicate == RDF.type else source(URIRef(str(predicate))):
            asserted.add(triple)
            engine.add(triple)
    stats.read = len(asserted)
    while True:
        stats.rounds += 1
        engine.run()
        before = len(engine.known)
        for prop in sorted(schema.transitive, key=str):
            stats.closure[str(prop)] = engine.close_transitive(prop)
        if len(engine.known) == before:
            break
    new = {t for t in engine.known if t not in asserted}
    new.update(t for t in schema.derived if t not in asserted)
    stats.derived = len(new)
    logger.debug("fast engine: read %d, derived %d, closure %s", stats.read, stats.derived, stats.closure)
    return new, stats


def oxigraph_source(store: Any, graph: Any = None) -> TripleSource:
    """A TripleSource over a pyoxigraph Store (one named graph, or all of them), as rdflib terms."""
    import pyoxigraph  # deferred: only the on-disk store needs it

    def term(value: Any) -> Node:
        if isinstance(value, pyoxigraph.NamedNode):
            return URIRef(value.value)
        if isinstance(value, pyoxigraph.BlankNode):
            return BNode(value.value)
        if value.language:
            return Literal(value.value, lang=value.language)
        return Literal(value.value, datatype=URIRef(value.datatype.value))

    def triples(predicate: URIRef) -> Iterator[Triple]:
        node = pyoxigraph.NamedNode(str(predicate))
        for quad in store.quads_for_pattern(None, node, None, graph):
            yield term(quad.subject), predicate, term(quad.object)

    return triples
