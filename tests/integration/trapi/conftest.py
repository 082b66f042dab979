"""The fixtures of the TRAPI tests: the app on its default settings, and the offline TRAPI validator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from tests.integration.trapi.trapi_offline import Validate, offline_validation


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The app on its default settings (the memory store), lifespan entered, once per test module: TRAPI
    answers do not depend on the store kind, so these tests do not run on every backend."""
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def validate() -> Iterator[Validate]:
    """Validate a TRAPI Response offline; returns the validator's messages by level."""
    with offline_validation() as check:
        yield check
