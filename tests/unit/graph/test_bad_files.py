"""`mgkg load` and `mgkg validate` on bad files: one-line errors naming the file, nothing fetched."""

from __future__ import annotations

import gzip
import os
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from api.cli import app
from kg.errors import SourceSyntaxError
from kg.graph.files import check_jsonld_contexts
from tests.conftest import REPO

ROOT = REPO
COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
TRIPLE = "<http://example.org/s{}> <http://example.org/p> <http://example.org/o> .\n"
RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/"'


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it (none should be)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    recording = Listener()
    yield recording
    recording.close()


def plain_named_gz(folder: Path, _: str) -> Path:
    path = folder / "plain.ttl.gz"
    path.write_text(TRIPLE.format(0), encoding="utf-8")
    return path


def gzip_named_plain(folder: Path, _: str) -> Path:
    path = folder / "zipped.nt"
    path.write_bytes(gzip.compress(TRIPLE.format(0).encode()))
    return path


def truncated_gzip(folder: Path, _: str) -> Path:
    data = gzip.compress("".join(TRIPLE.format(i) for i in range(20_000)).encode())
    path = folder / "truncated.nt.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def trailing_garbage(folder: Path, _: str) -> Path:
    path = folder / "trailing.nt"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(TRIPLE.format(i) for i in range(100_000))
        out.write("this is not a triple\n")
    return path


def xml_with_doctype(path: Path, doctype: str, value: str) -> Path:
    """An RDF/XML file whose DOCTYPE declares ``doctype`` and whose one triple's object is ``value``."""
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [{doctype}]>\n'
        f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="http://example.org/s"><ex:p>{value}</ex:p>'
        "</rdf:Description></rdf:RDF>\n",
        encoding="utf-8",
    )
    return path


def entity_bomb(folder: Path, _: str) -> Path:
    levels = "".join(f' <!ENTITY l{n} "{f"&l{n - 1};" * 10}">\n' for n in range(1, 10))
    return xml_with_doctype(folder / "bomb.rdf", f'\n <!ENTITY l0 "lol">\n{levels}', "&l9;")


def external_entity(folder: Path, url: str) -> Path:
    return xml_with_doctype(folder / "external.rdf", f' <!ENTITY x SYSTEM "{url}xxe"> ', "&x;")


def external_dtd(folder: Path, url: str) -> Path:
    path = folder / "dtd.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "{url}dtd">\n<rdf:RDF {RDF_NS}/>\n',
        encoding="utf-8",
    )
    return path


def remote_context(folder: Path, url: str) -> Path:
    path = folder / "remote.jsonld"
    path.write_text(f'{{"@context": "{url}context.jsonld", "@id": "http://example.org/s", "p": "x"}}')
    return path


def deep_list(folder: Path, _: str) -> Path:
    path = folder / "deep.ttl"
    path.write_text(f"<http://example.org/s> <http://example.org/p> {'(' * 5000}{')' * 5000} .\n")
    return path


def deep_jsonld(folder: Path, _: str) -> Path:
    path = folder / "deep.jsonld"
    nested = '"http://example.org/p": {' * 5000 + '"@id": "http://example.org/o"' + "}" * 5000
    path.write_text('{"@id": "http://example.org/s", ' + nested + "}", encoding="utf-8")
    return path


BAD_FILES: dict[str, tuple[Callable[[Path, str], Path], str, int | None]] = {
    "plain file named .gz": (plain_named_gz, "not gzip data", None),
    "gzip named plain": (gzip_named_plain, "gzip data but its name", None),
    "truncated gzip": (truncated_gzip, "broken gzip data", None),
    "trailing garbage": (trailing_garbage, "syntax error", 100_001),
    "entity bomb": (entity_bomb, "entity expansion is refused", None),
    "external entity": (external_entity, "plain internal entities", None),
    "external DTD": (external_dtd, "external DTD", None),
    "remote JSON-LD context": (remote_context, "contexts are not fetched", None),
}


def counts(folder: Path) -> dict[str, int]:
    store = ox.Store.read_only(str(folder))
    return {str(s["g"].value): int(s["n"].value) for s in store.query(COUNT)}  # type: ignore[union-attr]


def error_line(output: str) -> str:
    """The single line of output that carries the error (the progress bar may print before it)."""
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("case", BAD_FILES)
def test_validate_refuses_a_bad_file_on_one_line(tmp_path: Path, listener: Listener, case: str) -> None:
    make, phrase, line = BAD_FILES[case]
    path = make(tmp_path, listener.url)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    message = error_line(result.output)
    assert phrase in message
    assert f"{path}:{line}:" in message if line is not None else f"{path}: " in message
    assert "Traceback" not in result.output
    assert listener.connections == 0


@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("case", BAD_FILES)
def test_load_refuses_a_bad_file_and_keeps_the_store(
    tmp_path: Path, listener: Listener, case: str, first: bool
) -> None:
    make, phrase, line = BAD_FILES[case]
    path = make(tmp_path, listener.url)
    store = tmp_path / "db"
    good = tmp_path / "good.nt"
    good.write_text(TRIPLE.format("good"), encoding="utf-8")
    runner = CliRunner()
    # first=False: the bad file goes into an empty target graph; True: into one that already holds a triple
    setup = runner.invoke(
        app, ["load", "--skip-mgkg", "--store", f"oxigraph:{store}", *([str(good)] * first)]
    )
    assert setup.exit_code == 0, setup.output
    before = counts(store)
    result = runner.invoke(app, ["load", "--skip-mgkg", "--store", f"oxigraph:{store}", str(path)])
    assert result.exit_code == 1, result.output
    message = error_line(result.output)
    assert phrase in message
    assert f"{path}:{line}:" in message if line is not None else f"{path}: " in message
    assert counts(store) == before
    assert listener.connections == 0


def test_deep_lists_are_loaded_or_refused_clearly(tmp_path: Path) -> None:
    path = deep_list(tmp_path, "")
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", "--skip-mgkg", "--store", f"oxigraph:{tmp_path / 'db'}", str(path)])
    assert loaded.exit_code == 0, loaded.output  # pyoxigraph reads lists iteratively
    assert counts(tmp_path / "db") == {"https://w3id.org/mgkg/graph/external": 2 * 5000 - 1}
    validated = runner.invoke(app, ["validate", str(path)])  # rdflib's parser recurses: a clear refusal
    assert validated.exit_code == 2, validated.output
    assert "nested too deeply" in error_line(validated.output)


def test_validate_reads_gzip_like_load(tmp_path: Path) -> None:
    facts = (ROOT / "tests" / "resources" / "load" / "good.ttl").read_bytes()
    path = tmp_path / "good.ttl.gz"
    path.write_bytes(gzip.compress(facts))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output


def test_ntriples_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.nt"
    path.write_text(TRIPLE.format(1) * 3 + "<http://example.org/s> <http://example.org/p> oops .\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4:" in error_line(result.output)


def test_plain_internal_entities_still_load(tmp_path: Path) -> None:
    """Ontology editors declare namespaces as entities: those stay allowed."""
    path = tmp_path / "editor.owl"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY ex "http://example.org/" >\n]>\n'
        f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="&ex;s"><ex:p rdf:resource="&ex;o"/>'
        "</rdf:Description></rdf:RDF>\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["load", "--skip-mgkg", "--store", f"oxigraph:{tmp_path / 'db'}", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert counts(tmp_path / "db") == {"https://w3id.org/mgkg/graph/external": 1}


def test_every_nested_context_is_checked_before_rdflib_reads() -> None:
    scoped = b'{"@context": {"p": {"@id": "http://x/p", "@context": "http://127.0.0.1:1/c"}}, "@id": "s"}'
    with pytest.raises(SourceSyntaxError, match="not fetched"):
        check_jsonld_contexts(Path("scoped.jsonld"), scoped)
    imported = b'[{"@context": {"@import": "ctx.jsonld"}}]'
    with pytest.raises(SourceSyntaxError, match="not fetched"):
        check_jsonld_contexts(Path("imported.jsonld"), imported)


def _limit_memory() -> None:
    limit = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


CRASHERS: dict[str, tuple[Callable[[Path, str], Path], str]] = {
    "entity bomb": (entity_bomb, "entity expansion is refused"),  # Oxigraph aborts on a 4.8 GB allocation
    "5,000-deep JSON-LD": (deep_jsonld, "deeper than 1000 levels"),  # pyoxigraph's parser overflows its stack
}


@pytest.mark.parametrize("case", CRASHERS)
@pytest.mark.parametrize("command", ["validate", "load"])
def test_files_that_crash_parsers_are_refused_in_a_limited_process(
    tmp_path: Path, command: str, case: str
) -> None:
    """A separate process under a 2 GiB address-space limit: a regression fails here, not the test run."""
    make, phrase = CRASHERS[case]
    path = make(tmp_path, "")
    store = ["--skip-mgkg", "--store", f"oxigraph:{tmp_path / 'db'}"] if command == "load" else []
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", command, *store, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"},
        check=False,
    )
    assert result.returncode in (1, 2), result.stderr
    assert phrase in error_line(result.stderr)
