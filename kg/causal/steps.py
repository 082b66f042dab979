"""From a signed path of the search to the answer's CausalPath: steps, mechanism, context, citations.

Parallel links of one hop (same sign) make one step whose context and citations unite theirs; the path's
mechanism is the one most of its links belong to; its paragraph is written by kg.causal.prose.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Final, Literal

from kg.causal.links import LinkData
from kg.causal.network import CausalNetwork
from kg.causal.prose import write_paragraph
from kg.causal.search import SignedPath
from kg.model.types import CausalPath, Citation, Context, MechanismGroup, Ref, Step
from kg.model.vocab import ECO_CURATOR_INFERENCE, MGKG, curie_or_iri

_CURATOR_INFERENCE: Final = curie_or_iri(str(ECO_CURATOR_INFERENCE))


def choose_mechanism(per_step: Sequence[Sequence[str]]) -> str | None:
    """The mechanism held by the most links of a path; ties go to the one nearest the end (the finding).

    ``per_step`` lists, for each link of the path in order, the mechanisms that link belongs to.

    >>> choose_mechanism([["a"], ["a", "b"], ["b"]])
    'b'
    >>> choose_mechanism([["a"], ["a"], ["b"]])
    'a'
    >>> choose_mechanism([[], []]) is None
    True
    """
    counts: Counter[str] = Counter()
    last_seen: dict[str, int] = {}
    for position, mechanisms in enumerate(per_step):
        for mechanism in mechanisms:
            counts[mechanism] += 1
            last_seen[mechanism] = position
    if not counts:
        return None
    return max(counts, key=lambda m: (counts[m], last_seen[m]))


def _links(network: CausalNetwork, u: Hashable, v: Hashable, keys: Sequence[Hashable]) -> list[LinkData]:
    return [network.link(str(u), str(v), str(key)) for key in keys]


def _union_context(contexts: Sequence[Context], *, every: bool) -> Context:
    """Merge link contexts: tissues and conditions united.

    With ``every`` the severity is kept only when every context has it (a step holds without a
    severity restriction if one of its links is untagged); otherwise it is kept when the tagged
    contexts agree on one.
    """
    severities = {c.severity for c in contexts}
    if not every:
        severities.discard(None)
    return Context(
        severity=severities.pop() if len(severities) == 1 else None,
        tissues=tuple(sorted({t for c in contexts for t in c.tissues})),
        conditions=tuple(sorted({x for c in contexts for x in c.conditions})),
    )


def _unique_citations(groups: Sequence[Sequence[Citation]]) -> tuple[Citation, ...]:
    seen: dict[Citation, None] = {}
    for group in groups:
        for citation in group:
            seen.setdefault(citation, None)
    return tuple(seen)


def _step(network: CausalNetwork, u: Hashable, v: Hashable, sign: int, links: Sequence[LinkData]) -> Step:
    evidence = sorted({e for link in links for e in link.evidence_types})
    summaries = dict.fromkeys(link.summary for link in links if link.summary)
    return Step(
        subject=network.node(str(u)),
        predicate="increases" if sign > 0 else "decreases",
        predicate_iri=str(MGKG.increases if sign > 0 else MGKG.decreases),
        object=network.node(str(v)),
        sign=1 if sign > 0 else -1,
        polarity="positive" if sign > 0 else "negative",
        links=tuple(link.ref for link in links),
        context=_union_context([link.context for link in links], every=True),
        citations=_unique_citations([link.citations for link in links]),
        evidence_types=tuple(evidence),
        curator_inference=bool(links) and all(_CURATOR_INFERENCE in link.evidence_types for link in links),
        evidence_summary=" ".join(summaries),
    )


def build_path(network: CausalNetwork, signed: SignedPath) -> CausalPath:
    """The CausalPath of a signed path: its steps merged per hop, its mechanism, context and paragraph."""
    hops = list(zip(signed.nodes[:-1], signed.nodes[1:], signed.signs, signed.edges, strict=True))
    link_groups = [_links(network, u, v, keys) for u, v, _, keys in hops]
    steps = tuple(
        _step(network, u, v, sign, links) for (u, v, sign, _), links in zip(hops, link_groups, strict=True)
    )
    mechanisms = {m.iri: m for links in link_groups for link in links for m in link.mechanisms}
    chosen = choose_mechanism([[m.iri for m in link.mechanisms] for links in link_groups for link in links])
    mechanism = mechanisms[chosen] if chosen is not None else None
    citations = _unique_citations([step.citations for step in steps])
    net_sign: Literal[1, -1] = 1 if signed.net_sign > 0 else -1
    path_context = _union_context([link.context for links in link_groups for link in links], every=False)
    return CausalPath(
        rank=0,
        mechanism=mechanism,
        net_sign=net_sign,
        net_polarity="increases" if net_sign > 0 else "decreases",
        steps=steps,
        explanation=write_paragraph(network, steps, mechanism, net_sign, path_context),
        hops=len(steps),
        citation_count=len(citations),
        context=path_context,
    )


def group_paths(paths: Sequence[CausalPath]) -> tuple[MechanismGroup, ...]:
    """Group ranked paths by mechanism; groups ordered by their best path."""
    groups: dict[str | None, list[CausalPath]] = {}
    refs: dict[str | None, Ref | None] = {}
    for path in paths:
        key = path.mechanism.iri if path.mechanism is not None else None
        groups.setdefault(key, []).append(path)
        refs[key] = path.mechanism
    return tuple(MechanismGroup(mechanism=refs[key], paths=tuple(members)) for key, members in groups.items())
