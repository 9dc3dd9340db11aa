"""What goes on the wire and how odd answers come back, through a tiny local server."""

from __future__ import annotations

import json
import platform
import socket
import time
from typing import Any, Callable, Dict

import aiohttp
import pytest
import requests
from tinyserver import Request, TinyServer, json_reply, reply

import runcrate

ENVELOPE = '{"data": [], "meta": {"total": 0}}'


def answer_with(status: int = 200, body: str = ENVELOPE, headers: Dict[str, str] = {}) -> Callable[..., None]:  # noqa: B006
    def respond(request: Request, sock: socket.socket) -> None:
        reply(sock, status, body.encode(), {"Content-Type": "application/json", **headers})

    return respond


# --- configuration ----------------------------------------------------------


def test_missing_key_names_both_ways_to_give_one() -> None:
    with pytest.raises(runcrate.RuncrateError) as info:
        runcrate.Session()
    assert "api_key=" in str(info.value) and "RUNCRATE_API_KEY" in str(info.value)
    with pytest.raises(runcrate.RuncrateError):
        runcrate.Runcrate()


def test_key_and_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCRATE_API_KEY", "rc_live_from_env_123456789")
    monkeypatch.setenv("RUNCRATE_BASE_URL", "http://localhost:1/")
    monkeypatch.setenv("RUNCRATE_INFERENCE_URL", "http://127.0.0.5:2")
    session = runcrate.Session()
    assert session.api_key == "rc_live_from_env_123456789"
    assert session.base_url == "http://localhost:1" and session.inference_url == "http://127.0.0.5:2"
    explicit = runcrate.Session("rc_live_explicit_000000000", base_url="http://[::1]:3")
    assert explicit.api_key == "rc_live_explicit_000000000" and explicit.base_url == "http://[::1]:3"


def test_defaults_are_the_public_hosts() -> None:
    session = runcrate.Session("rc_live_0000000000000000")
    assert session.base_url == "https://www.runcrate.ai"
    assert session.inference_url == "https://api.runcrate.ai"
    assert session.timeout == 30 and session.max_retries == 3


def test_repr_masks_the_key() -> None:
    key = "rc_live_abcdefghijklmnop6789"
    session = runcrate.Session(key)
    client = runcrate.Runcrate(api_key=key)
    for text in (repr(session), str(session), repr(client)):
        assert key not in text and "rc_live_…6789" in text
    assert key not in repr(session.http.headers) and key not in repr(vars(session.http))


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        runcrate.Session("rc_live_0000000000000000", max_retries=-1)
    with pytest.raises(ValueError):
        runcrate.Session("rc_live_0000000000000000", timeout=0)


def test_session_closes_its_pool_and_reopens_on_use(serve: Callable[..., TinyServer]) -> None:
    server = serve(answer_with())
    with runcrate.Session("rc_live_0000000000000000", base_url=server.url) as session:
        first = session.http
        runcrate.list_instances(session)
    assert session._http is None
    assert session.http is not first
    session.close()


def test_a_callers_requests_session_is_used_and_left_open(serve: Callable[..., TinyServer]) -> None:
    server = serve(answer_with())
    own = requests.Session()
    own.headers["X-Own"] = "yes"
    session = runcrate.Session("rc_live_0000000000000000", base_url=server.url, http=own)
    runcrate.list_instances(session)
    session.close()
    sent = server.requests[0].headers
    assert sent["x-own"] == "yes" and sent["authorization"] == "Bearer rc_live_0000000000000000"
    assert own.get(server.url + "/api/v1/instances", timeout=5).status_code == 200  # still open
    own.close()


# --- what is sent -----------------------------------------------------------


def test_request_headers_and_path_prefix(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    server = serve(answer_with())
    api = connect(server.url + "/proxy/", api_key="rc_live_abcdefghijklmnop6789", headers={"X-Team": "ml"})
    api("list_instances", search="train")
    sent = server.requests[0]
    assert sent.method == "GET" and sent.target == "/proxy/api/v1/instances?search=train"
    assert sent.headers["authorization"] == "Bearer rc_live_abcdefghijklmnop6789"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-team"] == "ml"
    library = "requests" if api.mode == "sync" else "aiohttp"
    version = requests.__version__ if api.mode == "sync" else aiohttp.__version__
    agent = sent.headers["user-agent"]
    assert agent == f"runcrate-python/{runcrate.__version__} {library}/{version} python/{platform.python_version()}"
    assert "idempotency-key" not in sent.headers


def test_environment_comes_first_on_every_infrastructure_method(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    def respond(request: Request, sock: socket.socket) -> None:
        body = ENVELOPE if "transactions" in request.target else '{"data": {"id": "v", "name": "n", "status": "s"}}'
        json_reply(sock, 200, body)

    server = serve(respond)
    api = connect(server.url, environment="staging", max_retries=0)
    api("get_instance", "v")
    api("update_instance", "v", max_runtime_minutes=10)
    api("create_instance", name="n", gpu_type="A100")
    api("terminate_instance", "v")
    api("list_transactions", limit=5)
    targets = [r.target for r in server.requests]
    assert targets == [
        "/api/v1/instances/v?environment=staging",
        "/api/v1/instances/v?environment=staging",
        "/api/v1/instances?environment=staging",
        "/api/v1/instances/v?environment=staging",
        "/api/v1/billing/transactions?environment=staging&limit=5&offset=0",
    ]


def test_json_bodies_leave_out_unset_fields(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    server = serve(answer_with(body='{"data": {"id": "i", "name": "n", "status": "deploying"}}'))
    api = connect(server.url)
    api("create_instance", name="n", ssh_key_id="k", gpu_type="A100", env_vars={"A": "1"})
    api("update_instance", "i", idle_shutdown_minutes=None)
    create, update = server.requests
    assert json.loads(create.body) == {"name": "n", "ssh_key_id": "k", "gpu_type": "A100", "env_vars": {"A": "1"}}
    assert len(create.headers["idempotency-key"]) == 36
    assert json.loads(update.body) == {"idle_shutdown_minutes": None}


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("../billing/balance", "..%2Fbilling%2Fbalance"),
        ("%2e%2e", "%252e%252e"),
        ("a?b#c", "a%3Fb%23c"),
        ("ünï cødé", "%C3%BCn%C3%AF%20c%C3%B8d%C3%A9"),
    ],
)
def test_ids_are_percent_encoded(
    serve: Callable[..., TinyServer], given: str, sent: str, connect: Callable[..., Any]
) -> None:
    server = serve(answer_with(body='{"data": {"id": "x", "name": "n"}}'))
    api = connect(server.url)
    api("get_storage", given)
    assert server.requests[0].target == f"/api/v1/storage/{sent}"


def test_hostile_ids_reach_the_intended_route(api: Any, emu: Any) -> None:
    for hostile in ("../billing/balance", "%2e%2e", "x/../../ssh-keys", "?#", "..;", "é" * 50, "a" * 10_000):
        with pytest.raises(runcrate.NotFoundError) as info:
            api("get_instance", hostile)
        assert info.value.message == "Instance not found"
    assert emu.count("GET /api/v1/instances/{id}") == 7
    assert emu.count("GET /api/v1/billing/balance") == 0


def test_empty_dot_or_non_string_ids_are_refused_before_sending(api: Any, emu: Any) -> None:
    for invalid in ("", ".", ".."):
        with pytest.raises(ValueError, match="not a valid id"):
            api("get_instance", invalid)
    with pytest.raises(TypeError):
        api("get_instance", 42)
    assert sum(emu.state.counts.values()) == 0


# --- odd answers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        ('{"data": null}', "application/json"),
        ('{"data": [1, 2]}', "application/json"),
        ("[1, 2]", "application/json"),
        ('{"data": {"name": "no id"}}', "application/json"),
        ('{"data": {"id": 5, "name": "n", "sizeGb": "big"}}', "application/json"),
        ("{not json", "application/json"),
        ("<html>hello</html>", "text/html"),
    ],
)
def test_a_success_of_the_wrong_shape_is_invalid_response(
    serve: Callable[..., TinyServer], body: str, ctype: str, connect: Callable[..., Any]
) -> None:
    server = serve(lambda r, s: reply(s, 200, body.encode(), {"Content-Type": ctype}))
    api = connect(server.url)
    with pytest.raises(runcrate.ApiError) as info:
        api("get_storage", "v")
    assert type(info.value) is runcrate.ApiError and info.value.code == "invalid_response"


def test_a_list_where_a_list_belongs_but_an_object_inside(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    server = serve(answer_with(body='{"data": {"id": "x"}}'))
    api = connect(server.url)
    with pytest.raises(runcrate.ApiError) as info:
        api("list_storage")
    assert info.value.code == "invalid_response"


def test_204_and_empty_deletes_are_success(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    server = serve(lambda r, s: reply(s, 204))
    api = connect(server.url)
    assert api("terminate_instance", "i") is None
    assert api("delete_ssh_key", "k") is None
    assert api("delete_storage", "v") == runcrate.StorageDeleteResult()


def test_redirects_are_not_followed_and_the_key_stays_home(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    elsewhere = serve(answer_with())
    server = serve(lambda r, s: reply(s, 302, b"", {"Location": elsewhere.url + "/api/v1/instances"}))
    api = connect(server.url)
    with pytest.raises(runcrate.ApiError) as info:
        api("list_instances")
    assert info.value.code == "invalid_response" and info.value.status_code == 302
    assert elsewhere.requests == []


def test_html_502_gives_status_and_excerpt(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>"
    server = serve(lambda r, s: reply(s, 502, page.encode(), {"Content-Type": "text/html"}))
    api = connect(server.url, max_retries=0)
    with pytest.raises(runcrate.InternalServerError) as info:
        api("list_instances")
    error = info.value
    assert error.status_code == 502 and error.code == "api_error"
    assert error.message.startswith("<html><body><h1>502 Bad Gateway</h1>")
    assert len(error.message) <= 501 and len(str(error)) < 600 and len(repr(error)) < 700


def test_a_megabyte_error_message_is_cut(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    huge = json.dumps({"error": {"code": "bad_request", "message": "y" * 3_000_000}})
    server = serve(lambda r, s: json_reply(s, 400, huge))
    api = connect(server.url)
    with pytest.raises(runcrate.BadRequestError) as info:
        api("list_instances")
    assert info.value.message == "y" * 500 + "…"
    assert len(str(info.value)) < 600


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        ('{"error": {"code": "not_found", "message": "Gone"}}', "Gone", "not_found"),
        ('{"error": {"message": "Bad key", "type": "invalid_request_error", "code": null}}', "Bad key", "api_error"),
        ('{"error": "plain text"}', "plain text", "api_error"),
        ('{"message": "top level", "code": "c1"}', "top level", "c1"),
        ('{"detail": "fastapi style"}', "fastapi style", "api_error"),
        ('{"something": "else"}', '{"something": "else"}', "api_error"),
        ("", "HTTP 404", "api_error"),
    ],
)
def test_every_error_envelope_is_understood(
    serve: Callable[..., TinyServer], body: str, message: str, code: str, connect: Callable[..., Any]
) -> None:
    server = serve(lambda r, s: json_reply(s, 404, body))
    api = connect(server.url)
    with pytest.raises(runcrate.NotFoundError) as info:
        api("get_instance", "x")
    assert info.value.message == message and info.value.code == code


def test_connection_reset_in_the_middle_of_the_body(
    serve: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    def half(request: Request, sock: socket.socket) -> None:
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data": [')
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    server = serve(half)
    api = connect(server.url, max_retries=0)
    with pytest.raises(runcrate.ConnectionError) as info:
        api("list_instances")
    assert info.value.code == "connection_error"


def test_connect_timeout_is_told_apart_from_read_timeout(connect: Callable[..., Any]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue so the next connect never completes
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    time.sleep(0.05)
    api = connect(f"http://127.0.0.1:{port}", timeout=0.2)
    try:
        with pytest.raises(runcrate.TimeoutError) as info:
            api("list_instances")
        assert info.value.code == "connect_timeout"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_no_library_exception_escapes(serve: Callable[..., TinyServer], connect: Callable[..., Any]) -> None:
    server = serve(lambda r, s: s.sendall(b"garbage that is not HTTP\r\n\r\n"))
    api = connect(server.url, max_retries=0)
    with pytest.raises(runcrate.ConnectionError):
        api("list_instances")


def test_proxy_variables_are_honoured(
    serve: Callable[..., TinyServer], connect: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve(answer_with())
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("http_proxy", proxy.url)
    api = connect("http://localhost:9", max_retries=0)  # nothing listens there: only the proxy can answer
    assert api("list_instances") == []
    assert proxy.requests[0].target == "http://localhost:9/api/v1/instances"
