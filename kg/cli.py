"""The `mgkg` command line: a thin layer over the library functions."""

from __future__ import annotations

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
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
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


def main() -> None:
    """Entry point of the `mgkg` console script."""
    app()
