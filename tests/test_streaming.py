"""Chat streams over real sockets, written adversarially by a tiny server."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Iterator, List

import pytest
from tinyserver import Request, TinyServer, json_reply

import runcrate

CHAT = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def events(*texts: str) -> List[bytes]:
    chunks = [json.dumps({"choices": [{"delta": {"content": t}}]}, ensure_ascii=False) for t in texts]
    body = [f"data: {chunk}\n\n".encode() for chunk in chunks]
    return [*body, b"data: [DONE]\n\n"]


def sse_server(
    pieces: List[bytes], *, chunked: bool, pause: float = 0.0, then: Callable[[socket.socket], None] = lambda s: None
) -> Callable[[Request, socket.socket], None]:
    def respond(request: Request, sock: socket.socket) -> None:
        framing = "Transfer-Encoding: chunked" if chunked else "Connection: close"
        sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{framing}\r\n\r\n".encode())
        for piece in pieces:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if pause:
                time.sleep(pause)
        then(sock)
        if chunked:
            sock.sendall(b"0\r\n\r\n")

    return respond


def contents(chunks: List[Any]) -> str:
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)


@pytest.mark.parametrize("chunked", [True, False])
def test_one_byte_per_write(serve: Callable[..., TinyServer], connect: Callable[..., Any], chunked: bool) -> None:
    body = b"".join(events("Hé", "llo ", "wörld 🌍"))
    server = serve(sse_server([body[i : i + 1] for i in range(len(body))], chunked=chunked))
    api = connect(server.url)
    assert contents(api.chunks(api("chat_completion", **CHAT))) == "Héllo wörld 🌍"


def test_multibyte_characters_split_across_writes(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    body = b"".join(events("😀é"))
    cut = body.index("😀".encode()) + 2
    server = serve(sse_server([body[:cut], body[cut : cut + 3], body[cut + 3 :]], chunked=True, pause=0.01))
    api = connect(server.url)
    assert contents(api.chunks(api("chat_completion", **CHAT))) == "😀é"


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_crlf_and_cr_line_ends(serve: Callable[..., TinyServer], connect: Callable[..., Any], ending: bytes) -> None:
    pieces = [p.replace(b"\n", ending) for p in events("a", "b")]
    server = serve(sse_server(pieces, chunked=False, pause=0.005))
    api = connect(server.url)
    assert contents(api.chunks(api("chat_completion", **CHAT))) == "ab"


def test_a_stream_cut_mid_event_raises_and_is_not_retried(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    first, second, _ = events("kept", "lost")
    server = serve(sse_server([first, second[:10]], chunked=False))
    api = connect(server.url)
    stream = api("chat_completion", **CHAT)
    received: List[Any] = []
    with pytest.raises(runcrate.ConnectionError) as info:
        list(_iterate(api, stream, received))
    assert info.value.code == "stream_truncated"
    assert contents(received) == "kept"
    assert len(server.requests) == 1


def _iterate(api: Any, stream: Any, into: List[Any]) -> Iterator[Any]:
    while True:
        try:
            chunk = api.next_chunk(stream)
        except (StopIteration, StopAsyncIteration):
            return
        into.append(chunk)
        yield chunk


def test_an_error_event_raises_its_error(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    error = b'data: {"error": {"message": "provider overloaded", "code": "rate_limited"}}\n\n'
    server = serve(sse_server([events("partial")[0] + error], chunked=True))  # one write: one read
    api = connect(server.url)
    received: List[Any] = []
    with pytest.raises(runcrate.RateLimitError) as info:
        list(_iterate(api, api("chat_completion", **CHAT), received))
    assert info.value.message == "provider overloaded" and contents(received) == "partial"


def test_first_event_arrives_before_the_server_goes_quiet(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    closed = threading.Event()

    def stall_until_closed(sock: socket.socket) -> None:
        sock.settimeout(2.0)
        try:
            if sock.recv(1) == b"":
                closed.set()
        except OSError:
            closed.set()

    first = events("now")[0]
    server = serve(sse_server([first], chunked=True, then=stall_until_closed))
    api = connect(server.url)
    started = time.monotonic()
    stream = api("chat_completion", **CHAT)
    chunk = api.next_chunk(stream)
    waited = time.monotonic() - started
    assert chunk["choices"][0]["delta"]["content"] == "now"
    assert waited < 0.1, f"the first event took {waited * 1000:.0f} ms"
    api.close_stream(stream)
    assert closed.wait(1.0), "closing the stream did not close the connection"


def test_done_ends_the_stream_without_waiting_for_the_connection(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    def hold_open(sock: socket.socket) -> None:
        sock.settimeout(3.0)
        try:
            sock.recv(1)
        except OSError:
            pass

    server = serve(sse_server(events("a"), chunked=True, then=hold_open))
    api = connect(server.url)
    started = time.monotonic()
    assert contents(api.chunks(api("chat_completion", **CHAT))) == "a"
    assert time.monotonic() - started < 1.0


def test_an_error_before_the_stream_is_an_ordinary_error(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    body = json.dumps(
        {"error": {"message": "no such model", "type": "invalid_request_error", "code": "model_not_found"}}
    )
    server = serve(lambda r, s: json_reply(s, 404, body))
    api = connect(server.url)
    with pytest.raises(runcrate.NotFoundError) as info:
        api("chat_completion", **CHAT)
    assert info.value.code == "model_not_found" and info.value.message == "no such model"


def test_emulator_stream_closed_early_is_seen_by_the_server(api: Any, emu: Any) -> None:
    emu.state.stream_delay = 0.05
    stream = api("chat_completion", **{**CHAT, "messages": [{"role": "user", "content": "a long story " * 20}]})
    assert api.next_chunk(stream)["choices"][0]["delta"] == {"role": "assistant"}
    api.close_stream(stream)
    deadline = time.monotonic() + 3
    while emu.state.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emu.state.abandoned_streams == 1


def test_emulator_stream_error_and_cut_faults(api: Any, emu: Any) -> None:
    emu.state.stream_delay = 0.0
    emu.fail("/v1/chat/completions", error_after_events=2)
    with pytest.raises(runcrate.InternalServerError):
        api.chunks(api("chat_completion", **CHAT))
    emu.fail("/v1/chat/completions", cut_after_events=2)
    with pytest.raises(runcrate.ConnectionError):
        api.chunks(api("chat_completion", **CHAT))
    assert emu.count("POST /v1/chat/completions") == 2
