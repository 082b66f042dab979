"""SHACL validation: the shipped graph passes, broken fixture graphs fail with the right message and file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from kg import SourceSyntaxError, ValidationReport, Violation, load_asserted, validate
from kg.graph.validate import load_for_validation
from kg.model.resources import shapes_file
from tests.conftest import RESOURCES

RESOURCES = RESOURCES
BASE = RESOURCES / "valid" / "base.ttl"
INVALID = RESOURCES / "invalid"
BROKEN = RESOURCES / "syntax" / "broken.ttl"

runner = CliRunner()


def flat(text: str) -> str:
    """Collapse the line wrapping rich adds, so that phrases can be searched for."""
    return " ".join(text.split())


def broken_line() -> int:
    """The line of the broken fixture that carries the syntax error (marked BROKEN in the file)."""
    lines = BROKEN.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.rstrip().endswith("BROKEN"))


@pytest.fixture(scope="module")
def shipped_report() -> ValidationReport:
    return validate()


# --- the shipped graph --------------------------------------------------------------------------


def test_shipped_graph_conforms(shipped_report: ValidationReport) -> None:
    assert shipped_report.conforms, [v.model_dump() for v in shipped_report.errors]
    assert shipped_report.errors == []


def test_shipped_graph_has_no_warnings(shipped_report: ValidationReport) -> None:
    assert shipped_report.warnings == [], [v.model_dump() for v in shipped_report.warnings]


def test_cli_validate_passes_on_shipped_graph() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "0 violation(s)" in flat(result.output)


def test_cli_validate_json_matches_library(shipped_report: ValidationReport) -> None:
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == 0, result.output
    assert ValidationReport.model_validate(json.loads(result.output)) == shipped_report


# --- fixture graphs with one defect each ------------------------------------------------------------


def test_base_fixture_conforms() -> None:
    """The base every invalid fixture builds on is itself valid, so each failure is the fixture's own."""
    report = validate(load_for_validation([BASE]))
    assert report.conforms, [v.model_dump() for v in report.violations]
    assert report.violations == []


CASES = [
    # file, focus node, path, a phrase the message must contain
    (
        "link-without-citation.ttl",
        "mgkgid:fx-link-no-citation",
        "mgkg:citation",
        "at least one mgkg:citation",
    ),
    ("link-without-polarity.ttl", "mgkgid:fx-link-no-polarity", None, "has no polarity"),
    ("unlabelled-node.ttl", "mgkgid:fx-unlabelled-receptor", "rdfs:label", "has no rdfs:label"),
    ("link-two-polarities.ttl", "mgkgid:fx-link-two-polarities", None, "has two polarities"),
    ("link-bad-severity.ttl", "mgkgid:fx-link-bad-severity", "mgkg:severity", "mgkg:mild or mgkg:severe"),
    ("link-bad-evidence.ttl", "mgkgid:fx-link-bad-evidence", "mgkg:evidenceType", "ECO class IRI"),
    ("link-bad-evidence.ttl", "mgkgid:fx-link-bad-evidence", "mgkg:evidenceSummary", "non-empty string"),
    ("recommendation-bad.ttl", "mgkgid:fx-rec-bad", "mgkg:sourceOrder", "exactly one mgkg:sourceOrder"),
    ("recommendation-bad.ttl", "mgkgid:fx-rec-bad", "mgkg:cautionsAgainst", "names an intervention"),
    ("citation-without-document.ttl", "mgkgid:fx-cite-orphan", "dcterms:identifier", "no dcterms:identifier"),
    ("citation-without-document.ttl", "mgkgid:fx-cite-orphan", "mgkg:sourceDocument", "not a mgkg:SourceDoc"),
    ("state-without-about.ttl", "mgkgid:fx-floating-state", "mgkg:about", "has no mgkg:about"),
    ("negates-not-a-context.ttl", "mgkgid:fx-negating-state", "mgkg:negates", "must point to a mgkg:Context"),
]


@pytest.mark.parametrize(("file", "focus", "path", "phrase"), CASES)
def test_fixture_is_rejected_with_its_violation(file: str, focus: str, path: str | None, phrase: str) -> None:
    report = validate(load_for_validation([BASE, INVALID / file]))
    assert not report.conforms
    matching = [v for v in report.errors if v.focus_node == focus and v.path == path and phrase in v.message]
    assert len(matching) == 1, [v.model_dump() for v in report.errors]
    assert matching[0].file == file
    assert matching[0].severity == "Violation"
    # the fixture's defect is the only thing wrong: every violation is about a node of that file
    assert {v.file for v in report.errors} == {file}


def test_messages_say_what_to_add() -> None:
    """Polarity: the message names both signed properties, so a curator knows what to write."""
    report = validate(load_for_validation([BASE, INVALID / "link-without-polarity.ttl"]))
    (violation,) = report.errors
    assert "mgkg:positiveEffect" in violation.message
    assert "mgkg:negativeEffect" in violation.message


def test_link_with_neither_effect_has_no_polarity(tmp_path: Path) -> None:
    source = (INVALID / "link-without-polarity.ttl").read_text(encoding="utf-8")
    no_effect = tmp_path / "no-effect.ttl"
    no_effect.write_text(source.replace("mgkg:effect mgkgid:fx-process ;", ""), encoding="utf-8")
    report = validate(load_for_validation([BASE, no_effect]))
    messages = [v.message for v in report.errors if v.focus_node == "mgkgid:fx-link-no-polarity"]
    assert any("has no polarity" in m for m in messages)
    assert any("exactly one effect" in m for m in messages)


def test_fixture_violation_with_all_fixtures_names_each_file() -> None:
    files = sorted(INVALID.glob("*.ttl"))
    report = validate(load_for_validation([BASE, *files]))
    assert {v.file for v in report.errors} == {f.name for f in files}


@pytest.mark.parametrize(("file", "focus", "path", "phrase"), CASES[:3])
def test_cli_rejects_fixture(file: str, focus: str, path: str | None, phrase: str) -> None:
    result = runner.invoke(app, ["validate", str(BASE), str(INVALID / file)])
    assert result.exit_code == 1, result.output
    output = flat(result.output)
    assert focus in output
    assert file in output
    assert phrase in output
    assert "does not conform" in output


def test_violation_is_a_frozen_value() -> None:
    violation = Violation(focus_node="mgkgid:x", path=None, message="m", severity="Violation", file="f.ttl")
    with pytest.raises(ValueError, match="frozen"):
        violation.message = "changed"


# --- syntax errors -----------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(SourceSyntaxError) as caught:
        load_asserted([BROKEN])
    assert caught.value.path.name == "broken.ttl"
    assert caught.value.line == broken_line()
    assert f"broken.ttl:{broken_line()}" in str(caught.value)


def test_syntax_error_in_shapes_file_is_reported(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(shapes_file().read_text(encoding="utf-8") + "\nthis is not turtle\n", encoding="utf-8")
    with pytest.raises(SourceSyntaxError) as caught:
        validate(load_for_validation([BASE]), shapes=shapes)
    assert caught.value.path == shapes
    assert caught.value.line is not None


def test_cli_syntax_error_exits_2_with_file_and_line() -> None:
    result = runner.invoke(app, ["validate", str(BASE), str(BROKEN)])
    assert result.exit_code == 2, result.output
    assert f"broken.ttl:{broken_line()}" in flat(result.output)
    assert "syntax error" in flat(result.output)


@pytest.mark.slow
def test_console_script_syntax_error_exit_code(tmp_path: Path) -> None:
    """The real process, not the test runner: exit status 2 and file:line on stderr."""
    completed = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "validate", str(BROKEN)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"broken.ttl:{broken_line()}" in flat(completed.stderr)
