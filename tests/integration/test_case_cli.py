"""`mgkg case` on every vignette (the same answer as POST /case) and in every format a case is offered in."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.config import Settings
from kg.render.case_picture import CASE_FORMATS, CASE_SUFFIXES

VIGNETTE_FILE = Path(__file__).resolve().parents[1] / "resources" / "case" / "vignettes.json"
VIGNETTES: dict[str, dict[str, Any]] = {
    name: entry["case"] for name, entry in json.loads(VIGNETTE_FILE.read_text(encoding="utf-8")).items()
}
runner = CliRunner()


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory"))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One inference cache for the commands that prove (reasoning runs once for the module)."""
    return tmp_path_factory.mktemp("case-cache")


def _case_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(VIGNETTES[name]), encoding="utf-8")
    return path


def _labels(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["finding"]["label"] for entry in entries]


@pytest.mark.parametrize("name", sorted(VIGNETTES))
def test_the_cli_answers_every_vignette_as_http_does(client: TestClient, tmp_path: Path, name: str) -> None:
    result = runner.invoke(cli, ["case", "--file", str(_case_file(tmp_path, name)), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    over_http = client.post("/case", json=VIGNETTES[name]).json()
    for part in ("summary", "severity", "source", "observations", "loss", "against", "what_if", "hypotheses"):
        assert answer[part] == over_http[part], (name, part)
    assert _labels(answer["explained"]) == _labels(over_http["explained"])
    assert _labels(answer["not_explained"]) == _labels(over_http["not_explained"])
    assert answer["recommendations"] == over_http["recommendations"]
    assert "not a clinical decision" in answer["disclaimer"]
    text = runner.invoke(cli, ["case", "--file", str(_case_file(tmp_path, name))])
    assert text.exit_code == 0
    assert over_http["loss"]["message"] in text.stdout
    for label in _labels(over_http["explained"]):
        assert f"* {label} (" in text.stdout


@pytest.mark.parametrize("fmt", CASE_FORMATS)
def test_the_cli_writes_the_case_in_every_format_as_http_serves_it(
    client: TestClient, tmp_path: Path, cache: Path, fmt: str
) -> None:
    """With --proof (POST /case always proves): the same answer for JSON, the same bytes for the text and the
    picture formats, the same RDF graph (blank nodes aside) for the proofs."""
    case = _case_file(tmp_path, "renal-cisplatin")
    result = runner.invoke(
        cli, ["case", "--file", str(case), "--format", fmt, "--proof", "--cache-dir", str(cache)]
    )
    assert result.exit_code == 0, result.output
    over_http = client.post("/case", params={"format": fmt}, json=VIGNETTES["renal-cisplatin"])
    assert over_http.status_code == 200, over_http.text
    if fmt == "json":
        assert json.loads(result.stdout) == over_http.json()
    elif fmt in ("turtle", "jsonld"):
        rdf = "json-ld" if fmt == "jsonld" else "turtle"
        with warnings.catch_warnings():  # rdflib's JSON-LD parser calls its own deprecated ConjunctiveGraph
            warnings.simplefilter("ignore", DeprecationWarning)
            mine = Graph().parse(data=result.stdout, format=rdf)
            theirs = Graph().parse(data=over_http.text, format=rdf)
        assert len(mine) > 20
        assert isomorphic(mine, theirs)
    elif fmt == "png":
        assert result.stdout_bytes.startswith(b"\x89PNG")
        assert over_http.content.startswith(b"\x89PNG")
    else:
        assert result.stdout_bytes.rstrip(b"\n") == over_http.content.rstrip(b"\n")
        answer = client.post("/case", json=VIGNETTES["renal-cisplatin"]).json()
        key = "label" if fmt in ("mermaid", "text") else "curie"  # SVG wraps labels; Mermaid has no CURIEs
        for entry in answer["explained"]:
            assert entry["finding"][key] in result.stdout


@pytest.mark.parametrize("fmt", ["svg", "graphml", "nodelink", "turtle"])
def test_the_cli_takes_the_format_from_the_output_suffix(tmp_path: Path, cache: Path, fmt: str) -> None:
    output = tmp_path / f"case{CASE_SUFFIXES[fmt]}"  # type: ignore[index]
    case = _case_file(tmp_path, "extra-renal")
    result = runner.invoke(cli, ["case", "--file", str(case), "-o", str(output), "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    assert f"({fmt}," in result.stderr
    data = output.read_bytes()
    if fmt == "svg":
        assert b"<svg" in data
    elif fmt == "graphml":
        assert b"<graphml" in data
    elif fmt == "nodelink":
        assert "edges" in json.loads(data)
    else:
        assert "prov:wasDerivedFrom" in data.decode()


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--format", "gif"], "choose one of"), (["--json", "--format", "svg"], "two formats")],
)
def test_the_cli_refuses_a_format_it_cannot_write_on_one_line(args: list[str], says: str) -> None:
    result = runner.invoke(cli, ["case", "-f", "tetany", *args])
    assert result.exit_code == 2
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_readme_worked_case_is_the_commands_real_output() -> None:
    """The README's worked case is the whole output of the command it shows (generated, not typed)."""
    import shlex

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- case-example:begin -->\n```console\n", 1)[1].split(
        "\n```\n<!-- case-example:end", 1
    )[0]
    command, _, shown = block.partition("\n")
    assert command.startswith("$ mgkg case ")
    result = runner.invoke(cli, shlex.split(command)[2:])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == shown
    assert "not a clinical decision" in shown
