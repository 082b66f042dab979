"""Export a picture graph (render.picture): DOT, SVG, PNG, GraphML, Cytoscape.js, Mermaid and node-link JSON.

The picture graph's nodes and edges carry only scalar attributes, so GraphML, Cytoscape.js JSON and
node-link JSON keep them as they are; DOT and Mermaid style nodes by their ``category`` and edges by their
``sign``; SVG and PNG are DOT drawn by Graphviz (kg.render.graphviz).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any, Final, Literal, get_args

import networkx as nx

from kg.render.graphviz import DEFAULT_RENDERER, Renderer, render

ExportFormat = Literal["dot", "svg", "png", "graphml", "cyjs", "mermaid", "nodelink"]
"""The formats a picture graph can be exported as."""

EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = get_args(ExportFormat)

MEDIA_TYPES: Final[dict[ExportFormat, str]] = {
    "dot": "text/vnd.graphviz",
    "svg": "image/svg+xml",
    "png": "image/png",
    "graphml": "application/graphml+xml",
    "cyjs": "application/vnd.cytoscape+json",
    "mermaid": "text/vnd.mermaid",
    "nodelink": "application/vnd.networkx.node-link+json",
}
"""The media type of each format, as served over HTTP."""

SUFFIXES: Final[dict[ExportFormat, str]] = {
    "dot": ".dot",
    "svg": ".svg",
    "png": ".png",
    "graphml": ".graphml",
    "cyjs": ".cyjs",
    "mermaid": ".mmd",
    "nodelink": ".json",
}
"""The file name suffix of each format."""

ALIASES: Final[dict[str, ExportFormat]] = {
    "gv": "dot",
    "cytoscape": "cyjs",
    "mmd": "mermaid",
    "node-link": "nodelink",
    "node_link": "nodelink",
}
"""Other names people give the export formats (``format=``, ``--format``)."""

# Graphviz attributes of each style group and each sign.
_NODE_STYLES: Final[dict[str, str]] = {
    "finding": 'shape=box, style="rounded,filled,bold", fillcolor="#fde2e1", color="#b42318"',
    "molecular entity": 'shape=ellipse, style=filled, fillcolor="#dbeafe", color="#1d4ed8"',
    "process": 'shape=box, style="rounded,filled", fillcolor="#dcfce7", color="#15803d"',
    "state": 'shape=box, style=filled, fillcolor="#fef3c7", color="#b45309"',
    "etiology": 'shape=hexagon, style=filled, fillcolor="#ede9fe", color="#6d28d9"',
    "intervention": 'shape=octagon, style=filled, fillcolor="#ccfbf1", color="#0f766e"',
}
_EDGE_STYLES: Final[dict[int, str]] = {
    1: 'color="#15803d", fontcolor="#15803d", arrowhead=normal',
    -1: 'color="#b91c1c", fontcolor="#b91c1c", arrowhead=tee',
}
_MERMAID_COLOURS: Final[dict[int, str]] = {1: "#15803d", -1: "#b91c1c"}
_MERMAID_FILLS: Final[dict[str, str]] = {
    "finding": "fill:#fde2e1,stroke:#b42318",
    "molecular entity": "fill:#dbeafe,stroke:#1d4ed8",
    "process": "fill:#dcfce7,stroke:#15803d",
    "state": "fill:#fef3c7,stroke:#b45309",
    "etiology": "fill:#ede9fe,stroke:#6d28d9",
    "intervention": "fill:#ccfbf1,stroke:#0f766e",
}


def _quote(text: str) -> str:
    r"""Quote a string for DOT.

    >>> _quote('say "hi"\nnow')
    '"say \\"hi\\"\\nnow"'
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _wrap(label: str, width: int = 18) -> str:
    """Break a long node label into lines at spaces, so that the left-to-right picture stays narrow.

    >>> _wrap("inappropriately low or normal PTH")
    'inappropriately\\nlow or normal PTH'
    """
    return "\n".join(textwrap.wrap(label, width=width, break_long_words=False)) or label


def _edge_label(data: dict[str, Any]) -> str:
    """An edge's visible label: its sign, and its context when it has one (citations are in the tooltip).

    Kept short so that the picture stays legible at the size a page shows it.

    >>> _edge_label({"symbol": "+", "severity": "severe", "conditions": ""})
    '+ [severe]'
    """
    context = ", ".join(part for part in (data["severity"], data["conditions"]) if part)
    return f"{data['symbol']} [{context}]" if context else str(data["symbol"])


def to_dot(graph: nx.MultiDiGraph) -> str:
    """DOT text of a picture graph: top to bottom, nodes styled by kind, edges by sign, ids for the web.

    Top to bottom because an explanation is a few long chains: drawn that way it fits a page at a
    legible size, where left to right made a strip too wide to read without zooming.

    Decreasing links are red with a flat (tee) arrowhead, increasing ones green with a normal arrow;
    context-dependent links are dashed; every edge lists its citations in its tooltip.
    """
    lines = [
        "digraph mgkg {",
        f"  graph [rankdir=TB, id=mgkg_graph, tooltip={_quote(graph.graph.get('title', 'mgkg'))}, "
        'fontname="Helvetica,Arial,sans-serif", nodesep=0.3, ranksep=0.35, bgcolor=white];',
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=13, margin="0.12,0.06"];',
        '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=11, penwidth=1.4];',
    ]
    for iri, data in graph.nodes(data=True):
        tooltip = f"{data['label']} ({data['kind']}; {data['curie']})"
        if data["xrefs"]:
            tooltip += f"\n{data['xrefs']}"
        extra = ", penwidth=2.5" if data["role"] in {"source", "finding", "focus"} else ""
        css_class = _quote(data["category"].replace(" ", "-"))
        label = _quote(_wrap(data["label"]))
        lines.append(
            f"  {_quote(iri)} [id={_quote(data['id'])}, class={css_class}, label={label}, "
            f"tooltip={_quote(tooltip)}, {_NODE_STYLES[data['category']]}{extra}];"
        )
    for u, v, data in graph.edges(data=True):
        style = ", style=dashed" if data["context_dependent"] else ""
        tooltip = f"{graph.nodes[u]['label']} {data['label']} {graph.nodes[v]['label']}"
        if data["citation_details"]:
            tooltip += f"\n{data['citation_details']}"
        lines.append(
            f"  {_quote(u)} -> {_quote(v)} [id={_quote(data['id'])}, label={_quote(_edge_label(data))}, "
            f"tooltip={_quote(tooltip)}, labeltooltip={_quote(tooltip)}, "
            f"{_EDGE_STYLES[data['sign']]}{style}];"
        )
    note = graph.graph.get("recommendations")
    if note:
        lines.append(
            f"  mgkg_recommendations [id=mgkg_recommendations, class=recommendations, shape=note, "
            f'style=filled, fillcolor="#fffbeb", color="#92400e", fontsize=10, '
            f"label={_note_label(str(note))}, tooltip={_quote(str(note))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _note_label(note: str, width: int = 60) -> str:
    r"""The note as a quoted DOT label: lines wrapped and left-aligned (Graphviz's ``\l`` line ends).

    >>> print(_note_label('Advice:\nGive "magnesium".'))
    "Advice:\lGive \"magnesium\".\l"
    """
    wrapped = [part for line in note.split("\n") for part in textwrap.wrap(line, width=width) or [""]]
    escaped = [part.replace("\\", "\\\\").replace('"', '\\"') for part in wrapped]
    return '"' + "".join(f"{part}\\l" for part in escaped) + '"'


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """GraphML text (Cytoscape desktop, yEd, Gephi) with every node and edge attribute kept."""
    return "\n".join(nx.generate_graphml(_plain(graph), named_key_ids=True)) + "\n"


def _plain(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy without graph-level attributes GraphML cannot hold (it keeps only scalar ones)."""
    copy = graph.copy()
    copy.graph = {k: v for k, v in graph.graph.items() if isinstance(v, str | int | float | bool)}
    return copy


def to_cytoscape(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Cytoscape.js JSON: ``{"elements": {"nodes": [{"data": ...}], "edges": [{"data": ...}]}}``.

    Node ``data.id`` is the node's safe id (``data.iri`` keeps the IRI); edges name them as
    ``source`` and ``target`` and carry every edge attribute, citations included.
    """
    base: dict[str, Any] = dict(nx.cytoscape_data(graph))
    ids = {iri: data["id"] for iri, data in graph.nodes(data=True)}
    for node in base["elements"]["nodes"]:
        node["data"]["name"] = node["data"]["label"]
        node["data"].pop("value", None)
        node["data"]["id"] = ids[node["data"]["iri"]]
    for edge in base["elements"]["edges"]:
        edge["data"]["source"] = ids[edge["data"]["source"]]
        edge["data"]["target"] = ids[edge["data"]["target"]]
        edge["data"].pop("key", None)
    return base


def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (quotes and brackets as entity codes).

    >>> _mermaid_text('the "block" <of> Mg')
    'the #quot;block#quot; #lt;of#gt; Mg'
    """
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("\n", " ")):
        text = text.replace(char, code)
    return text


def to_mermaid(graph: nx.MultiDiGraph) -> str:
    """Mermaid flowchart text (GitHub renders it in Markdown): one line per node, one arrow per step.

    Increasing links are `-->`, decreasing ones end in a cross (`--x`); context-dependent links are
    dotted (`-.->`, `-.-x`); each arrow is labelled with its effect and its citations.
    """
    lines = ["flowchart LR"]
    for _, data in graph.nodes(data=True):
        lines.append(f'  {data["id"]}["{_mermaid_text(data["label"])}"]')
    colours = []
    for index, (u, v, data) in enumerate(graph.edges(data=True)):
        head = ">" if data["sign"] > 0 else "x"
        arrow = f"-.-{head}" if data["context_dependent"] else f"--{head}"
        label = f"{data['symbol']} {data['label']}"
        if data["severity"]:
            label += f" [{data['severity']}]"
        if data["citations"]:
            label += f" ({data['citations']})"
        lines.append(f'  {graph.nodes[u]["id"]} {arrow}|"{_mermaid_text(label)}"| {graph.nodes[v]["id"]}')
        colour = _MERMAID_COLOURS[data["sign"]]
        colours.append(f"  linkStyle {index} stroke:{colour},color:{colour}")
    lines.extend(colours)
    groups: dict[str, list[str]] = {}
    for _, data in graph.nodes(data=True):
        groups.setdefault(data["category"], []).append(data["id"])
    for category, members in sorted(groups.items()):
        name = category.replace(" ", "_")
        lines.append(f"  classDef {name} {_MERMAID_FILLS[category]}")
        lines.append(f"  class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """networkx node-link JSON (``nodes`` and ``edges`` lists), readable by ``nx.node_link_graph``."""
    data: dict[str, Any] = dict(nx.node_link_data(graph, edges="edges"))
    return data


def export(graph: nx.MultiDiGraph, fmt: ExportFormat, renderer: Renderer = DEFAULT_RENDERER) -> bytes:
    """A picture graph in one format, as the bytes of a file (UTF-8 for the text formats).

    SVG and PNG need a Graphviz renderer (``renderer`` says which); without one
    kg.render.graphviz.RendererUnavailableError says how to install it.
    """
    if fmt == "dot":
        return to_dot(graph).encode("utf-8")
    if fmt in ("svg", "png"):
        return render(to_dot(graph), fmt, renderer)
    if fmt == "graphml":
        return to_graphml(graph).encode("utf-8")
    if fmt == "cyjs":
        return _json(to_cytoscape(graph))
    if fmt == "mermaid":
        return to_mermaid(graph).encode("utf-8")
    if fmt == "nodelink":
        return _json(to_node_link(graph))
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def parse_format(name: str, choices: Sequence[str] = EXPORT_FORMATS) -> ExportFormat:
    """Read a format name, accepting a few common aliases; ValueError lists the choices.

    >>> parse_format("cytoscape"), parse_format("MMD"), parse_format("json")
    ('cyjs', 'mermaid', 'nodelink')
    """
    aliases: dict[str, ExportFormat] = {**ALIASES, "json": "nodelink"}  # a file's JSON is node-link JSON
    fmt = export_format(aliases.get(name.strip().lower(), name.strip().lower()))
    if fmt is not None and fmt in choices:
        return fmt
    raise ValueError(f"unknown export format {name!r}; choose one of {', '.join(choices)}")


def export_format(name: str) -> ExportFormat | None:
    """The export format a name is exactly, or None (a route's own formats: json, text, turtle, ...).

    >>> export_format("dot"), export_format("json")
    ('dot', None)
    """
    for fmt in EXPORT_FORMATS:
        if fmt == name:
            return fmt
    return None
