"""Accept-header negotiation with q-values (RFC 9110)."""

from __future__ import annotations

from collections.abc import Sequence


def _media_ranges(accept: str) -> list[tuple[str, str, float, int]]:
    ranges = []
    for position, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        if "/" not in kind:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        main, _, sub = kind.partition("/")
        ranges.append((main, sub, quality, position))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """Pick the offered media type the Accept header prefers (RFC 9110 q-values and specificity).

    The first offer wins ties and answers an absent or empty header; None means nothing acceptable.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", ["application/sparql-results+json",
    ...     "application/sparql-results+xml", "text/csv"])
    'application/sparql-results+xml'
    >>> negotiate("text/*;q=0.9, */*;q=0.1", ["application/n-triples", "text/turtle"])
    'text/turtle'
    >>> negotiate("image/png", ["text/turtle"]) is None
    True
    >>> negotiate("text/turtle;q=0, */*", ["text/turtle", "application/rdf+xml"])
    'application/rdf+xml'
    """
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, offer in enumerate(offered):
        main, _, sub = offer.partition("/")
        quality = None
        specificity = -1
        for r_main, r_sub, r_quality, _ in ranges:
            if r_main == main and r_sub == sub:
                level = 2
            elif r_main == main and r_sub == "*":
                level = 1
            elif r_main == "*" and r_sub == "*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, quality = level, r_quality
        if quality is None or quality <= 0:
            continue
        key = (quality, specificity, -index)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen
