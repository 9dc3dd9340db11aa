"""Faults, hostile input and load: nothing lost, nothing sent twice, every failure typed."""

from __future__ import annotations

import email.utils
import gc
import os
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Type

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runcrate

MODELS: List[Type[runcrate.Model]] = [
    runcrate.Instance,
    runcrate.InstanceStatus,
    runcrate.InstanceType,
    runcrate.SSHKey,
    runcrate.StorageVolume,
    runcrate.StorageRegion,
    runcrate.StorageDeleteResult,
    runcrate.Balance,
    runcrate.Transaction,
    runcrate.UsageSummary,
    runcrate.Template,
    runcrate.ChatCompletion,
    runcrate.ImageGeneration,
    runcrate.VideoJob,
    runcrate.Transcription,
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def field_names(model: Type[runcrate.Model]) -> List[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(model) if f.name != "extra"]


@st.composite
def wire_objects(draw: Any, model: Type[runcrate.Model]) -> Any:
    """Mostly objects with the model's own field names (either spelling) and arbitrary values."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    names = field_names(model)
    keys = draw(st.lists(st.sampled_from(names + [runcrate._camel(n) for n in names] + ["unknown"]), max_size=12))
    return {key: draw(JSON | st.sampled_from(["2025-01-01T00:00:00Z", 3, 2.5, "x", [], {}])) for key in keys}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_decoding_any_json_raises_nothing_but_a_runcrate_error(model: Type[runcrate.Model], data: Any) -> None:
    wire = data.draw(wire_objects(model))
    try:
        decoded = runcrate.decode(model, wire)
    except runcrate.RuncrateError as error:
        assert error.code == "invalid_response"
    else:
        assert isinstance(decoded, model)


# --- faults that must not cause a second launch ---------------------------------------------


@pytest.mark.parametrize(
    ("op", "route", "kwargs"),
    [
        ("create_instance", "/api/v1/instances", {"name": "n", "ssh_key_id": "k", "gpu_type": "A100"}),
        ("create_storage", "/api/v1/storage", {"name": "v", "size_gb": 10, "region": "us-east-1"}),
        ("create_ssh_key", "/api/v1/ssh-keys", {"name": "k", "public_key": "ssh-ed25519 AAAAreliability"}),
        (
            "create_schedule",
            "/api/v1/schedules",
            {"kind": "job", "spec": {"max_runtime_minutes": 5}, "cron": "0 3 * * *"},
        ),
        ("create_job_upload", "/api/v1/jobs/uploads", {"bytes": 10}),
    ],
)
@pytest.mark.parametrize("fault", [{"drop": "after_body"}, {"drop": "before_body"}, {"status": 502}, {"status": 504}])
def test_creates_are_never_sent_twice_after_they_may_have_arrived(
    api: Any, emu: Any, op: str, route: str, kwargs: Dict[str, Any], fault: Dict[str, Any]
) -> None:
    emu.fail(route, method="POST", **fault)
    with pytest.raises((runcrate.ConnectionError, runcrate.InternalServerError)):
        api(op, **kwargs)
    assert emu.count(f"POST {route}") == 1


def test_retry_after_as_an_http_date_is_obeyed(api: Any, emu: Any) -> None:
    when = email.utils.formatdate(time.time() + 1.5, usegmt=True)  # whole seconds: waits 0.5 to 1.5 s
    emu.fail("/api/v1/instances", method="POST", status=503, retry_after=when)
    started = time.monotonic()
    api("create_instance", name="n", ssh_key_id="k", gpu_type="A100")
    assert 0.4 <= time.monotonic() - started <= 5
    assert emu.count("POST /api/v1/instances") == 2


def test_a_sequence_of_server_errors_ends_in_success(api: Any, emu: Any) -> None:
    for status in (500, 502, 503):
        emu.fail("/api/v1/storage", method="GET", status=status, retry_after="0")
    assert api("list_storage") == []
    assert emu.count("GET /api/v1/storage") == 4


def test_the_key_never_appears_in_an_error_even_when_the_server_echoes_it(
    connect: Callable[..., Any], emu: Any
) -> None:
    key = "rc_live_secret_key_echoed_12345678"
    emu.fail(
        "/api/v1/billing/balance", status=400, body={"error": {"code": "bad_request", "message": f"bad key {key}"}}
    )
    api = connect(emu.url, api_key=key)
    with pytest.raises(runcrate.BadRequestError) as info:
        api("get_balance")
    for text in (info.value.message, str(info.value), repr(info.value)):
        assert key not in text and "rc_live_…5678" in text


def test_debug_logging_names_the_request_and_never_the_key(
    connect: Callable[..., Any], emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = "rc_live_logged_key_000000009999"
    api = connect(emu.url, api_key=key)
    with caplog.at_level("DEBUG"):
        api("list_instances")
    lines = [r.getMessage() for r in caplog.records if r.name == "runcrate"]
    assert any(f"GET {emu.url}/api/v1/instances -> 200" in line and "req_" in line for line in lines), lines
    assert all(key not in r.getMessage() and key not in str(r.args) for r in caplog.records)


def test_plain_http_to_another_host_warns() -> None:
    with pytest.warns(runcrate.InsecureURLWarning, match="plain http"):
        runcrate.Session("rc_live_0000000000000000", base_url="http://api.example.com")
    runcrate.Session("rc_live_0000000000000000", base_url="http://localhost:8080")  # no warning: filterwarnings=error


# --- soak ------------------------------------------------------------------------------------


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


SOAK_REQUESTS = int(os.environ.get("RUNCRATE_SOAK_REQUESTS", "2000"))


@pytest.mark.soak
def test_soak_with_injected_faults(mode: str, connect: Callable[..., Any], emu: Any) -> None:
    """SOAK_REQUESTS calls with 5% faults: every one accounted for, nothing left open, memory flat."""
    api = connect(emu.url, max_retries=0)
    api("get_balance")  # warm the pool before taking the baseline (and before any fault)
    emu.fail("/api/v1/*", count=10**9, chance=0.05, status=503, retry_after="0")
    descriptors = open_descriptors()
    gc.collect()
    tracemalloc.start()
    outcomes: Dict[str, int] = {"ok": 0, "typed": 0}
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            api("list_instances") if i % 2 else api("get_balance")
            key = "ok"
        except runcrate.InternalServerError:
            key = "typed"
        with lock:
            outcomes[key] += 1

    try:
        if mode == "sync":
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(one, range(SOAK_REQUESTS)))
        else:
            import asyncio

            import runcrate_async

            async def many() -> List[Any]:
                calls = [
                    runcrate_async.list_instances(api.session) if i % 2 else runcrate_async.get_balance(api.session)
                    for i in range(SOAK_REQUESTS)
                ]
                return await asyncio.gather(*calls, return_exceptions=True)

            for result in api.run(many()):
                outcomes["typed" if isinstance(result, runcrate.InternalServerError) else "ok"] += 1
                assert not isinstance(result, BaseException) or isinstance(result, runcrate.InternalServerError)
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        emu.state.faults.clear()
    assert outcomes["ok"] + outcomes["typed"] == SOAK_REQUESTS
    assert 0 < outcomes["typed"] < SOAK_REQUESTS * 0.15
    assert current < 8 * 1024 * 1024, f"{current / 2**20:.1f} MiB still held"
    api.close()
    deadline = time.monotonic() + 3  # the emulator, in this process too, closes its ends as it notices
    while open_descriptors() > descriptors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_descriptors() <= descriptors


def test_a_host_name_that_does_not_resolve(connect: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver answers 'no such name' for one host (no query leaves this machine)."""
    import socket

    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.nowhere.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    api = connect("https://api.nowhere.invalid", max_retries=0)
    with pytest.raises(runcrate.ConnectionError) as info:
        api("list_instances")
    assert info.value.code == "dns_error" and "nowhere.invalid" in info.value.message


def test_runcrate_log_debug_turns_the_request_log_on(emu: Any) -> None:
    import subprocess
    import sys

    script = (
        "import runcrate\n"
        f"s = runcrate.Session('rc_live_env_logged_0000000001', base_url='{emu.url}')\n"
        "runcrate.list_instances(s); s.close()\n"
    )
    env = {**os.environ, "RUNCRATE_LOG": "debug"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"runcrate INFO GET {emu.url}/api/v1/instances -> 200" in done.stderr
    assert "rc_live_env_logged_0000000001" not in done.stderr
    quiet = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert quiet.stderr == ""
