"""The ``Annotated`` query and header parameters that several routes take, declared once."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Header, Query

from kg.model.types import Severity

MAX_HOPS: Final = 20
"""The most max_hops= /why and /causes take; longer paths would only add noise and time on this graph."""

AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
"""The Accept header, read by content negotiation (api/negotiation.py); OpenAPI lists the media types
under each response instead."""

ContextQuery = Annotated[Severity | None, Query(description="Keep links that hold in this severity.")]
"""``context=``: keep only the causal links that hold in mild or severe deficiency (default: any)."""

MaxHopsQuery = Annotated[int, Query(ge=1, le=MAX_HOPS, description="Longest path, in links.")]
"""``max_hops=``: the longest path to search, in causal links."""
