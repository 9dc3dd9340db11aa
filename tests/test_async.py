"""What only the asyncio module has: concurrency, cancellation, shared ClientSessions."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List

import aiohttp
import pytest

import runcrate
import runcrate_async
from runcrate import AsyncRuncrate

CHAT = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "a long story " * 30}]}


def test_async_names_resolve_lazily_from_runcrate() -> None:
    assert AsyncRuncrate is runcrate_async.AsyncRuncrate
    assert runcrate.AsyncSession is runcrate_async.AsyncSession
    with pytest.raises(AttributeError):
        runcrate.NoSuchThing  # noqa: B018
    code = (
        "import sys, runcrate; print('aiohttp' in sys.modules); "
        "from runcrate import AsyncRuncrate; print('aiohttp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_a_thousand_concurrent_calls(emu: Any) -> None:
    async def main() -> List[Any]:
        async with AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, connection_limit=100) as client:
            return await asyncio.gather(*(client.instances.list() for _ in range(1000)))

    pages = asyncio.run(main())
    assert len(pages) == 1000 and all(page == [] for page in pages)
    assert emu.count("GET /api/v1/instances") == 1000


def test_cancelling_a_task_mid_stream_closes_its_connection(emu: Any) -> None:
    emu.state.stream_delay = 0.05

    async def main() -> None:
        async with AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, inference_url=emu.url) as client:
            first = asyncio.Event()

            async def read() -> None:
                stream = await client.models.chat_completion(**CHAT, stream=True)
                async for _ in stream:
                    first.set()

            task = asyncio.create_task(read())
            await first.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    deadline = time.monotonic() + 3
    while emu.state.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emu.state.abandoned_streams == 1


def test_breaking_out_of_a_stream_closes_it(emu: Any) -> None:
    emu.state.stream_delay = 0.05

    async def main() -> bool:
        async with AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, inference_url=emu.url) as client:
            async with await client.chat.completions.create(**CHAT, stream=True) as stream:
                async for _ in stream:
                    break
            return stream.closed

    assert asyncio.run(main()) is True
    deadline = time.monotonic() + 3
    while emu.state.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emu.state.abandoned_streams == 1


def test_a_callers_client_session_is_used_and_left_open(emu: Any) -> None:
    async def main() -> bool:
        async with aiohttp.ClientSession() as http:
            client = AsyncRuncrate(api_key=emu.api_key, base_url=emu.url, http=http)
            assert (await client.billing.get_balance()).credits_balance == 100.0
            await client.close()
            return http.closed

    assert asyncio.run(main()) is False


def test_on_status_may_be_a_coroutine_function(emu: Any, tmp_path: Path) -> None:
    seen: List[str] = []

    async def on_status(job: runcrate.VideoJob) -> None:
        await asyncio.sleep(0)
        seen.append(job.status)

    async def main() -> runcrate.VideoJob:
        async with AsyncRuncrate(api_key=emu.api_key, inference_url=emu.url) as client:
            return await client.models.generate_video_and_save(
                tmp_path / "v.mp4", model="google/veo-3.0", prompt="p", poll_interval=0.0, on_status=on_status
            )

    assert asyncio.run(main()).status == "completed" and seen == ["queued", "processing", "completed"]


def test_the_public_page_async_example(emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCRATE_BASE_URL", emu.url)

    async def main() -> Any:
        from runcrate import AsyncRuncrate

        async with AsyncRuncrate(api_key="rc_live_...") as client:
            instances = await client.instances.list()
            balance = await client.billing.get_balance()
        return instances, balance

    instances, balance = asyncio.run(main())
    assert instances == [] and balance.credits_balance == 100.0


def test_image_urls_are_fetched_without_the_key(emu: Any) -> None:
    async def main() -> bytes:
        async with AsyncRuncrate(api_key=emu.api_key, inference_url=emu.url) as client:
            image = await client.images.generate(
                model="black-forest-labs/FLUX.1-schnell", prompt="p", response_format="url"
            )
            return await runcrate_async.image_bytes(image.data[0])

    assert asyncio.run(main()).startswith(b"\x89PNG") and emu.state.file_requests == [None]
