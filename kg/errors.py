"""The exceptions mgkg raises; each says what is wrong and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class MgkgError(Exception):
    """Base class of every error mgkg raises on purpose."""


class SourceSyntaxError(MgkgError):
    """An RDF source file could not be read: bad syntax, broken gzip, or refused as unsafe (kg.graph.files).

    ``path``, ``line`` and ``column`` say where (line and column are None when there is no such place);
    ``detail`` says what is wrong, starting "syntax error:" when the parser said so.
    """

    def __init__(self, path: Path, line: int | None, detail: str, column: int | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.detail = detail
        where = str(path) if line is None else f"{path}:{line}" + ("" if column is None else f":{column}")
        super().__init__(f"{where}: {detail}. Fix the file and load again; nothing was loaded.")


class UnknownNodeError(MgkgError):
    """A name did not match any node of the graph."""

    def __init__(self, name: str, suggestions: Sequence[str], kind: str = "finding") -> None:
        self.name = name
        self.kind = kind
        self.suggestions = list(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"Unknown {kind} {name!r}.{hint} Names may be a label, a synonym, a local id or a CURIE; "
            "`mgkg findings` (or GET /findings) lists the findings mgkg can explain."
        )


class NotEntailedError(MgkgError):
    """A triple asked to be justified is neither asserted nor inferred, so there is nothing to justify."""

    def __init__(self, subject: str, predicate: str, obj: str, detail: str = "") -> None:
        self.subject = subject
        self.predicate = predicate
        self.object = obj
        extra = f" {detail}" if detail else ""
        super().__init__(
            f"{subject} {predicate} {obj} is not entailed: it is neither asserted nor inferred by OWL 2 RL "
            f"reasoning over the asserted causal links.{extra} Check the direction and the predicate: "
            "causes, increases and decreases need one link, causallyUpstreamOf allows a chain of links."
        )
