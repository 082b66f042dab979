"""The guard's parser processes: rdflib's SPARQL parse, bounded in time, off the server process.

rdflib's parser is pure Python and can take seconds on a long expression (a 12 kB ``BIND(1+1+...)``
costs about 6 s), holding the GIL of whatever process runs it. So the service never runs it in its
own process: :func:`guard_query` normalises and screens a text (microseconds, in the caller), and only
a text the screen cannot pass, whose verdict is not cached, goes to one of a few parser processes
(``python -m kg.sparql.parsers``), with the query time limit. Past the limit the process is killed
(the only way to stop a parse) and replaced; a process that dies reading a text (a stack overflow)
means the guard could not read it, a 400. Frames on the pipes are a 4-byte length and ``marshal``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import marshal
import struct
import subprocess
import sys
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import IO, Any, Final

from kg.sparql.errors import EngineFailureError, QueryTimeoutError, SparqlError, SparqlSyntaxError
from kg.sparql.guard import (
    DATASET_GRAPHS,
    CheckedQuery,
    Verdict,
    diagnose,
    from_verdict,
    read_verdict,
    recall,
    remember,
    start_check,
)

_HEAD: Final = struct.Struct("!I")
_READY: Final = ("ready",)
"""The first frame a parser process writes, once rdflib's parser is imported."""


def _write_frame(stream: IO[bytes], value: Any) -> None:
    data = marshal.dumps(value)
    stream.write(_HEAD.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> object:
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise EOFError("the parser process closed its pipe")
    (size,) = _HEAD.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the parser process closed its pipe")
    return marshal.loads(data)


@dataclass(eq=False)
class _Parser:
    """One parser process; ``exchange`` (blocking: run it in a thread) sends a text, reads the verdict."""

    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> _Parser:
        """Start a parser process and wait (blocking) until it has imported the parser and says so."""
        process = subprocess.Popen(
            [sys.executable, "-m", "kg.sparql.parsers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        parser = cls(process)
        assert process.stdout is not None
        try:
            ready = _read_frame(process.stdout)
        except EOFError:
            ready = None
        if ready != _READY:
            parser.kill()
            raise EngineFailureError(f"a guard parser process failed to start (exit {process.returncode})")
        return parser

    def exchange(self, text: str) -> Verdict:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        _write_frame(self.process.stdin, text)
        verdict = _read_frame(self.process.stdout)
        assert isinstance(verdict, tuple)
        return verdict

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@dataclass
class ParserPool:
    """Up to ``size`` parser processes, started when first needed and kept for the next texts."""

    size: int = 2
    _idle: list[_Parser] = field(default_factory=list)
    _slots: asyncio.Semaphore | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a new event loop (a new app, a test)
            self._slots, self._loop = asyncio.Semaphore(self.size), loop
        return self._slots

    async def read(self, text: str, timeout_s: float) -> Verdict:
        """rdflib's verdict on a normalised text: waiting for a free parser and the parse itself may each
        take up to ``timeout_s`` (a parser's start-up, once, is not counted)."""
        slots = self._semaphore()
        try:
            async with asyncio.timeout(timeout_s):
                await slots.acquire()
        except TimeoutError:
            raise QueryTimeoutError(
                f"Every guard parser stayed busy for {timeout_s:g} s. Retry shortly, or simplify the query."
            ) from None
        try:
            parser = self._idle.pop() if self._idle else await asyncio.to_thread(_Parser.start)
            try:
                async with asyncio.timeout(timeout_s):
                    verdict = await asyncio.to_thread(parser.exchange, text)
            except BaseException:
                await asyncio.to_thread(parser.kill)
                raise
            self._idle.append(parser)
            return verdict
        except TimeoutError:
            raise QueryTimeoutError(
                f"The guard could not read this query within the {timeout_s:g} s time limit (its parser is "
                "slow on very long expressions). Shorten the query, or split long expressions."
            ) from None
        except (EOFError, OSError):  # the process died reading it (a stack overflow, say)
            return ("unreadable", "its parser process died reading it")
        finally:
            slots.release()

    def close(self) -> None:
        """Stop every idle parser process."""
        while self._idle:
            self._idle.pop().kill()


PARSERS: Final = ParserPool()
atexit.register(PARSERS.close)


async def guard_query(
    text: str,
    graphs: Set[str] | None = DATASET_GRAPHS,
    *,
    timeout_s: float = 10.0,
    default_graphs: Iterable[str] = (),
    named_graphs: Iterable[str] = (),
) -> CheckedQuery:
    """The guard (:func:`kg.sparql.guard.check_query`) with rdflib's parse, when one is needed, in a
    parser process bounded by ``timeout_s``: the check the service and the command line make, once per
    text (through kg.sparql.answers.answer_query). The returned query's text is the normalised one: run
    exactly that.
    """
    started = start_check(text, graphs, default_graphs, named_graphs)
    if isinstance(started, CheckedQuery):
        return started
    return started.finish(await PARSERS.read(started.text, timeout_s))


async def diagnose_query(text: str, engine_error: SparqlSyntaxError, timeout_s: float) -> SparqlError:
    """What to report for a screened query the engine could not parse (:func:`diagnose`), with rdflib's
    verdict read in a parser process; past the time limit, the engine's own error."""
    verdict = recall(text)
    if verdict is None:
        try:
            verdict = from_verdict(text, await PARSERS.read(text, timeout_s))
        except QueryTimeoutError:
            return engine_error
        remember(text, verdict)
    return diagnose(verdict, engine_error)


def _serve() -> None:
    """A parser process: read texts from stdin, write their verdicts to stdout, until stdin closes."""
    sys.setrecursionlimit(10_000)  # deeper than rdflib's default reach; a deeper text dies here, not there
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _write_frame(stdout, _READY)
    while True:
        try:
            text = _read_frame(stdin)
        except EOFError:
            return
        _write_frame(stdout, read_verdict(str(text)))


if __name__ == "__main__":
    _serve()
