"""Export an explanation, a neighbourhood or the whole causal graph: DOT, SVG, PNG, GraphML, Cytoscape.js, ...

Every export goes through one picture graph: a ``networkx.MultiDiGraph`` whose nodes and edges carry
only scalar attributes (strings, numbers, booleans), so GraphML, Cytoscape.js JSON and node-link JSON
keep them as they are. Node attributes: ``id`` (safe for DOT, SVG, CSS and Mermaid), ``label``,
``curie``, ``iri``, ``kind`` (the mgkg class), ``category`` (the style group), ``xrefs``, ``role``.
Edge attributes: ``id``, ``label`` ('increases' / 'decreases'), ``symbol`` ('+' or a minus sign), ``sign``,
``polarity``, ``severity``, ``tissues``, ``conditions``, ``context_dependent``, ``citations``,
``citation_count``, ``citation_details``, ``mechanisms``, ``links``, ``evidence_types``,
``evidence_summary``, ``curator_inference``. One edge stands for one step: the links with the same
cause, effect and sign, merged as the path search merges them.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import networkx as nx

from kg.models import Citation, Context, Explanation, NodeRef, Severity
from kg.render import render

if TYPE_CHECKING:
    from kg.network import CausalNetwork

ExportFormat = Literal["dot", "svg", "png", "graphml", "cyjs", "mermaid", "nodelink"]
"""The formats a picture graph can be exported as."""

MINUS: Final = "\N{MINUS SIGN}"
"""The sign printed on decreasing links."""

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

CATEGORIES: Final[dict[str, str]] = {
    "ClinicalFinding": "finding",
    "LaboratoryMeasurement": "finding",
    "Disease": "finding",
    "State": "state",
    "BiologicalProcess": "process",
    "Etiology": "etiology",
    "Drug": "etiology",
    "GeneticDisorder": "etiology",
    "LossRoute": "etiology",
    "Intervention": "intervention",
}
"""The style group of each node kind; every other kind (entities) is a 'molecular entity'."""

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


def category_of(kind: str) -> str:
    """The style group of a node kind.

    >>> category_of("ClinicalFinding"), category_of("IonChannel"), category_of("Drug")
    ('finding', 'molecular entity', 'etiology')
    """
    return CATEGORIES.get(kind, "molecular entity")


def safe_id(prefix: str, text: str) -> str:
    """An identifier made of ASCII letters, digits and underscores, usable in DOT, SVG, CSS and Mermaid.

    >>> safe_id("n", "mgkgid:hypocalcemia")
    'n_mgkgid_hypocalcemia'
    >>> safe_id("n", "Mg-ATP (2+)")
    'n_Mg_ATP_2_'
    """
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]+', '_', text)}"


@dataclass
class _EdgeDraft:
    """The links of one step being gathered before they become one edge of the picture graph."""

    subject: str
    object: str
    sign: int
    contexts: list[Context] = field(default_factory=list)
    citations: dict[tuple[str, str], Citation] = field(default_factory=dict)
    mechanisms: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    evidence_types: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    curator_inference: bool = True

    def add(
        self,
        context: Context,
        citations: Iterable[Citation],
        mechanisms: Iterable[str],
        links: Iterable[str],
        evidence_types: Iterable[str],
        summary: str,
        curator_inference: bool,
    ) -> None:
        """Merge one more link (or step) into the edge."""
        self.contexts.append(context)
        for citation in citations:
            self.citations.setdefault((citation.identifier, citation.section or ""), citation)
        _extend_unique(self.mechanisms, mechanisms)
        _extend_unique(self.links, links)
        _extend_unique(self.evidence_types, evidence_types)
        if summary:
            _extend_unique(self.summaries, [summary])
        self.curator_inference = self.curator_inference and curator_inference


def _extend_unique(target: list[str], values: Iterable[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _add_node(graph: nx.MultiDiGraph, ref: NodeRef, role: str = "") -> None:
    if ref.iri in graph:
        if role:
            graph.nodes[ref.iri]["role"] = role
        return
    graph.add_node(
        ref.iri,
        id=safe_id("n", ref.curie),
        label=ref.label,
        curie=ref.curie,
        iri=ref.iri,
        kind=ref.kind,
        category=category_of(ref.kind),
        xrefs="; ".join(f"{x.curie} ({x.match.value})" for x in ref.xrefs),
        role=role,
    )


def _add_edges(graph: nx.MultiDiGraph, drafts: Iterable[_EdgeDraft]) -> None:
    for number, draft in enumerate(drafts, start=1):
        severities = sorted({c.severity for c in draft.contexts if c.severity is not None})
        tissues = sorted({t for c in draft.contexts for t in c.tissues})
        conditions = sorted({t for c in draft.contexts for t in c.conditions})
        citations = list(draft.citations.values())
        identifiers = list(dict.fromkeys(c.identifier for c in citations))
        graph.add_edge(
            draft.subject,
            draft.object,
            key=f"e{number}",
            id=f"e{number}",
            label="increases" if draft.sign > 0 else "decreases",
            symbol="+" if draft.sign > 0 else MINUS,
            sign=draft.sign,
            polarity="positive" if draft.sign > 0 else "negative",
            severity=", ".join(severities),
            tissues="; ".join(tissues),
            conditions="; ".join(conditions),
            context_dependent=bool(severities or conditions),
            citations="; ".join(identifiers),
            citation_count=len(identifiers),
            citation_details="\n".join(_describe_citation(c) for c in citations),
            mechanisms="; ".join(draft.mechanisms),
            links="; ".join(draft.links),
            evidence_types="; ".join(draft.evidence_types),
            evidence_summary=" ".join(draft.summaries),
            curator_inference=draft.curator_inference,
        )


def _describe_citation(citation: Citation) -> str:
    """A citation in one line: identifier, section and document.

    >>> _describe_citation(Citation(identifier="problem:1", section="Calcium", document="A review"))
    'problem:1 — Calcium — A review'
    """
    return " — ".join(part for part in (citation.identifier, citation.section, citation.document) if part)


def explanation_graph(explanation: Explanation) -> nx.MultiDiGraph:
    """The picture graph of an explanation: every step of every explaining path, each step once.

    The source and the finding are always nodes (so an explanation without paths still draws them);
    an edge lists the mechanisms of all the paths that go through it.
    """
    graph = nx.MultiDiGraph(title=explanation.question, source=explanation.source.iri)
    graph.graph["finding"] = explanation.finding.iri
    _add_node(graph, explanation.source, "source")
    _add_node(graph, explanation.finding, "finding")
    drafts: dict[tuple[str, str, int], _EdgeDraft] = {}
    for path in explanation.paths:
        mechanisms = [path.mechanism.label] if path.mechanism is not None else []
        for step in path.steps:
            _add_node(graph, step.subject)
            _add_node(graph, step.object)
            key = (step.subject.iri, step.object.iri, step.sign)
            draft = drafts.setdefault(key, _EdgeDraft(*key))
            draft.add(
                step.context,
                step.citations,
                mechanisms,
                (link.curie for link in step.links),
                step.evidence_types,
                step.evidence_summary,
                step.curator_inference,
            )
    _add_edges(graph, drafts.values())
    return graph


def network_graph(
    network: CausalNetwork,
    nodes: Iterable[str] | None = None,
    *,
    context: Severity | None = None,
    title: str = "The mgkg causal network",
) -> nx.MultiDiGraph:
    """The picture graph of the causal network, or of the part induced by ``nodes`` (IRIs).

    With a ``context``, links tagged with the other severity are left out (untagged links stay).
    """
    keep = set(network.graph) if nodes is None else set(nodes)
    graph = nx.MultiDiGraph(title=title)
    for iri in sorted(keep):
        _add_node(graph, network.node(iri))
    drafts: dict[tuple[str, str, int], _EdgeDraft] = {}
    for u, v, key in sorted(network.graph.edges(keys=True)):
        if u not in keep or v not in keep:
            continue
        link = network.link(u, v, key)
        if context is not None and link.context.severity not in (None, context):
            continue
        draft = drafts.setdefault((u, v, link.sign), _EdgeDraft(u, v, link.sign))
        draft.add(
            link.context,
            link.citations,
            (m.label for m in link.mechanisms),
            [link.ref.curie],
            link.evidence_types,
            link.summary,
            link.evidence_types == ("ECO:0000305",),
        )
    _add_edges(graph, drafts.values())
    return graph


def neighbourhood_graph(
    network: CausalNetwork, iri: str, radius: int = 1, *, context: Severity | None = None
) -> nx.MultiDiGraph:
    """The picture graph of the nodes within ``radius`` links of a node, in either direction."""
    if radius < 0:
        raise ValueError(f"radius must be 0 or more, not {radius}")
    nodes = nx.ego_graph(network.graph, iri, radius=radius, undirected=True).nodes
    label = network.node(iri).label
    graph = network_graph(network, nodes, context=context, title=f"Within {radius} links of {label}")
    graph.nodes[iri]["role"] = "focus"
    return graph


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
    """An edge's visible label: the sign and effect, the context, and its citations in short."""
    lines = [f"{data['symbol']} {data['label']}"]
    context = ", ".join(part for part in (data["severity"], data["conditions"]) if part)
    if context:
        lines.append(f"[{context}]")
    identifiers = [c for c in data["citations"].split("; ") if c]
    if identifiers:
        more = f" +{len(identifiers) - 1}" if len(identifiers) > 1 else ""
        lines.append(f"{identifiers[0]}{more}")
    return "\n".join(lines)


def to_dot(graph: nx.MultiDiGraph) -> str:
    """DOT text of a picture graph: left to right, nodes styled by kind, edges by sign, ids for the web.

    Decreasing links are red with a flat (tee) arrowhead, increasing ones green with a normal arrow;
    context-dependent links are dashed; every edge names its first citation and lists all of them in
    its tooltip.
    """
    lines = [
        "digraph mgkg {",
        f"  graph [rankdir=LR, id=mgkg_graph, tooltip={_quote(graph.graph.get('title', 'mgkg'))}, "
        'fontname="Helvetica,Arial,sans-serif", nodesep=0.25, ranksep=0.4, bgcolor=white];',
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11, margin="0.12,0.06"];',
        '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, penwidth=1.4];',
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
    lines.append("}")
    return "\n".join(lines) + "\n"


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


def export(graph: nx.MultiDiGraph, fmt: ExportFormat) -> bytes:
    """A picture graph in one format, as the bytes of a file (UTF-8 for the text formats).

    SVG and PNG need a Graphviz renderer; without one kg.render.RendererUnavailableError says how
    to install it.
    """
    if fmt == "dot":
        return to_dot(graph).encode("utf-8")
    if fmt in ("svg", "png"):
        return render(to_dot(graph), fmt)
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
    aliases = {
        "gv": "dot",
        "cytoscape": "cyjs",
        "mmd": "mermaid",
        "json": "nodelink",
        "node-link": "nodelink",
    }
    value = aliases.get(name.strip().lower(), name.strip().lower())
    for fmt in EXPORT_FORMATS:
        if fmt == value and fmt in choices:
            return fmt
    raise ValueError(f"unknown export format {name!r}; choose one of {', '.join(choices)}")
