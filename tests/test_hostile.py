"""Hostile servers and hostile configuration: every failure typed, memory and time bounded."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import zlib
from typing import Any, Callable, Iterator

import pytest
from tinyserver import Request, json_reply, reply

import runcrate

KEY = "rc_live_hostile_0000000000000"
CHAT = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "hi"}]}


def sse_head(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")


@pytest.fixture
def peak_memory() -> Iterator[Callable[[], float]]:
    """peak_memory(): the most memory (MiB) Python allocated since the test started."""
    tracemalloc.start()
    yield lambda: tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()


# --- time ------------------------------------------------------------------------------------


def test_a_trickling_server_cannot_hold_a_call(serve: Any, connect: Any) -> None:
    def trickle(request: Request, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        for _ in range(40):
            sock.sendall(b" ")
            time.sleep(0.25)

    api = connect(serve(trickle).url, timeout=1, max_retries=0)
    started = time.monotonic()
    with pytest.raises(runcrate.TimeoutError):
        api("get_balance")
    assert time.monotonic() - started < 3.5  # about twice the read timeout, not ten seconds


def test_chat_without_streaming_waits_past_the_configured_timeout(connect: Any, emu: Any) -> None:
    emu.fail("/v1/chat/completions", delay=1.5)
    api = connect(emu.url, timeout=1, max_retries=0)
    assert api("chat_completion", **CHAT).choices[0].message.content


def test_a_per_call_timeout_is_exact(connect: Any, emu: Any) -> None:
    emu.fail("/v1/chat/completions", delay=3)
    api = connect(emu.url, max_retries=0)
    started = time.monotonic()
    with pytest.raises(runcrate.TimeoutError):
        api("chat_completion", **CHAT, timeout=0.5)
    assert 0.4 < time.monotonic() - started < 1.5


def test_timeout_is_never_sent_in_the_chat_body(serve: Any, connect: Any) -> None:
    answer = '{"choices": [{"message": {"role": "assistant", "content": "ok"}}]}'
    server = serve(lambda request, sock: json_reply(sock, 200, answer))
    connect(server.url)("chat_completion", **CHAT, timeout=5)
    assert "timeout" not in json.loads(server.requests[0].body)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "soon", "1e999"])
def test_a_retry_after_that_is_not_finite_is_ignored(serve: Any, connect: Any, value: str) -> None:
    answers = iter([503, 200])

    def respond(request: Request, sock: socket.socket) -> None:
        status = next(answers)
        json_reply(sock, status, '{"data": {"creditsBalance": 1, "activeUsageCost": 0}}', {"Retry-After": value})

    api = connect(serve(respond).url)
    started = time.monotonic()
    assert api("get_balance").credits_balance == 1.0
    assert time.monotonic() - started < 2


# --- memory ----------------------------------------------------------------------------------


def test_an_sse_line_without_end_is_refused_in_linear_time(
    serve: Any, connect: Any, peak_memory: Callable[[], float]
) -> None:
    def endless_line(request: Request, sock: socket.socket) -> None:
        sse_head(sock)
        sock.sendall(b"data: ")
        piece = b"x" * 16384
        for _ in range(640):  # 10 MiB, never a line end
            sock.sendall(piece)

    api = connect(serve(endless_line).url)
    started = time.monotonic()
    with pytest.raises(runcrate.ApiError) as info:
        api.chunks(api("chat_completion", **CHAT, stream=True))
    assert info.value.code == "invalid_response" and "larger than" in info.value.message
    assert time.monotonic() - started < 10 and peak_memory() < 100


def test_an_endless_event_is_refused_with_memory_bounded(
    serve: Any, connect: Any, peak_memory: Callable[[], float]
) -> None:
    def endless_event(request: Request, sock: socket.socket) -> None:
        sse_head(sock)
        line = b"data: " + b"y" * 1000 + b"\n"
        for _ in range(12000):  # 12 MB of data lines and never the blank line that ends the event
            sock.sendall(line)

    api = connect(serve(endless_event).url)
    with pytest.raises(runcrate.ApiError) as info:
        api.chunks(api("chat_completion", **CHAT, stream=True))
    assert info.value.code == "invalid_response" and peak_memory() < 100


def test_a_gzip_bomb_is_refused_with_memory_bounded(serve: Any, connect: Any, peak_memory: Callable[[], float]) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing, made piece by piece: 200 MiB of spaces
    bomb = packer.compress(b'{"data": [') + b"".join(packer.compress(b" " * 2**20) for _ in range(200))
    bomb += packer.compress(b"]}") + packer.flush()

    def respond(request: Request, sock: socket.socket) -> None:
        reply(sock, 200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    api = connect(serve(respond).url)
    with pytest.raises(runcrate.ApiError) as info:
        api("list_instances")
    assert info.value.code == "invalid_response" and "larger than" in info.value.message
    assert peak_memory() < 200


# --- hostile answers -------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "body",
    [
        '{"data": {"creditsBalance": NaN, "activeUsageCost": 0}}',
        '{"data": {"creditsBalance": Infinity, "activeUsageCost": 0}}',
        '{"data": {"creditsBalance": -Infinity, "activeUsageCost": 0}}',
        '{"data": {"creditsBalance": ' + DEEP + ', "activeUsageCost": 0}}',
        '{"data": {"creditsBalance": "12", "activeUsageCost": 0}}',
        '{"data": {"creditsBalance": ' + "9" * 5000 + ', "activeUsageCost": 0}}',
    ],
    ids=["nan", "infinity", "minus-infinity", "deep", "string", "huge-int"],
)
def test_hostile_numbers_and_nesting_are_invalid_responses(serve: Any, connect: Any, body: str) -> None:
    api = connect(serve(lambda request, sock: json_reply(sock, 200, body)).url)
    with pytest.raises(runcrate.ApiError) as info:
        api("get_balance")
    assert info.value.code == "invalid_response"


def test_an_error_body_nested_too_deeply_falls_back_to_its_status(serve: Any, connect: Any) -> None:
    api = connect(serve(lambda request, sock: json_reply(sock, 404, DEEP)).url)
    with pytest.raises(runcrate.NotFoundError) as info:
        api("get_balance")
    assert info.value.status_code == 404


@pytest.mark.parametrize("data", [DEEP, '{"choices": [{"delta": {"content": NaN}}]}'], ids=["deep", "nan"])
def test_hostile_stream_events_are_invalid_responses(serve: Any, connect: Any, data: str) -> None:
    def respond(request: Request, sock: socket.socket) -> None:
        sse_head(sock)
        sock.sendall(f"data: {data}\n\ndata: [DONE]\n\n".encode())

    api = connect(serve(respond).url)
    with pytest.raises(runcrate.ApiError) as info:
        api.chunks(api("chat_completion", **CHAT, stream=True))
    assert info.value.code == "invalid_response"


def test_oversized_response_headers_are_an_sdk_error(serve: Any, connect: Any) -> None:
    def respond(request: Request, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * 200_000 + b"\r\nContent-Length: 2\r\n\r\n{}")

    api = connect(serve(respond).url, max_retries=0)
    with pytest.raises(runcrate.RuncrateError):
        api("get_balance")


def test_a_body_shorter_than_its_length_is_a_connection_error(serve: Any, connect: Any) -> None:
    def respond(request: Request, sock: socket.socket) -> None:
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"data": {')

    api = connect(serve(respond).url, max_retries=0)
    with pytest.raises(runcrate.ConnectionError):
        api("get_balance")


# --- hostile configuration -------------------------------------------------------------------


@pytest.mark.parametrize("key", ["rc_live_abc\r\nX-Evil: 1", "rc_live_abc\x00def", "rc_live_\tabc"])
def test_a_key_with_control_characters_is_refused_before_sending(key: str) -> None:
    for make in (runcrate.Session, runcrate.Runcrate):
        with pytest.raises(ValueError, match="control character") as info:
            make(api_key=key)
        assert key not in str(info.value)


def test_surrounding_whitespace_of_a_key_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCRATE_API_KEY", "rc_live_from_a_file_0000000\n")
    assert runcrate.Session().api_key == "rc_live_from_a_file_0000000"
    assert runcrate.Session(" rc_live_x_000000000000 ", environment=" staging ").environment == "staging"
    with pytest.raises(ValueError, match="environment"):
        runcrate.Session(KEY, environment="main\r\nX: y")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com",
        "www.runcrate.ai",
        "https://",
        "http://host:notaport",
        "https://h/?q=1",
    ],
)
def test_base_urls_must_be_http_with_a_host(url: str) -> None:
    for name in ("base_url", "inference_url"):
        with pytest.raises(ValueError, match=name):
            runcrate.Session(KEY, **{name: url})


def test_credentials_in_a_url_are_refused_and_never_shown(mode: str, connect: Any) -> None:
    with pytest.raises(ValueError) as info:
        connect("https://user:s3cret@api.example.com")
    assert "s3cret" not in str(info.value) and "credentials" in str(info.value)


# --- the request log -------------------------------------------------------------------------


def runcrate_lines(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "runcrate")


def test_the_log_shows_the_full_url_of_a_wrong_prefix(connect: Any, emu: Any, caplog: pytest.LogCaptureFixture) -> None:
    api = connect(emu.url)
    api.session.inference_url = emu.url + "/v1"  # a common mistake: the prefix given twice
    with caplog.at_level(logging.INFO, logger="runcrate"), pytest.raises(runcrate.NotFoundError):
        api("chat_completion", **CHAT)
    assert f"POST {emu.url}/v1/v1/chat/completions -> 404" in runcrate_lines(caplog)


def test_the_log_shows_each_retry_its_reason_and_its_wait(
    connect: Any, emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    emu.fail("/api/v1/billing/balance", status=503, retry_after="0.1", count=2)
    api = connect(emu.url)
    with caplog.at_level(logging.INFO, logger="runcrate"):
        api("get_balance")
    lines = runcrate_lines(caplog)
    assert lines.count("-> 503; retry") == 2 and "in 0.10 s" in lines and "(attempts 3," in lines


def test_the_log_shows_streams_and_failures_and_never_a_query(
    connect: Any, emu: Any, free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="runcrate"):
        api = connect(emu.url)
        api.chunks(api("chat_completion", **CHAT, stream=True))
        api("list_instances", search="private words")
        with pytest.raises(runcrate.ConnectionError):
            connect(f"http://127.0.0.1:{free_port}", max_retries=0)("get_balance")
    lines = runcrate_lines(caplog)
    assert f"POST {emu.url}/v1/chat/completions -> 200" in lines
    assert f"GET http://127.0.0.1:{free_port}/api/v1/billing/balance failed" in lines and "connect_error" in lines
    assert "private" not in lines and "search=" not in lines


LOG_SCRIPT = """
import logging, sys
import runcrate
if sys.argv[2] == "basicConfig":
    logging.basicConfig(level=logging.WARNING)
s = runcrate.Session("rc_live_env_logged_0000000001", base_url=sys.argv[1])
runcrate.get_balance(s); s.close()
"""


@pytest.mark.parametrize(
    ("value", "app", "lines", "warned"),
    [
        ("debug", "plain", 1, False),
        ("INFO", "plain", 1, False),
        ("debug", "basicConfig", 1, False),
        ("1", "plain", 0, True),
        ("", "plain", 0, False),
    ],
)
def test_runcrate_log(emu: Any, value: str, app: str, lines: int, warned: bool) -> None:
    env = {**os.environ, "RUNCRATE_LOG": value}
    done = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT, emu.url, app], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("/api/v1/billing/balance -> 200") == lines, done.stderr
    assert ("RUNCRATE_LOG='1' is ignored" in done.stderr) is warned
    assert "rc_live_env_logged_0000000001" not in done.stderr
