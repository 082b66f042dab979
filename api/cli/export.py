"""`mgkg export`: an explanation, a neighbourhood or the whole graph as a picture or a graph file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from api.cli._app import app, build_settings, err_console, fail, severity_of
from kg.errors import SourceSyntaxError
from kg.graph.asserted import load_asserted

# --- Pictures and exports (kg/render/formats.py, kg/render/graphviz.py) ---


@app.command("export", rich_help_panel="Pictures")
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
            help="dot, svg, png, graphml, cyjs, mermaid or nodelink (default: from -o, else dot); kgx-tsv,"
            " kgx-jsonl or sssom for the whole graph in Translator's formats.",
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

    from api.cli.translator import TRANSLATOR_FORMATS, export_translator

    if fmt in TRANSLATOR_FORMATS:
        return export_translator(fmt, output)

    from kg.causal.network import build_network
    from kg.causal.why import explain
    from kg.errors import UnknownNodeError
    from kg.render.formats import (
        EXPORT_FORMATS,
        SUFFIXES,
        export,
        parse_format,
    )
    from kg.render.graphviz import Renderer, RendererUnavailableError, RenderFailedError
    from kg.render.picture import explanation_graph, neighbourhood_graph, network_graph

    if sum((finding is not None, node is not None, whole)) != 1:
        raise fail("Give exactly one of --finding, --node or --all.", code=2)
    severity = severity_of(context)
    settings = build_settings()  # MGKG_RENDERER, MGKG_DOT
    renderer = Renderer(settings.renderer, settings.dot)
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
        data = export(graph, chosen, renderer)
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
