"""How steps and citations read to a clinician: arrows that say what changes, context in words, citations
as people write them. The CLI, the JSON answer (and through it the web page) and the paragraphs share it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from kg.model.types import Citation, Context, Step

UP: Final = "↑"
DOWN: Final = "↓"


def arrow(state: int) -> str:
    """The arrow of a node that goes up (+1) or down (-1) along a path.

    >>> arrow(1), arrow(-1)
    ('↑', '↓')
    """
    return UP if state > 0 else DOWN


def states(steps: Sequence[Step]) -> list[tuple[int, int]]:
    """For each step, how its subject and its object move: the product of the signs so far (signed nodes).

    The source is present (+1); a decreasing step turns the movement over, so "↓ Mg-ATP → ↓ adenylate
    cyclase activity" is a positive link read along a path on which Mg-ATP falls.
    """
    moves, state = [], 1
    for step in steps:
        moves.append((state, state * step.sign))
        state *= step.sign
    return moves


def step_arrows(step: Step, before: int) -> str:
    """One step as what changes, e.g. '↓ Mg-ATP → ↓ adenylate cyclase activity'."""
    return f"{arrow(before)} {step.subject.label} → {arrow(before * step.sign)} {step.object.label}"


def context_notes(context: Context) -> list[str]:
    """A context in words: severity, tissues, conditions.

    >>> context_notes(Context(severity="severe", tissues=("kidney",), conditions=("alkalosis",)))
    ['in severe deficiency', 'in the kidney', 'with alkalosis']
    """
    notes = [f"in {context.severity} deficiency"] if context.severity else []
    notes += [f"in the {tissue}" for tissue in context.tissues]
    notes += [f"with {condition}" for condition in context.conditions]
    return notes


def step_notes(step: Step) -> list[str]:
    """What a reader must know about a step besides its arrows: evidence kind, severity, tissue, condition.

    The link's polarity is not among them: the arrows already say it, and "increases" printed after
    "↓ → ↓" reads as a contradiction. A severity only some of the step's links carry is said as such.
    """
    notes = ["curator inference"] if step.curator_inference else []
    notes += context_notes(step.context)
    tags = {link.severity for link in step.links} - {None}
    if step.context.severity is None and len(tags) == 1:
        notes.append(f"one source places it in {next(iter(tags))} deficiency")
    return notes


def cite(citation: Citation) -> str:
    """A citation as people write it: document, section, then the identifier in brackets.

    >>> chapter = Citation(identifier="problem:4805231", section="Calcium", document_label="Chapter")
    >>> cite(chapter)
    'Chapter, Calcium [problem:4805231]'
    >>> cite(Citation(identifier="a:ref-1", section="Guidelines", document_label="ESPEN", attributed_in="a"))
    'ESPEN, as cited under Guidelines [a:ref-1]'
    >>> cite(Citation(identifier="x"))
    '[x]'
    """
    document = citation.document_label or citation.document
    section = citation.section
    if citation.attributed_in and section:
        section = f"as cited under {section}"
    head = ", ".join(part for part in (document, section) if part)
    return f"{head} [{citation.identifier}]" if head else f"[{citation.identifier}]"


def sentence_case(text: str) -> str:
    """Capitalize the first letter unless the first word has capitals of its own (cAMP, PTH).

    >>> sentence_case("hypomagnesemia lowers Mg-ATP")
    'Hypomagnesemia lowers Mg-ATP'
    >>> sentence_case("cAMP drives PTH secretion")
    'cAMP drives PTH secretion'
    """
    return text if _own_capitals(text) else text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word has capitals of its own (NMDA, ROMK).

    >>> lower_first("Impaired PTH secretion")
    'impaired PTH secretion'
    >>> lower_first("NMDA receptor hyperexcitability")
    'NMDA receptor hyperexcitability'
    """
    return text if _own_capitals(text) else text[:1].lower() + text[1:]


def _own_capitals(text: str) -> bool:
    """Whether the first word has capitals after its first letter (cAMP, PTH, Mg-ATP, NMDA): its case is
    its own, and neither capitalizing nor lower-casing a sentence may touch it.

    >>> _own_capitals("cAMP rises"), _own_capitals("Impaired secretion"), _own_capitals("tetany")
    (True, False, False)
    """
    first = text.split(" ", 1)[0]
    return first[1:] != first[1:].lower()


def citation_markers(citations: Sequence[Citation]) -> str:
    """The bracketed citation markers of a step, a path or a recommendation, each identifier once.

    >>> citation_markers([Citation(identifier="problem:1"), Citation(identifier="problem:1", section="B")])
    '[problem:1]'
    """
    return "".join(f"[{identifier}]" for identifier in dict.fromkeys(c.identifier for c in citations))
