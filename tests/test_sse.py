"""The event-stream decoder and the chat-stream rules, fed bytes directly."""

from __future__ import annotations

from typing import List, Optional, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runcrate
from runcrate import ChatStreamParser, ServerSentEvent, SSEDecoder


def decode(chunks: Sequence[bytes]) -> List[ServerSentEvent]:
    decoder = SSEDecoder()
    events: List[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    decoder.end()
    return events


def split_every(body: bytes, size: int) -> List[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


BODY = (
    "\ufeff: a comment\n"
    "event: greeting\nid: 7\nretry: 1500\ndata: héllo 🌍\n\n"
    "data:no space\r\n\r\n"
    "data: line one\rdata: line two\r\r"
    'data: {"text": "a\u2028b\u0085c"}\n\n'
    "data:\n\n"
    "event: only-fields\n\n"
    "data: last\r\n\r\n"
).encode()

EXPECTED = [
    ServerSentEvent("greeting", "héllo 🌍", "7", 1500),
    ServerSentEvent("message", "no space", "7", 1500),
    ServerSentEvent("message", "line one\nline two", "7", 1500),
    ServerSentEvent("message", '{"text": "a\u2028b\u0085c"}', "7", 1500),
    ServerSentEvent("message", "last", "7", 1500),
]


def test_whatwg_rules_on_one_body() -> None:
    assert decode([BODY]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_any_fixed_chunking_gives_the_same_events(size: int) -> None:
    assert decode(split_every(BODY, size)) == EXPECTED


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=40))
def test_any_chunking_gives_the_same_events(cuts: List[int]) -> None:
    points = sorted(set(cuts))
    pieces = [BODY[a:b] for a, b in zip([0, *points], [*points, len(BODY)])]
    assert decode(pieces) == EXPECTED


def test_cr_at_a_chunk_end_followed_by_lf_is_one_line_end() -> None:
    assert decode([b"data: a\r", b"\ndata: b\r\n", b"\r", b"\n"]) == [ServerSentEvent("message", "a\nb")]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode([b"data: \xff\xfe ok\n\n"]) == [ServerSentEvent("message", "\ufffd\ufffd ok")]


def test_end_reports_an_incomplete_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: tw") == [ServerSentEvent("message", "one")]
    assert decoder.end() == "tw"
    complete = SSEDecoder()
    complete.feed(b"data: one\n\n")
    assert complete.end() is None


# --- chat streams -------------------------------------------------------------


def parse(body: bytes, chunk: int = 0) -> List[dict]:
    parser = ChatStreamParser()
    out: List[dict] = []
    for piece in split_every(body, chunk) if chunk else [body]:
        out.extend(parser.feed(piece))
        if parser.done:
            break
    parser.end()
    return out


def test_chunks_until_done_and_nothing_after() -> None:
    body = b'data: {"n": 1}\n\ndata: {"n": 2}\n\ndata: [DONE]\n\ndata: {"n": 3}\n\n'
    assert parse(body) == [{"n": 1}, {"n": 2}]
    assert parse(body, 1) == [{"n": 1}, {"n": 2}]


def test_a_final_done_without_line_end_is_a_clean_end() -> None:
    assert parse(b'data: {"n": 1}\n\ndata: [DONE]') == [{"n": 1}]


@pytest.mark.parametrize("body", [b'data: {"n": 1}\n\n', b'data: {"n": 1}\n\ndata: {"n": ', b""])
def test_an_end_before_done_is_a_connection_error(body: bytes) -> None:
    with pytest.raises(runcrate.ConnectionError) as info:
        parse(body)
    assert info.value.code == "stream_truncated"


def test_data_that_is_not_json_is_invalid_response() -> None:
    with pytest.raises(runcrate.ApiError) as info:
        parse(b"data: {broken\n\ndata: [DONE]\n\n")
    assert info.value.code == "invalid_response"


@pytest.mark.parametrize(
    ("body", "cls", "code", "status"),
    [
        (
            b'data: {"error": {"message": "slow down", "code": "rate_limited"}}\n\n',
            runcrate.RateLimitError,
            "rate_limited",
            None,
        ),
        (b'data: {"error": {"message": "boom", "status": 500}}\n\n', runcrate.InternalServerError, None, 500),
        (b'event: error\ndata: {"message": "bad", "code": "x"}\n\n', runcrate.ApiError, "x", None),
    ],
)
def test_error_events_raise_their_error(body: bytes, cls: type, code: Optional[str], status: Optional[int]) -> None:
    with pytest.raises(cls) as info:
        parse(body)
    assert type(info.value) is cls
    assert info.value.status_code == status and (code is None or info.value.code == code)


def test_chunks_ahead_of_an_error_in_the_same_bytes_come_first() -> None:
    parser = ChatStreamParser()
    body = b'data: {"n": 1}\n\ndata: {"error": {"message": "late", "code": "internal_error"}}\n\n'
    assert parser.feed(body) == [{"n": 1}]
    with pytest.raises(runcrate.InternalServerError):
        parser.check()
    parser.check()  # raised once
    assert parser.done
