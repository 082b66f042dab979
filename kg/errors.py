"""The exceptions mgkg raises: one hierarchy under MgkgError, each saying what is wrong and what to do.

Catch :class:`MgkgError` for every error mgkg raises on purpose; the tree below is the whole hierarchy
(tests/unit/test_errors_tree.py checks it against the code). The classes of this module are the ones
more than one layer raises or catches; a layer's own errors live beside the code that raises them, in
the package named on the right::

    MgkgError
    ├── SourceSyntaxError           kg.errors    an RDF source file cannot be read or is refused
    ├── UnknownNodeError            kg.errors    a name matches no node (with the closest names)
    ├── NotEntailedError            kg.errors    a triple to justify is neither asserted nor inferred
    ├── CaseInputError              kg.causal    a case's findings or labs cannot be read (which, why)
    ├── UnsupportedAxiomError       kg.graph     the fast reasoner meets OWL it does not implement
    ├── LoadError                   kg.stores    a file could not be loaded; the store is unchanged
    │   └── BrokenFileError         kg.stores    a file to load does not parse (path, line, column)
    ├── RendererUnavailableError    kg.render    no Graphviz (binary or WebAssembly) for SVG/PNG
    ├── RenderFailedError           kg.render    Graphviz failed on the DOT text (a bug, not the user's)
    ├── TrapiQueryError             kg.translator a TRAPI query mgkg cannot answer (what it supports)
    ├── NamedQueryError             kg.sparql    a named query's parameter is missing or malformed
    │   └── UnknownQueryError       kg.sparql    no named query has that name
    └── SparqlError                 kg.sparql    a SPARQL query cannot be answered
        ├── SparqlSyntaxError       kg.sparql    the text is not SPARQL 1.1 (line and column)
        │   └── QueryUnreadableError kg.sparql   rdflib's parser failed on it (nesting, odd numbers)
        ├── QueryRefusedError       kg.sparql    the query writes or reaches outside the store
        ├── DatasetIriError         kg.sparql    a dataset graph (FROM, *-graph-uri) is not an absolute IRI
        ├── QueryTimeoutError       kg.sparql    the query ran past the time limit (worker killed)
        ├── QueryMemoryError        kg.sparql    the query needed more memory than a query may take
        ├── EngineBusyError         kg.sparql    no worker became free in time
        │   ├── ClientLimitError    kg.sparql    this client has as many queries as one client may
        │   └── QueryPreemptedError kg.sparql    a long query stopped for another client's quick one
        └── EngineFailureError      kg.sparql    the engine failed on a query the guard let through

Where Python has the right exception, kg raises it instead: ValueError for a malformed setting or
argument (a store setting, an unknown reasoner), FileNotFoundError for a store or file that is not there.
The HTTP layer (api/errors.py) turns each MgkgError into a problem+json response; the CLI prints its
message on one line.
"""

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
