"""The `mgkg why` and `mgkg findings` commands, through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.cli._app import console
from kg.model.types import ExplanationStatus
from kg.render.document import expand_json

runner = CliRunner()


def test_why_prints_each_mechanism_as_a_tree() -> None:
    result = runner.invoke(app, ["why", "hypocalcemia"])
    assert result.exit_code == 0, result.output
    for mechanism in ("Impaired PTH secretion", "End-organ PTH resistance", "Impaired vitamin D activation"):
        assert mechanism in result.output
    assert "↑" in result.output
    assert "↓" in result.output
    assert "[problem:4415078]" in result.output
    assert "├──" in result.output or "└──" in result.output
    assert "contradict" not in result.output  # no mild-phase path into severe-only consequences (issue 10)


def test_why_tree_shows_how_each_node_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed nodes: hypomagnesemia lowers intracellular Mg2+; less of an inhibitor, more of its target."""
    monkeypatch.setattr(console, "width", 300)  # one step per line, whatever the terminal
    result = runner.invoke(app, ["why", "hypokalemia"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("↑ hypomagnesemia → ↓ intracellular Mg2+" in line for line in lines), result.output
    assert any("↓ intracellular Mg2+ → ↑ loss of the Mg2+ block of ROMK" in line for line in lines)
    assert any("→ ↑ hypokalemia" in line for line in lines)


def test_why_json_is_the_explanation_model() -> None:
    result = runner.invoke(app, ["why", "HP:0002901", "--json", "--max-paths", "5", "--max-hops", "8"])
    assert result.exit_code == 0, result.output
    answer = expand_json(json.loads(result.stdout))
    assert answer.finding.curie == "mgkgid:hypocalcemia"
    assert answer.status is ExplanationStatus.EXPLAINED
    assert (answer.max_paths, answer.max_hops) == (5, 8)
    assert len(answer.paths) + len(answer.contradicting) <= 5
    assert all(path.hops <= 8 for path in answer.paths)


def test_why_context_filters_links() -> None:
    result = runner.invoke(app, ["why", "PTH secretion", "--context", "severe", "--json"])
    assert result.exit_code == 0, result.output
    answer = expand_json(json.loads(result.stdout))
    assert answer.context == "severe"
    assert all(link.severity != "mild" for p in answer.paths for s in p.steps for link in s.links)
    assert any(p.net_polarity == "decreases" for p in answer.paths)


def test_why_source_option_changes_the_start() -> None:
    result = runner.invoke(
        app, ["why", "hypomagnesemia", "--source", "poor dietary magnesium intake", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = expand_json(json.loads(result.stdout))
    assert answer.source.curie == "mgkgid:poor_mg_intake"
    assert answer.paths


def test_why_unknown_finding_exits_2_with_suggestions_on_stderr() -> None:
    result = runner.invoke(app, ["why", "hypocalcaemiaa"])
    assert result.exit_code == 2
    assert "hypocalcemia" in result.stderr
    assert "hypocalcemia" not in result.stdout


def test_why_rejects_an_unknown_context() -> None:
    result = runner.invoke(app, ["why", "hypocalcemia", "--context", "moderate"])
    assert result.exit_code == 2
    assert "mild" in result.stderr


def test_why_unreachable_finding_says_so() -> None:
    result = runner.invoke(app, ["why", "alkalosis"])
    assert result.exit_code == 0, result.output
    assert "no_path" in result.output
    assert "No chain" in result.output


def test_findings_lists_label_curie_and_standard_ids() -> None:
    result = runner.invoke(app, ["findings"])
    assert result.exit_code == 0, result.output
    assert "hypocalcemia" in result.output
    assert "mgkgid:hypocalcemia" in result.output
    assert "HP:0002901" in result.output
    assert "alkalosis" not in result.output


def test_findings_all_and_json() -> None:
    result = runner.invoke(app, ["findings", "--all", "--json"])
    assert result.exit_code == 0, result.output
    curies = {item["curie"] for item in json.loads(result.stdout)}
    assert {"mgkgid:hypocalcemia", "mgkgid:alkalosis"} <= curies
