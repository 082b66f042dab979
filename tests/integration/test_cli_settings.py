"""One Settings per command: a flag given beats its MGKG_* variable, which beats the default."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from api.cli import app
from api.config import Settings

Serve = Callable[..., Settings]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Run `mgkg serve ARGS` with ENV, not serving: the Settings its server would build apps with."""
    for name in [name for name in os.environ if name.startswith("MGKG_")]:
        monkeypatch.delenv(name)
    served: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, *args: object) -> None:
        served.append(server.config)
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)

    def invoke(*args: str, **env: str) -> Settings:
        served.clear()
        before = dict(os.environ)
        done = CliRunner().invoke(app, ["serve", *args], env=env)
        assert done.exit_code == 0, done.output
        assert dict(os.environ) == before
        (config,) = served
        assert isinstance(config.app, functools.partial)
        (settings,) = config.app.args
        assert isinstance(settings, Settings)
        assert (config.host, config.port, config.workers) == (settings.host, settings.port, settings.workers)
        return settings

    return invoke


def test_a_flag_beats_the_variable_which_beats_the_default(serve: Serve, tmp_path: Path) -> None:
    default = serve()
    assert (default.port, default.store, default.sparql_workers, default.cache_dir) == (
        8000,
        "memory",
        2,
        None,
    )
    from_env = serve(
        MGKG_PORT="9001", MGKG_SPARQL_WORKERS="3", MGKG_CACHE_DIR=str(tmp_path / "env"), MGKG_HOST="0.0.0.0"
    )
    assert (from_env.port, from_env.sparql_workers, from_env.cache_dir) == (9001, 3, tmp_path / "env")
    assert from_env.host == "0.0.0.0"
    from_flags = serve(
        "--port",
        "9002",
        "--sparql-workers",
        "1",
        "--cache-dir",
        str(tmp_path / "flag"),
        MGKG_PORT="9001",
        MGKG_SPARQL_WORKERS="3",
        MGKG_CACHE_DIR=str(tmp_path / "env"),
        MGKG_SPARQL_TIMEOUT_S="7",
    )
    assert (from_flags.port, from_flags.sparql_workers, from_flags.cache_dir) == (9002, 1, tmp_path / "flag")
    assert from_flags.sparql_timeout_s == 7.0  # a variable no flag overrides still counts
    assert from_flags.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--store", "disk"], {}, "MGKG_STORE"),
        ([], {"MGKG_STORE": "disk"}, "MGKG_STORE"),
        ([], {"MGKG_PORT": "eighty"}, "MGKG_PORT"),
        ([], {"MGKG_SPARQL_TIMEOUT_S": "-1"}, "MGKG_SPARQL_TIMEOUT_S"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], named: str
) -> None:
    monkeypatch.setattr(uvicorn.Server, "run", lambda *_: pytest.fail("must not serve"))
    done = CliRunner().invoke(app, ["serve", *args], env=env)
    assert done.exit_code == 2
    assert named in done.output
    assert "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_export_takes_its_renderer_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` by name
    monkeypatch.setenv("MGKG_RENDERER", "dot")
    missing = CliRunner().invoke(app, ["export", "--finding", "hypocalcemia", "-f", "svg"])
    assert missing.exit_code == 3
    bad = CliRunner().invoke(app, ["export", "--all", "-f", "svg"], env={"MGKG_RENDERER": "gpu"})
    assert bad.exit_code == 2
    assert "MGKG_RENDERER" in bad.output
