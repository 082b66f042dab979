"""Frozen value types of an answer to a why-question: nodes, citations, steps, paths, explanations."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["mild", "severe"]
"""The severity contexts a causal link may be tagged with (mgkg:mild, mgkg:severe)."""

Effect = Literal["increases", "decreases"]
"""The effect of a step or of a whole path on its object, in words."""


class _Value(BaseModel):
    """Base of every value type: immutable, hashable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MatchType(StrEnum):
    """How closely a standard identifier matches a node (the SKOS mapping property used)."""

    EXACT = "exact"
    CLOSE = "close"
    BROAD = "broad"
    NARROW = "narrow"
    RELATED = "related"


class Xref(_Value):
    """A standard identifier (HPO, ChEBI, GO, HGNC, UniProt, MONDO, ...) mapped to a node."""

    curie: str = Field(description="The standard identifier as a CURIE, e.g. 'HP:0002901'.")
    match: MatchType = Field(description="The SKOS mapping it comes from (exactMatch, closeMatch, ...).")


class NodeRef(_Value):
    """A node of the causal graph as an answer names it: IRI, CURIE, label, kind and standard ids."""

    iri: str = Field(description="The node's IRI, e.g. 'https://w3id.org/mgkg/id/hypocalcemia'.")
    curie: str = Field(description="The node's CURIE, e.g. 'mgkgid:hypocalcemia'.")
    label: str = Field(description="The node's English label.")
    kind: str = Field(description="The most specific mgkg class of the node, e.g. 'ClinicalFinding'.")
    xrefs: tuple[Xref, ...] = Field(default=(), description="Standard identifiers with their match type.")


class Ref(_Value):
    """A named resource of the graph other than a node: a causal link or a mechanism."""

    iri: str = Field(description="The resource's IRI.")
    curie: str = Field(description="The resource's CURIE, e.g. 'mgkgid:mech-pth-secretion'.")
    label: str = Field(description="The resource's English label.")


class LinkRef(Ref):
    """An asserted causal link (mgkg:CausalLink) behind a step, with the severity it is tagged with."""

    severity: Severity | None = Field(default=None, description="The link's severity tag, if any.")


class Citation(_Value):
    """Where a causal link is stated: a source marker, the section it is in, and the document."""

    identifier: str = Field(description="The citation's identifier, e.g. 'problem:4415078'.")
    section: str | None = Field(default=None, description="The section of the document, when known.")
    document: str | None = Field(default=None, description="The title of the source document.")
    document_iri: str | None = Field(default=None, description="The IRI of the source document.")
    document_label: str | None = Field(
        default=None, description="The document's short name (its rdfs:label), as a reader would cite it."
    )
    attributed_in: str | None = Field(
        default=None,
        description="The IRI of the text that attributes the claim to the document (the article for the"
        " guideline it names as its reference 1), when the document is cited second-hand.",
    )


class Context(_Value):
    """The circumstances a causal link (or a path, as the union of its links) holds in."""

    severity: Severity | None = Field(default=None, description="'mild', 'severe', or None if untagged.")
    tissues: tuple[str, ...] = Field(default=(), description="Labels of the tissues the link is stated for.")
    conditions: tuple[str, ...] = Field(default=(), description="Labels of conditions, e.g. 'alkalosis'.")


class Step(_Value):
    """One step of a path: subject increases or decreases object, with the links and evidence behind it.

    Parallel asserted links between the same two nodes with the same sign are merged into one step:
    ``links`` lists every one of them and ``citations`` the union of their citations.
    """

    subject: NodeRef
    predicate: Effect = Field(description="'increases' for a positive link, 'decreases' for a negative one.")
    predicate_iri: str = Field(description="mgkg:increases or mgkg:decreases, as a full IRI.")
    object: NodeRef
    sign: Literal[1, -1] = Field(description="+1 for a positive effect, -1 for a negative effect.")
    polarity: Literal["positive", "negative"] = Field(description="The sign in words.")
    links: tuple[LinkRef, ...] = Field(
        description="The asserted causal links (mgkg:CausalLink) of this step."
    )
    context: Context = Field(
        description="The links' context: tissues and conditions united; a severity only if every link has it."
    )
    citations: tuple[Citation, ...] = Field(description="The citations of the links, deduplicated.")
    evidence_types: tuple[str, ...] = Field(default=(), description="ECO CURIEs of the links' evidence.")
    curator_inference: bool = Field(
        default=False, description="True when every link of the step is a curator inference (ECO:0000305)."
    )
    evidence_summary: str = Field(default="", description="The links' paraphrased evidence summaries.")


class Corroboration(_Value):
    """A coarser path that summarises a detailed one: same ends and net sign, each of its steps spanning a
    run of the detailed path's steps with the same net sign. It is shown beside the detailed path (its
    citations merged there) instead of being ranked as a path of its own."""

    steps: tuple[Step, ...] = Field(description="The coarse path's own steps.")
    spans: tuple[tuple[int, int], ...] = Field(
        description="For each coarse step, the first and last (0-based) detailed steps it summarises."
    )
    mechanism: Ref | None = Field(default=None, description="The mechanism the coarse path names.")
    explanation: str = Field(description="The coarse path's paragraph.")
    citations: tuple[Citation, ...] = Field(description="The coarse path's citations, deduplicated.")


class CausalPath(_Value):
    """A chain of steps from the source to the finding, with its net effect and a written explanation."""

    rank: int = Field(description="1-based position in the ranked list it belongs to.")
    mechanism: Ref | None = Field(description="The mechanism held by the most links on the path.")
    net_sign: Literal[1, -1] = Field(description="The product of the steps' signs.")
    net_polarity: Effect = Field(description="The net effect of the source on the finding along the path.")
    steps: tuple[Step, ...]
    explanation: str = Field(description="One plain-English paragraph with [citation] markers.")
    hops: int = Field(description="The number of steps.")
    citation_count: int = Field(
        description="The number of distinct citations over all steps and the corroborating summaries."
    )
    context: Context = Field(
        description="The union of the links' contexts; the severity when the links tagged with one agree."
    )
    source_count: int = Field(
        default=0,
        description="Distinct source texts cited on the path or its corroboration (a text's numbered"
        " references count as that text).",
    )
    support: int = Field(
        default=0,
        description="Distinct source texts behind the least supported step, corroboration included (what"
        " ranks paths after the context).",
    )
    corroboration: tuple[Corroboration, ...] = Field(
        default=(), description="Coarser paths that summarise this one (not ranked on their own)."
    )


class MechanismGroup(_Value):
    """The paths that share a mechanism, best first."""

    mechanism: Ref | None = Field(description="The mechanism; None groups paths whose links name none.")
    paths: tuple[CausalPath, ...]


class Recommendation(_Value):
    """What the sources say to do (a mgkg:Recommendation), as an answer carries it, with its citations.

    Selected by kg.causal.recommend for the answer's finding and for the nodes and mechanisms of its paths;
    ``matched`` says which of ``applies_to`` the answer involves and ``paths`` the ranks of the paths
    that involve them (or its ``rationale``), so a reader can see why it is there.
    """

    iri: str = Field(description="The recommendation's IRI.")
    curie: str = Field(description="The recommendation's CURIE, e.g. 'mgkgid:rec-mg-first-hypocalcemia'.")
    label: str = Field(description="A short name of the advice.")
    text: str = Field(description="The advice in the curators' words (mgkg:recommendationText).")
    order: int = Field(description="Where the sources give it (mgkg:sourceOrder, 1 first); answers keep it.")
    recommends: tuple[NodeRef, ...] = Field(default=(), description="The interventions or tests advised.")
    cautions_against: tuple[NodeRef, ...] = Field(
        default=(), description="Interventions the advice says do not work on their own (calcium alone)."
    )
    applies_to: tuple[Ref, ...] = Field(description="The findings, states and mechanisms it is for.")
    rationale: tuple[Ref, ...] = Field(
        default=(), description="The mechanisms or causal links that explain why it is needed."
    )
    citations: tuple[Citation, ...] = Field(description="Where the sources give the advice.")
    matched: tuple[Ref, ...] = Field(default=(), description="Which of applies_to this answer involves.")
    paths: tuple[int, ...] = Field(
        default=(), description="Ranks of this answer's paths through what it applies to or its rationale."
    )


class ExplanationStatus(StrEnum):
    """Why an explanation has the paths it has (or has none)."""

    EXPLAINED = "explained"
    """At least one path explains the finding."""
    NO_PATH = "no_path"
    """The finding is known but no causal path from the source reaches it within the limits."""
    ONLY_CONTRADICTING = "only_contradicting"
    """Paths reach the finding, but every one of them contradicts the finding's direction."""
    FILTERED_BY_CONTEXT = "filtered_by_context"
    """Paths exist, but none survives the requested context."""
    INCONSISTENT = "inconsistent"
    """Chains of links reach the finding, but each breaks a consistency rule (kg/causal/consistency.py: mixed
    phases, a negated condition, states that exclude each other, an intervention credited with a state
    no source says it causes); the message names the rules, in words from the data."""


class Explanation(_Value):
    """The answer to 'why does SOURCE lead to FINDING?': ranked paths grouped by mechanism, or a reason."""

    question: str = Field(description="The question in words, e.g. 'Why does hypomagnesemia lead to ...?'.")
    source: NodeRef
    finding: NodeRef
    context: Severity | None = Field(description="The severity context asked for; None means any.")
    status: ExplanationStatus
    message: str = Field(description="One sentence summing up the answer, or saying why there is none.")
    paths: tuple[CausalPath, ...] = Field(description="The explaining paths, ranked.")
    mechanisms: tuple[MechanismGroup, ...] = Field(description="The paths grouped by mechanism, best first.")
    contradicting: tuple[CausalPath, ...] = Field(
        default=(), description="Paths whose net effect contradicts the finding's direction, ranked."
    )
    max_hops: int = Field(description="The longest path searched, in steps.")
    max_paths: int = Field(description="The most paths searched for.")
    recommendations: tuple[Recommendation, ...] = Field(
        default=(),
        description="What the sources advise for the finding and the mechanisms of its paths, in the sources'"
        " order (kg.causal.recommend).",
    )
