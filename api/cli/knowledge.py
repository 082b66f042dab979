"""`mgkg validate` and `mgkg stats`: check the graph against its shapes and count what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from api.cli._app import app, console, fail
from kg.errors import SourceSyntaxError
from kg.graph.asserted import load_asserted
from kg.graph.stats import compute_stats
from kg.graph.validate import load_for_validation, validate

# --- Knowledge base: validate and stats (kg/graph/validate.py, kg/graph/stats.py) ---


@app.command("validate", rich_help_panel="Knowledge base")
def validate_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="RDF files (.ttl .nt .nq .trig .rdf/.owl .jsonld, optionally .gz) to validate together "
            "with the shipped ontology. Default: the shipped graph.",
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


@app.command("stats", rich_help_panel="Knowledge base")
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
