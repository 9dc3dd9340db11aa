"""Retries through the emulator's faults: what is sent again, and what never is."""

from __future__ import annotations

import email.utils
import time
from typing import Any, Callable

import pytest

import runcrate

CREATE = "POST /api/v1/instances"
LIST = "GET /api/v1/instances"
SPEC = {"name": "run", "ssh_key_id": "key_1", "gpu_type": "A100"}


def test_get_is_retried_after_503_with_retry_after(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", status=503, retry_after="0", count=2)
    assert api("list_instances") == []
    assert emu.count(LIST) == 3


@pytest.mark.parametrize("status", [500, 502, 504])
def test_get_is_retried_on_server_errors(api: Any, emu: Any, status: int) -> None:
    emu.fail("/api/v1/billing/balance", status=status, retry_after="0")
    assert api("get_balance").credits_balance == 100.0
    assert emu.count("GET /api/v1/billing/balance") == 2


def test_retries_run_out_into_the_typed_error(connect: Callable[..., Any], emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", status=503, retry_after="0", count=10)
    api = connect(emu.url, max_retries=2)
    with pytest.raises(runcrate.InternalServerError) as info:
        api("list_instances")
    assert info.value.status_code == 503 and info.value.code == "unavailable"
    assert emu.count(LIST) == 3


def test_max_retries_zero_is_one_attempt(connect: Callable[..., Any], emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", status=503, retry_after="0")
    with pytest.raises(runcrate.InternalServerError):
        connect(emu.url, max_retries=0)("list_instances")
    assert emu.count(LIST) == 1


def test_create_is_not_sent_again_after_its_answer_was_lost(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/instances", method="POST", drop="after_body")
    with pytest.raises(runcrate.ConnectionError):
        api("create_instance", **SPEC)
    assert emu.count(CREATE) == 1
    assert len(api("list_instances")) == 1  # it was launched: the caller checks before trying again


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_is_not_retried_on_server_errors(api: Any, emu: Any, status: int) -> None:
    emu.fail("/api/v1/instances", method="POST", status=status, retry_after="0")
    with pytest.raises(runcrate.InternalServerError):
        api("create_instance", **SPEC)
    assert emu.count(CREATE) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_create_is_sent_again_after_nothing_was_done_with_the_same_key(api: Any, emu: Any, status: int) -> None:
    emu.fail("/api/v1/instances", method="POST", status=status, retry_after="0")
    inst = api("create_instance", **SPEC)
    assert inst.name == "run"
    keys = emu.idempotency_keys(CREATE)
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36


def test_each_create_call_has_its_own_key(api: Any, emu: Any) -> None:
    api("create_instance", **SPEC)
    api("create_instance", **SPEC)
    api("create_storage", name="v", size_gb=1, region="us-east-1")
    keys = emu.idempotency_keys(CREATE)
    assert len(set(keys)) == 2
    assert len(emu.idempotency_keys("POST /api/v1/storage")) == 1


def test_only_the_listed_posts_carry_an_idempotency_key(api: Any, emu: Any) -> None:
    api("create_ssh_key", name="k", public_key="ssh-ed25519 AAAA")
    api("list_instances")
    assert emu.idempotency_keys("POST /api/v1/ssh-keys") == []
    assert emu.idempotency_keys(LIST) == []


def test_ssh_key_create_is_not_resent_after_a_lost_answer(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/ssh-keys", method="POST", drop="after_body")
    with pytest.raises(runcrate.ConnectionError):
        api("create_ssh_key", name="k", public_key="ssh-ed25519 AAAA")
    assert emu.count("POST /api/v1/ssh-keys") == 1


def test_get_is_retried_after_a_dropped_connection(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", drop="before_body")
    assert api("list_instances") == []
    assert emu.count(LIST) == 2


def test_retry_after_is_obeyed(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", status=429, retry_after="0.3")
    started = time.monotonic()
    api("list_instances")
    assert time.monotonic() - started >= 0.3
    assert emu.count(LIST) == 2


def test_read_timeout_is_a_timeout_error(connect: Callable[..., Any], emu: Any) -> None:
    emu.fail("/api/v1/instances", method="GET", delay=1.0)
    api = connect(emu.url, timeout=0.2, max_retries=0)
    with pytest.raises(runcrate.TimeoutError) as info:
        api("list_instances")
    assert info.value.code == "read_timeout"
    assert isinstance(info.value, TimeoutError)  # the builtin, too


def test_refused_connection_is_a_connection_error(connect: Callable[..., Any], free_port: int) -> None:
    api = connect(f"http://127.0.0.1:{free_port}", max_retries=1)
    with pytest.raises(runcrate.ConnectionError) as info:
        api("create_instance", **SPEC)
    assert info.value.code == "connect_error"
    assert isinstance(info.value, ConnectionError)  # the builtin, too


# --- the pure policy --------------------------------------------------------


def test_retry_after_seconds_and_dates_are_capped() -> None:
    assert runcrate.retry_delay(0, "2") == 2.0
    assert runcrate.retry_delay(0, "1.5") == 1.5
    assert runcrate.retry_delay(0, "10000") == runcrate.RETRY_AFTER_CAP
    assert runcrate.retry_delay(0, "-5") == 0.0
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 <= runcrate.retry_delay(0, soon) <= 10.0
    far = email.utils.formatdate(time.time() + 86400, usegmt=True)
    assert runcrate.retry_delay(0, far) == runcrate.RETRY_AFTER_CAP
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert runcrate.retry_delay(0, past) == 0.0


def test_backoff_doubles_with_jitter_and_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runcrate, "BACKOFF_BASE", 0.5)
    for n, base in [(0, 0.5), (1, 1.0), (2, 2.0), (10, 30.0)]:
        delays = [runcrate.retry_delay(n, None) for _ in range(50)]
        assert all(base <= d <= base * 1.25 for d in delays)
    assert runcrate.retry_delay(1, "garbage") >= 1.0


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 500, True),
        ("DELETE", 502, True),
        ("PATCH", 504, True),
        ("GET", 429, True),
        ("POST", 429, True),
        ("POST", 503, True),
        ("POST", 500, False),
        ("POST", 502, False),
        ("POST", 504, False),
        ("GET", 404, False),
        ("GET", 409, False),
    ],
)
def test_which_answers_are_retried(method: str, status: int, expected: bool) -> None:
    assert runcrate.should_retry_status(method, status) is expected
