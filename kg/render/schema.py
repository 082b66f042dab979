"""The JSON schema of an answer document: its tables' entries and the two documents (/why and /causes).

Pydantic models, frozen and closed (``extra="forbid"``), so that OpenAPI shows them and a JSON answer read
back is validated; kg.render.document fills them (``compact``) and reads them back (``expand``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kg.causal.causes import CauseKind, CausesStatus
from kg.model.types import Context, Effect, ExplanationStatus, LinkRef, NodeRef, Ref, Severity


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentEntry(_Entry):
    """A source document, once: its title, short name and the text that attributes claims to it."""

    title: str | None = Field(description="The document's title.")
    label: str | None = Field(default=None, description="Its short name, as a reader would cite it.")
    attributed_in: str | None = Field(default=None, description="IRI of the text citing it second-hand.")


class CitationEntry(_Entry):
    """A citation, once: identifier, section, the key of its document, and how a reader would write it."""

    identifier: str = Field(description="The citation's identifier, e.g. 'problem:4415078'.")
    section: str | None = Field(default=None, description="The section of the document, when known.")
    document: str | None = Field(default=None, description="Key into `documents` (the document's IRI).")
    text: str = Field(description="The citation as people write it: document, section [identifier].")


class StepEntry(_Entry):
    """A step, once: keys of its nodes, links and citations, its sign, context and evidence."""

    subject: str = Field(description="Key into `nodes` (a CURIE).")
    object: str = Field(description="Key into `nodes` (a CURIE).")
    sign: Literal[1, -1] = Field(description="+1 for a positive link, -1 for a negative one.")
    predicate: Effect = Field(description="'increases' or 'decreases' (the link's own polarity).")
    links: tuple[str, ...] = Field(description="Keys into `links`.")
    context: Context
    citations: tuple[str, ...] = Field(description="Keys into `citations`.")
    evidence_types: tuple[str, ...] = Field(default=(), description="ECO CURIEs of the links' evidence.")
    curator_inference: bool = False
    evidence_summary: str = ""
    notes: tuple[str, ...] = Field(
        default=(), description="Context and evidence in words ('in severe deficiency', 'curator inference')."
    )


class CorroborationEntry(_Entry):
    """A coarser path that summarises the path it belongs to; its citations merged there."""

    steps: tuple[str, ...] = Field(description="Keys into `steps`.")
    spans: tuple[tuple[int, int], ...] = Field(description="Per coarse step, first and last detailed step.")
    mechanism: str | None = Field(default=None, description="Key into `mechanism_refs`.")
    explanation: str
    citations: tuple[str, ...] = Field(description="Keys into `citations`.")


class PathEntry(_Entry):
    """A ranked path: keys of its steps, its net effect, counts, context, paragraph and corroboration."""

    rank: int
    mechanism: str | None = Field(description="Key into `mechanism_refs`.")
    net_sign: Literal[1, -1]
    net_polarity: Effect
    steps: tuple[str, ...] = Field(description="Keys into `steps`, in order.")
    explanation: str = Field(description="One plain-English paragraph with [citation] markers.")
    hops: int
    citation_count: int = Field(description="Distinct citations, the corroborating summaries' included.")
    source_count: int = Field(description="Distinct source texts (numbered references count as their text).")
    support: int = Field(description="Distinct source texts behind the least supported step.")
    context: Context
    corroboration: tuple[CorroborationEntry, ...] = ()


class GroupEntry(_Entry):
    """The paths that share a mechanism, best first, by rank."""

    mechanism: str | None = Field(description="Key into `mechanism_refs`; None for paths naming none.")
    paths: tuple[int, ...] = Field(description="Ranks of the group's paths in `paths`.")


class RecommendationEntry(_Entry):
    """What the sources advise, once: its wording and order, node and citation keys, why it is here."""

    iri: str = Field(description="The recommendation's IRI.")
    curie: str = Field(description="The recommendation's CURIE, e.g. 'mgkgid:rec-mg-first-hypocalcemia'.")
    label: str = Field(description="A short name of the advice.")
    text: str = Field(description="The advice in the curators' words.")
    order: int = Field(description="Where the sources give it (1 first).")
    recommends: tuple[str, ...] = Field(default=(), description="Keys into `nodes`: what it advises.")
    cautions_against: tuple[str, ...] = Field(
        default=(), description="Keys into `nodes`: what it says does not work on its own."
    )
    applies_to: tuple[Ref, ...] = Field(description="The findings, states and mechanisms it is for.")
    rationale: tuple[Ref, ...] = Field(default=(), description="The mechanisms or links that explain why.")
    citations: tuple[str, ...] = Field(description="Keys into `citations`.")
    matched: tuple[Ref, ...] = Field(default=(), description="Which of applies_to this answer involves.")
    paths: tuple[int, ...] = Field(default=(), description="Ranks of the paths that show why.")


class Document(_Entry):
    """The tables an answer document refers to by key, declared once for both kinds of answer.

    A document class lists this base first (``class ExplanationDocument(Document, _Explanation)``):
    pydantic orders fields base by base, from the last base listed, so the answer's own fields (its
    question first) come before these tables in the JSON, as a reader expects them.
    """

    nodes: dict[str, NodeRef] = Field(description="Every node of the answer, by CURIE.")
    links: dict[str, LinkRef] = Field(description="Every causal link behind a step, by CURIE.")
    mechanism_refs: dict[str, Ref] = Field(description="Every mechanism named, by CURIE.")
    steps: dict[str, StepEntry] = Field(description="Every step, by id ('s1', ...), in order of use.")
    citations: dict[str, CitationEntry] = Field(
        description="Every citation, by key (its identifier; '#2', '#3' for another section), in order of"
        " first use: the answer's numbered reference list."
    )
    documents: dict[str, DocumentEntry] = Field(description="Every cited document, by IRI.")


class _Explanation(_Entry):
    question: str
    source: str = Field(description="Key into `nodes`.")
    finding: str = Field(description="Key into `nodes`.")
    context: Severity | None
    status: ExplanationStatus
    message: str
    paths: tuple[PathEntry, ...]
    mechanisms: tuple[GroupEntry, ...]
    contradicting: tuple[PathEntry, ...] = ()
    recommendations: tuple[RecommendationEntry, ...] = Field(
        default=(), description="What the sources advise for this answer, in the sources' order."
    )
    max_hops: int
    max_paths: int


class ExplanationDocument(Document, _Explanation):
    """The answer to a why-question as JSON: ranked paths that refer to top-level tables by key."""


class CauseEntry(_Entry):
    """A cause of the finding, ranked, with its paths (which cite the document's tables by key)."""

    rank: int = Field(description="1-based position among the causes.")
    cause: str = Field(description="Key into `nodes`.")
    kind: CauseKind = Field(description="drug, genetic disorder, loss route, or another etiology.")
    paths: tuple[PathEntry, ...] = Field(description="Its paths to the finding, ranked as /why ranks them.")
    hops: int = Field(description="Steps of the best path.")
    citation_count: int = Field(description="Distinct citations of the best path.")
    explanation: str = Field(description="The best path's paragraph, with [citation] markers.")


class _Causes(_Entry):
    question: str
    finding: str = Field(description="Key into `nodes`.")
    context: Severity | None
    status: CausesStatus
    message: str
    causes: tuple[CauseEntry, ...]
    recommendations: tuple[RecommendationEntry, ...] = ()
    max_hops: int
    max_paths: int


class CausesDocument(Document, _Causes):
    """The answer of /causes as JSON: ranked causes whose paths refer to top-level tables by key."""

    citations: dict[str, CitationEntry] = Field(description="Every citation, by key, in order of first use.")
