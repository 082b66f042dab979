"""`mgkg serve --workers 2`: every uvicorn worker process gets the settings given as flags only."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import MgkgStarter


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _started_workers(log: Path, count: int) -> list[int]:
    """The pids of the uvicorn worker processes, once ``count`` of them have finished their start-up."""
    deadline = time.monotonic() + 180
    while True:
        text = log.read_text(errors="replace")
        if text.count("Application startup complete.") >= count:
            pids = [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", text)]
            return [pid for pid in pids if Path(f"/proc/{pid}").exists()]
        if time.monotonic() > deadline:
            pytest.fail(f"the workers did not start:\n{text[-3000:]}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_two_workers_honour_a_setting_given_only_as_a_flag(
    tmp_path: Path, serve_mgkg: MgkgStarter, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("MGKG_")]:
        monkeypatch.delenv(name)
    log = tmp_path / "server.log"
    flags = ["--workers", "2", "--sparql-workers", "1", "--cache-dir", str(tmp_path / "cache")]
    with serve_mgkg(*flags, log=log, log_level="info") as base:
        workers = _started_workers(log, 2)
        assert len(workers) == 2
        # each uvicorn worker built its own SPARQL pool with the flag's size (the default is 2)
        assert [len(_children(pid)) for pid in workers] == [1, 1]
        for _ in range(8):  # new connections, answered by either worker
            with httpx.Client(base_url=base, trust_env=False) as client:
                assert client.get("/health").json()["sparql_workers"] == 1
        assert any(path.name.startswith("inferred-") for path in (tmp_path / "cache").iterdir())
