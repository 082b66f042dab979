"""The one resolver of node names: labels, synonyms, local ids, CURIEs, IRIs and standard xrefs to IRIs."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from rdflib import Graph, URIRef

from kg.errors import UnknownNodeError
from kg.model.vocab import MGKGID, SKOS, curie_or_iri, from_curie

logger = logging.getLogger(__name__)

_ABSOLUTE = ("http://", "https://", "urn:")


class Via(IntEnum):
    """The kind of name a node was found by, best first (a lower value wins when names collide)."""

    IDENTIFIER = 0
    """Its IRI, its CURIE or its local id."""
    LABEL = 1
    SYNONYM = 2
    """A skos:altLabel."""
    EXACT_XREF = 3
    """A standard identifier it maps to by skos:exactMatch (as IRI or CURIE), e.g. HP:0002901."""
    CLOSE_XREF = 4
    """A standard identifier it maps to by skos:closeMatch."""
    LOOSE_XREF = 5
    """A standard identifier it maps to by skos:broadMatch, narrowMatch or relatedMatch."""


_WORDS = {
    Via.SYNONYM: "a synonym (skos:altLabel)",
    Via.EXACT_XREF: "a standard id it exactly matches (skos:exactMatch)",
    Via.CLOSE_XREF: "a standard id it closely matches (skos:closeMatch)",
    Via.LOOSE_XREF: "a standard id it loosely matches (skos:broadMatch, narrowMatch or relatedMatch)",
}


@dataclass(frozen=True)
class Resolution:
    """The node a name means and the kind of name that found it."""

    iri: str
    via: Via


_XREFS = (
    (SKOS.exactMatch, Via.EXACT_XREF),
    (SKOS.closeMatch, Via.CLOSE_XREF),
    (SKOS.broadMatch, Via.LOOSE_XREF),
    (SKOS.narrowMatch, Via.LOOSE_XREF),
    (SKOS.relatedMatch, Via.LOOSE_XREF),
)


def normalize(name: str) -> str:
    """Normalize a name for lookup: case-folded, single spaces, without the angle brackets of ``<iri>``.

    >>> normalize("  Low   Calcium ")
    'low calcium'
    >>> normalize("<https://w3id.org/mgkg/id/Tetany>")
    'https://w3id.org/mgkg/id/tetany'
    """
    return " ".join(unbracket(name).split()).casefold()


def unbracket(text: str) -> str:
    """A name without surrounding blanks, and an IRI without the angle brackets SPARQL and Turtle write.

    >>> unbracket(" <https://w3id.org/mgkg/id/tetany> "), unbracket("tetany")
    ('https://w3id.org/mgkg/id/tetany', 'tetany')
    """
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1].strip()
    return text


def expand(identifier: str) -> str | None:
    """The IRI an identifier spells (an absolute IRI, ``<iri>`` or a known CURIE), else None.

    >>> expand("HP:0002901")
    'http://purl.obolibrary.org/obo/HP_0002901'
    >>> expand("<https://w3id.org/mgkg/id/tetany>")
    'https://w3id.org/mgkg/id/tetany'
    >>> expand("tetany") is None, expand("nosuchprefix:x") is None
    (True, True)
    """
    text = unbracket(identifier)
    if text.startswith(_ABSOLUTE):
        return text
    if ":" not in text:
        return None
    try:
        return from_curie(text)
    except ValueError:  # curies raises for strings that are not CURIEs at all
        return None


def expand_id(identifier: str) -> str:
    """An id as routes take it (IRI, CURIE or bare mgkg local id) as an IRI, for lookups by identifier.

    >>> expand_id("link-camp-pth-secretion")
    'https://w3id.org/mgkg/id/link-camp-pth-secretion'
    >>> expand_id("mgkgid:tetany")
    'https://w3id.org/mgkg/id/tetany'
    """
    text = identifier.strip()
    return expand(text) or (text if ":" in text else str(MGKGID[text]))


class NameIndex:
    """Every name of every node, mapped to the nodes it names and how (:class:`Via`), built once.

    A node is named by its IRI, its CURIE, its mgkg local id, its label, its synonyms (skos:altLabel)
    and the standard identifiers it maps to (skos:exactMatch, closeMatch, then the looser broad,
    narrow and related matches; as IRIs and CURIEs), case-insensitively; a name that fits several
    nodes means those it fits by the best kind of name. Picking one of those, and which nodes
    suggestions may name, is the caller's policy (``prefer`` and ``keep``), so that every door of the
    service resolves alike.
    """

    def __init__(self, names: Mapping[str, Mapping[str, Via]], labels: Mapping[str, str]) -> None:
        self._names = names
        self._labels = labels

    @classmethod
    def build(cls, graph: Graph, labels: Mapping[str, str]) -> NameIndex:
        """Index the names ``graph`` gives each node of ``labels`` (node IRI -> its display label)."""
        index: dict[str, dict[str, Via]] = {}

        def add(name: str, iri: str, via: Via) -> None:
            entry = index.setdefault(normalize(name), {})
            entry[iri] = min(via, entry.get(iri, via))

        for iri, label in labels.items():
            subject = URIRef(iri)
            for name in (iri, curie_or_iri(iri), iri.removeprefix(str(MGKGID))):
                add(name, iri, Via.IDENTIFIER)
            add(label, iri, Via.LABEL)
            for alt in graph.objects(subject, SKOS.altLabel):
                add(str(alt), iri, Via.SYNONYM)
            for prop, via in _XREFS:
                for xref in graph.objects(subject, prop):
                    add(str(xref), iri, via)
                    add(curie_or_iri(str(xref)), iri, via)
        return cls(index, dict(labels))

    def resolve(
        self, name: str, kind: str, prefer: Callable[[str], Any], keep: Callable[[str], bool] | None = None
    ) -> Resolution:
        """The node ``name`` means: among the nodes it names by the best kind of name, the least by
        ``prefer``. Raises UnknownNodeError (with :meth:`suggest`'s names of nodes ``keep`` accepts)
        when it names none."""
        candidates = self._names.get(normalize(name))
        if not candidates:
            logger.debug("no %s is named %r", kind, name)
            raise UnknownNodeError(name, self.suggest(name, prefer, keep), kind)
        best = min(candidates.values())
        iri = min((iri for iri, via in candidates.items() if via == best), key=prefer)
        if best > Via.LABEL:
            logger.debug("%s %r resolved through %s to %s", kind, name, _WORDS[best], iri)
        return Resolution(iri, best)

    def suggest(
        self,
        name: str,
        prefer: Callable[[str], Any],
        keep: Callable[[str], bool] | None = None,
        limit: int = 5,
    ) -> list[str]:
        """Labels of the nodes whose names are closest to ``name`` (only nodes ``keep`` accepts)."""
        keys = [k for k, iris in self._names.items() if keep is None or any(keep(iri) for iri in iris)]
        labels: list[str] = []
        for key in difflib.get_close_matches(normalize(name), keys, n=limit * 3, cutoff=0.6):
            iris = [iri for iri in self._names[key] if keep is None or keep(iri)]
            label = self._labels[min(iris, key=prefer)]
            if label not in labels:
                labels.append(label)
        return labels[:limit]
