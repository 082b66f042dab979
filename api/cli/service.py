"""`mgkg serve`, `mgkg query` and `mgkg load`: the web service, SPARQL at a terminal, and the stores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, err_console, fail
from kg.errors import MgkgError

# --- Service: serve the REST + SPARQL app, and run SPARQL from the terminal (api/, kg/sparql/__init__.py) ---


class Reasoner(StrEnum):
    """The inference engines `mgkg serve --reasoner` and `mgkg load --reasoner` accept."""

    OWLRL = "owlrl"
    FAST = "fast"


@app.command("serve", rich_help_panel="Service and stores")
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
    MGKG_SPARQL_TIMEOUT_S, MGKG_SPARQL_MAX_ROWS, MGKG_SPARQL_WORKERS, MGKG_SPARQL_PER_CLIENT,
    MGKG_MAX_REQUEST_BYTES, MGKG_MAX_URL_BYTES, MGKG_HEADER_TIMEOUT_S, ...
    """
    import os
    import sys

    import uvicorn  # deferred: only this command needs the server

    from kg.stores.registry import parse_store_setting

    try:
        parse_store_setting(store)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--store") from None
    os.environ["MGKG_STORE"] = store  # read by each worker's Settings
    # The event loop shares the GIL with the thread that searches paths (api/fairness.py: cpu_limiter);
    # a 1 ms switch interval (5 ms by default) hands it back to the loop sooner when both want it.
    sys.setswitchinterval(0.001)
    if reasoner is not None:
        os.environ["MGKG_REASONER"] = reasoner.value  # read by each worker's Settings
    from api.protocol import ProblemHttpToolsProtocol

    # An import string and factory=True: each uvicorn worker process builds its own app and graph. The
    # protocol bounds the request head, times out unfinished headers and answers in problem+json.
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        http=ProblemHttpToolsProtocol,
    )


@app.command("query", rich_help_panel="Service and stores")
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
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(envvar="MGKG_REASONER", help="Inference engine of the memory store: owlrl or fast."),
    ] = None,
) -> None:
    """Run a SPARQL query (or a named one) over the asserted + inferred graph and print the answer.

    The query passes the same guard as the service: updates, SERVICE and foreign FROM graphs are refused.
    """
    import asyncio

    from api.negotiation import NegotiationError, negotiate
    from kg.causal.network import network_of
    from kg.sparql import QueryForm, SparqlResult, answer_query, formats_for
    from kg.sparql.named_queries import bind_parameters, get_named_query
    from kg.sparql.results import FORMAT_ALIASES
    from kg.stores.registry import open_store, parse_store_setting

    def choose_media_type(form: QueryForm) -> str:
        """--format (csv or turtle by default, as a terminal reads best), by the service's negotiation."""
        offered = formats_for(form)
        chosen = fmt or ("csv" if form in ("SELECT", "ASK") else "turtle")
        try:
            name = negotiate(chosen, None, list(offered.items()), aliases=FORMAT_ALIASES, by_media_type=True)
        except NegotiationError:
            raise typer.BadParameter(
                f"--format {chosen} cannot answer a {form}; use {', '.join(offered)}"
            ) from None
        return offered[name]

    try:
        if (text is None) == (name is None):
            raise typer.BadParameter("give either a query text or --name NAME")
        named = None
        values: dict[str, str] = {}
        if name is not None:
            named = get_named_query(name)
            pairs = [p.partition("=") for p in (param or [])]
            if any(not sep for _, sep, _ in pairs):
                raise typer.BadParameter("--param takes k=v")
            values = {k: v for k, _, v in pairs}
            # names, required values and literals are checked before the store is opened; node names after
            bind_parameters(named, values, lambda value, _: value)
            text = named.text
        query_text = text
        assert query_text is not None
        try:
            spec = parse_store_setting(store)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--store") from None

        async def run() -> SparqlResult:
            graph, _, engine = await open_store(
                spec,
                workers=1,
                timeout_s=timeout,
                cache_dir=cache_dir,
                reasoner=reasoner.value if reasoner is not None else None,
            )
            try:
                # node parameters (finding, source) resolve as `mgkg why` resolves them
                bound = bind_parameters(named, values, network_of(graph).resolve) if named else None
                # the service's own path: the guard (FROM graphs: those of this store), format, run
                return await answer_query(engine, query_text, choose_media_type, substitutions=bound)
            finally:
                await engine.close()

        result = asyncio.run(run())
    except MgkgError as error:
        raise fail(error) from None
    body = result.body
    typer.echo(body.decode("utf-8"), nl=not body.endswith(b"\n"))
    if result.truncated:
        err_console.print("[yellow]warning:[/] the answer was cut at the row limit")


# --- Stores and loading: `mgkg load` into an on-disk Oxigraph store or a remote SPARQL store -----------


@app.command("load", rich_help_panel="Service and stores")
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

    from kg.graph.files import Progress as ProgressCallback
    from kg.graph.knowledge import load_knowledge_graph
    from kg.stores.base import WriteOptions
    from kg.stores.registry import loader_for, parse_store_setting

    try:
        spec = parse_store_setting(store)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--store") from None
    paths = list(files or [])
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        # a store that cannot be written (memory, no write URL) says so before any reasoning
        load = loader_for(spec, WriteOptions(gsp_url=gsp_url, update_url=update_url))
        engine = reasoner.value if reasoner is not None else None
        knowledge_graph = None if skip_mgkg else load_knowledge_graph(cache_dir=cache_dir, engine=engine)
        with Progress(*columns, console=err_console, transient=False) as bar:

            def progress(path: Path) -> ProgressCallback:
                task = bar.add_task(path.name, total=path.stat().st_size)
                return lambda size: bar.advance(task, size)

            report = load(paths, graph, knowledge_graph, progress)
    except MgkgError as error:
        raise fail(error) from None
    if report.mgkg_triples:
        err_console.print(f"mgkg graphs: {report.mgkg_triples} triples written to {report.store}")
    for name, count in report.files:
        err_console.print(f"{name}: {count} triples into <{report.graph}>", highlight=False)
