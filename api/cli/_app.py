"""The `mgkg` Typer application, its consoles and the shared error helper; commands live beside it."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kg.errors import MgkgError
from kg.model.vocab import VERSION

if TYPE_CHECKING:
    from pydantic import BaseModel

    from api.config import Settings
    from kg.causal.network import CausalNetwork
    from kg.causal.recommend import RecommendationCatalog
    from kg.model.types import Severity

_T = TypeVar("_T")

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


def print_heading(question: str, message: str, status: str) -> None:
    """The first two lines of an answer at a terminal: the question, then what it says and its status."""
    console.print(f"[bold]{escape(question)}[/]", highlight=False)
    console.print(f"{escape(message)} [dim]({status})[/]", highlight=False)


class Answer(Protocol):
    """What every answer printed at a terminal has (an Explanation, a Causes): its question and outcome."""

    @property
    def question(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def status(self) -> StrEnum: ...


def ask_asserted(ask: Callable[[CausalNetwork, RecommendationCatalog], _T]) -> _T:
    """Ask a question of the asserted graph's causal network and its recommendations; exit 2 when a name
    is unknown (the closest names on stderr) or a fact file does not parse."""
    from kg.causal.network import build_network
    from kg.causal.recommend import load_recommendations
    from kg.errors import SourceSyntaxError, UnknownNodeError
    from kg.graph.asserted import load_asserted

    try:
        graph = load_asserted().graph
        network = build_network(graph)
        return ask(network, load_recommendations(graph, network))
    except (UnknownNodeError, SourceSyntaxError) as error:
        raise fail(error, code=2) from error


def print_json_or_heading(answer: Answer, as_json: bool, document: Callable[[], BaseModel]) -> bool:
    """With --json, print the answer's JSON document and return True (nothing more to print); else print
    the heading of its text (:func:`print_heading`) and return False."""
    if as_json:
        typer.echo(document().model_dump_json(indent=2))
        return True
    print_heading(answer.question, answer.message, answer.status.value)
    return False


def build_settings(**flags: Any) -> Settings:
    """The one Settings of this command: the flags given on the command line (those not None) over the
    MGKG_* environment variables, which Settings reads once, over the defaults. Exit 2 on a bad value,
    naming the flag's variable (api/config.py), on one line."""
    from pydantic import ValidationError

    from api.config import Settings

    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])} (MGKG_"
            f"{'_'.join(str(part) for part in item['loc']).upper()}): {item['msg']}"
            for item in error.errors()
        )
        raise fail(f"invalid setting: {problems}", code=2) from None


ContextOption = Annotated[
    str | None, typer.Option("--context", help="Severity context: mild or severe (default: any).")
]
"""The --context option of the commands that search paths (why, causes, export)."""

MaxHopsOption = Annotated[int, typer.Option("--max-hops", min=1, help="Longest path, in causal links.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


def severity_of(context: str | None) -> Severity | None:
    """The severity a --context value names, or exit 2 saying what it takes.

    >>> severity_of("mild"), severity_of(None)
    ('mild', None)
    """
    if context is None:
        return None
    if context == "mild":
        return "mild"
    if context == "severe":
        return "severe"
    raise fail(f"--context must be 'mild' or 'severe', not {context!r}.", code=2)
