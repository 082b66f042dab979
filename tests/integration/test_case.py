"""POST /case over HTTP and `mgkg case`: vignettes from the sources and properties of every answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.config import Settings
from kg.causal.case_model import load_case_rules
from tests.conftest import PROBLEM, assert_problem, unavailable

VIGNETTE_FILE = Path(__file__).resolve().parents[1] / "resources" / "case" / "vignettes.json"
"""The vignettes, built from the sources (each says what it shows and which passages it rests on); the CLI
and the browser tests read the same file."""

VIGNETTES: dict[str, dict[str, Any]] = {
    name: entry["case"] for name, entry in json.loads(VIGNETTE_FILE.read_text(encoding="utf-8")).items()
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store="memory"))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def answers(client: TestClient) -> dict[str, dict[str, Any]]:
    found = {}
    for name, case in VIGNETTES.items():
        response = client.post("/case", json=case)
        assert response.status_code == 200, response.text
        found[name] = response.json()
    return found


def _labels(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["finding"]["label"] for entry in entries}


def test_every_explained_finding_has_a_why_path_under_the_implied_severity(
    client: TestClient, answers: dict[str, dict[str, Any]]
) -> None:
    for name, answer in answers.items():
        for entry in answer["explained"]:
            params = {"finding": entry["finding"]["iri"], "source": entry["source"]["iri"]}
            if answer["severity"] is not None:
                params["context"] = answer["severity"]
            why = client.get("/why", params=params).json()
            assert why["status"] == "explained", (name, entry["finding"]["label"])
            assert entry["paths"], name
            for path in entry["paths"]:
                assert path["steps"][-1]["object"]["iri"] == entry["finding"]["iri"]
                assert path["steps"][0]["subject"]["iri"] == entry["source"]["iri"]
                assert all(step["citations"] for step in path["steps"])


def test_an_absent_finding_is_never_claimed_explained(answers: dict[str, dict[str, Any]]) -> None:
    absent_any = False
    for answer in answers.values():
        absent = {a["iri"] for a in answer["absent"]}
        absent_any |= bool(absent)
        assert not absent & {e["finding"]["iri"] for e in answer["explained"]}
        assert not absent & {e["finding"]["iri"] for e in answer["not_explained"]}
    assert absent_any


def test_every_answer_says_it_is_educational(answers: dict[str, dict[str, Any]]) -> None:
    for answer in answers.values():
        assert "not a clinical decision" in answer["disclaimer"]


def test_renal_wasting_on_cisplatin(answers: dict[str, dict[str, Any]]) -> None:
    answer = answers["renal-cisplatin"]
    assert answer["severity"] == "severe"  # a normal PTH with a low calcium is inappropriate
    assert answer["loss"]["verdict"] == "renal"
    first = answer["loss"]["causes"][0]
    assert first["cause"]["label"] == "cisplatin"
    assert first["reported"]
    assert {"hypocalcemia", "muscle spasms and cramps"} <= _labels(answer["explained"])
    shared = {s["node"]["label"]: len(s["findings"]) for s in answer["shared"]}
    assert shared.get("intracellular Mg2+", 0) >= 2  # behind both the PTH defect and the ROMK leak
    labels = [r["recommendation"]["label"] for r in answer["recommendations"]]
    assert "correct magnesium before expecting potassium to work" in labels
    orders = [r["recommendation"]["order"] for r in answer["recommendations"]]
    assert orders == sorted(orders)


def test_extra_renal_loss_with_low_urinary_magnesium(answers: dict[str, dict[str, Any]]) -> None:
    answer = answers["extra-renal"]
    assert answer["loss"]["verdict"] == "extra_renal"
    assert answer["loss"]["causes"][0]["cause"]["label"] == "chronic diarrhea"
    assert "tetany" in _labels(answer["explained"])
    assert not answer["against"]


def test_normal_serum_magnesium_is_explained_through_masked_depletion(
    answers: dict[str, dict[str, Any]],
) -> None:
    answer = answers["masked"]
    assert answer["source"]["label"] == "total-body magnesium depletion"
    explained = _labels(answer["explained"])
    assert {
        "hypokalemia refractory to potassium alone",
        "normal serum magnesium despite total-body depletion",
    } <= explained


def test_a_failed_calcium_infusion_is_what_the_graph_expects(answers: dict[str, dict[str, Any]]) -> None:
    answer = answers["calcium-failed"]
    assert answer["severity"] == "severe"
    assert "hypocalcemia refractory to calcium alone" in _labels(answer["explained"])
    calcium = [w for w in answer["what_if"] if w["tried"] == "no_response"]
    assert calcium
    assert all(w["expectation"] == "persists" and w["agrees"] for w in calcium)
    assert any("end-organ PTH resistance" in w["message"] for w in calcium)
    magnesium = [w for w in answer["what_if"] if w["intervention"]["label"] == "magnesium replacement"]
    assert magnesium
    assert all(w["expectation"] == "corrects" and w["paths"] for w in magnesium)


def test_a_high_pth_implies_the_mild_phase_and_says_what_it_does_not_explain(
    answers: dict[str, dict[str, Any]],
) -> None:
    answer = answers["mild-high-pth"]
    assert answer["severity"] == "mild"
    assert "hypocalcemia refractory to calcium alone" in _labels(answer["not_explained"])
    assert any(c["rule"] == "phase" for c in answer["against"])
    assert "tremor" in _labels(answer["explained"])
    ranked = {h["mechanism"]["label"]: h for h in answer["hypotheses"]}
    resistance = ranked["End-organ PTH resistance"]  # a severe-phase mechanism, against a high PTH
    assert resistance["contradicted_by"]
    assert not resistance["explains"]
    assert resistance["rank"] > ranked["NMDA receptor hyperexcitability"]["rank"]


def test_alkalosis_is_explained_through_the_ionized_fraction(answers: dict[str, dict[str, Any]]) -> None:
    answer = answers["alkalosis"]
    by_label = {e["finding"]["label"]: e for e in answer["explained"]}
    symptoms = by_label["magnesium-deficiency symptoms with a normal total magnesium"]
    assert symptoms["source"]["label"] == "alkalosis"


def test_high_urinary_magnesium_argues_against_an_extra_renal_cause(
    answers: dict[str, dict[str, Any]],
) -> None:
    answer = answers["urine-against-diarrhea"]
    assert answer["loss"]["verdict"] == "renal"
    against = [c for c in answer["against"] if "chronic diarrhea" in c["observation"]]
    assert against
    assert "high urinary magnesium" in against[0]["message"]


@pytest.mark.parametrize("where", ["lower", "upper"])
def test_fe_mg_band_edges_come_from_the_data(client: TestClient, where: str) -> None:
    band = load_case_rules().band("fe_mg_percent")
    assert band is not None
    edge = band.lower if where == "lower" else band.upper
    outside = edge - 0.01 if where == "lower" else edge + 0.01
    expected = "extra_renal" if where == "lower" else "renal"
    for value, verdict in ((edge, "indeterminate"), (outside, expected)):
        answer = client.post("/case", json={"labs": {"fe_mg_percent": value}}).json()
        assert answer["loss"]["verdict"] == verdict, value
        reading = answer["observations"][0]
        assert reading["citations"][0]["identifier"] == band.citations[0].identifier


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"exposures": ["aspirin"]}, "exposures[0]", "cisplatin"),
        ({"findings": ["not a finding"]}, "findings[0]", "unknown finding"),
        (
            {"treatments": [{"intervention": "a cup of tea", "response": "corrected"}]},
            "treatments[0]",
            "magnesium",
        ),
    ],
)
def test_a_name_no_node_has_is_a_404_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, says: str
) -> None:
    problem = assert_problem(client.post("/case", json=body), 404)
    assert problem["field"].startswith(field)
    assert says in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"labs": {"potassium": "low"}}, "labs", "serum_k"),
        ({"labs": {"pth": "very high"}}, "labs.pth", "'high'"),
        ({"labs": {"fe_mg_percent": 140}}, "labs.fe_mg_percent", "0-100"),
        ({"labs": {"fe_mg_percent": -1}}, "labs.fe_mg_percent", "0-100"),
        (
            {"treatments": [{"intervention": "cisplatin", "response": "no_response"}]},
            "treatments[0]",
            "magnesium",
        ),
        ({"treatments": [{"intervention": "magnesium", "response": "maybe"}]}, "response", "no_response"),
        ({"findings": ["tetany"], "absent": ["tetany"]}, "absent", "both present"),
    ],
)
def test_what_cannot_be_interpreted_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, says: str
) -> None:
    problem = assert_problem(client.post("/case", json=body), 422)
    assert field in problem["detail"]
    assert says in problem["detail"]


def test_text_output_and_openapi_examples(client: TestClient) -> None:
    text = client.post("/case", params={"format": "text"}, json=VIGNETTES["renal-cisplatin"])
    assert text.headers["content-type"].startswith("text/plain")
    assert "Loss: renal" in text.text
    assert "not a clinical decision" in text.text
    operation = client.get("/openapi.json").json()["paths"]["/case"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    for example in examples.values():
        assert example["summary"]
        assert client.post("/case", json=example["value"]).status_code == 200
    assert {name: example["value"] for name, example in examples.items()} == VIGNETTES  # all documented
    formats = operation["parameters"][0]["schema"]["enum"]
    assert {"json", "text", "turtle", "jsonld", "svg", "dot", "graphml", "cyjs", "mermaid"} <= set(formats)
    assert {"text/turtle", "application/ld+json", "image/svg+xml"} <= set(
        operation["responses"]["200"]["content"]
    )
    assert PROBLEM in operation["responses"]["422"]["content"]


runner = CliRunner()


def test_cli_case_from_flags_matches_http(client: TestClient) -> None:
    result = runner.invoke(
        cli,
        [
            "case",
            "--finding",
            "tetany",
            "--lab",
            "serum_mg=low",
            "--lab",
            "urinary_mg=low",
            "--exposure",
            "chronic diarrhea",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    over_http = client.post("/case", json=VIGNETTES["extra-renal"]).json()
    assert answer["loss"] == over_http["loss"]
    assert _labels(answer["explained"]) == _labels(over_http["explained"])


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_cli_case_from_a_file(tmp_path: Path, suffix: str) -> None:
    try:
        yaml = import_module("yaml")  # PyYAML: optional for the CLI, required for this test under CI
    except ImportError:
        unavailable("PyYAML is not installed (`mgkg case --file x.yaml` needs it): pip install pyyaml")
    path = tmp_path / f"case{suffix}"
    case = VIGNETTES["calcium-failed"]
    path.write_text(json.dumps(case) if suffix == ".json" else yaml.safe_dump(case))
    result = runner.invoke(cli, ["case", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "hypocalcemia refractory to calcium alone" in result.output
    assert "not a clinical decision" in result.output


def test_cli_case_refuses_a_bad_value_on_one_line() -> None:
    result = runner.invoke(cli, ["case", "--lab", "fe_mg_percent=400"])
    assert result.exit_code == 2
    assert "fe_mg_percent" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["dot", "graphml", "cyjs", "mermaid", "svg"])
def test_the_whole_case_is_one_picture_in_every_export_format(client: TestClient, fmt: str) -> None:
    case = VIGNETTES["renal-cisplatin"]
    answer = client.post("/case", json=case).json()
    picture = client.post("/case", params={"format": fmt}, json=case)
    assert picture.status_code == 200, picture.text
    key = "label" if fmt == "mermaid" else "curie"  # SVG wraps long labels; Mermaid carries no CURIEs
    for entry in answer["explained"]:
        assert entry["finding"][key] in picture.text
    for shared in answer["shared"]:
        assert shared["node"][key] in picture.text


def test_every_conclusion_has_a_proof(answers: dict[str, dict[str, Any]]) -> None:
    assert any(p["inferred"] for answer in answers.values() for p in answer["proofs"])
    for name, answer in answers.items():
        proofs = {p["finding"]: p for p in answer["proofs"]}
        assert set(proofs) == {e["finding"]["iri"] for e in answer["explained"]}, name
        for entry in answer["explained"]:
            proof = proofs[entry["finding"]["iri"]]
            used = {
                link["iri"] for path in entry["paths"] for step in path["steps"] for link in step["links"]
            }
            assert {link["iri"] for link in proof["links"]} == used
            assert proof["citations"]
            assert set(proof["readings"][i]["field"] for i in range(len(proof["readings"]))) >= (
                set(entry["origins"]) - {"findings"}
            )
            if proof["inferred"] is not None:  # the entailed upstream triple rests on asserted links
                assert proof["inferred"]["chains"]
                assert proof["inference_rules"]


def test_the_proofs_as_prov_o_answer_sparql(client: TestClient) -> None:
    from rdflib import Graph
    from rdflib.query import ResultRow

    case = VIGNETTES["renal-cisplatin"]
    answer = client.post("/case", json=case).json()
    turtle = client.post("/case", params={"format": "turtle"}, json=case)
    assert turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    result = graph.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT DISTINCT ?c WHERE { ?c prov:wasGeneratedBy ?a ;"
        " prov:wasDerivedFrom ?x }"
    )
    conclusions = {str(row[0]) for row in result if isinstance(row, ResultRow)}
    assert len(conclusions) == len(answer["explained"])
    plans = graph.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
        " SELECT DISTINCT ?c ?rule WHERE { ?c prov:wasInfluencedBy [ a prov:Plan ; rdfs:label ?rule ] }"
    )
    ruled = {(str(row[0]), str(row[1])) for row in plans if isinstance(row, ResultRow)}
    for proof, conclusion in zip(
        answer["proofs"], sorted(conclusions, key=lambda c: int(c.rsplit("-", 1)[1])), strict=True
    ):
        assert {rule for c, rule in ruled if c == conclusion} == set(proof["consistency"])
    jsonld = client.post("/case", params={"format": "jsonld"}, json=case)
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    nodes = json.loads(jsonld.text)
    ids = {node["@id"] for node in (nodes if isinstance(nodes, list) else nodes["@graph"])}
    assert conclusions <= ids


def test_cli_case_with_proofs(tmp_path: Path) -> None:
    """--proof reasons once (into the cache folder given) and adds a proof per conclusion."""
    args = ["case", "-f", "tetany", "--lab", "urinary_mg=low", "--proof", "--cache-dir", str(tmp_path)]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert {p["finding"] for p in answer["proofs"]} == {e["finding"]["iri"] for e in answer["explained"]}
    assert all(p["inferred"]["chains"] for p in answer["proofs"])
    text = runner.invoke(cli, args)
    assert "Proofs:" in text.output
    assert "prp-trp" in text.output


def test_every_vignette_rests_on_citations_of_the_graph() -> None:
    """Each vignette names the passages it is built from; each is a citation the graph holds."""
    from kg.model.resources import facts_dir

    held = (facts_dir() / "sources.ttl").read_text(encoding="utf-8")
    entries = json.loads(VIGNETTE_FILE.read_text(encoding="utf-8"))
    assert len(entries) >= 6
    for name, entry in entries.items():
        assert entry["about"], name
        assert entry["cites"], name
        for identifier in entry["cites"]:
            assert f'dcterms:identifier "{identifier}"' in held, (name, identifier)


def test_an_fe_mg_inside_the_band_on_aminoglycosides_is_indeterminate(
    answers: dict[str, dict[str, Any]],
) -> None:
    answer = answers["aminoglycoside-indeterminate"]
    band = load_case_rules().band("fe_mg_percent")
    assert band is not None
    assert band.lower <= VIGNETTES["aminoglycoside-indeterminate"]["labs"]["fe_mg_percent"] <= band.upper
    assert answer["loss"]["verdict"] == "indeterminate"
    assert "indeterminate" in answer["loss"]["message"]
    first = answer["loss"]["causes"][0]
    assert first["reported"]
    assert first["cause"]["label"] == "aminoglycoside antibiotics"
    assert "tremor" in _labels(answer["explained"])


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_that_is_no_percentage_is_refused_naming_the_field(client: TestClient, number: str) -> None:
    response = client.post(
        "/case",
        content=f'{{"labs": {{"fe_mg_percent": {number}}}}}',
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert "labs.fe_mg_percent" in problem["detail"]
    assert "0-100" in problem["detail"]
