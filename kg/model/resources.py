"""Locate the data files mgkg ships: the ontology, the facts and the named queries."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the kg package


def _data_dir(name: str) -> Path:
    """Find a top-level data folder in an installed wheel (kg/_data/NAME) or in a source checkout."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mgkg's {name}/ folder is missing from {_PACKAGE_DIR}; reinstall the package")


def ontology_dir() -> Path:
    """The folder of the OWL vocabulary and SHACL shapes."""
    return _data_dir("ontology")


def queries_dir() -> Path:
    """The folder of the named SPARQL queries (*.rq)."""
    return _data_dir("queries")


def facts_dir() -> Path:
    """The folder of the curated facts (Turtle)."""
    return _PACKAGE_DIR / "facts"


def ontology_file() -> Path:
    """The ontology (TBox) Turtle file."""
    return ontology_dir() / "mgkg.ttl"


def shapes_file() -> Path:
    """The SHACL shapes every release must pass."""
    return ontology_dir() / "shapes.ttl"


def default_sources() -> list[Path]:
    """The Turtle files that make up the shipped knowledge graph: the ontology, then the facts."""
    return [ontology_file(), *sorted(facts_dir().glob("*.ttl"))]
