"""The per-process state (api/state.py): its type hints resolve, and the answer caches remember answers."""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from api.state import STATE_KEY, ServiceState


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(cache_dir=tmp_path_factory.mktemp("mgkg-cache"), why_cache_size=2)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_service_state_type_hints_resolve_and_match_what_the_lifespan_built(client: TestClient) -> None:
    hints = typing.get_type_hints(ServiceState)
    fields = [field.name for field in dataclasses.fields(ServiceState)]
    assert sorted(hints) == sorted(fields)
    state = client.app_state[STATE_KEY]
    assert isinstance(state, ServiceState)
    for name in fields:
        hint = hints[name]
        expected = typing.get_origin(hint) or hint
        if typing.Protocol in getattr(expected, "__mro__", ()):  # a protocol: checked by mypy, not here
            continue
        assert isinstance(getattr(state, name), expected), name


def _cache_decisions(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage().split(":")[0] for r in caplog.records if r.name == "api.state"]


def test_why_answers_are_cached_least_recently_used_first(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="api.state")
    first = client.get("/why", params={"finding": "tetany"})
    again = client.get("/why", params={"finding": "tetany"})
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert _cache_decisions(caplog) == ["why cache miss", "why cache hit"]
    caplog.clear()
    for finding in ("hypocalcemia", "hypokalemia", "tetany"):  # two newer answers push tetany out (size 2)
        assert client.get("/why", params={"finding": finding}).status_code == 200
    assert _cache_decisions(caplog) == ["why cache miss"] * 3


def test_unknown_names_are_not_cached(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="api.state")
    for _ in range(2):
        assert client.get("/why", params={"finding": "hypocalcemio"}).status_code == 404
    assert _cache_decisions(caplog) == ["why cache miss"] * 2


def test_causes_answers_are_cached(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="api.state")
    params = {"finding": "high urinary magnesium"}
    first, again = client.get("/causes", params=params), client.get("/causes", params=params)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert _cache_decisions(caplog) == ["causes cache miss", "causes cache hit"]


def test_a_cache_of_size_zero_remembers_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="api.state")
    with TestClient(create_app(Settings(cache_dir=tmp_path, why_cache_size=0))) as fresh:
        answers = [fresh.get("/why", params={"finding": "tetany"}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert "why cache hit" not in _cache_decisions(caplog)
