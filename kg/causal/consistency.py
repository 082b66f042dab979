"""Whether the links of a causal path can hold together: phase, negated contexts, exclusions, interventions.

Pure (no RDF, no networkx): the rules are plain data that kg/causal/links.py reads from the graph
(``mgkg:severity``, ``mgkg:condition``, ``mgkg:negates``, ``mgkg:excludes``, ``mgkg:Intervention``), and
:class:`Checker` applies them hop by hop while the path search extends a path, so that a path that
cannot hold is dropped as soon as its first offending hop is tried. A path is sound only if:

1. phase: its links lie in one phase (a link holding only in mild deficiency and one holding only in
   severe deficiency never share a path, whichever way the signed search walks either link);
2. negated context: no link needs a context (a condition, a phase) that a node holding on the path
   negates (the start holds, and so does every node the path raises);
3. exclusive states: no two nodes holding on the path exclude each other;
4. intervention: a path that starts at an intervention raises a state only where a link says the
   intervention causes that state.

A hop backed by several parallel links holds if one of them does: links a rule rules out are dropped
from the hop, and the hop (and the path) is rejected only when none is left.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

_NOTHING: Mapping[str, str] = MappingProxyType({})


class Rule(StrEnum):
    """The consistency rule a rejected path breaks."""

    PHASE = "phase"
    """The path mixes links that hold only in different phases (mild and severe deficiency)."""
    NEGATED_CONTEXT = "negated_context"
    """A link needs a context that a node holding on the path negates."""
    EXCLUSIVE_STATES = "exclusive_states"
    """Two nodes that exclude each other both hold on the path."""
    INTERVENTION = "intervention"
    """The path credits an intervention with a state no link says it causes."""


@dataclass(frozen=True)
class LinkFacts:
    """What the rules need to know of one causal link: its phase and every context it needs."""

    label: str
    phase: str | None = None
    contexts: frozenset[str] = frozenset()
    """IRIs of the conditions and the phase the link holds in."""
    tissues: frozenset[str] = frozenset()
    """IRIs of the tissues the link is stated for (used to pick among parallel links, never to reject)."""


@dataclass(frozen=True)
class Violation:
    """Why a path cannot hold, in words from the data (labels of the links, nodes and contexts)."""

    rule: Rule
    reason: str


@dataclass(frozen=True)
class ConsistencyRules:
    """The rules as data, keyed by IRI: read once per network (kg/causal/links.py), then only looked up."""

    links: Mapping[str, LinkFacts] = field(default_factory=dict)
    negates: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Node -> the contexts it negates (mgkg:negates)."""
    excludes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Node -> the nodes it excludes (mgkg:excludes, made symmetric)."""
    interventions: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    """Nodes an intervention may only raise where a link says so (mgkg:State, findings included)."""
    caused_by: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Intervention -> the nodes a positive link from it raises directly."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of nodes and contexts, for the reasons."""

    def label(self, iri: str) -> str:
        """The label of a node or context, or the local part of its IRI.

        >>> ConsistencyRules(labels={"x": "ex"}).label("x"), ConsistencyRules().label("https://a.org/id/y")
        ('ex', 'y')
        """
        return self.labels.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    def facts(self, key: str) -> LinkFacts:
        """The facts of a link (a link the rules do not know needs nothing)."""
        return self.links.get(key) or LinkFacts(label=self.label(key))


class Partial(NamedTuple):
    """A path checked so far: its start, what holds on it, and the usable links of each hop.

    ``holding`` keeps the nodes holding on the path that take part in an exclusion, ``negated`` the
    contexts they negate (each with the first node that negates it), ``phases`` the phases every hop can
    still lie in (None: any), so that one more hop costs little unless it negates something new.
    """

    start: str
    holding: tuple[str, ...] = ()
    hops: tuple[tuple[str, ...], ...] = ()
    negated: Mapping[str, str] = _NOTHING
    phases: frozenset[str] | None = None


def hop_phases(rules: ConsistencyRules, keys: Iterable[str]) -> frozenset[str] | None:
    """The phases a hop can lie in: None (any) if one of its links holds in every phase.

    >>> rules = ConsistencyRules(links={"a": LinkFacts("a", "mild"), "b": LinkFacts("b")})
    >>> hop_phases(rules, ["a"]), hop_phases(rules, ["a", "b"])
    (frozenset({'mild'}), None)
    """
    phases: set[str] = set()
    for key in keys:
        facts = rules.links.get(key)
        if facts is None or facts.phase is None:
            return None
        phases.add(facts.phase)
    return frozenset(phases)


class Checker:
    """Applies :class:`ConsistencyRules` incrementally; the ``PathChecker`` the path search calls."""

    def __init__(self, rules: ConsistencyRules) -> None:
        self.rules = rules
        self._bound = frozenset(rules.excludes) | frozenset(rules.negates)
        """Nodes that take part in a rule when they hold (the others cost nothing to add)."""

    def begin(self, source: Hashable) -> Partial:
        """The check state of the empty path at ``source`` (which holds)."""
        start = str(source)
        empty = Partial(start=start)
        return _hold(self.rules, empty, start)

    def extend(self, state: Partial, node: Hashable, sign: int, keys: Sequence[Hashable]) -> Partial | None:
        """The state after one more hop to ``node`` (moved with ``sign``) over ``keys``, or None."""
        step = self.step(state, node, sign, keys)
        return step if isinstance(step, Partial) else None

    def hop_keys(self, state: Partial) -> tuple[tuple[Hashable, ...], ...]:
        """The links of each hop that hold on the finished path.

        Links outside the path's phase are dropped; of parallel links stated for different tissues,
        those stated for a tissue another link of the path names are kept when there are such (so a
        parathyroid chain is backed by the parathyroid link, not by one stated for kidney cells).
        """
        rules = self.rules
        phase = _path_phases(rules, state.hops)
        phase = frozenset(sorted(phase)[:1]) if phase else phase  # one phase, even where a hop allows two
        hops = [
            tuple(k for k in hop if phase is None or rules.facts(k).phase in (None, *phase))
            for hop in state.hops
        ]
        chosen: list[tuple[Hashable, ...]] = []
        for i, hop in enumerate(hops):
            elsewhere = {
                t for j, other in enumerate(hops) if j != i for k in other for t in rules.facts(k).tissues
            }
            matching = tuple(k for k in hop if rules.facts(k).tissues & elsewhere)
            chosen.append(matching if len(hop) > 1 and matching else hop)
        return tuple(chosen)

    def step(
        self, state: Partial, node: Hashable, sign: int, keys: Sequence[Hashable]
    ) -> Partial | Violation:
        """One more hop, or the :class:`Violation` it commits (the order of the rules is the module's)."""
        rules, target = self.rules, str(node)
        held = state
        if sign > 0:
            if (
                state.start in rules.interventions
                and target in rules.states
                and target not in rules.caused_by.get(state.start, frozenset())
            ):
                return Violation(
                    Rule.INTERVENTION,
                    f"it credits {rules.label(state.start)}, an intervention, with {rules.label(target)},"
                    " which no source says it causes",
                )
            if target in self._bound:
                excluded = rules.excludes.get(target, frozenset())
                for other in state.holding:
                    if other in excluded:
                        return Violation(
                            Rule.EXCLUSIVE_STATES,
                            f"{rules.label(other)} and {rules.label(target)} would both hold on it, and they"
                            " exclude each other",
                        )
                held = _hold(rules, state, target)
        negated = held.negated
        if negated is state.negated:  # nothing newly negated: only the new hop needs filtering
            earlier, phases = state.hops, state.phases
        else:
            refiltered: list[tuple[str, ...]] = []
            phases = None
            for hop in state.hops:
                usable = _usable(rules, hop, negated)
                if isinstance(usable, Violation):
                    return usable
                refiltered.append(usable)
                phases = _meet(phases, hop_phases(rules, usable))
            earlier = tuple(refiltered)
        kept = _usable(rules, tuple(keys), negated)  # type: ignore[arg-type]
        if isinstance(kept, Violation):
            return kept
        hops = (*earlier, kept)
        phases = _meet(phases, hop_phases(rules, kept))
        if phases == frozenset():
            return _phase_violation(rules, hops)
        return Partial(state.start, held.holding, hops, negated, phases)


def _hold(rules: ConsistencyRules, state: Partial, node: str) -> Partial:
    """``state`` with ``node`` holding: kept for exclusions, its negated contexts added."""
    holding = (*state.holding, node) if node in rules.excludes else state.holding
    negates = rules.negates.get(node, frozenset())
    fresh = negates - state.negated.keys()
    negated = {**state.negated, **dict.fromkeys(fresh, node)} if fresh else state.negated
    return state._replace(holding=holding, negated=negated)


def _usable(
    rules: ConsistencyRules, hop: tuple[str, ...], negated: Mapping[str, str]
) -> tuple[str, ...] | Violation:
    """The links of a hop whose contexts nothing on the path negates, or the violation if none is left."""
    if not negated:
        return hop
    kept = tuple(k for k in hop if not rules.facts(k).contexts & negated.keys())
    if kept:
        return kept
    facts = rules.facts(hop[0])
    context = sorted(facts.contexts & negated.keys())[0]
    return Violation(
        Rule.NEGATED_CONTEXT,
        f"it needs {rules.label(context)} (for the link '{facts.label}'), which"
        f" {rules.label(negated[context])} negates",
    )


def _meet(phases: frozenset[str] | None, allowed: frozenset[str] | None) -> frozenset[str] | None:
    """Intersect phase sets where None means any phase.

    >>> _meet(None, frozenset({"m"})), _meet(frozenset({"m"}), frozenset({"s"}))
    (frozenset({'m'}), frozenset())
    """
    if allowed is None:
        return phases
    return allowed if phases is None else phases & allowed


def check_path(
    rules: ConsistencyRules,
    nodes: Sequence[Hashable],
    signs: Sequence[int],
    edges: Sequence[Sequence[Hashable]],
) -> Violation | None:
    """The first rule a whole signed path breaks (its nodes, hop signs and links per hop), or None."""
    checker = Checker(rules)
    state: Partial = checker.begin(nodes[0])
    moved = 1
    for node, sign, keys in zip(nodes[1:], signs, edges, strict=True):
        moved *= sign
        step = checker.step(state, node, moved, keys)
        if isinstance(step, Violation):
            return step
        state = step
    return None


def summarize(violations: Iterable[Violation], limit: int = 3) -> str:
    """The distinct reasons of some violations, most frequent first, as one clause.

    >>> summarize([Violation(Rule.PHASE, "a"), Violation(Rule.PHASE, "b"), Violation(Rule.PHASE, "b")])
    'b; a'
    """
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation.reason] = counts.get(violation.reason, 0) + 1
    ordered = sorted(counts, key=lambda reason: -counts[reason])
    return "; ".join(ordered[:limit])


def _path_phases(rules: ConsistencyRules, hops: Iterable[Iterable[str]]) -> frozenset[str] | None:
    """The phases every hop can lie in (None: any phase; empty: the hops cannot share one)."""
    phases: frozenset[str] | None = None
    for hop in hops:
        allowed = hop_phases(rules, hop)
        if allowed is not None:
            phases = allowed if phases is None else phases & allowed
    return phases


def _phase_violation(rules: ConsistencyRules, hops: Sequence[tuple[str, ...]]) -> Violation:
    """Name two hops whose phases cannot meet, by their first links."""
    tagged = [(hop, allowed) for hop in hops if (allowed := hop_phases(rules, hop)) is not None]
    first, second = tagged[0], tagged[-1]
    for i, (hop, allowed) in enumerate(tagged):
        clash = next((other for other in tagged[i + 1 :] if not allowed & other[1]), None)
        if clash is not None:
            first, second = (hop, allowed), clash
            break

    def words(pair: tuple[tuple[str, ...], frozenset[str]]) -> str:
        hop, allowed = pair
        phases = " or ".join(rules.label(p) for p in sorted(allowed))
        return f"only in {phases} deficiency ('{rules.facts(hop[0]).label}')"

    return Violation(
        Rule.PHASE, f"it mixes a link that holds {words(first)} with one that holds {words(second)}"
    )
