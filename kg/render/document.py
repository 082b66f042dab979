"""The JSON shape of an answer: every node, link, mechanism, citation, document and step said once, in
top-level tables keyed by CURIE or id, that paths and other parts of an answer refer to by key (the
models of those tables are kg.render.schema's).

``compact`` builds it from an Explanation and ``expand`` gives the Explanation back, field for field (the
step fields that follow from a step's sign, ``predicate_iri`` and ``polarity``, are recomputed). A new part
of an answer (recommendations, causes) cites by adding its citations to ``citations`` and listing keys.
"""

from __future__ import annotations

from kg.causal.causes import Cause, Causes
from kg.model.types import (
    CausalPath,
    Citation,
    Corroboration,
    Explanation,
    LinkRef,
    MechanismGroup,
    NodeRef,
    Recommendation,
    Ref,
    Step,
)
from kg.model.vocab import MGKG
from kg.model.wording import cite, step_notes
from kg.render.schema import (
    CauseEntry,
    CausesDocument,
    CitationEntry,
    CorroborationEntry,
    Document,
    DocumentEntry,
    ExplanationDocument,
    GroupEntry,
    PathEntry,
    RecommendationEntry,
    StepEntry,
)

__all__ = [
    "CausesDocument",
    "Document",
    "ExplanationDocument",
    "compact",
    "compact_causes",
    "expand",
    "expand_causes",
    "expand_causes_json",
    "expand_citation",
    "expand_json",
    "expand_step",
]


class _Tables:
    """The tables being filled while an Explanation is compacted."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeRef] = {}
        self.links: dict[str, LinkRef] = {}
        self.mechanisms: dict[str, Ref] = {}
        self.steps: dict[str, StepEntry] = {}
        self.step_keys: dict[StepEntry, str] = {}
        self.citations: dict[str, CitationEntry] = {}
        self.citation_keys: dict[Citation, str] = {}
        self.documents: dict[str, DocumentEntry] = {}

    def node(self, ref: NodeRef) -> str:
        self.nodes.setdefault(ref.curie, ref)
        return ref.curie

    def mechanism(self, ref: Ref | None) -> str | None:
        if ref is None:
            return None
        self.mechanisms.setdefault(ref.curie, ref)
        return ref.curie

    def citation(self, citation: Citation) -> str:
        if citation in self.citation_keys:
            return self.citation_keys[citation]
        key, number = citation.identifier, 1
        while key in self.citations:
            number += 1
            key = f"{citation.identifier}#{number}"
        document = citation.document_iri or citation.document
        if document is not None:
            self.documents.setdefault(
                document,
                DocumentEntry(
                    title=citation.document,
                    label=citation.document_label,
                    attributed_in=citation.attributed_in,
                ),
            )
        self.citations[key] = CitationEntry(
            identifier=citation.identifier, section=citation.section, document=document, text=cite(citation)
        )
        self.citation_keys[citation] = key
        return key

    def step(self, step: Step) -> str:
        for link in step.links:
            self.links.setdefault(link.curie, link)
        entry = StepEntry(
            subject=self.node(step.subject),
            object=self.node(step.object),
            sign=step.sign,
            predicate=step.predicate,
            links=tuple(link.curie for link in step.links),
            context=step.context,
            citations=tuple(self.citation(c) for c in step.citations),
            evidence_types=step.evidence_types,
            curator_inference=step.curator_inference,
            evidence_summary=step.evidence_summary,
            notes=tuple(step_notes(step)),
        )
        if entry not in self.step_keys:
            self.step_keys[entry] = f"s{len(self.steps) + 1}"
            self.steps[self.step_keys[entry]] = entry
        return self.step_keys[entry]

    def fields(self) -> dict[str, object]:
        """The filled tables, as the keyword arguments of a document."""
        return {
            "nodes": self.nodes,
            "links": self.links,
            "mechanism_refs": self.mechanisms,
            "steps": self.steps,
            "citations": self.citations,
            "documents": self.documents,
        }

    def recommendation(self, advice: Recommendation) -> RecommendationEntry:
        return RecommendationEntry(
            iri=advice.iri,
            curie=advice.curie,
            label=advice.label,
            text=advice.text,
            order=advice.order,
            recommends=tuple(self.node(node) for node in advice.recommends),
            cautions_against=tuple(self.node(node) for node in advice.cautions_against),
            applies_to=advice.applies_to,
            rationale=advice.rationale,
            citations=tuple(self.citation(c) for c in advice.citations),
            matched=advice.matched,
            paths=advice.paths,
        )

    def path(self, path: CausalPath) -> PathEntry:
        return PathEntry(
            rank=path.rank,
            mechanism=self.mechanism(path.mechanism),
            net_sign=path.net_sign,
            net_polarity=path.net_polarity,
            steps=tuple(self.step(step) for step in path.steps),
            explanation=path.explanation,
            hops=path.hops,
            citation_count=path.citation_count,
            source_count=path.source_count,
            support=path.support,
            context=path.context,
            corroboration=tuple(
                CorroborationEntry(
                    steps=tuple(self.step(step) for step in summary.steps),
                    spans=summary.spans,
                    mechanism=self.mechanism(summary.mechanism),
                    explanation=summary.explanation,
                    citations=tuple(self.citation(c) for c in summary.citations),
                )
                for summary in path.corroboration
            ),
        )


def compact(explanation: Explanation) -> ExplanationDocument:
    """The JSON shape of an explanation: each node, link, mechanism, citation, document and step once."""
    tables = _Tables()
    source, finding = tables.node(explanation.source), tables.node(explanation.finding)
    paths = tuple(tables.path(path) for path in explanation.paths)
    contradicting = tuple(tables.path(path) for path in explanation.contradicting)
    groups = tuple(
        GroupEntry(mechanism=tables.mechanism(group.mechanism), paths=tuple(p.rank for p in group.paths))
        for group in explanation.mechanisms
    )
    recommendations = tuple(tables.recommendation(advice) for advice in explanation.recommendations)
    return ExplanationDocument(
        question=explanation.question,
        source=source,
        finding=finding,
        context=explanation.context,
        status=explanation.status,
        message=explanation.message,
        paths=paths,
        mechanisms=groups,
        contradicting=contradicting,
        recommendations=recommendations,
        max_hops=explanation.max_hops,
        max_paths=explanation.max_paths,
        **tables.fields(),  # type: ignore[arg-type]
    )


def compact_causes(answer: Causes) -> CausesDocument:
    """The JSON shape of a /causes answer: each node, step and citation once, as in ``compact``."""
    tables = _Tables()
    finding = tables.node(answer.finding)
    causes = tuple(
        CauseEntry(
            rank=cause.rank,
            cause=tables.node(cause.cause),
            kind=cause.kind,
            paths=tuple(tables.path(path) for path in cause.paths),
            hops=cause.hops,
            citation_count=cause.citation_count,
            explanation=cause.explanation,
        )
        for cause in answer.causes
    )
    return CausesDocument(
        question=answer.question,
        finding=finding,
        context=answer.context,
        status=answer.status,
        message=answer.message,
        causes=causes,
        recommendations=tuple(tables.recommendation(advice) for advice in answer.recommendations),
        max_hops=answer.max_hops,
        max_paths=answer.max_paths,
        **tables.fields(),  # type: ignore[arg-type]
    )


def expand_citation(document: Document, key: str) -> Citation:
    """The full Citation behind a key of ``document.citations``."""
    entry = document.citations[key]
    source = document.documents.get(entry.document) if entry.document is not None else None
    return Citation(
        identifier=entry.identifier,
        section=entry.section,
        document=source.title if source else None,
        document_iri=entry.document if source and entry.document != source.title else None,
        document_label=source.label if source else None,
        attributed_in=source.attributed_in if source else None,
    )


def expand_step(document: Document, key: str) -> Step:
    """The full Step behind a key of ``document.steps``."""
    entry = document.steps[key]
    return Step(
        subject=document.nodes[entry.subject],
        predicate=entry.predicate,
        predicate_iri=str(MGKG.increases if entry.sign > 0 else MGKG.decreases),
        object=document.nodes[entry.object],
        sign=entry.sign,
        polarity="positive" if entry.sign > 0 else "negative",
        links=tuple(document.links[link] for link in entry.links),
        context=entry.context,
        citations=tuple(expand_citation(document, c) for c in entry.citations),
        evidence_types=entry.evidence_types,
        curator_inference=entry.curator_inference,
        evidence_summary=entry.evidence_summary,
    )


def _mechanism(document: Document, key: str | None) -> Ref | None:
    return document.mechanism_refs[key] if key is not None else None


def _expand_path(document: Document, entry: PathEntry) -> CausalPath:
    return CausalPath(
        rank=entry.rank,
        mechanism=_mechanism(document, entry.mechanism),
        net_sign=entry.net_sign,
        net_polarity=entry.net_polarity,
        steps=tuple(expand_step(document, key) for key in entry.steps),
        explanation=entry.explanation,
        hops=entry.hops,
        citation_count=entry.citation_count,
        context=entry.context,
        source_count=entry.source_count,
        support=entry.support,
        corroboration=tuple(
            Corroboration(
                steps=tuple(expand_step(document, key) for key in summary.steps),
                spans=summary.spans,
                mechanism=_mechanism(document, summary.mechanism),
                explanation=summary.explanation,
                citations=tuple(expand_citation(document, c) for c in summary.citations),
            )
            for summary in entry.corroboration
        ),
    )


def _expand_recommendation(document: Document, entry: RecommendationEntry) -> Recommendation:
    return Recommendation(
        iri=entry.iri,
        curie=entry.curie,
        label=entry.label,
        text=entry.text,
        order=entry.order,
        recommends=tuple(document.nodes[key] for key in entry.recommends),
        cautions_against=tuple(document.nodes[key] for key in entry.cautions_against),
        applies_to=entry.applies_to,
        rationale=entry.rationale,
        citations=tuple(expand_citation(document, key) for key in entry.citations),
        matched=entry.matched,
        paths=entry.paths,
    )


def expand_json(data: object) -> Explanation:
    """The Explanation behind a decoded JSON answer (of GET /why or `mgkg why --json`); validates it."""
    return expand(ExplanationDocument.model_validate(data))


def expand(document: ExplanationDocument) -> Explanation:
    """The Explanation a JSON answer stands for (``expand(compact(e)) == e``)."""
    paths = tuple(_expand_path(document, entry) for entry in document.paths)
    by_rank = {path.rank: path for path in paths}
    return Explanation(
        question=document.question,
        source=document.nodes[document.source],
        finding=document.nodes[document.finding],
        context=document.context,
        status=document.status,
        message=document.message,
        paths=paths,
        mechanisms=tuple(
            MechanismGroup(
                mechanism=_mechanism(document, group.mechanism), paths=tuple(by_rank[r] for r in group.paths)
            )
            for group in document.mechanisms
        ),
        contradicting=tuple(_expand_path(document, entry) for entry in document.contradicting),
        recommendations=tuple(_expand_recommendation(document, entry) for entry in document.recommendations),
        max_hops=document.max_hops,
        max_paths=document.max_paths,
    )


def expand_causes_json(data: object) -> Causes:
    """The Causes behind a decoded JSON answer (of GET /causes or `mgkg causes --json`); validates it."""
    return expand_causes(CausesDocument.model_validate(data))


def expand_causes(document: CausesDocument) -> Causes:
    """The Causes a /causes JSON answer stands for (``expand_causes(compact_causes(c)) == c``)."""
    return Causes(
        question=document.question,
        finding=document.nodes[document.finding],
        context=document.context,
        status=document.status,
        message=document.message,
        causes=tuple(
            Cause(
                rank=entry.rank,
                cause=document.nodes[entry.cause],
                kind=entry.kind,
                paths=tuple(_expand_path(document, path) for path in entry.paths),
                hops=entry.hops,
                citation_count=entry.citation_count,
                explanation=entry.explanation,
            )
            for entry in document.causes
        ),
        recommendations=tuple(_expand_recommendation(document, entry) for entry in document.recommendations),
        max_hops=document.max_hops,
        max_paths=document.max_paths,
    )
