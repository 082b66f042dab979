"""Shared fixtures: paths to test resources, found relative to this file."""

from __future__ import annotations

from pathlib import Path

import pytest

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture
def resources() -> Path:
    """The folder of small fixture graphs."""
    return RESOURCES
