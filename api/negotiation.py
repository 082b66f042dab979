"""Content negotiation for every route and the CLI: ``format=`` first, else the Accept header (RFC 9110).

A route offers (name, media type) pairs, its default first. :func:`negotiate` picks one name: the
``format=`` value if given (a name, an alias, or, where the route allows, a media type), else the
offer whose media type the Accept header prefers (q-values, then the most specific matching range, then
the order of the offers), else the first offer when there is no Accept header. A format nobody offers
is a 400 and an Accept header that allows none of the offers a 406 (:class:`NegotiationError`); each
route turns that into its problem+json, the CLI into a one-line error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Final

_LOG: Final = logging.getLogger(__name__)

Offers = Sequence[tuple[str, str]]
"""(format name, media type) pairs a route serves, the default first; a name may have several types."""


class NegotiationError(Exception):
    """The client asked for a format, by name or by Accept header, that cannot be served.

    ``status`` is 400 (an unknown ``format=``) or 406 (nothing acceptable); ``choices`` are the names
    (400) or media types (406) that would have been served.
    """

    def __init__(self, status: int, detail: str, choices: Sequence[str] = ()) -> None:
        self.status = status
        self.detail = detail
        self.choices = tuple(choices)
        super().__init__(detail)


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """The Accept header's media ranges as (type, subtype, q), lowercased; malformed ones skipped."""
    ranges = []
    for part in accept.split(","):
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
        ranges.append((main, sub, quality))
    return ranges


def best_media_type(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the Accept header prefers (RFC 9110 q-values and specificity).

    The first offer wins ties and answers an absent or empty header; None means nothing acceptable.

    >>> best_media_type("text/csv;q=0.5, application/sparql-results+xml", ["application/sparql-results+json",
    ...     "application/sparql-results+xml", "text/csv"])
    'application/sparql-results+xml'
    >>> best_media_type("text/*;q=0.9, */*;q=0.1", ["application/n-triples", "text/turtle"])
    'text/turtle'
    >>> best_media_type("image/png", ["text/turtle"]) is None
    True
    >>> best_media_type("text/turtle;q=0, */*", ["text/turtle", "application/rdf+xml"])
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
        for r_main, r_sub, r_quality in ranges:
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


def negotiate(
    fmt: str | None,
    accept: str | None,
    offers: Offers,
    *,
    aliases: Mapping[str, str] | None = None,
    by_media_type: bool = False,
) -> str:
    """The name of the format to answer in: ``fmt`` if given, else the best Accept match, else the first.

    ``fmt`` is matched without case, through ``aliases`` (alias -> name) and, with ``by_media_type``,
    as a media type too. Raises :class:`NegotiationError`: 400 for an unknown ``fmt``, 406 when the
    Accept header allows none of the offers.

    >>> offers = [("json", "application/json"), ("svg", "image/svg+xml"), ("png", "image/png")]
    >>> negotiate(None, "image/*;q=0.8, image/png, application/json;q=0.5", offers)
    'png'
    >>> negotiate("SVG", "application/json", offers), negotiate(None, None, offers)
    ('svg', 'json')
    >>> negotiate("image/png", None, offers, by_media_type=True)
    'png'
    """
    names = list(dict.fromkeys(name for name, _ in offers))
    if fmt is not None and fmt.strip():
        wanted = fmt.strip().lower()
        name = (aliases or {}).get(wanted, wanted)
        if name not in names and by_media_type:
            name = next((n for n, media in offers if media == wanted), name)
        if name not in names:
            _LOG.debug("format=%s refused: the offers are %s", fmt, names)
            raise NegotiationError(400, f"Unknown format {fmt!r}; choose one of: {', '.join(names)}.", names)
        return name
    chosen = best_media_type(accept, [media for _, media in offers])
    if chosen is None:
        types = list(dict.fromkeys(media for _, media in offers))
        _LOG.debug("Accept %r allows none of %s", accept, types)
        raise NegotiationError(
            406, f"None of the accepted media types can be served; available: {', '.join(types)}.", types
        )
    return next(name for name, media in offers if media == chosen)
