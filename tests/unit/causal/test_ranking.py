"""Ranking, corroboration, source counting, step wording and the size of the JSON answer, through the `kg`
library, `mgkg why` and GET /why."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.cli._app import console
from api.config import Settings
from kg.causal.network import CausalNetwork, build_network
from kg.causal.why import explain
from kg.graph.asserted import load_asserted
from kg.model.types import CausalPath, Citation, Severity, Step
from kg.render.document import ExplanationDocument, compact, expand, expand_json


@pytest.fixture(scope="module")
def network() -> CausalNetwork:
    return build_network(load_asserted().graph)


CONTEXTS: tuple[Severity | None, ...] = (None, "mild", "severe")


def _nodes(steps: Sequence[Step]) -> list[tuple[str, int]]:
    """The signed nodes of a path: each node with how it moves (+1 up, -1 down) from the source."""
    moves, state = [(steps[0].subject.iri, 1)], 1
    for step in steps:
        state *= step.sign
        moves.append((step.object.iri, state))
    return moves


def _is_coarser(coarse: CausalPath, detailed: CausalPath) -> bool:
    """Whether ``coarse`` summarises ``detailed``: fewer steps, same ends and net sign, and its signed
    nodes appear, in order, among the detailed path's signed nodes (written apart from kg.causal.ranking)."""
    if coarse.hops >= detailed.hops or coarse.net_sign != detailed.net_sign:
        return False
    wanted, have = _nodes(coarse.steps), _nodes(detailed.steps)
    if wanted[0] != have[0] or wanted[-1] != have[-1]:
        return False
    found = iter(have)
    return all(node in found for node in wanted)


def _answers(network: CausalNetwork) -> Iterator[tuple[str, Severity | None]]:
    for finding in network.findings():
        for context in CONTEXTS:
            yield finding.iri, context


def _source(citation: Citation) -> str:
    return citation.attributed_in or citation.document_iri or citation.identifier


def test_the_mechanistic_chain_ranks_first_with_the_shortcut_as_its_corroboration(
    network: CausalNetwork,
) -> None:
    answer = explain(network, "hypocalcemia")
    best = answer.paths[0]
    labels = [best.steps[0].subject.label, *(step.object.label for step in best.steps)]
    for node in ("Mg-ATP", "adenylate cyclase activity", "cAMP", "PTH secretion", "hypocalcemia"):
        assert node in labels, f"the first path is the chapter's mechanism, through {node}"
    assert best.corroboration, "the article's shortcut is shown as corroboration of the detailed path"
    shortcut = best.corroboration[0]
    assert len(shortcut.steps) < best.hops
    assert all(step.subject.label != "Mg-ATP" for step in shortcut.steps)
    merged = {c for step in best.steps for c in step.citations} | {
        c for s in best.corroboration for c in s.citations
    }
    assert {c for step in shortcut.steps for c in step.citations} <= merged
    assert best.citation_count == len(merged), "the shortcut's citations are merged into the detailed path"
    assert any(c.identifier.startswith("droracle") for c in shortcut.citations)
    for summary in best.corroboration:
        for step, (first, last) in zip(summary.steps, summary.spans, strict=True):
            assert step.subject.iri == best.steps[first].subject.iri
            assert step.object.iri == best.steps[last].object.iri
    assert "Corroborated by" in best.explanation


def test_no_offered_path_is_a_coarser_summary_of_another(network: CausalNetwork) -> None:
    checked = 0
    for finding, context in _answers(network):
        answer = explain(network, finding, context=context)
        for offered in (answer.paths, answer.contradicting):
            for coarse in offered:
                for detailed in offered:
                    assert not _is_coarser(coarse, detailed), (finding, context, coarse.rank, detailed.rank)
            for path in offered:
                for summary in path.corroboration:
                    summary_path = path.model_copy(
                        update={"steps": summary.steps, "hops": len(summary.steps)}
                    )
                    assert _is_coarser(summary_path, path), "every corroboration really summarises its path"
                    checked += 1
    assert checked, "the shipped graph has at least one summary folded into a detailed path"


def test_a_source_text_counts_once_however_many_of_its_references_a_step_cites(
    network: CausalNetwork,
) -> None:
    many_references = 0
    for finding, context in _answers(network):
        answer = explain(network, finding, context=context)
        for path in (*answer.paths, *answer.contradicting):
            cited = {c for step in path.steps for c in step.citations}
            cited |= {c for summary in path.corroboration for c in summary.citations}
            assert path.source_count == len({_source(c) for c in cited})
            assert 1 <= path.support <= path.source_count
            if len({c.identifier for c in cited}) > path.source_count:
                many_references += 1
        for earlier, later in zip(answer.paths, answer.paths[1:], strict=False):
            if context is None:
                assert earlier.support >= later.support, "the better supported path ranks first"
    assert many_references, "some path cites several references of one text (the article's numbered ones)"


def test_a_shortcut_does_not_outrank_the_chain_through_its_references(network: CausalNetwork) -> None:
    answer = explain(network, "hypocalcemia")
    best = answer.paths[0]
    identifiers = {c.identifier for s in best.corroboration for c in s.citations}
    assert len([i for i in identifiers if i.startswith("droracle-2025")]) > 1
    assert best.source_count == len(
        {_source(c) for s in best.corroboration for c in s.citations}
        | {_source(c) for step in best.steps for c in step.citations}
    )


def test_no_printed_step_contradicts_its_arrows(monkeypatch: pytest.MonkeyPatch) -> None:
    """For every finding: `mgkg why` prints each step as what changes, without a polarity that reads
    against its arrows, and the arrows follow the step's sign; the JSON's notes say no polarity either."""
    monkeypatch.setattr(console, "width", 400)  # one step per line
    runner = CliRunner()
    findings = json.loads(runner.invoke(app, ["findings", "--json"]).stdout)
    assert findings
    for finding in findings:
        text = runner.invoke(app, ["why", finding["curie"]])
        assert text.exit_code == 0, text.output
        raw = runner.invoke(app, ["why", finding["curie"], "--json"])
        document = ExplanationDocument.model_validate_json(raw.stdout)
        explanation = expand(document)
        lines = [line for line in text.stdout.splitlines() if "→" in line and "corroborated" not in line]
        steps = [step for path in (*explanation.paths, *explanation.contradicting) for step in path.steps]
        assert len(lines) == len(steps)
        for line, step in zip(lines, steps, strict=True):
            assert "increases" not in line, line
            assert "decreases" not in line, line
            before, after = _arrows(line)
            assert (before == after) == (step.sign == 1), line
            assert step.subject.label in line
            assert step.object.label in line
        for entry in document.steps.values():
            assert not {"increases", "decreases"} & set(" ".join(entry.notes).split())
        for path in explanation.paths:
            if path.context.severity:
                assert f"{path.context.severity} deficiency" in text.stdout


def _arrows(line: str) -> tuple[str, str]:
    """The arrow before the subject and the one before the object of a printed step."""
    head, tail = line.split("→", 1)
    return next(ch for ch in head if ch in "↑↓"), next(ch for ch in tail if ch in "↑↓")


def test_conditions_are_printed_in_words(network: CausalNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 400)
    runner = CliRunner()
    shown = 0
    for finding in network.findings():
        answer = explain(network, finding.iri)
        conditions = {c for path in answer.paths for step in path.steps for c in step.context.conditions}
        if not conditions:
            continue
        printed = runner.invoke(app, ["why", finding.curie]).stdout
        for condition in conditions:
            assert f"with {condition}" in printed
            shown += 1
    assert shown, "some shipped path holds only under a condition"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as client:
        yield client


def test_the_json_answer_says_each_node_and_citation_once(client: TestClient, network: CausalNetwork) -> None:
    response = client.get("/why", params={"finding": "hypocalcemia"})
    assert response.status_code == 200
    document = ExplanationDocument.model_validate_json(response.content)
    explanation = expand(document)
    old_shape = explanation.model_dump_json().encode()  # every step repeating full nodes and citations
    assert len(response.content) * 3 <= len(old_shape), (len(response.content), len(old_shape))
    # lossless: the references expand to the answer explain() gives, and compact it back to the same JSON
    assert explanation.model_copy(update={"recommendations": ()}) == explain(network, "hypocalcemia")
    assert explanation.recommendations, "the advice travels in the same tables"
    assert compact(explanation) == document
    assert expand_json(response.json()) == explanation
    # each table entry is used, and each thing is said once
    used_steps = {key for path in (*document.paths, *document.contradicting) for key in path.steps}
    used_steps |= {k for p in document.paths for s in p.corroboration for k in s.steps}
    assert used_steps == set(document.steps)
    cited = {c for step in document.steps.values() for c in step.citations}
    cited |= {
        c for p in (*document.paths, *document.contradicting) for s in p.corroboration for c in s.citations
    }
    cited |= {c for advice in document.recommendations for c in advice.citations}
    assert cited == set(document.citations)
    named = {s.subject for s in document.steps.values()} | {s.object for s in document.steps.values()}
    named |= {
        n for advice in document.recommendations for n in (*advice.recommends, *advice.cautions_against)
    }
    assert named == set(document.nodes)
    assert len(set(document.steps.values())) == len(document.steps)
    body = response.text
    assert body.count('"evidence_summary"') == len(document.steps)
    for citation in document.citations.values():
        assert citation.document is None or citation.document in document.documents
        assert f"[{citation.identifier}]" in citation.text


def test_the_openapi_schema_describes_the_compact_answer(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/why"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/WhyResponse")
    properties = schema["components"]["schemas"]["WhyResponse"]["properties"]
    assert {"nodes", "steps", "citations", "documents", "links", "mechanism_refs"} <= set(properties)
