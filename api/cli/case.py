"""`mgkg case`: explain a whole case from flags or a JSON/YAML file (the model POST /case takes)."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from api.cli._app import JsonOption, app, build_settings, err_console, fail
from kg.render.formats import EXPORT_FORMATS

if TYPE_CHECKING:
    from kg.render.case_picture import CaseFormat


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    """KEY=VALUE flags as a dict, or exit 2 naming the flag."""
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise fail(f"{flag} takes KEY=VALUE, not {value!r}.", code=2)
        found[key.strip()] = rest.strip()
    return found


def _lab_value(key: str, value: str) -> object:
    """A --lab value as the case model types it: a number for fe_mg_percent, a boolean for alkalosis."""
    if key == "fe_mg_percent":
        try:
            return float(value)
        except ValueError:
            raise fail(f"--lab fe_mg_percent takes a number (a percentage), not {value!r}.", code=2) from None
    if key == "alkalosis":
        if value.lower() not in ("true", "false", "yes", "no"):
            raise fail(f"--lab alkalosis takes true or false, not {value!r}.", code=2)
        return value.lower() in ("true", "yes")
    return value


def _read_file(path: Path) -> dict[str, Any]:
    """A case from a .json file, or from .yaml/.yml when PyYAML is installed; exit 2 when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise fail(f"--file: cannot read {path}: {error.strerror}.", code=2) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                yaml = import_module("yaml")  # optional (PyYAML ships no type stubs)
            except ImportError:
                raise fail(
                    "--file: reading YAML needs PyYAML (pip install pyyaml); use JSON.", code=2
                ) from None
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (ValueError, ImportError) as error:
        raise fail(
            f"--file: {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {error}", code=2
        ) from None
    except Exception as error:  # yaml.YAMLError and its kin: a malformed file is the user's to fix
        raise fail(f"--file: {path} is not valid YAML: {error}", code=2) from None
    if not isinstance(data, dict):
        raise fail(f"--file: {path} must hold one case object (a mapping).", code=2)
    return data


@app.command("case", rich_help_panel="Explain")
def case_command(
    finding: Annotated[
        list[str] | None, typer.Option("--finding", "-f", help="A finding present (repeat).")
    ] = None,
    absent: Annotated[
        list[str] | None, typer.Option("--absent", help="A finding known absent (repeat).")
    ] = None,
    lab: Annotated[
        list[str] | None,
        typer.Option(
            "--lab", help="A lab as KEY=VALUE: serum_mg=low, fe_mg_percent=5, pth=normal, alkalosis=true."
        ),
    ] = None,
    exposure: Annotated[
        list[str] | None, typer.Option("--exposure", "-e", help="An exposure (repeat).")
    ] = None,
    treatment: Annotated[
        list[str] | None,
        typer.Option("--treatment", help="A treatment tried, INTERVENTION=corrected|no_response (repeat)."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A case as JSON or YAML; flags add to it.")
    ] = None,
    proof: Annotated[
        bool,
        typer.Option("--proof", help="Add a proof per conclusion (reasons once for the inferred graph)."),
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir", file_okay=False, help="Inference cache folder for --proof [env: MGKG_CACHE_DIR]."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="text (default), json, turtle or jsonld (the proofs as PROV-O), or the picture of the whole"
            f" case: {', '.join(EXPORT_FORMATS)} (default: from -o's suffix).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="File to write (else stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Explain a whole case: which findings hypomagnesemia explains (cited paths, under the severity the
    labs imply), which it does not, the shared mechanism, renal or extra-renal loss and its candidate
    causes, what argues against it, what each treatment is expected to do, and what the sources advise.

    Exit 2 when the case names something that cannot be interpreted (one line says which field), 3 when
    SVG/PNG is asked for and no Graphviz renderer is installed.
    Educational, from two sources: not a clinical decision.
    """
    from pydantic import ValidationError

    from kg.causal.case import explain_case
    from kg.causal.case_model import Case, CaseInputError
    from kg.causal.network import build_network, network_of
    from kg.causal.recommend import load_recommendations
    from kg.errors import SourceSyntaxError
    from kg.graph.asserted import load_asserted
    from kg.render.case_picture import render_case
    from kg.render.graphviz import Renderer, RendererUnavailableError, RenderFailedError

    chosen = _format(fmt, output, as_json)
    proof = proof or chosen in ("turtle", "jsonld")  # the RDF is the proofs
    data: dict[str, Any] = _read_file(file) if file is not None else {}
    data["findings"] = [*data.get("findings", ()), *(finding or ())]
    data["absent"] = [*data.get("absent", ()), *(absent or ())]
    data["exposures"] = [*data.get("exposures", ()), *(exposure or ())]
    labs = data.get("labs", {})
    given = {key: _lab_value(key, value) for key, value in _pairs(lab or [], "--lab").items()}
    data["labs"] = {**labs, **given} if isinstance(labs, dict) else labs
    tried = [{"intervention": k, "response": v} for k, v in _pairs(treatment or [], "--treatment").items()]
    data["treatments"] = [*data.get("treatments", ()), *tried]
    try:
        case = Case.model_validate(data)
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'case'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise fail(detail, code=2) from None
    settings = build_settings()  # MGKG_RENDERER, MGKG_DOT
    try:
        if proof:
            from kg.causal.case_proof import prove_case
            from kg.graph.knowledge import load_knowledge_graph

            knowledge = load_knowledge_graph(cache_dir=cache_dir)
            graph, network = knowledge.asserted.graph, network_of(knowledge)
        else:
            graph = load_asserted().graph
            network = build_network(graph)
        answer = explain_case(network, case, load_recommendations(graph, network))
        if proof:
            answer = answer.model_copy(update={"proofs": prove_case(knowledge, answer)})
        body = render_case(answer, chosen, Renderer(settings.renderer, settings.dot))
    except CaseInputError as error:
        raise fail(error, code=2) from error
    except SourceSyntaxError as error:
        raise fail(error, code=2) from error
    except RendererUnavailableError as error:
        raise fail(error, code=3) from error
    except RenderFailedError as error:
        raise fail(error, code=1) from error
    if output is not None:
        output.write_bytes(body)
        err_console.print(f"wrote {escape(str(output))} ({chosen}, {len(body)} bytes)", highlight=False)
        return
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
    sys.stdout.buffer.flush()


def _format(fmt: str | None, output: Path | None, as_json: bool) -> CaseFormat:
    """The format asked for: --format, else --json, else from -o's suffix, else text; exit 2 naming the
    formats when it is none of them."""
    from kg.render.case_picture import CASE_FORMATS, CASE_SUFFIXES, parse_case_format

    if fmt is None and as_json:
        return "json"
    if fmt is None and output is not None:
        by_suffix = {suffix: name for name, suffix in CASE_SUFFIXES.items()}
        name = next(
            (by_suffix[s] for s in sorted(by_suffix, key=len, reverse=True) if output.name.endswith(s)), None
        )
        fmt = name or "text"
    try:
        chosen = parse_case_format(fmt or "text")
    except ValueError:
        raise fail(
            f"--format: unknown format {fmt!r}; choose one of {', '.join(CASE_FORMATS)}.", code=2
        ) from None
    if as_json and chosen != "json":
        raise fail(f"--json and --format {fmt} ask for two formats; give one.", code=2)
    return chosen
