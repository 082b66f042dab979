"""Named SPARQL queries (queries/*.rq): read their comment headers and bind their parameters safely.

Each file opens with a comment header::

    # title: Findings reachable from a source
    # answers: Which clinical findings lie causally downstream of the source?
    # param: source iri default=mgkgid:hypomagnesemia  The node the causal chains start from.
    # returns: ?finding ?label

Parameters are bound as SPARQL substitutions (pyoxigraph's ``substitutions``, SEP-0007, the same
semantics as a VALUES clause on the whole query): a value is never pasted into the query text, so a
value cannot change what the query does. IRIs (given as IRIs or CURIEs) and literals are validated
before they are bound. A ``node`` parameter names a node of the graph as /why does (a label, a
synonym, a local id, an mgkg or standard CURIE such as HP:0002901, an IRI) and is bound to that node's
IRI, when the caller passes the graph's resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Final, Literal

import pyoxigraph as ox
from pydantic import BaseModel, ConfigDict, Field

from kg.errors import MgkgError
from kg.model.names import expand, unbracket
from kg.model.resources import queries_dir

ParameterKind = Literal["iri", "node", "string", "integer"]

Resolver = Callable[[str, str], str]
"""Maps (a name of a node, the parameter's name) to the node's IRI, or raises UnknownNodeError."""

_HEADER: Final = re.compile(r"^#\s*(title|answers|returns|param):\s*(.*)$")
_PARAM: Final = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s+(?P<kind>iri|node|string|integer)\s+(?P<need>required|optional|default=(?P<default>\S+))"
    r"\s*(?P<description>.*)$"
)
_IRI: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\x00-\x20\x7f-\x9f<>\"{}|\\^`]*$")
"""An absolute IRI: a scheme, then no space, control character or character IRIs exclude (RFC 3987)."""
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class NamedQueryError(MgkgError):
    """A named query is unknown, or a parameter value is missing or malformed."""


class UnknownQueryError(NamedQueryError):
    """No named query has the requested name; ``known`` lists the names that exist."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"There is no named query {name!r}. Known queries: {', '.join(known)}.")


class QueryParameter(BaseModel):
    """A parameter of a named query: the variable it binds, its kind, and its default if any."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The variable it binds (without '?').")
    kind: ParameterKind = Field(
        description="'iri' (an IRI or a CURIE), 'node' (a node by label, synonym, CURIE including standard "
        "ids, or IRI), 'string' or 'integer'."
    )
    required: bool
    default: str | None = Field(default=None, description="The value used when none is given.")
    description: str = ""


class NamedQuery(BaseModel):
    """A named query: its header and its text."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The file name without '.rq', e.g. 'findings-reachable'.")
    title: str
    description: str = Field(description="What the query answers.")
    returns: str = Field(default="", description="The variables of each answer row.")
    parameters: tuple[QueryParameter, ...] = ()
    text: str = Field(repr=False)


def parse_header(name: str, text: str) -> NamedQuery:
    """Read a query's comment header; a file without a title or with a malformed param line is an error.

    >>> q = parse_header("x", "# title: T\\n# answers: A\\n# param: s iri default=mgkgid:a  Start.\\nASK {}")
    >>> (q.title, q.parameters[0].name, q.parameters[0].default, q.parameters[0].required)
    ('T', 's', 'mgkgid:a', False)
    """
    fields: dict[str, str] = {}
    params: list[QueryParameter] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if match is None:
            if fields.get("_last") == "answers":  # continuation lines of a long 'answers'
                fields["answers"] += " " + line.lstrip("# ").strip()
            continue
        key, value = match.group(1), match.group(2).strip()
        fields["_last"] = key
        if key == "param":
            param = _PARAM.match(value)
            if param is None:
                raise NamedQueryError(
                    f"queries/{name}.rq: malformed param line {value!r}; see kg/sparql/named_queries.py"
                )
            params.append(
                QueryParameter(
                    name=param["name"],
                    kind=param["kind"],  # type: ignore[arg-type]  # the regex admits only the four kinds
                    required=param["need"] == "required",
                    default=param["default"],
                    description=param["description"].strip(),
                )
            )
        else:
            fields[key] = value
    if "title" not in fields:
        raise NamedQueryError(f"queries/{name}.rq has no '# title:' header line; add one")
    return NamedQuery(
        name=name,
        title=fields["title"],
        description=fields.get("answers", ""),
        returns=fields.get("returns", ""),
        parameters=tuple(params),
        text=text,
    )


@cache
def load_named_queries(directory: Path | None = None) -> dict[str, NamedQuery]:
    """Read every ``*.rq`` file of the folder (by default the shipped queries/), by name; cached."""
    folder = directory if directory is not None else queries_dir()
    return {
        path.stem: parse_header(path.stem, path.read_text("utf-8")) for path in sorted(folder.glob("*.rq"))
    }


def get_named_query(name: str, directory: Path | None = None) -> NamedQuery:
    """The named query called ``name``, or UnknownQueryError listing the known ones."""
    queries = load_named_queries(directory)
    if not _NAME.match(name) or name not in queries:
        raise UnknownQueryError(name, sorted(queries))
    return queries[name]


def _engine_accepts(iri: str) -> bool:
    """Whether the engine reads this as an IRI (RFC 3987: ports, fragments, %-escapes), as binding will.

    >>> _engine_accepts("https://w3id.org/mgkg/id/tetany"), _engine_accepts("urn:a]b")
    (True, False)
    >>> _engine_accepts("http://a#b#c")
    False
    """
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def to_iri(value: str) -> str:
    """Validate an IRI given as ``<iri>``, an absolute IRI or a CURIE, and return the IRI.

    >>> to_iri("mgkgid:hypocalcemia")
    'https://w3id.org/mgkg/id/hypocalcemia'
    >>> to_iri("<https://w3id.org/mgkg/id/tetany>")
    'https://w3id.org/mgkg/id/tetany'
    >>> to_iri("x> } ; DROP ALL #")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kg.sparql.named_queries.NamedQueryError: 'x> } ; DROP ALL #' is not an IRI or a known CURIE ...
    """
    iri = expand(unbracket(value))
    if iri is None or not _IRI.match(iri) or not _engine_accepts(iri):
        raise NamedQueryError(
            f"{value!r} is not an IRI or a known CURIE (e.g. mgkgid:hypocalcemia, HP:0002901, "
            "<https://w3id.org/mgkg/id/tetany>)"
        )
    return iri


def bind_parameters(
    query: NamedQuery, values: Mapping[str, str], resolve: Resolver | None = None
) -> dict[str, dict[str, str]]:
    """Turn request values into validated substitutions ({variable: term}) for the query's parameters.

    ``node`` parameters go through ``resolve`` (the graph's ``CausalNetwork.resolve``) when it is given,
    so that "hypocalcemia" or HP:0002901 binds mgkgid:hypocalcemia; without it they are read as IRIs.
    Unknown parameter names, missing required ones and malformed values are NamedQueryErrors; a node
    name the graph does not know is the resolver's UnknownNodeError (with the closest names).
    """
    known = {p.name: p for p in query.parameters}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise NamedQueryError(
            f"Query {query.name!r} has no parameter {', '.join(unknown)}; its parameters are: "
            f"{', '.join(known) or '(none)'}."
        )
    bound: dict[str, dict[str, str]] = {}
    for param in query.parameters:
        value = values.get(param.name, param.default)
        if value is None:
            if param.required:
                raise NamedQueryError(
                    f"Query {query.name!r} needs the parameter {param.name!r} ({param.kind}): "
                    f"{param.description}"
                )
            continue
        if param.kind == "node" and resolve is not None:
            bound[param.name] = {"type": "iri", "value": resolve(unbracket(value), param.name)}
        elif param.kind in ("iri", "node"):
            bound[param.name] = {"type": "iri", "value": to_iri(value)}
        elif param.kind == "integer":
            if not re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
                raise NamedQueryError(f"Parameter {param.name!r} must be an integer, not {value!r}")
            bound[param.name] = {
                "type": "literal",
                "value": str(int(value)),
                "datatype": "http://www.w3.org/2001/XMLSchema#integer",
            }
        else:
            bound[param.name] = {"type": "literal", "value": value}
    return bound
