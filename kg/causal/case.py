"""Explain a whole case: which findings hypomagnesemia explains and how, what they share, where the loss
comes from, what argues against it, and what the sources advise; every part generated from the graph."""

from __future__ import annotations

import logging
from collections import Counter

from kg.causal.case_model import Case, CaseRules, load_case_rules
from kg.causal.case_read import CaseReading, read_case
from kg.causal.case_types import (
    CandidateCause,
    CaseExplanation,
    CaseFinding,
    CaseRecommendation,
    Contradiction,
    HypothesisRank,
    LossAssessment,
    SharedStep,
    Verdict,
)
from kg.causal.case_what import expect_interventions
from kg.causal.causes import find_causes
from kg.causal.network import CausalNetwork
from kg.causal.recommend import RecommendationCatalog
from kg.causal.why import explain
from kg.model.types import ExplanationStatus, NodeRef, Recommendation, Ref, Severity
from kg.model.wording import sentence_case

log = logging.getLogger(__name__)


def explain_case(
    network: CausalNetwork,
    case: Case,
    recommendations: RecommendationCatalog | None = None,
    rules: CaseRules | None = None,
    max_paths: int = 3,
    max_hops: int = 10,
) -> CaseExplanation:
    """One explanation of ``case``: each observed finding asked as /why asks it, from hypomagnesemia (or,
    with a normal serum level, from masked total-body depletion), under the severity the observations
    imply; raises CaseInputError for anything the case names that cannot be interpreted."""
    rules = rules if rules is not None else load_case_rules()
    catalog = recommendations if recommendations is not None else RecommendationCatalog(())
    read = read_case(network, case, rules)
    severity = _severity(read)
    against: list[Contradiction] = []
    if len(read.severity) > 1:
        against.append(_phase_conflict(read))
    explained, not_explained = _findings(network, read, severity, max_paths, max_hops, against)
    against += _exclusions(network, read)
    loss = _loss(network, read, max_hops, against)
    what_if = expect_interventions(network, catalog, read, explained, severity, max_hops)
    against += [
        Contradiction(observation=w.intervention.label, rule="response", message=w.message)
        for w in what_if
        if w.agrees is False
    ]
    hypotheses = _hypotheses(explained, against)
    answer = CaseExplanation(
        summary=_summary(network, read, severity, explained, not_explained, loss),
        case=case,
        source=network.node(read.source),
        severity=severity,
        observations=tuple(read.observations),
        explained=tuple(explained),
        not_explained=tuple(not_explained),
        absent=tuple(network.node(iri) for iri in read.absent),
        shared=_shared(network, explained),
        loss=loss,
        against=tuple(against),
        what_if=what_if,
        hypotheses=hypotheses,
        recommendations=_recommendations(catalog, explained),
    )
    log.debug("case: %d explained, %d not, severity %s", len(explained), len(not_explained), severity)
    return answer


def _severity(read: CaseReading) -> Severity | None:
    """The one phase the observations imply; none when they imply none or disagree."""
    return next(iter(read.severity)) if len(read.severity) == 1 else None


def _phase_conflict(read: CaseReading) -> Contradiction:
    where = "; ".join(f"{phase}: {', '.join(fields)}" for phase, fields in sorted(read.severity.items()))
    return Contradiction(
        observation=", ".join(f for fields in read.severity.values() for f in fields),
        rule="phase",
        message=f"The observations imply both phases ({where}); the case is explained in neither in"
        " particular.",
    )


def _findings(
    network: CausalNetwork,
    read: CaseReading,
    severity: Severity | None,
    max_paths: int,
    max_hops: int,
    against: list[Contradiction],
) -> tuple[list[CaseFinding], list[CaseFinding]]:
    """Ask each observed finding from the case's source; one not explained from it is tried from the
    conditions the case shows (alkalosis), and a finding explained only in the other phase is reported."""
    conditions = read.conditions
    others = [*conditions, *read.exposures]
    explained: list[CaseFinding] = []
    not_explained: list[CaseFinding] = []
    for iri, origins in read.present.items():
        if iri == read.source or iri in conditions:
            continue
        answer = explain(
            network, iri, source=read.source, context=severity, max_paths=max_paths, max_hops=max_hops
        )
        for other in others:
            if answer.status == ExplanationStatus.EXPLAINED:
                break
            answer = explain(
                network, iri, source=other, context=severity, max_paths=max_paths, max_hops=max_hops
            )
        if answer.status == ExplanationStatus.EXPLAINED:
            mechanisms = tuple(dict.fromkeys(p.mechanism for p in answer.paths if p.mechanism is not None))
            explained.append(
                CaseFinding(
                    finding=answer.finding,
                    origins=tuple(origins),
                    explained=True,
                    source=answer.source,
                    message=answer.message,
                    mechanisms=mechanisms,
                    paths=answer.paths,
                )
            )
            continue
        message = f"Not explained: {answer.message}"
        if severity is not None:
            any_phase = explain(network, iri, source=read.source, max_paths=max_paths, max_hops=max_hops)
            if any_phase.status == ExplanationStatus.EXPLAINED:
                phases = sorted(
                    {p.context.severity for p in any_phase.paths if p.context.severity} - {severity}
                )
                implied = ", ".join(read.severity[severity])
                message += (
                    f" Only paths that hold in {' and '.join(phases) or 'another'} deficiency reach it, and"
                    f" the observations imply {severity} deficiency ({implied})."
                )
                against.append(
                    Contradiction(
                        observation=f"{implied}; {', '.join(origins)}",
                        rule="phase",
                        message=message,
                        mechanisms=tuple(
                            dict.fromkeys(p.mechanism for p in any_phase.paths if p.mechanism is not None)
                        ),
                    )
                )
        not_explained.append(
            CaseFinding(
                finding=network.node(iri),
                origins=tuple(origins),
                explained=False,
                source=network.node(read.source),
                message=message,
            )
        )
    return explained, not_explained


def _exclusions(network: CausalNetwork, read: CaseReading) -> list[Contradiction]:
    """Pairs of observations the consistency rules say cannot hold together (mgkg:excludes)."""
    found = []
    present = list(read.present)
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            if b in network.rules.excludes.get(a, frozenset()):
                la, lb = network.node(a).label, network.node(b).label
                found.append(
                    Contradiction(
                        observation=f"{', '.join(read.present[a])}; {', '.join(read.present[b])}",
                        rule="exclusive_states",
                        message=f"{la} and {lb} exclude each other (kg/facts/consistency.ttl): one of the"
                        " observations is wrong or the picture has more than one cause.",
                    )
                )
    return found


def _loss(
    network: CausalNetwork, read: CaseReading, max_hops: int, against: list[Contradiction]
) -> LossAssessment:
    """Renal or extra-renal from the urine readings (the sources' rule), and the candidate causes."""
    decided: set[Verdict] = {r.loss for _, r in read.loss if r.loss is not None and r.loss != "indeterminate"}
    verdict: Verdict
    if len(decided) > 1:
        verdict = "conflicting"
    elif decided:
        verdict = decided.pop()
    else:
        verdict = "indeterminate" if read.loss else "unknown"
    deciding = [(f, r) for f, r in read.loss if r.loss == verdict]
    target = next((r.present[0] for _, r in deciding if r.present), read.source)
    causes = find_causes(network, target, max_paths=1, max_hops=max_hops)
    reported = set(read.exposures)
    ordered = sorted(causes.causes, key=lambda c: (c.cause.iri not in reported, c.rank))
    candidates = tuple(
        CandidateCause(
            rank=rank,
            cause=c.cause,
            kind=c.kind,
            reported=c.cause.iri in reported,
            explanation=c.explanation,
            paths=c.paths,
        )
        for rank, c in enumerate(ordered, start=1)
    )
    found = {c.cause.iri for c in causes.causes}
    for exposure in read.exposures:
        if exposure not in found:
            check = explain(network, target, source=exposure, max_paths=1, max_hops=max_hops)
            against.append(
                Contradiction(
                    observation=f"exposures: {network.node(exposure).label}",
                    rule="negated_context" if check.status == ExplanationStatus.INCONSISTENT else "cause",
                    message=f"{network.node(exposure).label} is not a cause of {network.node(target).label}:"
                    f" {check.message}",
                )
            )
    readings = " ".join(r.text for _, r in read.loss)
    evidence = tuple(f for f, _ in read.loss)
    words = {
        "renal": "renal",
        "extra_renal": "extra-renal",
        "indeterminate": "indeterminate",
        "conflicting": "conflicting",
        "unknown": "unknown",
    }
    message = (
        f"Loss: {words[verdict]}. {readings}".strip()
        if read.loss
        else "Loss: unknown. The case gives no urinary magnesium or FE_Mg, which the sources use to find"
        " the source."
    )
    return LossAssessment(
        verdict=verdict, message=message, evidence=evidence, target=network.node(target), causes=candidates
    )


def _shared(network: CausalNetwork, explained: list[CaseFinding]) -> tuple[SharedStep, ...]:
    """The intermediate nodes the paths of two or more observed findings pass through, most shared first."""
    on: dict[str, list[NodeRef]] = {}
    for finding in explained:
        seen = dict.fromkeys(step.object.iri for path in finding.paths for step in path.steps[:-1])
        for iri in seen:
            if iri != finding.finding.iri:
                on.setdefault(iri, []).append(finding.finding)
    shared = [(iri, refs) for iri, refs in on.items() if len(refs) > 1]
    shared.sort(key=lambda item: -len(item[1]))
    return tuple(SharedStep(node=network.node(iri), findings=tuple(refs)) for iri, refs in shared)


def _hypotheses(explained: list[CaseFinding], against: list[Contradiction]) -> tuple[HypothesisRank, ...]:
    """Mechanisms ranked: more observed findings explained, fewer contradictions, more citations. A
    mechanism only a contradiction names (a path of the other phase) is ranked too, explaining nothing."""
    explains: dict[str, list[NodeRef]] = {}
    refs: dict[str, Ref] = {}
    citations: dict[str, set[str]] = {}
    for finding in explained:
        for path in finding.paths:
            if path.mechanism is None:
                continue
            refs[path.mechanism.iri] = path.mechanism
            if finding.finding not in explains.setdefault(path.mechanism.iri, []):
                explains[path.mechanism.iri].append(finding.finding)
            citations.setdefault(path.mechanism.iri, set()).update(
                c.identifier for step in path.steps for c in step.citations
            )
    contra: dict[str, list[str]] = {}
    for contradiction in against:
        for mechanism in contradiction.mechanisms:
            refs.setdefault(mechanism.iri, mechanism)
            contra.setdefault(mechanism.iri, []).append(contradiction.message)
    order = sorted(
        refs,
        key=lambda i: (
            -len(explains.get(i, ())),
            len(contra.get(i, ())),
            -len(citations.get(i, ())),
            refs[i].label,
        ),
    )
    return tuple(
        HypothesisRank(
            rank=rank,
            mechanism=refs[i],
            explains=tuple(explains.get(i, ())),
            contradicted_by=tuple(contra.get(i, ())),
            citation_count=len(citations.get(i, ())),
        )
        for rank, i in enumerate(order, start=1)
    )


def _recommendations(
    catalog: RecommendationCatalog, explained: list[CaseFinding]
) -> tuple[CaseRecommendation, ...]:
    """The advice each explained finding calls for, merged, in the sources' order."""
    chosen: dict[str, tuple[Recommendation, list[NodeRef]]] = {}
    for finding in explained:
        for rec in catalog.select(finding.finding.iri, finding.paths):
            entry = chosen.setdefault(rec.iri, (rec, []))
            entry[1].append(finding.finding)
    merged = [
        CaseRecommendation(recommendation=rec.model_copy(update={"paths": ()}), findings=tuple(refs))
        for rec, refs in chosen.values()
    ]
    return tuple(sorted(merged, key=lambda r: (r.recommendation.order, r.recommendation.iri)))


def _summary(
    network: CausalNetwork,
    read: CaseReading,
    severity: Severity | None,
    explained: list[CaseFinding],
    not_explained: list[CaseFinding],
    loss: LossAssessment,
) -> str:
    """A few sentences generated from the parts of the answer."""
    phase = f" in {severity} deficiency (from {', '.join(read.severity[severity])})" if severity else ""
    by_source: dict[str, list[str]] = {}
    for f in explained:
        by_source.setdefault(f.source.label, []).append(f.finding.label)
    main = network.node(read.source).label
    names = ", ".join(by_source.pop(main, [])) or "none of the observed findings"
    text = sentence_case(f"{main}{phase} explains {names}.")
    for other, labels in by_source.items():
        text += f" {sentence_case(other)} explains {', '.join(labels)}."
    if not_explained:
        text += f" It does not explain {', '.join(f.finding.label for f in not_explained)}."
    mechanisms = Counter(m.label for f in explained for m in f.mechanisms)
    if mechanisms:
        text += f" Mechanisms: {', '.join(label for label, _ in mechanisms.most_common())}."
    return f"{text} {loss.message}"
