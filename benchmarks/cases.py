"""One measurement in a fresh process: python benchmarks/cases.py CASE SIDE URL [--quick].

SIDE is ``sdk`` (whatever ``runcrate`` this interpreter imports: ours, or the
official runcrate-sdk in its own virtualenv) or ``raw`` (requests/aiohttp
doing the same HTTP work by hand). Prints one JSON object: wall and CPU
seconds, plus the case's own figures.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()
STARTED_CPU = time.process_time()

import json  # noqa: E402 - the clock starts before any import
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from typing import Any, Callable, Dict  # noqa: E402

KEY = "rc_live_benchmark_000000000000"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def rss() -> int:
    """Resident memory now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(work: Callable[[], Any]) -> Dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


# --- cases ------------------------------------------------------------------------


def import_(side: str, url: str, quick: bool) -> Dict[str, float]:
    before = rss()
    figures = timed(lambda: __import__("runcrate" if side == "sdk" else "requests"))
    figures["rss_growth"] = rss() - before
    return figures


def cold_start(side: str, url: str, quick: bool) -> Dict[str, float]:
    if side == "sdk":
        from runcrate import Runcrate

        client = Runcrate(api_key=KEY, base_url=url + "/small")
        assert len(client.instances.list()) == 50
    else:
        import requests

        answer = requests.Session().get(url + "/small/api/v1/instances", headers=HEADERS, timeout=60)
        assert len(answer.json()["data"]) == 50
    return {"wall": time.perf_counter() - STARTED, "cpu": time.process_time() - STARTED_CPU}


def _calls(side: str, base: str, count: int, size: int, resource: str = "instances") -> Dict[str, float]:
    """``count`` list calls of ``resource`` answering ``size`` items each; CPU per call and per item."""
    if side == "sdk":
        from runcrate import Runcrate

        listing = getattr(Runcrate(api_key=KEY, base_url=base), resource)
        listing.list()  # connection and lazy set-up are not what is measured

        def work() -> None:
            for _ in range(count):
                answer = listing.list()
                assert len(getattr(answer, "data", answer)) == size  # the official jobs.list answers a page

    else:
        import requests

        http, url = requests.Session(), f"{base}/api/v1/{resource}"
        http.get(url, headers=HEADERS, timeout=60)

        def work() -> None:
            for _ in range(count):
                assert len(http.get(url, headers=HEADERS, timeout=60).json()["data"]) == size

    figures = timed(work)
    figures["per_call_us"] = figures["cpu"] / count * 1e6
    figures["per_object_us"] = figures["cpu"] / (count * size) * 1e6
    return figures


def small_call(side: str, url: str, quick: bool) -> Dict[str, float]:
    return _calls(side, url + "/small", 300 if quick else 2000, 50)


def large_list(side: str, url: str, quick: bool) -> Dict[str, float]:
    return _calls(side, url + "/large", 3 if quick else 10, 5000)


def jobs_list(side: str, url: str, quick: bool) -> Dict[str, float]:
    return _calls(side, url, 3 if quick else 10, 1000, resource="jobs")


def follow_logs(side: str, url: str, quick: bool) -> Dict[str, float]:
    total = 20_000 if quick else 100_000
    base, seen = f"{url}/l{total}", 0
    if side == "sdk":
        from runcrate import Runcrate

        client = Runcrate(api_key=KEY, base_url=base)

        def work() -> None:
            nonlocal seen
            for chunk in client.jobs.follow_logs("job_bench"):
                seen += len(chunk.text) > 0

    else:
        import requests

        http = requests.Session()

        def work() -> None:
            nonlocal seen
            after, done = 0, False
            while not done:
                params = {"after": after, "follow": "true"}
                answer = http.get(base + "/api/v1/jobs/job_bench/logs", params=params, headers=HEADERS, timeout=60)
                page = answer.json()["data"]
                seen += sum(len(chunk["text"]) > 0 for chunk in page["chunks"])
                after, done = max(after, page["cursor"]), page["done"]

    figures = timed(work)
    assert seen == total, seen
    figures["chunks_per_s"] = total / figures["wall"]
    figures["per_chunk_us"] = figures["cpu"] / total * 1e6
    return figures


def async_fanout(side: str, url: str, quick: bool) -> Dict[str, float]:
    import asyncio

    count = 500 if quick else 2000

    async def sdk() -> None:
        from runcrate import AsyncRuncrate

        async with AsyncRuncrate(api_key=KEY, base_url=url + "/small") as client:
            await client.instances.list()
            figures.update(await timed_async(lambda: asyncio.gather(*(client.instances.list() for _ in range(count)))))

    async def raw() -> None:
        import aiohttp

        async def one(http: Any) -> Any:
            async with http.get(url + "/small/api/v1/instances", headers=HEADERS) as answer:
                return await answer.json()

        async with aiohttp.ClientSession() as http:
            await one(http)
            figures.update(await timed_async(lambda: asyncio.gather(*(one(http) for _ in range(count)))))

    async def timed_async(work: Callable[[], Any]) -> Dict[str, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        results = await work()
        assert len(results) == count
        return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}

    figures: Dict[str, float] = {}
    asyncio.run(sdk() if side == "sdk" else raw())
    figures["requests_per_s"] = count / figures["wall"]
    return figures


class StreamClock:
    """First-event latency, then throughput from the second event on (the server pauses 0.2 s after the first)."""

    def __init__(self) -> None:
        self.count = 0
        self.first_ms = 0.0
        self.wall = self.cpu = 0.0

    def saw(self, chunk: Dict[str, Any]) -> None:
        self.count += 1
        if self.count == 1:
            self.first_ms = (time.time() - chunk["sent_at"]) * 1000
        elif self.count == 2:
            self.wall, self.cpu = time.perf_counter(), time.process_time()

    def figures(self, expected: int) -> Dict[str, float]:
        assert self.count == expected, (self.count, expected)
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return {"wall": wall, "cpu": cpu, "events_per_s": (self.count - 1) / wall, "first_event_ms": self.first_ms}


def streaming(side: str, url: str, quick: bool) -> Dict[str, float]:
    events = 20_000 if quick else 100_000
    base = f"{url}/e{events}"
    clock = StreamClock()
    if side == "sdk":
        from runcrate import Runcrate

        client = Runcrate(api_key=KEY, inference_url=base)
        for chunk in client.models.chat_completion(
            model="m", messages=[{"role": "user", "content": "go"}], stream=True
        ):
            clock.saw(chunk)
    else:
        import requests

        answer = requests.post(
            base + "/v1/chat/completions", json={"stream": True}, headers=HEADERS, stream=True, timeout=60
        )
        for line in answer.iter_lines(chunk_size=None):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                clock.saw(json.loads(line[6:]))
    return clock.figures(events)


def streaming_async(side: str, url: str, quick: bool) -> Dict[str, float]:
    import asyncio

    events = 20_000 if quick else 100_000
    base = f"{url}/e{events}"
    clock = StreamClock()

    async def main() -> None:
        from runcrate import AsyncRuncrate

        async with AsyncRuncrate(api_key=KEY, inference_url=base) as client:
            messages = [{"role": "user", "content": "go"}]
            stream = await client.models.chat_completion(model="m", messages=messages, stream=True)
            async for chunk in stream:
                clock.saw(chunk)

    asyncio.run(main())
    return clock.figures(events)


def video_download(side: str, url: str, quick: bool) -> Dict[str, float]:
    size = (64 if quick else 512) * 1024 * 1024
    from runcrate import Runcrate

    client = Runcrate(api_key=KEY, inference_url=f"{url}/s{size}")
    with tempfile.TemporaryDirectory() as folder:
        before = rss()
        figures = timed(
            lambda: client.models.generate_video_and_save(
                os.path.join(folder, "v.mp4"), model="google/veo-3.0", prompt="p", poll_interval=0
            )
        )
        assert os.path.getsize(os.path.join(folder, "v.mp4")) == size
    figures["peak_rss_growth"] = peak_rss() - before
    return figures


def transcription_upload(side: str, url: str, quick: bool) -> Dict[str, float]:
    size = (32 if quick else 256) * 1024 * 1024
    from runcrate import Runcrate

    client = Runcrate(api_key=KEY, inference_url=url)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "long.wav")
        with open(path, "wb") as out:
            out.truncate(size)
        before = rss()
        with open(path, "rb") as f:
            figures = timed(lambda: client.models.transcribe(model="openai/whisper-1", file=f, filename="long.wav"))
    figures["peak_rss_growth"] = peak_rss() - before
    return figures


def artifact_download(side: str, url: str, quick: bool) -> Dict[str, float]:
    size = (64 if quick else 512) * 1024 * 1024
    from runcrate import Runcrate

    client = Runcrate(api_key=KEY, base_url=f"{url}/s{size}")
    with tempfile.TemporaryDirectory() as folder:
        target = os.path.join(folder, "model.bin")
        before = rss()
        figures = timed(lambda: client.jobs.artifacts.download("job_bench", "model.bin", to=target))
        assert os.path.getsize(target) == size
    figures["peak_rss_growth"] = peak_rss() - before
    return figures


def code_upload(side: str, url: str, quick: bool) -> Dict[str, float]:
    size = (32 if quick else 256) * 1024 * 1024
    from runcrate import Runcrate

    client = Runcrate(api_key=KEY, base_url=url)
    with tempfile.TemporaryDirectory() as folder:
        files = 64
        for number in range(files):  # incompressible: the archive is as large as the tree
            with open(os.path.join(folder, f"shard{number:02d}.bin"), "wb") as out:
                out.write(os.urandom(size // files))
        before = rss()
        figures = timed(lambda: client.jobs.uploads.upload(folder))
    figures["peak_rss_growth"] = peak_rss() - before
    return figures


CASES: Dict[str, Callable[[str, str, bool], Dict[str, float]]] = {
    "import": import_,
    "cold_start": cold_start,
    "small_call": small_call,
    "large_list": large_list,
    "jobs_list": jobs_list,
    "follow_logs": follow_logs,
    "async_fanout": async_fanout,
    "streaming": streaming,
    "streaming_async": streaming_async,
    "video_download": video_download,
    "transcription_upload": transcription_upload,
    "artifact_download": artifact_download,
    "code_upload": code_upload,
}

if __name__ == "__main__":
    case, side, url = sys.argv[1:4]
    print(json.dumps(CASES[case](side, url, "--quick" in sys.argv)))
