"""Namespaces, graph names, the CURIE converter and the causal predicates with their signs."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import Final

import curies
from prefixmaps import load_context
from rdflib import Namespace, URIRef

VERSION: Final = version("mgkg")
"""The package and ontology version, read from the installed metadata (written once, in pyproject.toml).

The ontology's versionIRI is stamped with it."""

MGKG: Final = Namespace("https://w3id.org/mgkg/vocab#")
"""The ontology's terms (classes and properties)."""

MGKGID: Final = Namespace("https://w3id.org/mgkg/id/")
"""The knowledge graph's individuals: nodes, links, citations, mechanisms."""

OBO: Final = Namespace("http://purl.obolibrary.org/obo/")
SKOS: Final = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS: Final = Namespace("http://purl.org/dc/terms/")

ONTOLOGY_IRI: Final = URIRef("https://w3id.org/mgkg/ontology")
ASSERTED_GRAPH: Final = URIRef("https://w3id.org/mgkg/graph/asserted")
"""Named graph holding the ontology and the curated facts, exactly as written."""
INFERRED_GRAPH: Final = URIRef("https://w3id.org/mgkg/graph/inferred")
"""Named graph holding only what OWL 2 RL reasoning adds to the asserted graph."""

ECO_AUTHOR_STATEMENT: Final = OBO["ECO_0000304"]
"""Evidence type of a claim a source states (traceable author statement, manual)."""
ECO_CURATOR_INFERENCE: Final = OBO["ECO_0000305"]
"""Evidence type of a link the curators added themselves (curator inference, manual)."""

EFFECT_SIGNS: Final[dict[URIRef, int]] = {MGKG.positiveEffect: +1, MGKG.negativeEffect: -1}
"""The signed effect properties of a causal link and the sign each carries."""

DERIVED_PREDICATES: Final[tuple[URIRef, ...]] = (
    MGKG.causes,
    MGKG.increases,
    MGKG.decreases,
    MGKG.causallyUpstreamOf,
    OBO["RO_0002411"],
    OBO["RO_0002304"],
    OBO["RO_0002305"],
)
"""The plain causal relations that reasoning derives from the links."""

_LOCAL_PREFIXES: Final[dict[str, str]] = {
    "mgkg": str(MGKG),
    "mgkgid": str(MGKGID),
    # identifiers.org forms as shared/reference/README.md prescribes
    "HGNC": "https://identifiers.org/hgnc:",
    "UniProtKB": "https://identifiers.org/uniprot:",
    "biolink": "https://w3id.org/biolink/vocab/",
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@cache
def get_converter() -> curies.Converter:
    """Return the CURIE converter: mgkg's own prefixes, then the maintained OBO prefix map.

    >>> get_converter().compress("http://purl.obolibrary.org/obo/HP_0002901")
    'HP:0002901'
    >>> get_converter().expand("mgkgid:hypocalcemia")
    'https://w3id.org/mgkg/id/hypocalcemia'
    >>> get_converter().compress("https://identifiers.org/hgnc:6255")
    'HGNC:6255'
    """
    local = curies.Converter.from_prefix_map(_LOCAL_PREFIXES)
    return curies.chain([local, load_context("obo").as_converter()])


def to_curie(iri: str) -> str | None:
    """Compress an IRI to a CURIE, or return None when no prefix covers it.

    >>> to_curie("http://purl.obolibrary.org/obo/CHEBI_30617")
    'CHEBI:30617'
    >>> to_curie("https://example.org/x") is None
    True
    """
    return get_converter().compress(iri)


def curie_or_iri(iri: str) -> str:
    """The CURIE of an IRI, or the IRI itself when no prefix covers it (how answers name a thing).

    >>> curie_or_iri("http://purl.obolibrary.org/obo/CHEBI_30617"), curie_or_iri("https://example.org/x")
    ('CHEBI:30617', 'https://example.org/x')
    """
    return to_curie(iri) or iri


def from_curie(curie: str) -> str | None:
    """Expand a CURIE to an IRI, or return None when its prefix is unknown.

    >>> from_curie("GO:0004016")
    'http://purl.obolibrary.org/obo/GO_0004016'
    """
    return get_converter().expand(curie)
