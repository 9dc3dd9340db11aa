"""What every operation gets from the pipeline: per-call options, response metadata, retries that read the answer."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests
from tinyserver import Request, json_reply

import runcrate
import runcrate_async

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmJ5vJ1b3Z0c2VjcmV0a2V5 me@laptop"
SSH_KEY_ANSWER = json.dumps({"data": {"id": "key_1", "name": "k", "public_key": KEY}})


def answer_ssh_key(request: Request, sock: Any) -> None:
    json_reply(sock, 201, SSH_KEY_ANSWER, {"X-Request-Id": "req_from_header", "X-RateLimit-Remaining": "7"})


def test_a_per_call_timeout_is_that_call_s_exactly(connect: Callable[..., Any], emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", delay=5)
    api = connect(emu.url, timeout=30, max_retries=0)
    started = time.monotonic()
    with pytest.raises(runcrate.TimeoutError):
        api("list_instances", timeout=0.5)
    assert 0.4 < time.monotonic() - started < 2.5


def test_extras_arrive_and_no_option_is_ever_in_a_body(connect: Callable[..., Any], serve: Any) -> None:
    server = serve(answer_ssh_key)
    api = connect(server.url)
    api(
        "create_ssh_key",
        name="k",
        public_key=KEY,
        timeout=5,
        max_retries=1,
        extra_headers={"X-Trace": "t-1"},
        extra_query={"dry_run": True},
        extra_body={"note": "n", "name": "replaced"},
    )
    (request,) = server.requests
    assert request.headers["x-trace"] == "t-1"
    assert request.target.endswith("/api/v1/ssh-keys?dry_run=true")
    body = json.loads(request.body)
    assert body == {"name": "replaced", "public_key": KEY, "note": "n"}


def test_chat_options_stay_out_of_the_body_and_extra_body_is_flat(connect: Callable[..., Any], serve: Any) -> None:
    completion = {"id": "c", "object": "chat.completion", "choices": [], "model": "m"}
    server = serve(lambda request, sock: json_reply(sock, 200, json.dumps(completion)))
    api = connect(server.url)
    options = {"timeout": 5, "max_retries": 0, "extra_headers": {"X-A": "1"}, "extra_query": {"q": "1"}}
    api(
        "chat_completion",
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        top_k=3,
        extra_body={"seed": 9},
        **options,
    )
    body = json.loads(server.requests[0].body)
    assert body["top_k"] == 3 and body["seed"] == 9
    assert not set(body) & set(runcrate.OPTION_NAMES)


def test_extra_body_of_an_upload_is_a_form_field(connect: Callable[..., Any], serve: Any) -> None:
    server = serve(lambda request, sock: json_reply(sock, 200, json.dumps({"text": "ok"})))
    connect(server.url)("transcribe", model="m", file=b"RIFF....", extra_body={"prompt": "names"}, timeout=5)
    body = server.requests[0].body
    assert b'name="prompt"\r\n\r\nnames\r\n' in body and b"timeout" not in body


def test_request_id_on_a_model_a_page_and_a_completion(api: Any, emu: Any) -> None:
    key = api("create_ssh_key", name="k", public_key=KEY)
    assert key._request_id and key._request_id.startswith("req_")
    page = api("list_ssh_keys")
    assert page._request_id == page.request_id and page.request_id.startswith("req_")
    completion = api(
        "chat_completion", model="meta-llama/Llama-3.3-70B-Instruct", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion._request_id and completion._request_id.startswith("req_")


def test_per_call_max_retries_overrides_the_session_s(connect: Callable[..., Any], emu: Any) -> None:
    api = connect(emu.url, max_retries=3)
    emu.fail("/api/v1/instances", method="GET", status=503)
    with pytest.raises(runcrate.InternalServerError):
        api("list_instances", max_retries=0)
    assert emu.count("GET /api/v1/instances") == 1
    strict = connect(emu.url, max_retries=0)
    emu.fail("/api/v1/instances", method="GET", status=503)
    assert strict("list_instances", max_retries=1) == []
    assert emu.count("GET /api/v1/instances") == 3


def test_connection_retries_follow_the_call_s_budget(
    connect: Callable[..., Any], free_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    api = connect(f"http://127.0.0.1:{free_port}", max_retries=3)
    with caplog.at_level(logging.INFO, logger="runcrate"), pytest.raises(runcrate.ConnectionError):
        api("get_balance", max_retries=1)
    assert sum("retry 1 in" in r.getMessage() for r in caplog.records) == 1
    assert not any("retry 2 in" in r.getMessage() for r in caplog.records)


IN_PROGRESS = {
    "error": {"code": "conflict", "message": "still working", "details": {"reason": "idempotency_in_progress"}}
}


def test_a_key_still_in_progress_is_sent_again_with_the_same_key_after_3_s(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/storage", method="POST", status=409, body=IN_PROGRESS)
    started = time.monotonic()
    volume = api("create_storage", name="v", size_gb=1, region="us-east-1")
    assert volume.name == "v" and time.monotonic() - started >= 3.0
    first, second = emu.idempotency_keys("POST /api/v1/storage")
    assert first == second


def test_in_progress_without_a_key_and_other_conflicts_are_answered(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/ssh-keys", method="POST", status=409, body=IN_PROGRESS)
    with pytest.raises(runcrate.ConflictError):
        api("create_ssh_key", name="k", public_key=KEY)
    assert emu.count("POST /api/v1/ssh-keys") == 1


def test_launch_refused_is_never_retried(api: Any, emu: Any) -> None:
    refused = {"error": {"code": "launch_refused", "message": "the machine was refused"}}
    emu.fail("/api/v1/instances/*", method="GET", status=502, body=refused)
    with pytest.raises(runcrate.InternalServerError) as info:
        api("get_instance", "inst_1")
    assert info.value.code == "launch_refused" and emu.count("GET /api/v1/instances/{id}") == 1


def test_a_caller_s_requests_session_keeps_the_retries_and_its_hooks(emu: Any) -> None:
    own = requests.Session()
    seen: List[int] = []
    own.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response.status_code))
    emu.fail("/api/v1/instances", method="GET", status=503)
    with runcrate.Session("rc_live_test_key_0123456789", base_url=emu.url, http=own, max_retries=2) as session:
        assert runcrate.list_instances(session) == []
    assert seen == [503, 200]
    own.close()


# --- client views: with_options and with_raw_response -------------------------------


@pytest.fixture
def clients(emu: Any, mode: str) -> Iterator[Callable[..., Any]]:
    """clients(**options): a client of the mode and a function that runs what its methods return; closed after."""
    import asyncio

    loop = asyncio.new_event_loop()
    made: List[Any] = []

    def make(**options: Any) -> Any:
        if mode == "sync":
            made.append(emu.make_client(**options))
            return made[-1], lambda result: result
        made.append(
            runcrate_async.AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, inference_url=emu.url, **options)
        )
        return made[-1], loop.run_until_complete

    yield make
    for client in made:
        closing = client.close()
        if closing is not None:
            loop.run_until_complete(closing)
    loop.close()


def test_with_options_shares_the_pool_and_leaves_the_client_alone(clients: Any, emu: Any, mode: str) -> None:
    client, run = clients(max_retries=3, timeout=30)
    quick = client.with_options(max_retries=0, timeout=5, headers={"X-Team": "a"})
    assert type(quick) is type(client) and quick.session.max_retries == 0 and quick.session.timeout == 5
    assert client.session.max_retries == 3 and client.session.timeout == 30 and "X-Team" not in client.session.headers
    emu.fail("/api/v1/billing/balance", method="GET", status=503)
    with pytest.raises(runcrate.InternalServerError):
        run(quick.billing.get_balance())
    emu.fail("/api/v1/billing/balance", method="GET", status=503)
    assert run(client.billing.get_balance()).credits_balance > 0
    if mode == "sync":
        assert quick.session.http is client.session.http
    else:
        assert run(_same_pool(quick, client))


async def _same_pool(one: Any, other: Any) -> bool:
    return bool(one.session.http is other.session.http)


def test_with_raw_response_gives_headers_status_request_id_and_parse(clients: Any, emu: Any, mode: str) -> None:
    client, run = clients()
    raw = run(client.with_raw_response.billing.get_balance())
    assert raw.status_code == 200 and raw.headers["X-REQUEST-ID"] == raw.request_id
    assert raw.parse().credits_balance > 0 and raw.parse() is raw.parse()
    chat = run(
        client.with_raw_response.chat.completions.create(
            model="meta-llama/Llama-3.3-70B-Instruct", messages=[{"role": "user", "content": "hi"}]
        )
    )
    assert chat.headers["x-ratelimit-limit"] == "600" and chat.parse().choices
    page = run(client.with_raw_response.instances.list())
    assert page.request_id == page.parse().request_id
    with pytest.raises(runcrate.NotFoundError):
        run(client.with_raw_response.instances.get("inst_missing"))
    assert run(client.instances.list()) == []  # the client itself is unchanged


def test_a_raw_stream_comes_with_its_headers(clients: Any, emu: Any, mode: str) -> None:
    client, run = clients()
    raw = run(
        client.with_raw_response.models.chat_completion(
            model="meta-llama/Llama-3.3-70B-Instruct", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert raw.status_code == 200 and raw.headers["x-ratelimit-limit"] == "600"
    stream = raw.parse()
    chunks: List[Dict[str, Any]] = list(stream) if mode == "sync" else run(_collect(stream))
    assert chunks and chunks[0]["choices"]


async def _collect(stream: Any) -> List[Any]:
    return [chunk async for chunk in stream]


def test_a_caller_s_idempotency_key_is_the_one_sent_on_every_attempt(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/storage", method="POST", status=503)
    api("create_storage", name="v", size_gb=1, region="us-east-1", idempotency_key="my-key-1")
    assert emu.idempotency_keys("POST /api/v1/storage") == ["my-key-1", "my-key-1"]
    api("create_instance", name="n", ssh_key_id="key_1", gpu_type="A100", idempotency_key="launch-7")
    assert emu.idempotency_keys("POST /api/v1/instances") == ["launch-7"]
    with pytest.raises(TypeError, match="idempotency_key must be a string"):
        api("create_storage", name="v", size_gb=1, region="us-east-1", idempotency_key=7)
