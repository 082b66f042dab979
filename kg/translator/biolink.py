"""The Biolink mapping (ontology/biolink.ttl) read as data, and the rule that qualifies a causal link."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rdflib import Graph, Literal, Namespace, URIRef

from kg.model.resources import ontology_dir
from kg.model.vocab import MGKG

if TYPE_CHECKING:
    from bmt import Toolkit

log = logging.getLogger(__name__)

MGBL: Final = Namespace("https://w3id.org/mgkg/biolink#")
"""The mapping vocabulary of ontology/biolink.ttl."""
BIOLINK: Final = Namespace("https://w3id.org/biolink/vocab/")

UP: Final = "increased"
DOWN: Final = "decreased"


def mapping_file() -> Path:
    """The Turtle file that maps mgkg's kinds and links to Biolink."""
    return ontology_dir() / "biolink.ttl"


def _biolink_curie(iri: URIRef) -> str:
    return "biolink:" + str(iri).removeprefix(str(BIOLINK))


@dataclass(frozen=True)
class Kind:
    """How one mgkg node kind appears in Biolink: its category, its aspect and whether it is an occurrence."""

    category: str
    aspect: str | None
    occurrence: bool


@dataclass(frozen=True)
class Qualifier:
    """One Biolink qualifier of an edge (qualifier_type_id and qualifier_value, as TRAPI names them)."""

    type_id: str
    value: str


@dataclass(frozen=True)
class BiolinkMapping:
    """The mapping: kinds by mgkg class local name, the link predicates, directions, context qualifiers."""

    kinds: dict[str, Kind]
    predicate: str
    qualified_predicate: str
    occurrence_predicate: str
    directions: dict[int, str]
    context_qualifiers: dict[str, str]

    def kind(self, name: str) -> Kind:
        """The Biolink view of the mgkg kind ``name`` ('ClinicalFinding'); NamedThing for an unmapped one."""
        found = self.kinds.get(name)
        if found is None:
            log.debug("mgkg kind %s has no Biolink mapping; using biolink:NamedThing", name)
            return Kind("biolink:NamedThing", None, False)
        return found

    def categories(self) -> list[str]:
        """Every Biolink category the mapping uses, sorted."""
        return sorted({kind.category for kind in self.kinds.values()})

    def qualify(
        self, subject_kind: str, object_kind: str, sign: int, subject_direction: int = 1
    ) -> tuple[str, tuple[Qualifier, ...]]:
        """The predicate and qualifiers of a link with ``sign`` whose subject moves in ``subject_direction``.

        The object moves in ``subject_direction * sign``. A one-hop answer states a link as asserted
        (its cause going up, ``subject_direction`` 1); a path from hypomagnesemia states each link in the
        direction the path moves its subject, so "Mg-ATP increases adenylate cyclase activity" on the
        path reads "lower Mg-ATP decreases adenylate cyclase activity".

        >>> m = load_mapping()
        >>> m.qualify("ClinicalFinding", "ClinicalFinding", 1)
        ('biolink:causes', ())
        >>> p, q = m.qualify("ChemicalEntity", "BiologicalProcess", 1, -1)
        >>> p, [x.value for x in q]
        ('biolink:affects', ['abundance', 'decreased', 'decreased', 'biolink:causes'])
        """
        subject, obj = self.kind(subject_kind), self.kind(object_kind)
        object_direction = subject_direction * sign
        qualifiers: list[Qualifier] = []
        if subject.aspect is not None:
            qualifiers.append(Qualifier("biolink:subject_aspect_qualifier", subject.aspect))
        if subject.aspect is not None or subject_direction != 1:
            qualifiers.append(
                Qualifier("biolink:subject_direction_qualifier", self.directions[subject_direction])
            )
        if obj.aspect is not None:
            qualifiers.append(Qualifier("biolink:object_aspect_qualifier", obj.aspect))
        if obj.aspect is not None or not obj.occurrence or object_direction != 1:
            qualifiers.append(
                Qualifier("biolink:object_direction_qualifier", self.directions[object_direction])
            )
        if not qualifiers:
            return self.occurrence_predicate, ()
        qualifiers.append(Qualifier("biolink:qualified_predicate", self.qualified_predicate))
        return self.predicate, tuple(qualifiers)


@cache
def load_mapping(path: Path | None = None) -> BiolinkMapping:
    """Read the mapping file (by default ontology/biolink.ttl) once."""
    graph = Graph().parse(path or mapping_file(), format="turtle")
    kinds: dict[str, Kind] = {}
    for cls, category in graph.subject_objects(MGBL.category):
        aspect = graph.value(cls, MGBL.aspect)
        occurrence = graph.value(cls, MGBL.occurrence)
        name = str(cls).removeprefix(str(MGKG))
        kinds[name] = Kind(
            _biolink_curie(URIRef(str(category))),
            str(aspect) if aspect is not None else None,
            isinstance(occurrence, Literal) and bool(occurrence.toPython()),
        )

    def one(prop: URIRef) -> str:
        value = graph.value(MGKG.CausalLink, prop)
        if not isinstance(value, URIRef):
            raise ValueError(f"{path or mapping_file()}: mgkg:CausalLink needs one {prop}")
        return _biolink_curie(value)

    directions = {
        1: str(graph.value(MGKG.positiveEffect, MGBL.direction)),
        -1: str(graph.value(MGKG.negativeEffect, MGBL.direction)),
    }
    context = {str(p): _biolink_curie(URIRef(str(q))) for p, q in graph.subject_objects(MGBL.qualifier)}
    return BiolinkMapping(
        kinds=kinds,
        predicate=one(MGBL.predicate),
        qualified_predicate=one(MGBL.qualifiedPredicate),
        occurrence_predicate=one(MGBL.occurrencePredicate),
        directions=directions,
        context_qualifiers=context,
    )


def biolink_schema() -> Path:
    """The Biolink model YAML inside the installed ``biolink-model`` package (read offline)."""
    return Path(str(resources.files("biolink_model") / "schema" / "biolink_model.yaml"))


@cache
def toolkit() -> Toolkit:
    """A bmt Toolkit over the local Biolink schema, built once (about 2 s); it never fetches anything.

    bmt fetches the predicate map from GitHub unless given one; mgkg needs none, so it is given an empty one.
    """
    from bmt import Toolkit  # deferred: loading the Biolink model is slow and only Translator routes need it

    return Toolkit(str(biolink_schema()), predicate_map={"predicate mappings": []})


def biolink_version() -> str:
    """The Biolink model version of the installed ``biolink-model`` package."""
    version: str = toolkit().get_model_version()
    return version


def descendants(curie: str) -> frozenset[str]:
    """The Biolink element ``curie`` and every descendant (a query for it matches them all)."""
    found = toolkit().get_descendants(curie, formatted=True, reflexive=True)
    return frozenset(found) if found else frozenset({curie})
