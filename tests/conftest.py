"""Shared fixtures: paths to test resources, found relative to this file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture
def resources() -> Path:
    """The folder of small fixture graphs."""
    return RESOURCES


@pytest.fixture(scope="session")
def knowledge_graph(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    """The shipped knowledge graph, loaded (and reasoned over) once per session, with a private cache."""
    from kg.graph import load_knowledge_graph

    return load_knowledge_graph(cache_dir=tmp_path_factory.mktemp("mgkg-cache"))
