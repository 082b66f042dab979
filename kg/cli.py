"""The `mgkg` command line: a thin layer over the library functions."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from kg.errors import MgkgError, SourceSyntaxError
from kg.stats import compute_stats
from kg.store import load_asserted
from kg.validate import load_for_validation, validate
from kg.vocab import VERSION

app = typer.Typer(
    name="mgkg",
    help="Explain why magnesium deficiency produces its findings, from a cited causal knowledge graph.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"mgkg {VERSION}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Explain why magnesium deficiency produces its findings, from a cited causal knowledge graph."""


def fail(error: MgkgError | str, code: int = 1) -> typer.Exit:
    """Print an error for a person at a terminal and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(code)


# Commands are registered below, one section per area.


# --- Knowledge base: validate and stats (kg/validate.py, kg/stats.py) --------------------------------


@app.command("validate")
def validate_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Turtle files to validate together with the shipped ontology. Default: the shipped graph.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the graph against the SHACL shapes; exit 1 on a violation, 2 on a syntax error."""
    try:
        asserted = load_for_validation(files) if files else load_asserted()
        report = validate(asserted)
    except SourceSyntaxError as error:
        raise fail(error, code=2) from error
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        raise typer.Exit(0 if report.conforms else 1)
    for item in report.violations:
        style = "bold red" if item.severity == "Violation" else "bold yellow"
        path = f" [dim]{escape(item.path)}[/]" if item.path else ""
        node = escape(item.focus_node)
        console.print(f"[{style}]{item.severity}[/] [bold]{node}[/]{path} [dim]in[/] {escape(item.file)}")
        console.print(Padding(escape(item.message), (0, 0, 1, 4)))
    counts = (len(report.errors), len(report.warnings), len(asserted.files))
    summary = "{} violation(s), {} warning(s), {} file(s).".format(*counts)
    if report.conforms:
        console.print(f"[bold green]The graph conforms to the shapes:[/] {summary}", highlight=False)
        return
    console.print(f"[bold red]The graph does not conform:[/] {summary}", highlight=False)
    raise typer.Exit(1)


@app.command("stats")
def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            file_okay=False,
            help="Folder of the source texts, to list uncited chapter markers. Default: ../shared/sources.",
        ),
    ] = None,
) -> None:
    """Count nodes by kind, links by polarity and mechanism, citations, and chapter markers not cited."""
    try:
        stats = compute_stats(sources_dir=sources)
    except SourceSyntaxError as error:
        raise fail(error, code=2) from error
    if as_json:
        typer.echo(stats.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{stats.nodes}[/] nodes, [bold]{stats.links}[/] causal links, [bold]{stats.mechanisms}[/]"
        f" mechanisms, [bold]{stats.citations}[/] citations.",
        highlight=False,
    )
    for title, counts in (
        ("nodes by kind", stats.nodes_by_kind),
        ("links by polarity", stats.links_by_polarity),
        ("links by mechanism", stats.links_by_mechanism),
    ):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("count", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        console.print(table)
    console.print(f"Cited source markers: {', '.join(stats.cited_markers) or '(none)'}", highlight=False)
    if stats.uncited_markers is None:
        console.print("Chapter text not found; pass --sources DIR to list uncited chapter markers.")
    elif stats.uncited_markers:
        console.print(f"[yellow]Chapter markers no link cites:[/] {', '.join(stats.uncited_markers)}")
    else:
        console.print(f"[green]All {len(stats.chapter_markers or [])} chapter markers are cited.[/]")


# --- Inference: justify an inferred triple (kg/reasoning.py, kg/graph.py) ---------------------------


@app.command("justify")
def justify_command(
    subject: Annotated[str, typer.Argument(help="Subject: a local id, CURIE, IRI or label.")],
    predicate: Annotated[str, typer.Argument(help="A causal predicate, e.g. causes, RO:0002411.")],
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="Object: a local id, CURIE, IRI or label.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the justification as JSON.")] = False,
    max_chains: Annotated[int, typer.Option("--max-chains", min=1, help="Most chains of links to show.")] = 5,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", file_okay=False, help="Inference cache folder [env: MGKG_CACHE_DIR]."),
    ] = None,
) -> None:
    """Show the asserted causal links (with citations) an inferred causal triple rests on.

    Exit 1 when the triple is not entailed, 2 when a name is unknown.
    """
    from rich.markup import escape
    from rich.tree import Tree

    from kg.errors import NotEntailedError, UnknownNodeError
    from kg.graph import load_knowledge_graph

    try:
        knowledge_graph = load_knowledge_graph(cache_dir=cache_dir)
        answer = knowledge_graph.justify(subject, predicate, obj, max_chains=max_chains)
    except UnknownNodeError as error:
        raise fail(error, code=2) from error
    except NotEntailedError as error:
        raise fail(error, code=1) from error
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    title = f"{escape(answer.subject.label)} [bold]{answer.predicate}[/] {escape(answer.object.label)}"
    how = "asserted, and supported by" if answer.asserted else "inferred from"
    tree = Tree(f"{title} [dim]({how} {len(answer.chains)} chain(s) of asserted links)[/]")
    for number, chain in enumerate(answer.chains, start=1):
        hops = f"{len(chain.links)} link(s), net effect {chain.net_polarity}"
        branch = tree.add(f"[bold]chain {number}[/]: {hops}")
        for link in chain.links:
            step = f"{escape(link.cause.label)} [bold]{link.polarity}[/] {escape(link.effect.label)}"
            node = branch.add(f"{step} [dim]{escape(link.curie)}[/]")
            for cite in link.citations:
                where = ", ".join(part for part in (cite.section, cite.document) if part)
                node.add(f"[cyan]{escape(cite.identifier)}[/] {escape(where)}")
    console.print(tree, highlight=False)


# --- Explanations: why and findings (kg/network.py, kg/paths.py, kg/explain.py) --------------------


@app.command("why")
def why_command(
    finding: Annotated[
        str, typer.Argument(help="The finding: a label, synonym, local id or CURIE (HP:0002901).")
    ],
    source: Annotated[str, typer.Option("--source", help="Where the paths start.")] = "hypomagnesemia",
    context: Annotated[
        str | None, typer.Option("--context", help="Severity context: mild or severe (default: any).")
    ] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", min=1, help="Longest path, in causal links.")] = 10,
    max_paths: Annotated[int, typer.Option("--max-paths", min=1, help="Most paths to search for.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Explanation as JSON.")] = False,
) -> None:
    """Explain why the source (hypomagnesemia) leads to a finding: cited paths grouped by mechanism.

    Exit 2 when a name is unknown (closest names on stderr) or the context is not mild or severe.
    """
    from rich.markup import escape
    from rich.tree import Tree

    from kg.errors import UnknownNodeError
    from kg.explain import explain
    from kg.models import Path as ExplanationPath
    from kg.models import Severity
    from kg.network import build_network

    def add_path(parent: Tree, path: ExplanationPath) -> None:
        """Add one path (rank, net effect, steps with arrows and citations) under a tree node."""
        where = f", {path.context.severity}" if path.context.severity else ""
        branch = parent.add(
            f"[bold]path {path.rank}[/]: net effect [bold]{path.net_polarity}[/] ({path.hops} step(s),"
            f" {path.citation_count} citation(s){where})"
        )
        for step in path.steps:
            arrow = "[green]↑[/]" if step.sign > 0 else "[red]↓[/]"
            notes = [
                n for n in (step.context.severity, "curator inference" if step.curator_inference else "") if n
            ]
            extra = f" [dim]({', '.join(notes)})[/]" if notes else ""
            cited = dict.fromkeys(c.identifier for c in step.citations)
            markers = " ".join(f"[cyan]\\[{escape(c)}][/]" for c in cited)
            branch.add(
                f"{arrow} {escape(step.subject.label)} [bold]{step.predicate}[/] {escape(step.object.label)}"
                f"{extra} {markers}"
            )

    if context not in (None, "mild", "severe"):
        raise fail(f"--context must be 'mild' or 'severe', not {context!r}.", code=2)
    severity: Severity | None = "mild" if context == "mild" else "severe" if context == "severe" else None
    try:
        network = build_network(load_asserted().graph)
        answer = explain(
            network, finding, source=source, context=severity, max_paths=max_paths, max_hops=max_hops
        )
    except UnknownNodeError as error:
        raise fail(error, code=2) from error
    except SourceSyntaxError as error:
        raise fail(error, code=2) from error
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    console.print(f"[bold]{escape(answer.question)}[/]", highlight=False)
    console.print(f"{escape(answer.message)} [dim]({answer.status.value})[/]", highlight=False)
    for group in answer.mechanisms:
        name = group.mechanism.label if group.mechanism else "(no mechanism named)"
        tree = Tree(f"[bold magenta]{escape(name)}[/] [dim]{len(group.paths)} path(s)[/]")
        for path in group.paths:
            add_path(tree, path)
        console.print(tree, highlight=False)
    if answer.contradicting:
        tree = Tree("[bold yellow]Paths that contradict the finding[/] [dim](net effect against it)[/]")
        for path in answer.contradicting:
            add_path(tree, path)
        console.print(tree, highlight=False)


@app.command("findings")
def findings_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="List every clinical finding, also those no path reaches.")
    ] = False,
    source: Annotated[str, typer.Option("--source", help="Where the paths start.")] = "hypomagnesemia",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """List the findings `mgkg why` can explain: label, CURIE and standard identifiers."""
    import json

    from kg.errors import UnknownNodeError
    from kg.network import build_network

    try:
        network = build_network(load_asserted().graph)
        refs = network.findings(network.resolve(source, "source"), include_unreachable=show_all)
    except UnknownNodeError as error:
        raise fail(error, code=2) from error
    if as_json:
        typer.echo(json.dumps([ref.model_dump(mode="json") for ref in refs], indent=2))
        return
    table = Table(title=f"{len(refs)} finding(s)" + ("" if show_all else f" reachable from {source}"))
    table.add_column("finding")
    table.add_column("CURIE")
    table.add_column("standard ids")
    for ref in refs:
        xrefs = ", ".join(f"{x.curie} ({x.match.value})" for x in ref.xrefs)
        table.add_row(escape(ref.label), ref.curie, xrefs)
    console.print(table)


# --- Pictures and exports (kg/export.py, kg/render.py) -----------------------------------------------


@app.command("export")
def export_command(
    finding: Annotated[
        str | None, typer.Option("--finding", help="Export the explanation of this finding.")
    ] = None,
    node: Annotated[str | None, typer.Option("--node", help="Export the neighbourhood of this node.")] = None,
    radius: Annotated[
        int, typer.Option("--radius", min=0, max=10, help="Links around --node to include.")
    ] = 1,
    whole: Annotated[bool, typer.Option("--all", help="Export the whole causal graph.")] = False,
    context: Annotated[
        str | None, typer.Option("--context", help="Keep only links that hold in mild or severe deficiency.")
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="Where explanation paths start.")
    ] = "hypomagnesemia",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="dot, svg, png, graphml, cyjs, mermaid or nodelink (default: from -o, else dot).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="File to write.")
    ] = None,
) -> None:
    """Export an explanation, a neighbourhood or the whole graph as DOT, SVG, PNG, GraphML, Cytoscape.js,
    Mermaid or node-link JSON (to stdout without -o).

    Exit 2 on a usage error or an unknown name, 3 when SVG/PNG is asked for and no Graphviz renderer is
    installed (the message says how to install one).
    """
    import sys

    from kg.errors import UnknownNodeError
    from kg.explain import explain
    from kg.export import (
        EXPORT_FORMATS,
        SUFFIXES,
        explanation_graph,
        export,
        neighbourhood_graph,
        network_graph,
        parse_format,
    )
    from kg.models import Severity
    from kg.network import build_network
    from kg.render import RendererUnavailableError, RenderFailedError

    if sum((finding is not None, node is not None, whole)) != 1:
        raise fail("Give exactly one of --finding, --node or --all.", code=2)
    if context not in (None, "mild", "severe"):
        raise fail(f"--context must be 'mild' or 'severe', not {context!r}.", code=2)
    severity: Severity | None = "mild" if context == "mild" else "severe" if context == "severe" else None
    suffixes = {suffix: name for name, suffix in SUFFIXES.items()}
    name = fmt or (suffixes.get(output.suffix.lower()) if output is not None else None) or "dot"
    try:
        chosen = parse_format(name)
    except ValueError as error:
        raise fail(f"{error}. Formats: {', '.join(EXPORT_FORMATS)}.", code=2) from error
    try:
        network = build_network(load_asserted().graph)
        if finding is not None:
            graph = explanation_graph(explain(network, finding, source=source, context=severity))
        elif node is not None:
            graph = neighbourhood_graph(network, network.resolve(node, "node"), radius, context=severity)
        else:
            graph = network_graph(network, context=severity)
        data = export(graph, chosen)
    except (UnknownNodeError, SourceSyntaxError) as error:
        raise fail(error, code=2) from error
    except RendererUnavailableError as error:
        raise fail(escape(str(error)), code=3) from error
    except RenderFailedError as error:
        raise fail(escape(str(error)), code=1) from error
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output.write_bytes(data)
    err_console.print(f"wrote {escape(str(output))} ({chosen}, {len(data)} bytes)", highlight=False)


# --- Service: serve the REST + SPARQL app, and run SPARQL from the terminal (api/, kg/sparql.py) -------


class Reasoner(StrEnum):
    """The inference engines `mgkg serve --reasoner` and `mgkg load --reasoner` accept."""

    OWLRL = "owlrl"
    FAST = "fast"


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(envvar="MGKG_HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="MGKG_PORT", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(envvar="MGKG_WORKERS", min=1, help="uvicorn worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    store: Annotated[
        str, typer.Option(envvar="MGKG_STORE", help="memory, oxigraph:PATH or sparql:URL.")
    ] = "memory",
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(envvar="MGKG_REASONER", help="Inference engine of the memory store: owlrl or fast."),
    ] = None,
) -> None:
    """Serve the REST API and the SPARQL endpoint (graph loaded once, from the inference cache).

    Other settings come from MGKG_* environment variables (see api/config.py): MGKG_CACHE_DIR,
    MGKG_SPARQL_TIMEOUT_S, MGKG_SPARQL_MAX_ROWS, MGKG_SPARQL_WORKERS, MGKG_MAX_REQUEST_BYTES, ...
    """
    import os

    import uvicorn  # deferred: only this command needs the server

    from kg.backends import StoreSpec

    try:
        StoreSpec.parse(store)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--store") from None
    os.environ["MGKG_STORE"] = store  # read by each worker's Settings
    if reasoner is not None:
        os.environ["MGKG_REASONER"] = reasoner.value  # read by each worker's Settings
    # An import string and factory=True: each uvicorn worker process builds its own app and graph.
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level
    )


@app.command("query")
def query_command(
    text: Annotated[str | None, typer.Argument(help="A SPARQL query (SELECT, ASK, CONSTRUCT, ...).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Run a named query from queries/.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="k=v parameter of a named query.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, tsv, json, xml (SELECT/ASK); turtle, ntriples, jsonld, rdfxml"),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Time limit, seconds.", min=0.1)] = 10.0,
    cache_dir: Annotated[
        Path | None, typer.Option(envvar="MGKG_CACHE_DIR", help="Inference cache folder.")
    ] = None,
    store: Annotated[
        str, typer.Option(envvar="MGKG_STORE", help="memory, oxigraph:PATH or sparql:URL.")
    ] = "memory",
) -> None:
    """Run a SPARQL query (or a named one) over the asserted + inferred graph and print the answer.

    The query passes the same guard as the service: updates, SERVICE and foreign FROM graphs are refused.
    """
    import asyncio

    from kg.backends import StoreSpec, open_store
    from kg.named_queries import bind_parameters, get_named_query
    from kg.sparql import check_query, formats_for
    from kg.sparql_guard import parse_query

    try:
        if (text is None) == (name is None):
            raise typer.BadParameter("give either a query text or --name NAME")
        substitutions = None
        if name is not None:
            named = get_named_query(name)
            pairs = [p.partition("=") for p in (param or [])]
            if any(not sep for _, sep, _ in pairs):
                raise typer.BadParameter("--param takes k=v")
            substitutions = bind_parameters(named, {k: v for k, _, v in pairs})
            text = named.text
        assert text is not None
        try:
            spec = StoreSpec.parse(store)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--store") from None
        checked = parse_query(text)  # FROM graphs are checked against the store's once it is open
        offered = formats_for(checked.form)
        chosen = fmt or ("csv" if checked.form in ("SELECT", "ASK") else "turtle")
        if chosen not in offered:
            choices = ", ".join(offered)
            raise typer.BadParameter(f"--format {chosen} cannot answer a {checked.form}; use {choices}")

        async def run() -> tuple[bytes, bool]:
            _, _, engine = await open_store(spec, workers=1, timeout_s=timeout, cache_dir=cache_dir)
            try:
                check_query(checked.text, engine.graphs)  # FROM graphs: those of this store
                result = await engine.run(checked, offered[chosen], substitutions=substitutions)
            finally:
                await engine.close()
            return result.body, result.truncated

        body, truncated = asyncio.run(run())
    except MgkgError as error:
        raise fail(error) from None
    typer.echo(body.decode("utf-8"), nl=not body.endswith(b"\n"))
    if truncated:
        err_console.print("[yellow]warning:[/] the answer was cut at the row limit")


# --- Stores and loading: `mgkg load` into an on-disk Oxigraph store or a remote SPARQL store -----------


@app.command("load")
def load_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="RDF files: .ttl .nt .nq .trig .rdf/.owl .jsonld, optionally .gz.", exists=True),
    ] = None,
    store: Annotated[
        str, typer.Option(envvar="MGKG_STORE", help="oxigraph:PATH or sparql:URL (the query endpoint).")
    ] = "memory",
    graph: Annotated[
        str, typer.Option(help="The named graph the files go into.")
    ] = "https://w3id.org/mgkg/graph/external",
    gsp_url: Annotated[
        str | None, typer.Option(envvar="MGKG_STORE_GSP_URL", help="Graph Store Protocol URL (sparql:).")
    ] = None,
    update_url: Annotated[
        str | None, typer.Option(envvar="MGKG_STORE_UPDATE_URL", help="SPARQL Update URL (sparql:).")
    ] = None,
    skip_mgkg: Annotated[
        bool, typer.Option("--skip-mgkg", help="Do not (re)write the asserted and inferred mgkg graphs.")
    ] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(envvar="MGKG_CACHE_DIR", help="Inference cache folder.")
    ] = None,
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(envvar="MGKG_REASONER", help="Inference engine for the mgkg graphs: owlrl or fast."),
    ] = None,
) -> None:
    """Write the mgkg graphs (asserted + inferred) and any external RDF files into a store, streaming.

    A broken file stops the load with its file, line and column, and the store keeps what it had.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from kg.backends import StoreSpec
    from kg.graph import load_knowledge_graph
    from kg.load import LoadError, RemoteWriter, load_oxigraph, load_remote
    from kg.load import Progress as ProgressCallback

    try:
        spec = StoreSpec.parse(store)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--store") from None
    if spec.kind == "memory":
        raise fail(
            LoadError(
                "The memory store lives inside each mgkg process and is rebuilt from the shipped Turtle "
                "at every start, so nothing loaded into it would outlive this command. Load into a "
                "store that persists: --store oxigraph:PATH (then mgkg serve --store oxigraph:PATH) or "
                "--store sparql:URL --gsp-url URL."
            )
        )
    paths = list(files or [])
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        engine = reasoner.value if reasoner is not None else None
        knowledge_graph = None if skip_mgkg else load_knowledge_graph(cache_dir=cache_dir, engine=engine)
        with Progress(*columns, console=err_console, transient=False) as bar:

            def progress(path: Path) -> ProgressCallback:
                task = bar.add_task(path.name, total=path.stat().st_size)
                return lambda size: bar.advance(task, size)

            if spec.kind == "oxigraph":
                report = load_oxigraph(spec, paths, graph, knowledge_graph, progress)
            else:
                writer = RemoteWriter(gsp_url=gsp_url, update_url=update_url)
                report = load_remote(spec, paths, graph, knowledge_graph, writer, progress)
    except MgkgError as error:
        raise fail(error) from None
    if report.mgkg_triples:
        err_console.print(f"mgkg graphs: {report.mgkg_triples} triples written to {report.store}")
    for name, count in report.files:
        err_console.print(f"{name}: {count} triples into <{report.graph}>", highlight=False)


def main() -> None:
    """Entry point of the `mgkg` console script."""
    app()
