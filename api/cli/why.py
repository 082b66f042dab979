"""`mgkg why`, `mgkg findings` and `mgkg justify`: explanations and their justification at a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli._app import (
    ContextOption,
    JsonOption,
    MaxHopsOption,
    app,
    ask_asserted,
    build_settings,
    console,
    fail,
    print_json_or_heading,
    severity_of,
)
from api.cli.service import Reasoner
from kg.graph.asserted import load_asserted

if TYPE_CHECKING:
    from kg.model.types import CausalPath, Recommendation

# --- Explanations: why and findings (kg/causal/network.py, kg/causal/search.py, kg/causal/why.py) ---


_COLOURED = {"↑": "[green]↑[/]", "↓": "[red]↓[/]"}
"""How a node moves along a path, coloured: up (green) or down (red)."""


def _coloured(text: str) -> str:
    """Escape a step's text for rich and colour its arrows."""
    escaped = escape(text)
    for plain, colour in _COLOURED.items():
        escaped = escaped.replace(plain, colour)
    return escaped


@app.command("why", rich_help_panel="Explain")
def why_command(
    finding: Annotated[
        str, typer.Argument(help="The finding: a label, synonym, local id or CURIE (HP:0002901).")
    ],
    source: Annotated[str, typer.Option("--source", help="Where the paths start.")] = "hypomagnesemia",
    context: ContextOption = None,
    max_hops: MaxHopsOption = 10,
    max_paths: Annotated[int, typer.Option("--max-paths", min=1, help="Most paths to search for.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Explain why the source (hypomagnesemia) leads to a finding: cited paths grouped by mechanism.

    Exit 2 when a name is unknown (closest names on stderr) or the context is not mild or severe.
    """
    from rich.markup import escape
    from rich.tree import Tree

    from kg.causal.recommend import advise
    from kg.causal.why import explain
    from kg.model.types import Citation
    from kg.model.wording import cite, states, step_arrows, step_notes
    from kg.render.document import compact

    cited: dict[str, Citation] = {}

    def markers(citations: Sequence[Citation]) -> str:
        for citation in citations:
            cited.setdefault(citation.identifier, citation)
        identifiers = dict.fromkeys(c.identifier for c in citations)
        return " ".join(f"[cyan]\\[{escape(c)}][/]" for c in identifiers)

    def add_path(parent: Tree, path: CausalPath) -> None:
        """Add one path (rank, net effect, steps as what changes, corroboration) under a tree node."""
        where = f", {path.context.severity} deficiency" if path.context.severity else ""
        branch = parent.add(
            f"[bold]path {path.rank}[/]: net effect [bold]{path.net_polarity}[/] ({path.hops} step(s),"
            f" {path.source_count} source(s), each step stated by {path.support} or more{where})"
        )
        for step, (before, _) in zip(path.steps, states(path.steps), strict=True):
            notes = step_notes(step)
            said = f" [dim]({escape('; '.join(notes))})[/]" if notes else ""
            branch.add(f"{_coloured(step_arrows(step, before))}{said} {markers(step.citations)}")
        for summary in path.corroboration:
            # show the summary's coarse steps (those spanning more than one step), cited with its citations
            coarse = [
                (step, before, first, last)
                for step, (before, _), (first, last) in zip(
                    summary.steps, states(summary.steps), summary.spans, strict=True
                )
                if last > first
            ]
            parts = [
                f"{_coloured(step_arrows(step, before))} [dim](steps {first + 1}-{last + 1})[/]"
                f" {markers(step.citations)}"
                for step, before, first, last in coarse
            ]
            branch.add(f"[italic]corroborated by a summary:[/] {'; '.join(parts)}")

    severity = severity_of(context)
    answer = ask_asserted(
        lambda network, advice: advise(
            explain(
                network, finding, source=source, context=severity, max_paths=max_paths, max_hops=max_hops
            ),
            advice,
        )
    )
    if print_json_or_heading(answer, as_json, lambda: compact(answer)):
        return
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
    print_recommendations(answer.recommendations, answer.paths)
    for recommendation in answer.recommendations:
        for citation in recommendation.citations:
            cited.setdefault(citation.identifier, citation)
    if cited:
        console.print("[bold]References[/]", highlight=False)
        for number, citation in enumerate(cited.values(), start=1):
            console.print(f"{number:>3}. {escape(cite(citation))}", highlight=False)


def print_recommendations(recommendations: Sequence[Recommendation], paths: Sequence[CausalPath]) -> None:
    """Print what the sources advise, in their order, each with its rationale and citations."""
    from rich.tree import Tree

    from kg.causal.recommend import describe

    if not recommendations:
        return
    names = {path.rank: path.mechanism.label for path in paths if path.mechanism is not None}
    tree = Tree("[bold green]What the sources advise[/] [dim](recommendations, in the sources' order)[/]")
    for recommendation in recommendations:
        tree.add(escape(describe(recommendation, names)))
    console.print(tree, highlight=False)


@app.command("findings", rich_help_panel="Explain")
def findings_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="List every clinical finding, also those no path reaches.")
    ] = False,
    source: Annotated[str, typer.Option("--source", help="Where the paths start.")] = "hypomagnesemia",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """List the findings `mgkg why` can explain: label, CURIE and standard identifiers."""
    import json

    from kg.causal.network import build_network
    from kg.errors import UnknownNodeError

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


# --- Inference: justify an inferred triple (kg/graph/reasoning.py, kg/graph/knowledge.py) ---


@app.command("justify", rich_help_panel="Explain")
def justify_command(
    subject: Annotated[str, typer.Argument(help="Subject: a local id, CURIE, IRI or label.")],
    predicate: Annotated[str, typer.Argument(help="A causal predicate, e.g. causes, RO:0002411.")],
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="Object: a local id, CURIE, IRI or label.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the justification as JSON.")] = False,
    max_chains: Annotated[int, typer.Option("--max-chains", min=1, help="Most chains of links to show.")] = 5,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            file_okay=False,
            help="Inference cache folder [default: MGKG_CACHE_DIR, else the user cache].",
        ),
    ] = None,
    reasoner: Annotated[
        Reasoner | None,
        typer.Option(help="Inference engine: owlrl or fast [default: MGKG_REASONER, else owlrl]."),
    ] = None,
) -> None:
    """Show the asserted causal links (with citations) an inferred causal triple rests on.

    Exit 1 when the triple is not entailed, 2 when a name is unknown.
    """
    from rich.markup import escape
    from rich.tree import Tree

    from kg.causal.justify import justify
    from kg.errors import NotEntailedError, UnknownNodeError
    from kg.graph.knowledge import load_knowledge_graph

    settings = build_settings(cache_dir=cache_dir, reasoner=reasoner.value if reasoner is not None else None)
    try:
        knowledge_graph = load_knowledge_graph(cache_dir=settings.cache_dir, engine=settings.reasoner)
        answer = justify(knowledge_graph, subject, predicate, obj, max_chains=max_chains)
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
