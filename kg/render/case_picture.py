"""The picture of a whole case: every explaining path of every observed finding, as one graph."""

from __future__ import annotations

import networkx as nx

from kg.causal.case_types import CaseExplanation
from kg.model.types import Explanation, ExplanationStatus
from kg.render.picture import explanation_graph, recommendations_note


def case_graph(answer: CaseExplanation) -> nx.MultiDiGraph:
    """One graph of the case: the paths of all explained findings merged step by step (a step shared by
    several findings is one edge listing every mechanism through it), the observed findings with the role
    'finding', the starts of the paths with the role 'source', and the advice in the graph's note."""
    paths = tuple(path for finding in answer.explained for path in finding.paths)
    first = answer.explained[0].finding if answer.explained else answer.source
    whole = Explanation(
        question=f"How does {answer.source.label} explain this case?",
        source=answer.source,
        finding=first,
        context=answer.severity,
        status=ExplanationStatus.EXPLAINED if paths else ExplanationStatus.NO_PATH,
        message=answer.summary,
        paths=paths,
        mechanisms=(),
        contradicting=(),
        max_hops=max((p.hops for p in paths), default=0),
        max_paths=len(paths),
    )
    graph = explanation_graph(whole)
    for finding in answer.explained:
        graph.nodes[finding.finding.iri]["role"] = "finding"
        graph.nodes[finding.source.iri]["role"] = "source"
    if answer.recommendations:
        graph.graph["recommendations"] = recommendations_note(
            r.recommendation for r in answer.recommendations
        )
    return graph
