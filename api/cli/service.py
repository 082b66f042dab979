"""`mgkg serve`, `mgkg query` and `mgkg load`: the web service, SPARQL at a terminal, and the stores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli._app import app, build_settings, err_console, fail
from kg.errors import MgkgError

# --- Service: serve the REST + SPARQL app, and run SPARQL from the terminal (api/, kg/sparql/__init__.py) ---


class Reasoner(StrEnum):
    """The inference engines `mgkg serve --reasoner` and `mgkg load --reasoner` accept."""

    OWLRL = "owlrl"
    FAST = "fast"


@app.command("serve", rich_help_panel="Service and stores")
def serve_command(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1, or MGKG_HOST].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [default: 8000, or MGKG_PORT].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="uvicorn worker processes, each with its own graph [default: 1, or MGKG_WORKERS]."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    store: Annotated[
        str | None,
        typer.Option(help="memory, oxigraph:PATH or sparql:URL [default: memory, or MGKG_STORE]."),
    ] = None,
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(
            help="Inference engine of the memory store: owlrl or fast [default: MGKG_REASONER, else owlrl]."
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Inference cache folder [default: MGKG_CACHE_DIR, else the user cache]."
        ),
    ] = None,
    sparql_workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="SPARQL worker processes per uvicorn worker [default: 2, or MGKG_SPARQL_WORKERS]."
        ),
    ] = None,
    cors_origins: Annotated[
        str | None,
        typer.Option(
            help="Origins whose pages may call the service (CORS), comma-separated; * for any "
            "[default: *, or MGKG_CORS_ORIGINS]."
        ),
    ] = None,
) -> None:
    """Serve the REST API and the SPARQL endpoint (graph loaded once, from the inference cache).

    Every setting can come from an MGKG_* environment variable (see api/config.py and the README), e.g.
    MGKG_SPARQL_TIMEOUT_S, MGKG_SPARQL_MAX_ROWS, MGKG_SPARQL_PER_CLIENT, MGKG_MAX_REQUEST_BYTES,
    MGKG_MAX_URL_BYTES, MGKG_HEADER_TIMEOUT_S; a flag given here beats its variable.
    """
    import sys

    from api.server import serve

    settings = build_settings(
        host=host,
        port=port,
        workers=workers,
        store=store,
        reasoner=reasoner.value if reasoner is not None else None,
        cache_dir=cache_dir,
        sparql_workers=sparql_workers,
        cors_origins=cors_origins,
    )
    # The event loop shares the GIL with the thread that searches paths (api/fairness.py: cpu_limiter);
    # a 1 ms switch interval (5 ms by default) hands it back to the loop sooner when both want it.
    sys.setswitchinterval(0.001)
    if not serve(settings, log_level):
        raise typer.Exit(3)  # what uvicorn.run exits with when the app does not start


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
    timeout: Annotated[float, typer.Option(help="Time limit, seconds.", min=0.1, max=600)] = 10.0,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Inference cache folder [default: MGKG_CACHE_DIR, else the user's].")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="memory, oxigraph:PATH or sparql:URL [default: MGKG_STORE, else memory]."),
    ] = None,
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(help="Inference engine of the memory store: owlrl or fast [default: MGKG_REASONER]."),
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
        settings = build_settings(
            store=store,
            cache_dir=cache_dir,
            reasoner=reasoner.value if reasoner is not None else None,
            sparql_workers=1,  # one query: one worker
            sparql_timeout_s=timeout,
        )

        async def run() -> SparqlResult:
            graph, _, engine = await open_store(parse_store_setting(settings.store), settings.open_options())
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
        str | None,
        typer.Option(help="oxigraph:PATH or sparql:URL (the query endpoint) [default: MGKG_STORE]."),
    ] = None,
    graph: Annotated[
        str, typer.Option(help="The named graph the files go into.")
    ] = "https://w3id.org/mgkg/graph/external",
    gsp_url: Annotated[
        str | None,
        typer.Option(help="Graph Store Protocol URL (sparql:) [default: MGKG_STORE_GSP_URL]."),
    ] = None,
    update_url: Annotated[
        str | None, typer.Option(help="SPARQL Update URL (sparql:) [default: MGKG_STORE_UPDATE_URL].")
    ] = None,
    skip_mgkg: Annotated[
        bool, typer.Option("--skip-mgkg", help="Do not (re)write the asserted and inferred mgkg graphs.")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Inference cache folder [default: MGKG_CACHE_DIR, else the user cache]."),
    ] = None,
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(help="Inference engine for the mgkg graphs: owlrl or fast [default: MGKG_REASONER]."),
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

    settings = build_settings(
        store=store,
        store_gsp_url=gsp_url,
        store_update_url=update_url,
        cache_dir=cache_dir,
        reasoner=reasoner.value if reasoner is not None else None,
    )
    spec = parse_store_setting(settings.store)
    paths = list(files or [])
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        # a store that cannot be written (memory, no write URL) says so before any reasoning
        load = loader_for(
            spec, WriteOptions(gsp_url=settings.store_gsp_url, update_url=settings.store_update_url)
        )
        knowledge_graph = (
            None
            if skip_mgkg
            else load_knowledge_graph(cache_dir=settings.cache_dir, engine=settings.reasoner)
        )
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
