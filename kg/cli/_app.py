"""The `mgkg` Typer application, its consoles and the shared error helper; commands live beside it."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from kg.errors import MgkgError
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
    """Print an error for a person at a terminal, on one line (not wrapped), and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
