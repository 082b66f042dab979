"""Frozen value types of a case explanation: readings, explained findings, shared steps, loss, what-if."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from kg.causal.case_model import Case, Loss
from kg.causal.justify import Justification
from kg.model.types import CausalPath, Citation, LinkRef, NodeRef, Recommendation, Ref, Severity

DISCLAIMER = (
    "Educational only: an explanation generated from a knowledge graph of two sources (a textbook-style"
    " chapter and a clinical Q&A article), not a clinical decision or a diagnosis."
)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Observation(_Value):
    """One observation of the case and how the rules read it."""

    field: str = Field(description="The case field, e.g. 'labs.fe_mg_percent' or 'treatments[0]'.")
    value: str = Field(description="The value given.")
    reading: str = Field(description="What the value means, in the rules' words.")
    present: tuple[NodeRef, ...] = Field(default=(), description="Graph nodes it shows present.")
    absent: tuple[NodeRef, ...] = Field(default=(), description="Graph nodes it shows absent.")
    loss: Loss | None = Field(default=None, description="Where it places the magnesium loss, if anywhere.")
    severity: Severity | None = Field(default=None, description="The phase it implies, if any.")
    curator_inference: bool = Field(default=False, description="The rule is the curators', not a source's.")
    citations: tuple[Citation, ...] = Field(default=(), description="Where the rule comes from.")


class CaseFinding(_Value):
    """An observed finding and what the explanation makes of it."""

    finding: NodeRef
    origins: tuple[str, ...] = Field(description="Which case fields show it ('findings', 'labs.serum_ca').")
    explained: bool = Field(description="Whether a sound path explains it under the implied severity.")
    source: NodeRef = Field(description="Where its paths start (hypomagnesemia, or another observation).")
    message: str = Field(description="One sentence: how it is explained, or plainly that it is not.")
    mechanisms: tuple[Ref, ...] = Field(default=(), description="The mechanisms of its paths, best first.")
    paths: tuple[CausalPath, ...] = Field(default=(), description="Its ranked, cited paths (as /why).")


class SharedStep(_Value):
    """A node on the paths of several observed findings: the common part of the mechanism."""

    node: NodeRef
    findings: tuple[NodeRef, ...] = Field(description="The findings whose paths pass through it.")


class CandidateCause(_Value):
    """A cause the loss may come from (from /causes), and how it agrees with the exposures given."""

    rank: int
    cause: NodeRef
    kind: str
    reported: bool = Field(description="Whether the case names it among its exposures.")
    explanation: str = Field(description="Its best path's paragraph, with [citation] markers.")
    paths: tuple[CausalPath, ...] = ()


Verdict = Literal["renal", "extra_renal", "indeterminate", "conflicting", "unknown"]
"""Where a case places the magnesium loss."""


class LossAssessment(_Value):
    """Where the loss comes from: renal, extra-renal, indeterminate, conflicting or unknown."""

    verdict: Verdict
    message: str
    evidence: tuple[str, ...] = Field(description="The case fields the verdict rests on.")
    target: NodeRef = Field(description="The finding whose causes are listed (/causes machinery).")
    causes: tuple[CandidateCause, ...] = Field(description="Reported exposures first, then the rest.")


class Contradiction(_Value):
    """An observation that argues against part of the explanation, and the rule it breaks."""

    observation: str = Field(description="The case field(s) at issue.")
    rule: str = Field(description="phase, exclusive_states, negated_context, cause or response.")
    message: str
    mechanisms: tuple[Ref, ...] = Field(default=(), description="The mechanisms it argues against.")


class WhatIf(_Value):
    """What the graph expects an intervention to do to one observed finding, and why."""

    intervention: NodeRef
    finding: NodeRef
    expectation: Literal["corrects", "persists"]
    message: str
    tried: Literal["corrected", "no_response"] | None = Field(description="The response seen, if tried.")
    agrees: bool | None = Field(description="Whether the response seen is what the graph expects.")
    paths: tuple[CausalPath, ...] = Field(default=(), description="The paths that say why.")
    recommendations: tuple[str, ...] = Field(default=(), description="IRIs of the advice it rests on.")


class HypothesisRank(_Value):
    """A mechanism ranked by how many observations it explains, how few it contradicts, then evidence."""

    rank: int
    mechanism: Ref
    explains: tuple[NodeRef, ...]
    contradicted_by: tuple[str, ...]
    citation_count: int


class CaseRecommendation(_Value):
    """A recommendation the case calls for, with the observed findings it applies to."""

    recommendation: Recommendation
    findings: tuple[NodeRef, ...]


INFERENCE_RULES: Final = (
    "prp-spo2 (mgkg:causes is the property chain mgkg:causeOf / mgkg:effect of an asserted link)",
    "prp-spo1 (mgkg:causes is a sub-property of mgkg:causallyUpstreamOf)",
    "prp-trp (mgkg:causallyUpstreamOf is transitive)",
)
"""The OWL 2 RL rules (and the ontology axioms they apply) that entail source causallyUpstreamOf finding."""


class Proof(_Value):
    """Why the case explanation concludes that its source explains one observed finding."""

    conclusion: str = Field(description="The conclusion in words.")
    finding: str = Field(description="The finding's IRI.")
    source: str = Field(description="The IRI of the start of its paths.")
    readings: tuple[Observation, ...] = Field(
        description="The reading rules that show the finding or set the phase."
    )
    consistency: tuple[str, ...] = Field(
        description="The consistency and context rules the paths were kept by."
    )
    links: tuple[LinkRef, ...] = Field(description="Every asserted causal link of its paths.")
    citations: tuple[Citation, ...] = Field(description="Every citation of those links.")
    inferred: Justification | None = Field(
        description="The entailed upstream triple, justified; None if not entailed."
    )
    inference_rules: tuple[str, ...] = Field(
        default=INFERENCE_RULES, description="The OWL 2 RL rules applied."
    )


class Figure(_Value):
    """What one number shown with a case answer means (the page and the text say it beside the number)."""

    key: str = Field(description="The figure's key: the page marks each number it shows with it.")
    name: str
    meaning: str


FIGURES: Final = (
    Figure(
        key="path-rank",
        name="path N",
        meaning="The rank of a path among a finding's paths, as /why ranks them: links of the implied"
        " severity first, then the better supported (a path is as strong as its least-cited step), then"
        " more steps citing a specific passage, then fewer steps.",
    ),
    Figure(
        key="cause-rank",
        name="cause rank",
        meaning="Candidate causes of the loss: the exposures the case reports first, then as /causes ranks"
        " them (fewer steps to the finding first, then the better-supported best path, then more citations).",
    ),
    Figure(
        key="mechanism-rank",
        name="mechanism rank",
        meaning="Mechanisms rank by the findings they explain (more first), then the observations that"
        " contradict them (fewer first), then their distinct citations (more first).",
    ),
    Figure(
        key="explains",
        name="explains N finding(s)",
        meaning="How many observed findings have a sound path through the mechanism under the implied"
        " severity.",
    ),
    Figure(
        key="contradicted",
        name="contradicted by N",
        meaning="How many observations argue against the mechanism (for example a high PTH against a"
        " severe-phase mechanism), each listed under what argues against it.",
    ),
    Figure(
        key="citations",
        name="N citation(s)",
        meaning="Distinct citations (passages of the two sources) on the mechanism's paths.",
    ),
    Figure(
        key="proof-links",
        name="N asserted link(s)",
        meaning="The causal links of the knowledge graph a conclusion's paths use, each stated by a source"
        " or marked curator inference.",
    ),
    Figure(
        key="proof-chains",
        name="N chain(s)",
        meaning="The chains of asserted links from which OWL 2 RL entails 'source causally upstream of"
        " finding' (the inferred triple's justification).",
    ),
    Figure(
        key="counts",
        name="N explained, N not",
        meaning="Observed findings (named, or shown by a lab or a treatment's response) the explanation"
        " accounts for, and those it does not.",
    ),
)
"""Every figure a case answer shows, with its meaning."""


class CaseExplanation(_Value):
    """One explanation of a whole case."""

    disclaimer: str = DISCLAIMER
    summary: str = Field(description="A few sentences generated from the parts below.")
    case: Case
    source: NodeRef = Field(description="The hypothesis the case is explained from.")
    severity: Severity | None = Field(description="The phase the observations imply; None: not implied.")
    observations: tuple[Observation, ...]
    explained: tuple[CaseFinding, ...]
    not_explained: tuple[CaseFinding, ...]
    absent: tuple[NodeRef, ...] = Field(description="Findings known absent: never claimed explained.")
    shared: tuple[SharedStep, ...]
    loss: LossAssessment
    against: tuple[Contradiction, ...]
    what_if: tuple[WhatIf, ...]
    hypotheses: tuple[HypothesisRank, ...]
    recommendations: tuple[CaseRecommendation, ...]
    proofs: tuple[Proof, ...] = Field(
        default=(), description="A proof per explained finding (kg.causal.case_proof.prove_case)."
    )
    ranking: str = Field(
        default=(
            "Mechanisms rank by how many observed findings their paths explain (more first), then by how many"
            " observations contradict them (fewer first), then by distinct citations (more first). Causes"
            " rank the exposures the case reports first, then as /causes ranks them (fewer steps, then the"
            " better-supported best path, then more citations)."
        ),
        description="How the hypotheses and causes are ranked.",
    )
    figures: tuple[Figure, ...] = Field(default=FIGURES, description="What every figure shown means.")
