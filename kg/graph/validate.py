"""SHACL validation of the asserted graph against ontology/shapes.ttl, with a report that names files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pyshacl
from pydantic import BaseModel, ConfigDict
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.graph.asserted import AssertedGraph, load_asserted, parse_file
from kg.model.resources import ontology_file, shapes_file
from kg.model.vocab import to_curie

ShaclLevel = Literal["Violation", "Warning", "Info"]
"""The SHACL severities, by their local names."""

_SEVERITIES: dict[URIRef, ShaclLevel] = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}

_W3C_PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "sh": str(SH),
}
"""W3C vocabularies the shapes talk about, which the OBO prefix map does not cover."""


class Violation(BaseModel):
    """One SHACL result: which node broke which rule, in which file, and what to do about it."""

    model_config = ConfigDict(frozen=True)

    focus_node: str
    """The node that broke the rule, as a CURIE (or an IRI / blank node id when no prefix covers it)."""
    path: str | None
    """The property the rule is about, as a CURIE; None for rules about the node as a whole."""
    message: str
    """What is wrong and what to add (the shape's sh:message)."""
    severity: ShaclLevel
    """Only "Violation" makes a graph fail; "Warning" and "Info" are reported and let through."""
    file: str
    """The file(s) the focus node is stated in."""


class ValidationReport(BaseModel):
    """The outcome of validating a graph: whether it conforms and every result found."""

    model_config = ConfigDict(frozen=True)

    conforms: bool
    """True when no result has severity "Violation" (warnings do not fail a release)."""
    violations: list[Violation]
    """Every result, violations and warnings alike, sorted by file, node and message."""

    @property
    def errors(self) -> list[Violation]:
        """Only the results that fail a release."""
        return [v for v in self.violations if v.severity == "Violation"]

    @property
    def warnings(self) -> list[Violation]:
        """The results that are reported but do not fail a release."""
        return [v for v in self.violations if v.severity != "Violation"]


def name_node(node: Node) -> str:
    """Name a node for a person: a CURIE where a prefix covers it, else the IRI or blank node id.

    >>> name_node(URIRef("https://w3id.org/mgkg/id/hypocalcemia"))
    'mgkgid:hypocalcemia'
    >>> name_node(URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    'rdfs:label'
    >>> name_node(URIRef("https://example.org/x"))
    'https://example.org/x'
    >>> name_node(BNode("b0"))
    '_:b0'
    """
    if isinstance(node, URIRef):
        iri = str(node)
        curie = to_curie(iri)
        if curie is not None:
            return curie
        for prefix, namespace in _W3C_PREFIXES.items():
            if iri.startswith(namespace):
                return f"{prefix}:{iri.removeprefix(namespace)}"
        return iri
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def _name_path(graphs: Sequence[Graph], path: Node | None) -> str | None:
    """Name a result path: a CURIE for a predicate, "a | b" for an alternative path.

    A complex path is a blank node; its description is looked up in each graph in turn (the report
    graph copies it, the shapes graph holds the original).
    """
    if path is None:
        return None
    if isinstance(path, BNode):
        for graph in graphs:
            alternatives = graph.value(path, SH.alternativePath)
            if alternatives is not None:
                return " | ".join(name_node(member) for member in Collection(graph, alternatives))
    return name_node(path)


def _message(report: Graph, result: Node) -> str:
    """The result's message: the shape's own sh:message, preferring English, else pySHACL's text."""
    messages = [m for m in report.objects(result, SH.resultMessage) if isinstance(m, RDFLiteral)]
    english = [m for m in messages if m.language in (None, "en")]
    chosen = english or messages
    return str(chosen[0]) if chosen else "(no message)"


def read_report(report: Graph, asserted: AssertedGraph, shapes: Graph) -> list[Violation]:
    """Turn pySHACL's report graph into Violations, each naming the file its focus node came from."""
    violations = []
    for result in report.subjects(predicate=SH.focusNode, unique=True):
        focus = report.value(result, SH.focusNode)
        if focus is None:
            continue
        severity_iri = report.value(result, SH.resultSeverity)
        severity = _SEVERITIES.get(URIRef(str(severity_iri)), "Violation")
        path = report.value(result, SH.resultPath)
        violations.append(
            Violation(
                focus_node=name_node(focus),
                path=_name_path((report, shapes), path),
                message=_message(report, result),
                severity=severity,
                file=asserted.origin_of(focus),
            )
        )
    return sorted(set(violations), key=lambda v: (v.file, v.focus_node, v.path or "", v.message))


def validate(asserted: AssertedGraph | None = None, *, shapes: Path | None = None) -> ValidationReport:
    """Validate the asserted graph (default: the shipped ontology and facts) against the SHACL shapes.

    Validation runs on the asserted triples without RDFS inference: sh:targetClass and sh:class already
    follow rdfs:subClassOf in the data graph (which holds the ontology), while RDFS domain and range
    inference would type the objects of mgkg:sourceDocument as source documents and so hide exactly the
    typing mistakes the shapes exist to catch. ontology/shapes.ttl says the same at its head.

    Raises SourceSyntaxError (file and line) when a data or shapes file cannot be parsed.
    """
    graph = asserted if asserted is not None else load_asserted()
    shapes_graph = parse_file(shapes if shapes is not None else shapes_file())
    _, report, _ = pyshacl.validate(
        graph.graph,
        shacl_graph=shapes_graph,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        allow_infos=True,
        advanced=False,
    )
    violations = read_report(report, graph, shapes_graph)
    return ValidationReport(
        conforms=not any(v.severity == "Violation" for v in violations),
        violations=violations,
    )


def load_for_validation(files: Sequence[Path]) -> AssertedGraph:
    """Load fact files together with the shipped ontology, so that subclass typing works on them.

    The ontology is added only if it is not already among the files.
    """
    ontology = ontology_file().resolve()
    paths = [Path(f) for f in files]
    if all(p.resolve() != ontology for p in paths):
        paths.insert(0, ontology)
    return load_asserted(paths)
