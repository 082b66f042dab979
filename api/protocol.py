"""The HTTP/1.1 protocol `mgkg serve` runs: uvicorn's httptools protocol with a bounded request head,
a header timeout, and problem+json (not plain text) for requests that never reach the app.

uvicorn's httptools protocol buffers a request line of any length, then fails on one over 65,535 bytes
(httptools' URL parser) with a plain-text 400, and waits forever for a connection to finish its headers.
Here:

- a request target longer than ``MGKG_MAX_URL_BYTES`` (at most :data:`PARSER_URL_LIMIT`) is left to the
  app, which answers 414 saying to send the query by POST (see api/app.py); one longer than the
  parser's limit is refused here with the same problem as soon as it passes it (never held in memory
  whole), and so are headers over :data:`HEADER_ALLOWANCE` (431); the connection is then closed;
- a connection that takes more than ``MGKG_HEADER_TIMEOUT_S`` to send a request's line and headers
  (from its first byte, or from the connection's start) gets 408 and is closed;
- a request the parser cannot read gets 400 problem+json.

uvicorn builds the protocol itself (``uvicorn.Config(http=ProblemHttpToolsProtocol)``), after the app's
lifespan has run; the limits come from the Settings in that lifespan state (the ServiceState), so that
every worker process uses the settings `mgkg serve` was given, and nothing reads the environment.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.config import Settings

PROBLEM_JSON: Final = "application/problem+json"
HEADER_ALLOWANCE: Final = 64 * 1024
"""Bytes of headers a request may send."""
PARSER_URL_LIMIT: Final = 65_535
"""The longest request target httptools' URL parser reads (it fails on a longer one)."""
_LINGER_S: Final = 2.0
_REASONS: Final = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long", 431: b"Too Large"}


def problem_bytes(status: int, kind: str, title: str, detail: str) -> bytes:
    """A problem+json body (RFC 9457) in the service's own problem types.

    >>> json.loads(problem_bytes(414, "uri-too-long", "URI too long", "Use POST."))["type"]
    'https://w3id.org/mgkg/problems/uri-too-long'
    """
    body = {
        "type": f"https://w3id.org/mgkg/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return json.dumps(body).encode()


def long_target_detail(size: int, limit: int) -> str:
    """What a client whose request target is too long should do instead."""
    return (
        f"The request target ({size} bytes or more) is longer than the {limit} bytes accepted. Send a long "
        "SPARQL query by POST: "
        "a form (Content-Type: application/x-www-form-urlencoded, query=...) or the query itself "
        "(Content-Type: application/sparql-query)."
    )


def _limits(app_state: Mapping[str, Any]) -> tuple[int, float]:
    """(longest request target the app is shown, header timeout in seconds), from the settings in the
    lifespan state; the Settings defaults for an app without mgkg's lifespan."""
    # imported here: uvicorn's worker processes import this module (unpickling their Config) before they
    # start answering the supervisor's health checks, so it must import quickly
    from api.state import STATE_KEY, ServiceState

    state = app_state.get(STATE_KEY)
    if isinstance(state, ServiceState):
        return state.settings.max_url_bytes, state.settings.header_timeout_s
    fields = Settings.model_fields
    return fields["max_url_bytes"].default, fields["header_timeout_s"].default


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head and a header timeout (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_url, self._header_timeout_s = _limits(self.app_state)
        self._url_bytes = 0
        self._header_bytes = 0
        self._refusal: tuple[int, str, str, str] | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._discarding = False  # answered and closing: what else the client sends is dropped
        self._in_head = (
            True  # between a request's first byte (or the connection's start) and its headers' end
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the connection, and the clock for its first request's headers."""
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the header clock, then let uvicorn clean up."""
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, unless the connection is answered and closing."""
        if self._discarding:
            return
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A new request's first byte: count its head from zero and start the clock for it."""
        self._url_bytes = self._header_bytes = 0
        self._in_head = True
        self._arm_head_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        """Count the request target; refuse it before holding more than the app could be shown."""
        self._url_bytes += len(url)
        if self._url_bytes > PARSER_URL_LIMIT:
            detail = long_target_detail(self._url_bytes, min(self._max_url, PARSER_URL_LIMIT))
            self._refuse((414, "uri-too-long", "Request target too long", detail))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the headers; refuse them past :data:`HEADER_ALLOWANCE`."""
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > HEADER_ALLOWANCE:
            detail = (
                f"The request's headers are over {HEADER_ALLOWANCE} bytes. Send fewer or shorter headers."
            )
            self._refuse((431, "headers-too-large", "Request headers too large", detail))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: stop its clock and start the request."""
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """Answer a request that cannot reach the app with problem+json (the refusal, else a 400)."""
        status, kind, title, detail = self._refusal or (
            400,
            "bad-request",
            "Malformed HTTP request",
            "The request could not be read as HTTP/1.1. Check the request line and headers.",
        )
        self._send_problem(status, kind, title, detail)

    def _refuse(self, refusal: tuple[int, str, str, str]) -> None:
        self._refusal = refusal
        raise ValueError(refusal[3])  # stops the parser; uvicorn answers through send_400_response

    def _send_problem(self, status: int, kind: str, title: str, detail: str) -> None:
        body = problem_bytes(status, kind, title, detail)
        head = [f"HTTP/1.1 {status} ".encode() + _REASONS.get(status, b"Error") + b"\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            f"content-type: {PROBLEM_JSON}\r\n".encode(),
            f"content-length: {len(body)}\r\n".encode(),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        # Read and drop the rest of what the client sends for a moment before closing: closing with
        # unread bytes makes the kernel reset the connection, and the client may never see the answer.
        self._discarding = True
        self._cancel_head_timer()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_S, self.transport.close)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._header_timeout_s, self._on_head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _on_head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if not (self.cycle is None or self.cycle.response_complete):  # a pipelined request, still served
            self._arm_head_timer()
            return
        detail = (
            f"The request's line and headers did not arrive within {self._header_timeout_s:g} s; the "
            "connection is closed."
        )
        self._send_problem(408, "request-timeout", "Request header timeout", detail)
