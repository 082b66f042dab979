"""`mgkg causes`: the causes a finding can come from (etiologies, drugs, disorders, loss routes), cited."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._app import (
    ContextOption,
    JsonOption,
    MaxHopsOption,
    app,
    ask_asserted,
    console,
    print_json_or_heading,
    severity_of,
)


@app.command("causes", rich_help_panel="Explain")
def causes_command(
    finding: Annotated[
        str, typer.Argument(help="The finding: a label, synonym, local id or CURIE (HP:0012608).")
    ],
    context: ContextOption = None,
    max_hops: MaxHopsOption = 10,
    max_paths: Annotated[int, typer.Option("--max-paths", min=1, help="Most paths per cause.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """List what can cause a finding: etiologies, drugs, genetic disorders and loss routes, ranked,
    each with its cited paths, and what the sources advise.

    Exit 2 when the name is unknown (closest names on stderr) or the context is not mild or severe.
    """
    from rich.markup import escape
    from rich.tree import Tree

    from api.cli.why import print_recommendations
    from kg.causal.causes import find_causes
    from kg.render.document import compact_causes

    severity = severity_of(context)
    answer = ask_asserted(
        lambda network, advice: find_causes(
            network, finding, context=severity, max_paths=max_paths, max_hops=max_hops, recommendations=advice
        )
    )
    if print_json_or_heading(answer, as_json, lambda: compact_causes(answer)):
        return
    for cause in answer.causes:
        tree = Tree(
            f"[bold magenta]{cause.rank}. {escape(cause.cause.label)}[/] [dim]({cause.kind}, "
            f"{escape(cause.cause.curie)}; {cause.hops} step(s), {cause.citation_count} citation(s))[/]"
        )
        for path in cause.paths:
            mechanism = f" [dim]{escape(path.mechanism.label)}[/]" if path.mechanism is not None else ""
            tree.add(f"[bold]path {path.rank}[/]{mechanism}: {escape(path.explanation)}")
        console.print(tree, highlight=False)
    print_recommendations(answer.recommendations, [path for c in answer.causes for path in c.paths])
