"""api.forms decodes URL query strings and POSTed forms exactly as the standard library does, faster."""

from __future__ import annotations

import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from api.forms import form_lists, form_pairs, unquote_form

_PIECES = st.sampled_from(
    [
        *(b"%", b"%2", b"%20", b"%3D", b"%3d", b"%zz", b"%E2%82%AC", b"%C3", b"%FF", b"+", b"=", b"&", b"&&"),
        *(b"a", b"Z", b"0", b"f", b"F", b" ", b"\r", b"\n", b"\t", b"\xc3\xa9", b"\xff", b";", b"?", b"#"),
    ]
)
RAW = st.lists(_PIECES, max_size=40).map(b"".join) | st.binary(max_size=60)
"""Form-encoded bytes with every awkward part: valid, invalid and partial escapes, '+', '=', '&', line
breaks, raw UTF-8 and bytes that are no UTF-8 at all."""


def _by_the_standard_library(raw: bytes) -> list[tuple[str, str]]:
    return urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)


@settings(max_examples=1500)
@given(RAW)
def test_any_form_reads_as_the_standard_library_reads_it(raw: bytes) -> None:
    assert form_pairs(raw) == _by_the_standard_library(raw)
    assert form_lists(raw) == urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)


@settings(max_examples=1000)
@given(st.lists(st.tuples(st.text(), st.text()), max_size=4), st.booleans())
def test_any_encoded_form_round_trips(fields: list[tuple[str, str]], plus: bool) -> None:
    """What a client's encoder writes (urlencode, spaces as '+' or '%20') reads back as it was."""
    quote = urllib.parse.quote_plus if plus else urllib.parse.quote
    raw = urllib.parse.urlencode(fields, quote_via=quote).encode()
    assert form_pairs(raw) == fields


def test_an_escape_that_is_no_escape_is_left_as_written() -> None:
    assert unquote_form(b"100%25+sure%zz%") == "100% sure%zz%"
    assert unquote_form(b"a%3Db=c") == "a=b=c"
