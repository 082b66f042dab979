"""Rank the paths of an answer: fold coarse summaries into the detailed paths they summarise, count each
source text once, and order by context, weakest-step support and length.

The rules, in order (README, "Ranking and corroboration"):

1. A path that is a coarser summary of another (same ends and net sign, each of its steps joining two
   nodes that appear in that order on the detailed path, with the same net sign as the run of detailed
   steps between them) is not ranked: it becomes a ``Corroboration`` of every detailed path it
   summarises, and its citations count for the steps it spans.
2. Paths whose links are tagged with the context asked for come first.
3. Then the better supported: a path is as strong as its least supported step, and a step's support is
   the number of distinct source texts that state it (its own citations and those of corroborating
   summaries spanning it). A text's numbered references count as that text, once.
4. Then the larger share of steps that cite a specific passage (one of the chapter's own source markers,
   ``problem:N``), so that the chapter's step-by-step mechanism comes before an account that only a
   whole-article citation supports.
5. Then fewer steps, then more distinct source texts, then more of the chapter's specific markers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from kg.model.types import CausalPath, Citation, Corroboration, Severity, Step
from kg.model.wording import states, step_arrows

logger = logging.getLogger(__name__)

SPECIFIC_PREFIX = "problem:"
"""Citations whose identifier starts with this (the chapter's own source markers) count as specific."""


def source_of(citation: Citation) -> str:
    """The source text a citation stands for: the text that attributes it, else its document.

    A numbered reference of the article (``droracle-2025:ref-1``, attributed in the article) and the
    article itself are one source; so are all of the chapter's markers.

    >>> source_of(Citation(identifier="x:ref-1", document_iri="g", attributed_in="a"))
    'a'
    >>> source_of(Citation(identifier="problem:1", document_iri="chapter"))
    'chapter'
    >>> source_of(Citation(identifier="lonely"))
    'lonely'
    """
    return citation.attributed_in or citation.document_iri or citation.identifier


def _nodes(path_steps: Sequence[Step]) -> list[str]:
    return [path_steps[0].subject.iri, *(step.object.iri for step in path_steps)]


def _spans(coarse: Sequence[Step], detailed: Sequence[Step]) -> Iterator[tuple[tuple[int, int], ...]]:
    """Every way the coarse steps can each span a run of detailed steps (depth-first, usually one)."""
    nodes = _nodes(detailed)

    def walk(index: int, position: int) -> Iterator[tuple[tuple[int, int], ...]]:
        if index == len(coarse):
            if position == len(nodes) - 1:
                yield ()
            return
        step = coarse[index]
        if nodes[position] != step.subject.iri:
            return
        sign = 1
        for end in range(position + 1, len(nodes)):
            sign *= detailed[end - 1].sign
            if nodes[end] == step.object.iri and sign == step.sign:
                for rest in walk(index + 1, end):
                    yield ((position, end - 1), *rest)

    return walk(0, 0)


def summary_spans(coarse: CausalPath, detailed: CausalPath) -> tuple[tuple[int, int], ...] | None:
    """How ``coarse`` summarises ``detailed`` (per coarse step, the detailed steps it spans), or None.

    A summary has fewer steps, the same ends and net sign, and each of its steps joins nodes that come
    in order on the detailed path with the net sign of the detailed steps between them.
    """
    if coarse.hops >= detailed.hops or coarse.net_sign != detailed.net_sign or not coarse.steps:
        return None
    return next(_spans(coarse.steps, detailed.steps), None)


def _citations(steps: Sequence[Step]) -> tuple[Citation, ...]:
    return tuple(dict.fromkeys(c for step in steps for c in step.citations))


def _step_sources(path: CausalPath, corroboration: Sequence[Corroboration]) -> list[set[str]]:
    """Per detailed step, the source texts behind it: its own and those of summaries spanning it."""
    sources = [{source_of(c) for c in step.citations} for step in path.steps]
    for summary in corroboration:
        for step, (first, last) in zip(summary.steps, summary.spans, strict=True):
            for position in range(first, last + 1):
                sources[position] |= {source_of(c) for c in step.citations}
    return sources


def fold_summaries(paths: Sequence[CausalPath]) -> list[CausalPath]:
    """The paths that summarise no other path, each with its corroborating summaries and counts."""
    spans = {
        (i, j): found
        for i, coarse in enumerate(paths)
        for j, detailed in enumerate(paths)
        if i != j and (found := summary_spans(coarse, detailed)) is not None
    }
    coarse = {i for i, _ in spans}
    for i, j in spans:
        logger.debug("path %d folded into path %d as a corroborating summary", i + 1, j + 1)
    folded = []
    for j, path in enumerate(paths):
        if j in coarse:
            continue
        corroboration = tuple(
            Corroboration(
                steps=paths[i].steps,
                spans=spans[i, j],
                mechanism=paths[i].mechanism,
                explanation=paths[i].explanation,
                citations=_citations(paths[i].steps),
            )
            for i in sorted(i for i, k in spans if k == j)
        )
        own = _citations(path.steps)
        said = " ".join(summary_sentence(summary) for summary in corroboration)
        merged = dict.fromkeys((*own, *(c for s in corroboration for c in s.citations)))
        sources = _step_sources(path, corroboration)
        folded.append(
            path.model_copy(
                update={
                    "corroboration": corroboration,
                    "explanation": f"{path.explanation} {said}" if said else path.explanation,
                    "citation_count": len(merged),
                    "source_count": len({source_of(c) for c in merged}),
                    "support": min((len(s) for s in sources), default=0),
                }
            )
        )
    return folded


def summary_sentence(summary: Corroboration) -> str:
    """The sentence a path's paragraph gains from a summary: its coarse steps, what they span, citations."""
    parts = []
    for step, (before, _), (first, last) in zip(
        summary.steps, states(summary.steps), summary.spans, strict=True
    ):
        if last > first:
            markers = "".join(f"[{i}]" for i in dict.fromkeys(c.identifier for c in step.citations))
            parts.append(f"{step_arrows(step, before)} (steps {first + 1}-{last + 1}) {markers}".rstrip())
    return f"Corroborated by a coarser account: {'; '.join(parts)}." if parts else ""


def rank_key(
    context_match: bool, support: int, grounded: float, hops: int, sources: int, specific: int
) -> tuple[int, int, float, int, int, int]:
    """Sort key of a path: context match, weakest-step support, share of steps citing a specific passage,
    then fewer hops, more sources, more markers.

    >>> best = rank_key(False, 2, 1.0, 7, 2, 5)
    >>> best < rank_key(False, 1, 1.0, 3, 2, 1) and rank_key(True, 1, 0.0, 9, 1, 0) < best
    True
    >>> rank_key(False, 1, 1.0, 7, 2, 5) < rank_key(False, 1, 0.0, 4, 1, 0)
    True
    """
    return (0 if context_match else 1, -support, -grounded, hops, -sources, -specific)


def path_key(path: CausalPath, context: Severity | None) -> tuple[int, int, float, int, int, int]:
    """The :func:`rank_key` of a folded path (its support and counts set by :func:`fold_summaries`)."""
    severities = {link.severity for step in path.steps for link in step.links}
    match = context is not None and context in severities
    cited = {*_citations(path.steps), *(c for s in path.corroboration for c in s.citations)}
    specific = sum(1 for c in {c.identifier for c in cited} if c.startswith(SPECIFIC_PREFIX))
    grounded = sum(
        any(c.identifier.startswith(SPECIFIC_PREFIX) for c in step.citations) for step in path.steps
    ) / max(path.hops, 1)
    return rank_key(match, path.support, grounded, path.hops, path.source_count, specific)


def rank_paths(paths: Sequence[CausalPath], context: Severity | None) -> list[CausalPath]:
    """Fold summaries into the paths they summarise, rank what is left (stable) and number it from 1."""
    ordered = sorted(fold_summaries(paths), key=lambda path: path_key(path, context))
    if logger.isEnabledFor(logging.DEBUG):
        for rank, path in enumerate(ordered, start=1):
            route = " -> ".join([path.steps[0].subject.label, *(s.object.label for s in path.steps)])
            logger.debug("rank %d by %s: %s", rank, path_key(path, context), route)
    return [path.model_copy(update={"rank": rank}) for rank, path in enumerate(ordered, start=1)]
