"""The private wire format between the worker pool (kg.sparql.pool) and a SPARQL worker (_worker.py).

One request at a time, no text parsing on the hot path. The parent writes one request frame: a 4-byte
big-endian length (:data:`REQUEST_HEAD`) and a ``marshal``-encoded :data:`Request` tuple. The worker
answers with one reply frame: a status byte and a 4-byte body length (:data:`REPLY_HEAD`), then the body
(the serialized answer, or an error message in UTF-8), written with a single ``writev``. The first frame
a worker sends, once its store is open, has the status :data:`READY` and the body ``sandbox`` when its
egress sandbox is on, empty when not.

This module imports only the standard library: the worker, a plain script, loads it by path.
"""

from __future__ import annotations

import marshal
import os
import struct
from typing import Final

REQUEST_HEAD: Final = struct.Struct("!I")
"""The length that opens every request frame."""
REPLY_HEAD: Final = struct.Struct("!BI")
"""The status byte and the body length that open every reply frame."""
OK, TRUNCATED, SYNTAX_ERROR, ENGINE_ERROR, READY = range(5)
"""Reply statuses: an answer, an answer cut at the row limit, two kinds of error (the body is the
message, UTF-8), and the worker's first frame once its store is open."""
SANDBOXED: Final = b"sandbox"
"""The body of a ready frame from a worker whose egress sandbox is on."""

Request = tuple[
    str, str, int, "list[str] | None", "list[str] | None", "dict[str, dict[str, str]] | None", "str | None"
]
"""What the parent sends: query, media type, row limit, default graphs, named graphs, substitutions
(those three None when the request has none), and the base IRI relative IRIs resolve against (None:
none, a relative IRI is then a syntax error)."""


def request_frame(request: Request) -> bytes:
    """One request frame: its length, then the marshalled request.

    >>> frame = request_frame(("ASK {}", "text/csv", 10, None, None, None, None))
    >>> REQUEST_HEAD.unpack_from(frame)[0] == len(frame) - REQUEST_HEAD.size
    True
    """
    data = marshal.dumps(request)
    return REQUEST_HEAD.pack(len(data)) + data


def read_request(data: bytes) -> Request:
    """The request a frame's body (without its length) holds."""
    request: Request = marshal.loads(data)
    return request


def read_exactly(fd: int, size: int) -> bytes | None:
    """Read exactly ``size`` bytes from a blocking file descriptor; None at end of file."""
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_reply(fd: int, status: int, body: bytes) -> None:
    """Write one reply frame (status, body length, body) with one ``writev``: no concatenation copy."""
    done = os.writev(fd, [REPLY_HEAD.pack(status, len(body)), body])
    if done < REPLY_HEAD.size + len(body):  # a large body does not fit the pipe at once
        write_all(fd, (REPLY_HEAD.pack(status, len(body)) + body)[done:])


def parse_reply(buffer: bytes) -> tuple[int, bytes] | None:
    """The reply (status, body) a buffer holds, once it holds all of it; None before.

    >>> parse_reply(REPLY_HEAD.pack(OK, 3) + b"abc"), parse_reply(REPLY_HEAD.pack(OK, 3) + b"ab")
    ((0, b'abc'), None)
    """
    if len(buffer) < REPLY_HEAD.size:
        return None
    status, size = REPLY_HEAD.unpack_from(buffer)
    if len(buffer) < REPLY_HEAD.size + size:
        return None
    return status, buffer[REPLY_HEAD.size : REPLY_HEAD.size + size]
