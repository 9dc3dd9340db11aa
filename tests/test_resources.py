"""Nothing left open, nothing half-written: streams, clients and files, sync and async."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, List

import pytest
from aiohttp import web

import runcrate
from runcrate_async import AsyncRuncrate

CHAT = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "one two three four"}]}
VIDEO_MODEL = "google/veo-3.0"
KEY = "rc_live_resources_000000000000"


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


# --- streams ---------------------------------------------------------------------------------


def test_async_streams_left_by_break_and_dropped_release_their_connections(emu: Any) -> None:
    """The public page's pattern, no aclose(): 150 of them, then an ordinary call still completes."""
    emu.state.stream_delay = 0.05

    async def main() -> float:
        async with AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, inference_url=emu.url) as client:
            for _ in range(150):
                stream = await client.models.chat_completion(**CHAT, stream=True)
                async for _chunk in stream:
                    break
            del stream
            gc.collect()
            await asyncio.sleep(0.05)
            balance = await asyncio.wait_for(client.billing.get_balance(), 10)
            return balance.credits_balance

    assert asyncio.run(main()) == 100.0
    assert wait_for(lambda: emu.state.abandoned_streams == 150), emu.state.abandoned_streams


def test_a_sync_stream_dropped_after_break_is_closed(emu: Any) -> None:
    emu.state.stream_delay = 0.05
    client = emu.make_client()
    stream = client.models.chat_completion(**CHAT, stream=True)
    for _chunk in stream:
        break
    assert not stream.closed  # still referenced: `with` is how to close early (the README says so)
    del stream
    gc.collect()
    assert wait_for(lambda: emu.state.abandoned_streams == 1)
    with client.models.chat_completion(**CHAT, stream=True) as stream:
        for _chunk in stream:
            break
    assert stream.closed and wait_for(lambda: emu.state.abandoned_streams == 2)
    client.close()


def test_a_complete_async_stream_hands_its_connection_back(serve: Any) -> None:
    """A keep-alive server whose body ends a moment after [DONE]: the next call reuses the connection."""
    from tinyserver import read_request

    connections: List[int] = []

    def keep_alive(request: Any, sock: Any) -> None:
        connections.append(1)
        while request is not None:
            if request.target.startswith("/v1/chat"):
                sock.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                for event in (b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n', b"data: [DONE]\n\n"):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(event), event))
                time.sleep(0.01)
                sock.sendall(b"0\r\n\r\n")
            else:
                body = b'{"data": {"creditsBalance": 5, "activeUsageCost": 0}}'
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                sock.sendall(head.encode() + body)
            request = read_request(sock)

    server = serve(keep_alive)

    async def main() -> str:
        async with AsyncRuncrate(api_key=KEY, base_url=server.url, inference_url=server.url) as client:
            text = ""
            for _ in range(3):
                async for chunk in await client.models.chat_completion(**CHAT, stream=True):
                    text += chunk["choices"][0]["delta"].get("content", "")
            await client.billing.get_balance()
            return text

    assert asyncio.run(main()) == "hihihi"
    assert len(connections) == 1


def test_a_relay_whose_web_client_leaves_stops_the_upstream_stream(emu: Any) -> None:
    """An aiohttp handler relaying a chat stream: its web client disconnects mid-relay."""
    emu.state.stream_delay = 0.05
    words = " ".join(f"w{i}" for i in range(200))

    async def main() -> None:
        client = AsyncRuncrate(api_key=emu.api_key, inference_url=emu.url)

        async def relay(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            await response.prepare(request)
            messages = [{"role": "user", "content": words}]
            async with await client.models.chat_completion(model=CHAT["model"], messages=messages, stream=True) as s:
                async for chunk in s:
                    await response.write(repr(chunk).encode())
            return response

        app = web.Application()
        app.router.add_get("/relay", relay)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /relay HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.read(200)
        writer.close()  # the web client goes away mid-relay
        deadline = time.monotonic() + 5
        while emu.state.abandoned_streams == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await runner.cleanup()
        await client.close()

    asyncio.run(main())
    assert emu.state.abandoned_streams == 1


def test_closing_the_client_closes_its_open_streams(mode: str, connect: Any, emu: Any) -> None:
    emu.state.stream_delay = 0.05
    api = connect(emu.url)
    stream = api("chat_completion", **CHAT, stream=True)
    api.next_chunk(stream)
    if mode == "sync":
        api.session.close()
    else:
        api.run(api.session.close())
    assert stream.closed and wait_for(lambda: emu.state.abandoned_streams == 1)
    with pytest.raises(runcrate.ConnectionError) as info:
        api.chunks(stream)
    assert info.value.code == "stream_closed"
    assert api.chunks(stream) == []  # then it has ended


# --- files ------------------------------------------------------------------------------------


def test_a_callback_error_in_a_download_is_raised_as_it_is(api: Any, tmp_path: Path) -> None:
    job = api("generate_video", model=VIDEO_MODEL, prompt="p")
    while job.status != "completed":
        job = api("get_video_status", job.id)

    def refuse(done: int, total: Any) -> None:
        raise OSError(28, "No space left on device (the caller's own)")

    with pytest.raises(OSError) as info:
        api("download_video_to_file", job.id, tmp_path / "v.mp4", on_progress=refuse)
    assert not isinstance(info.value, runcrate.RuncrateError) and info.value.errno == 28
    assert list(tmp_path.iterdir()) == []


FULL_DISK = """
import asyncio, resource, signal, sys
import runcrate, runcrate_async
url, video_id, target, mode = sys.argv[1:5]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    if mode == "sync":
        session = runcrate.Session("rc_live_disk_00000000000000", inference_url=url)
        runcrate.download_video_to_file(session, video_id, target)
    else:
        async def main():
            async with runcrate_async.AsyncSession("rc_live_disk_00000000000000", inference_url=url) as s:
                await runcrate_async.download_video_to_file(s, video_id, target)
        asyncio.run(main())
except runcrate.RuncrateError as error:
    print("sdk", type(error).__name__, error.code)
except OSError as error:
    print("local", error.errno)
"""


def test_a_full_disk_during_a_download_is_a_local_error(mode: str, emu: Any, tmp_path: Path) -> None:
    """The file may grow to 64 KiB only (RLIMIT_FSIZE), as on a disk that fills up: EFBIG, not a network error."""
    client = emu.client
    job = client.models.generate_video(model=VIDEO_MODEL, prompt="p")
    while job.status != "completed":
        job = client.models.get_video_status(job.id)
    target = tmp_path / "v.mp4"
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, emu.url, job.id, str(target), mode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split() == ["local", str(27)], done.stdout + done.stderr  # EFBIG
    assert list(tmp_path.iterdir()) == []


def test_a_failed_image_fetch_leaves_no_file_and_an_existing_one_intact(free_port: int, tmp_path: Path) -> None:
    image = runcrate.ImageData(url=f"http://127.0.0.1:{free_port}/img.png")
    with pytest.raises(runcrate.ConnectionError):
        image.save(tmp_path / "new.png")
    existing = tmp_path / "old.png"
    existing.write_bytes(b"the old picture")
    with pytest.raises(runcrate.ConnectionError):
        image.save(existing)
    assert existing.read_bytes() == b"the old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]


def test_an_interrupted_image_save_keeps_the_existing_file(serve: Any, tmp_path: Path) -> None:
    def half(request: Any, sock: Any) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)

    server = serve(half)
    existing = tmp_path / "cat.png"
    existing.write_bytes(b"the old picture")
    with pytest.raises(runcrate.ConnectionError):
        runcrate.ImageData(url=server.url + "/cat.png").save(existing)
    assert existing.read_bytes() == b"the old picture" and [p.name for p in tmp_path.iterdir()] == ["cat.png"]


def test_async_image_fetch_errors_are_typed(free_port: int, serve: Any) -> None:
    import runcrate_async

    refused = runcrate.ImageData(url=f"http://127.0.0.1:{free_port}/img.png")
    with pytest.raises(runcrate.ConnectionError) as info:
        asyncio.run(runcrate_async.image_bytes(refused))
    assert info.value.code == "connect_error"

    def stall(request: Any, sock: Any) -> None:
        time.sleep(3)

    stalled = runcrate.ImageData(url=serve(stall).url + "/img.png")
    started = time.monotonic()
    with pytest.raises(runcrate.TimeoutError):
        asyncio.run(runcrate_async.image_bytes(stalled, timeout=0.5))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("where", ["missing", "unwritable"])
def test_a_video_save_checks_its_destination_before_the_paid_submit(
    api: Any, emu: Any, tmp_path: Path, where: str
) -> None:
    target = tmp_path / "no" / "such" / "dir.mp4" if where == "missing" else Path("/proc/runcrate-test.mp4")
    with pytest.raises(OSError):
        api("generate_video_and_save", target, model=VIDEO_MODEL, prompt="p", poll_interval=0.0)
    assert emu.count("POST /v1/videos") == 0


def test_a_failing_poll_keeps_the_paid_job(api: Any, emu: Any, tmp_path: Path) -> None:
    seen: List[str] = []
    emu.fail("/v1/videos/*", method="GET", status=502, count=10)
    with pytest.raises(runcrate.InternalServerError) as info:
        api(
            "generate_video_and_save", tmp_path / "v.mp4", model=VIDEO_MODEL, prompt="p", poll_interval=0.0,
            on_status=lambda job: seen.append(job.id),
        )  # fmt: skip
    job = info.value.job
    assert isinstance(job, runcrate.VideoJob) and job.id.startswith("vid_") and seen == [job.id]
    assert emu.count("GET /v1/videos/{id}") == 4  # the first poll and its three retries
    assert list(tmp_path.iterdir()) == []
    emu.state.faults.clear()
    assert api("get_video_status", job.id).id == job.id  # the job can be resumed


def test_transient_poll_failures_are_retried(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.fail("/v1/videos/*", method="GET", status=502, count=2)
    job = api("generate_video_and_save", tmp_path / "v.mp4", model=VIDEO_MODEL, prompt="p", poll_interval=0.0)
    assert job.status == "completed" and (tmp_path / "v.mp4").stat().st_size > 0


def test_the_temporary_file_is_made_exclusively_under_an_unpredictable_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = runcrate.FileDownload(tmp_path / "v.mp4"), runcrate.FileDownload(tmp_path / "v.mp4")
    assert first.partial != second.partial
    first.abandon()
    second.abandon()
    monkeypatch.setattr(os, "urandom", lambda n: bytes(n))  # make the name predictable, then plant a symlink there
    planted = tmp_path / f".v.mp4.{bytes(8).hex()}.part"
    planted.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        runcrate.FileDownload(tmp_path / "v.mp4")
    assert not (tmp_path / "elsewhere").exists()


def test_an_upload_the_sdk_opened_is_closed_when_the_error_arrives(
    mode: str, connect: Any, emu: Any, tmp_path: Path
) -> None:
    from test_processes import open_paths

    audio = tmp_path / "talk.wav"
    audio.write_bytes(b"RIFF" + bytes(2 * 1024 * 1024))
    api = connect(emu.url, max_retries=0)

    def paths_open_when_the_error_arrives(file: Any) -> List[str]:
        emu.fail("/v1/audio/transcriptions", drop="before_body")
        if mode == "sync":
            with pytest.raises(runcrate.ConnectionError):
                runcrate.transcribe(api.session, model="openai/whisper-1", file=file)
            return open_paths()

        async def attempt() -> List[str]:
            with pytest.raises(runcrate.ConnectionError):
                await api.module.transcribe(api.session, model="openai/whisper-1", file=file)
            return open_paths()  # at once, before the loop runs anything else

        return api.run(attempt())

    assert str(audio) not in paths_open_when_the_error_arrives(str(audio))
    with audio.open("rb") as mine:  # a file the caller passed stays the caller's
        paths_open_when_the_error_arrives(mine)
        assert not mine.closed


def test_ctrl_c_while_a_sync_stream_waits_closes_it_and_the_client_stays_usable(emu: Any) -> None:
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    emu.state.stream_delay = 1.0
    client = emu.make_client()
    stream = client.models.chat_completion(**CHAT, stream=True)
    next(stream)
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            next(stream)  # blocked in the read when Ctrl-C comes
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert stream.closed and wait_for(lambda: emu.state.abandoned_streams == 1)
    assert client.billing.get_balance().credits_balance == 100.0
    client.close()
