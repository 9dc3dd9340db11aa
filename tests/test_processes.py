"""The processes users run: forked workers, one event loop per invocation, thread pools."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List

import aiohttp
import pytest

import runcrate
import runcrate_async
from runcrate_async import AsyncRuncrate

# A parent that warmed its pool, then forks; parent and child each ask 300 times for their own
# instance at the same moment. Every answer must be the one asked for, and neither may stall.
FORK_SYNC = """
import json, os, sys, time
import runcrate
url, mine, theirs = sys.argv[1:4]
session = runcrate.Session("rc_live_forked_000000000000", base_url=url, max_retries=0)
runcrate.get_instance(session, mine)
pid = os.fork()
wanted = theirs if pid == 0 else mine
wrong, slowest = 0, 0.0
for _ in range(300):
    started = time.monotonic()
    wrong += runcrate.get_instance(session, wanted).id != wanted
    slowest = max(slowest, time.monotonic() - started)
if pid == 0:
    os._exit(0 if wrong == 0 else 1)
_, status = os.waitpid(pid, 0)
session.close()
print(json.dumps({"wrong": wrong, "child_status": status, "slowest": slowest}))
"""

FORK_ASYNC = """
import asyncio, json, os, sys, time
import runcrate_async
url, mine, theirs = sys.argv[1:4]
session = runcrate_async.AsyncSession("rc_live_forked_000000000000", base_url=url, max_retries=0)
loop = asyncio.new_event_loop()  # the parent's loop stays open across the fork, as a worker's would
loop.run_until_complete(runcrate_async.get_instance(session, mine))

async def ask(wanted):
    wrong, slowest = 0, 0.0
    for _ in range(300):
        started = time.monotonic()
        wrong += (await runcrate_async.get_instance(session, wanted)).id != wanted
        slowest = max(slowest, time.monotonic() - started)
    return wrong, slowest

pid = os.fork()
if pid == 0:
    wrong, _ = asyncio.run(ask(theirs))
    os._exit(0 if wrong == 0 else 1)
wrong, slowest = loop.run_until_complete(ask(mine))
_, status = os.waitpid(pid, 0)
loop.run_until_complete(session.close())
loop.close()
print(json.dumps({"wrong": wrong, "child_status": status, "slowest": slowest}))
"""


@pytest.mark.parametrize("script", [FORK_SYNC, FORK_ASYNC], ids=["sync", "async"])
def test_a_forked_child_never_shares_the_parents_connections(emu: Any, script: str) -> None:
    client = emu.client
    mine = client.instances.create(name="parent", ssh_key_id="k", gpu_type="A100").id
    theirs = client.instances.create(name="child", ssh_key_id="k", gpu_type="A100").id
    done = subprocess.run(
        [sys.executable, "-c", script, emu.url, mine, theirs], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report == {**report, "wrong": 0, "child_status": 0}, done.stderr
    assert report["slowest"] < 2.0
    assert "Unclosed" not in done.stderr and "Traceback" not in done.stderr


def test_one_event_loop_per_invocation_with_a_module_level_client(emu: Any) -> None:
    """The serverless pattern: one client, asyncio.run() per invocation, nothing left open at the end."""
    client = AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, inference_url=emu.url)

    async def invocation() -> float:
        return (await client.billing.get_balance()).credits_balance

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        balances = [asyncio.run(invocation()) for _ in range(3)]
        gc.collect()
    assert balances == [100.0, 100.0, 100.0]
    assert [str(w.message) for w in caught] == []


def test_a_callers_client_session_from_another_loop_is_a_clear_error(emu: Any) -> None:
    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    first = asyncio.new_event_loop()
    http = first.run_until_complete(make())
    client = AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, http=http)
    try:
        with pytest.raises(runcrate.RuncrateError) as info:
            asyncio.run(client.billing.get_balance())
        assert info.value.code == "wrong_event_loop" and "inside the loop" in info.value.message
    finally:
        first.run_until_complete(http.close())
        first.close()


def test_a_client_used_after_close_reopens(mode: str, connect: Any, emu: Any) -> None:
    api = connect(emu.url)
    assert api("get_balance").credits_balance == 100.0
    api.close()
    api.close()  # twice is fine
    if mode == "async":
        api.loop = asyncio.new_event_loop()  # and in a new loop too
    assert api("get_balance").credits_balance == 100.0


def test_a_with_block_closes_the_client_when_an_exception_leaves_it(emu: Any) -> None:
    with pytest.raises(KeyError), runcrate.Runcrate(api_key=emu.api_key, base_url=emu.url) as client:
        client.billing.get_balance()
        raise KeyError("leaving")
    assert client.session._http is None


def test_a_default_thread_pool_never_discards_pooled_connections(emu: Any, caplog: pytest.LogCaptureFixture) -> None:
    session = emu.make_session()
    with caplog.at_level(logging.WARNING, logger="urllib3"), ThreadPoolExecutor(32) as pool:
        pages = list(pool.map(lambda _: runcrate.list_instances(session), range(1000)))
    session.close()
    assert len(pages) == 1000
    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
def test_connection_limit_must_be_a_whole_number(limit: Any) -> None:
    for make in (runcrate.Session, runcrate.Runcrate, runcrate_async.AsyncSession):
        with pytest.raises(ValueError, match="connection_limit"):
            make(api_key="rc_live_0000000000000000", connection_limit=limit)


def test_connection_limit_sizes_the_sync_pool(emu: Any) -> None:
    client = runcrate.Runcrate(api_key=emu.api_key, base_url=emu.url, connection_limit=4)
    client.billing.get_balance()
    adapter = client.session.http.get_adapter(emu.url)
    assert getattr(adapter, "_pool_maxsize") == 4  # noqa: B009
    client.close()


def test_the_emulator_says_in_one_line_that_its_port_is_taken(free_port: int) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "runcrate_emulator", "--port", str(free_port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_cancelled_async_upload_closes_the_file_it_opened(serve: Any, tmp_path: Any) -> None:
    """Cancelled mid-upload: the part being read in its thread completes, then the SDK's file is closed."""
    from tinyserver import json_reply

    drained = threading.Event()

    def slow_reader(request: Any, sock: Any) -> None:
        length = int(request.headers["content-length"]) - len(request.body)
        while length > 0:
            received = sock.recv(64 * 1024)
            if not received:
                break
            length -= len(received)
            time.sleep(0.005)
        drained.set()
        json_reply(sock, 200, '{"text": "late"}')

    server = serve(slow_reader, read_body=False)
    audio = tmp_path / "talk.wav"
    audio.write_bytes(b"RIFF" + bytes(8 * 1024 * 1024))

    async def main() -> List[str]:
        async with AsyncRuncrate(api_key="rc_live_cancelled_00000000000", inference_url=server.url) as client:
            task = asyncio.create_task(client.audio.transcriptions.create(model="openai/whisper-1", file=str(audio)))
            while not server.requests:  # the upload has begun
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            paths = open_paths()
            while not drained.is_set():  # the server reads on: the cancelled request's last bytes drain
                await asyncio.sleep(0.01)
            return paths

    started = time.monotonic()
    assert str(audio) not in asyncio.run(main())
    assert time.monotonic() - started < 5


def open_paths() -> List[str]:
    import os

    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return found
