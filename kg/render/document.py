"""The JSON shape of an answer: every node, link, mechanism, citation, document and step said once, in
top-level tables keyed by CURIE or id, that paths and other parts of an answer refer to by key (the
models of those tables are kg.render.schema's).

``compact`` builds it from an Explanation and ``expand`` gives the Explanation back, field for field (the
step fields that follow from a step's sign, ``predicate_iri`` and ``polarity``, are recomputed). A new part
of an answer (recommendations, causes) cites by adding its citations to ``citations`` and listing keys.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

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


_Model = TypeVar("_Model", bound=BaseModel)


def _carry(target: type[_Model], origin: BaseModel, /, **converted: object) -> _Model:
    """A ``target`` made from ``origin``: each of its fields taken from the field of ``origin`` of the same
    name, but for those given ``converted`` (a reference replaced by its key, or a key by what it stands
    for). Compacting and expanding are this one copy, with the conversions each part needs; a field of
    ``target`` that ``origin`` lacks and that is not converted is an AttributeError, never a silent gap.

    >>> _carry(Ref, Ref(iri="https://w3id.org/mgkg/id/a", curie="mgkgid:a", label="a"), label="A").label
    'A'
    """
    carried = {name: getattr(origin, name) for name in target.model_fields if name not in converted}
    return target(**carried, **converted)


class _Tables:
    """The tables being filled while an Explanation is compacted, named as schema.Document names them."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeRef] = {}
        self.links: dict[str, LinkRef] = {}
        self.mechanism_refs: dict[str, Ref] = {}
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
        self.mechanism_refs.setdefault(ref.curie, ref)
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

    def cited(self, citations: tuple[Citation, ...]) -> tuple[str, ...]:
        return tuple(self.citation(c) for c in citations)

    def step(self, step: Step) -> str:
        for link in step.links:
            self.links.setdefault(link.curie, link)
        entry = _carry(
            StepEntry,
            step,
            subject=self.node(step.subject),
            object=self.node(step.object),
            links=tuple(link.curie for link in step.links),
            citations=self.cited(step.citations),
            notes=tuple(step_notes(step)),
        )
        if entry not in self.step_keys:
            self.step_keys[entry] = f"s{len(self.steps) + 1}"
            self.steps[self.step_keys[entry]] = entry
        return self.step_keys[entry]

    def fields(self) -> dict[str, object]:
        """The filled tables, as the keyword arguments of a document (the fields of schema.Document)."""
        return {name: getattr(self, name) for name in Document.model_fields}

    def recommendation(self, advice: Recommendation) -> RecommendationEntry:
        return _carry(
            RecommendationEntry,
            advice,
            recommends=tuple(self.node(node) for node in advice.recommends),
            cautions_against=tuple(self.node(node) for node in advice.cautions_against),
            citations=self.cited(advice.citations),
        )

    def recommendations(self, advice: tuple[Recommendation, ...]) -> tuple[RecommendationEntry, ...]:
        return tuple(self.recommendation(a) for a in advice)

    def path(self, path: CausalPath) -> PathEntry:
        return _carry(
            PathEntry,
            path,
            mechanism=self.mechanism(path.mechanism),
            steps=tuple(self.step(step) for step in path.steps),
            corroboration=tuple(
                _carry(
                    CorroborationEntry,
                    summary,
                    steps=tuple(self.step(step) for step in summary.steps),
                    mechanism=self.mechanism(summary.mechanism),
                    citations=self.cited(summary.citations),
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
    return _carry(
        ExplanationDocument,
        explanation,
        source=source,
        finding=finding,
        paths=paths,
        mechanisms=groups,
        contradicting=contradicting,
        recommendations=tables.recommendations(explanation.recommendations),
        **tables.fields(),
    )


def compact_causes(answer: Causes) -> CausesDocument:
    """The JSON shape of a /causes answer: each node, step and citation once, as in ``compact``."""
    tables = _Tables()
    finding = tables.node(answer.finding)
    causes = tuple(
        _carry(
            CauseEntry,
            cause,
            cause=tables.node(cause.cause),
            paths=tuple(tables.path(path) for path in cause.paths),
        )
        for cause in answer.causes
    )
    return _carry(
        CausesDocument,
        answer,
        finding=finding,
        causes=causes,
        recommendations=tables.recommendations(answer.recommendations),
        **tables.fields(),
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


def _citations(document: Document, keys: tuple[str, ...]) -> tuple[Citation, ...]:
    return tuple(expand_citation(document, key) for key in keys)


def expand_step(document: Document, key: str) -> Step:
    """The full Step behind a key of ``document.steps``."""
    entry = document.steps[key]
    return _carry(
        Step,
        entry,
        subject=document.nodes[entry.subject],
        predicate_iri=str(MGKG.increases if entry.sign > 0 else MGKG.decreases),
        object=document.nodes[entry.object],
        polarity="positive" if entry.sign > 0 else "negative",
        links=tuple(document.links[link] for link in entry.links),
        citations=_citations(document, entry.citations),
    )


def _mechanism(document: Document, key: str | None) -> Ref | None:
    return document.mechanism_refs[key] if key is not None else None


def _expand_path(document: Document, entry: PathEntry) -> CausalPath:
    return _carry(
        CausalPath,
        entry,
        mechanism=_mechanism(document, entry.mechanism),
        steps=tuple(expand_step(document, key) for key in entry.steps),
        corroboration=tuple(
            _carry(
                Corroboration,
                summary,
                steps=tuple(expand_step(document, key) for key in summary.steps),
                mechanism=_mechanism(document, summary.mechanism),
                citations=_citations(document, summary.citations),
            )
            for summary in entry.corroboration
        ),
    )


def _expand_recommendations(document: ExplanationDocument | CausesDocument) -> tuple[Recommendation, ...]:
    return tuple(
        _carry(
            Recommendation,
            entry,
            recommends=tuple(document.nodes[key] for key in entry.recommends),
            cautions_against=tuple(document.nodes[key] for key in entry.cautions_against),
            citations=_citations(document, entry.citations),
        )
        for entry in document.recommendations
    )


def expand_json(data: object) -> Explanation:
    """The Explanation behind a decoded JSON answer (of GET /why or `mgkg why --json`); validates it."""
    return expand(ExplanationDocument.model_validate(data))


def expand(document: ExplanationDocument) -> Explanation:
    """The Explanation a JSON answer stands for (``expand(compact(e)) == e``)."""
    paths = tuple(_expand_path(document, entry) for entry in document.paths)
    by_rank = {path.rank: path for path in paths}
    return _carry(
        Explanation,
        document,
        source=document.nodes[document.source],
        finding=document.nodes[document.finding],
        paths=paths,
        mechanisms=tuple(
            MechanismGroup(
                mechanism=_mechanism(document, group.mechanism), paths=tuple(by_rank[r] for r in group.paths)
            )
            for group in document.mechanisms
        ),
        contradicting=tuple(_expand_path(document, entry) for entry in document.contradicting),
        recommendations=_expand_recommendations(document),
    )


def expand_causes_json(data: object) -> Causes:
    """The Causes behind a decoded JSON answer (of GET /causes or `mgkg causes --json`); validates it."""
    return expand_causes(CausesDocument.model_validate(data))


def expand_causes(document: CausesDocument) -> Causes:
    """The Causes a /causes JSON answer stands for (``expand_causes(compact_causes(c)) == c``)."""
    return _carry(
        Causes,
        document,
        finding=document.nodes[document.finding],
        causes=tuple(
            _carry(
                Cause,
                entry,
                cause=document.nodes[entry.cause],
                paths=tuple(_expand_path(document, path) for path in entry.paths),
            )
            for entry in document.causes
        ),
        recommendations=_expand_recommendations(document),
    )
