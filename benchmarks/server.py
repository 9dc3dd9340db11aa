"""A fast local HTTP server with pre-serialized bodies, so that the clients are what is measured.

    python benchmarks/server.py PORT_FILE

Writes its port to PORT_FILE, then serves until killed. HTTP/1.1 keep-alive,
one asyncio protocol, no framework. Routes (any path prefix before them is
ignored, so a client's base URL can pick a data set):

  /small/api/v1/instances      50 varied instances in the envelope
  /large/api/v1/instances      5,000 varied instances
  /api/v1/jobs                 1,000 varied jobs, each with 3 attempts and 2 GPU candidates
  /lN/api/v1/jobs/{id}/logs    a log of N chunks, read ?after=K in pages of 1,000
  /eN/v1/chat/completions      a chat stream of N events, 10 per write; the first
                               carries the time it was sent, then 0.2 s of quiet
  /v1/videos, /v1/videos/{id}  a job (queued when made, then completed)
  /sN/v1/videos/{id}/download  N bytes of video, streamed
  /v1/audio/transcriptions     reads and drops the upload, answers JSON
  /sN/api/v1/jobs/{id}/artifacts[/{path}]  one N-byte artifact: its listing (with
                               its sha256), then a redirect to /sN/blob, N bytes
  /api/v1/jobs/uploads, /sink  an upload whose PUT URL is /sink, which drops the body
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import re
import sys
import time
from typing import Dict, Optional, Set, Tuple

STATUSES = ("running", "deploying", "terminated", "stopped")
GPUS = ("A100", "H100", "L40S", "RTX4090", "A4000")


def instance(i: int, rng: random.Random) -> Dict[str, object]:
    running = rng.random() < 0.6
    item: Dict[str, object] = {
        "id": f"inst_{i:08x}{rng.getrandbits(24):06x}",
        "name": f"{rng.choice(('train', 'infer', 'eval', 'notebook'))}-{rng.choice(('llama', 'sdxl', 'whisper'))}-{i}",
        "status": rng.choice(STATUSES),
        "gpu_type": rng.choice(GPUS),
        "gpu_count": rng.choice((1, 2, 4, 8)),
        "cpu_cores": rng.choice((8, 16, 32)),
        "memory": rng.choice((64, 128, 256)),
        "storage": rng.choice((100, 200, 500)),
        "region": rng.choice(("us-east", "eu-west", "ap-southeast")),
        "ip": f"203.0.113.{rng.randint(1, 254)}" if running else None,
        "os_image": "ubuntu-22.04-cuda-12.4",
        "cost_per_hour": round(rng.uniform(0.2, 20), 2),
        "deployed_at": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:12:34."
        f"{rng.randint(0, 999999):06d}Z",
        "created_at": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
        "updated_at": "2025-10-01T12:00:00+00:00",
        "auto_stop_at": None,
        "max_runtime_minutes": rng.choice((None, 60, 120, 1440)),
        "idle_shutdown_minutes": rng.choice((None, 30)),
        "stop_reason": None if running else rng.choice(("user", "idle", "max_runtime")),
    }
    if rng.random() < 0.3:
        item["labels"] = {"team": rng.choice(("ml", "research"))}
    return item


def job(i: int, rng: random.Random) -> Dict[str, object]:
    status = rng.choice(("succeeded", "failed", "running", "queued"))
    stamp = f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:{rng.randint(10, 59)}:00Z"
    gpus = [{"gpu_type": gpu, "gpu_count": rng.choice((1, 2, 8))} for gpu in rng.sample(GPUS, 2)]
    attempts = [
        {
            "attempt": n,
            "status": "failed" if n < 3 else status,
            "gpu_type": gpus[0]["gpu_type"],
            "gpu_count": gpus[0]["gpu_count"],
            "deployment_id": f"dep_{i:06d}_{n}",
            "exit_code": 1 if n < 3 else None,
            "error": "preempted" if n < 3 else None,
            "started_at": stamp,
            "ended_at": stamp if n < 3 else None,
            "cost_usd": round(rng.uniform(0, 5), 4),
            "region": rng.choice(("us-east", "eu-west")),
        }
        for n in (1, 2, 3)
    ]
    return {
        "id": f"job_{i:08x}{rng.getrandbits(24):06x}",
        "name": f"sweep-{i}",
        "status": status,
        "command": f"python train.py --seed {i}",
        "gpu_type": gpus[0]["gpu_type"],
        "gpu_count": gpus[0]["gpu_count"],
        "gpu_candidates": gpus,
        "max_runtime_minutes": 240,
        "image": "runcrate/pytorch:2.4-cuda12.4",
        "env_keys": ["WANDB_API_KEY", "HF_TOKEN"],
        "attempt": 3,
        "max_retries": 2,
        "retry_on": ["machine_failure"],
        "attempts": attempts,
        "exit_code": 0 if status == "succeeded" else None,
        "tags": {"team": rng.choice(("ml", "research")), "sweep": "lr"},
        "job_index": i % 16,
        "created_at": stamp,
        "started_at": stamp,
        "ended_at": stamp if status in ("succeeded", "failed") else None,
        "cost_per_hour": round(rng.uniform(0.2, 20), 2),
        "cost_usd": round(rng.uniform(0, 15), 4),
        "log_bytes": rng.randint(0, 10**7),
    }


def jobs_envelope(count: int) -> bytes:
    rng = random.Random(count)
    return json.dumps(
        {"data": [job(i, rng) for i in range(count)], "meta": {"total": count, "hasMore": False}}
    ).encode()


LOG_PAGE = 1000


@functools.cache
def log_page(total: int, after: int) -> bytes:
    """The page of a ``total``-chunk log from cursor ``after``: its chunks, then done once all were read."""
    end = min(after + LOG_PAGE, total)
    chunks = [
        {"seq": n, "ts": "2026-01-01T00:00:00.000Z", "text": f"step {n} loss 0.{n % 997:03d}\n"}
        for n in range(after, end)
    ]
    done = end >= total
    page = {"job_id": "job_bench", "status": "succeeded" if done else "running", "chunks": chunks, "cursor": end}
    return response(json.dumps({"data": {**page, "truncated": False, "done": done}}).encode())


def envelope(count: int) -> bytes:
    rng = random.Random(count)
    items = [instance(i, rng) for i in range(count)]
    return json.dumps({"data": items, "meta": {"total": count, "hasMore": False}}).encode()


def response(body: bytes, content_type: str = "application/json", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


BODIES = {"small": response(envelope(50)), "large": response(envelope(5000)), "jobs": response(jobs_envelope(1000))}
JOB = response(json.dumps({"id": "vid_bench", "status": "completed", "model": "google/veo-3.0"}).encode())
QUEUED = response(json.dumps({"id": "vid_bench", "status": "queued", "model": "google/veo-3.0"}).encode())
TRANSCRIPT = response(json.dumps({"text": "ok", "duration": 1.0}).encode())
BLOCK = bytes(1024 * 1024)


@functools.cache
def artifact_listing(size: int) -> bytes:
    digest = hashlib.sha256()
    for offset in range(0, size, len(BLOCK)):
        digest.update(BLOCK[: min(len(BLOCK), size - offset)])
    artifact = {"path": "model.bin", "bytes": size, "sha256": digest.hexdigest()}
    return response(json.dumps({"data": [artifact], "meta": {"total": 1}}).encode())


def redirect(location: str) -> bytes:
    return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


def upload(origin: str) -> bytes:
    later = "2030-01-01T00:00:00Z"
    data = {"upload_id": "upl_bench", "expires_at": later, "max_bytes": 1024**3, "url": f"{origin}/sink"}
    return response(json.dumps({"data": {**data, "url_expires_at": later}}).encode())


CHUNK = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "token "}, "finish_reason": None}],
    }
).encode()
EVENT = b"data: " + CHUNK + b"\n\n"
TEN_EVENTS = EVENT * 10


def number_in(path: str, letter: str, default: int) -> int:
    """The N of a path segment like /e1000/ (how a base URL carries a parameter)."""
    found = re.search(rf"/{letter}(\d+)/", path)
    return int(found.group(1)) if found else default


class Handler(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""
        self.body_left = 0
        self.chunked = False
        self.pending: Optional[Tuple[str, str, Dict[str, str]]] = None
        self.tasks: Set[asyncio.Future[None]] = set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.pending is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self.pending = (method, target, headers)
            self.body_left = int(headers.get("content-length", "0"))
            self.chunked = headers.get("transfer-encoding", "") == "chunked"
        if self.chunked:
            end = self.buffer.find(b"0\r\n\r\n")
            if end < 0:
                self.buffer = self.buffer[-8:]
                return False
            self.buffer = self.buffer[end + 5 :]
        else:
            take = min(self.body_left, len(self.buffer))
            self.buffer, self.body_left = self.buffer[take:], self.body_left - take
            if self.body_left:
                return False
        method, target, headers = self.pending
        self.pending = None
        path, _, query = target.partition("?")
        task = asyncio.ensure_future(self.answer(method, path, query, headers))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return bool(self.buffer)

    async def answer(self, method: str, path: str, query: str, headers: Dict[str, str]) -> None:
        size = number_in(path, "s", 512 * 1024 * 1024)
        if path.endswith("/logs"):
            after = re.search(r"(?:^|&)after=(\d+)", query)
            self.transport.write(log_page(number_in(path, "l", 100_000), int(after.group(1)) if after else 0))
        elif path.endswith("/api/v1/jobs"):
            self.transport.write(BODIES["jobs"])
        elif path.endswith("/artifacts"):
            self.transport.write(artifact_listing(size))
        elif "/artifacts/" in path:
            self.transport.write(redirect(f"http://{headers['host']}/s{size}/blob"))
        elif path.endswith("/blob"):
            await self.download(size, "application/octet-stream")
        elif path.endswith("/jobs/uploads"):
            self.transport.write(upload(f"http://{headers['host']}"))
        elif path.endswith("/sink"):
            self.transport.write(response(b"", "application/xml"))
        elif path.endswith("/api/v1/instances"):
            self.transport.write(BODIES["large" if "/large/" in path else "small"])
        elif path.endswith("/v1/chat/completions"):
            await self.stream(number_in(path, "e", 100_000))
        elif path.endswith("/download"):
            await self.download(size)
        elif path.endswith("/v1/videos"):
            self.transport.write(QUEUED)
        elif "/v1/videos/" in path:
            self.transport.write(JOB)
        elif path.endswith("/v1/audio/transcriptions"):
            self.transport.write(TRANSCRIPT)
        else:
            self.transport.write(response(b'{"error": {"message": "no route"}}', status="404 Not Found"))

    async def stream(self, events: int) -> None:
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        first = json.dumps({"sent_at": time.time(), "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        self.transport.write(b"data: " + first.encode() + b"\n\n")
        await asyncio.sleep(0.2)  # the first event travels alone: its latency is measured
        tens, rest = divmod(max(events - 1, 0), 10)
        for _ in range(tens):
            self.transport.write(TEN_EVENTS)
            await self.drain()
        self.transport.write(EVENT * rest)
        self.transport.write(b"data: [DONE]\n\n")
        self.transport.close()

    async def download(self, size: int, content_type: str = "video/mp4") -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {size}\r\n\r\n"
        self.transport.write(head.encode())
        left = size
        while left > 0:
            piece = BLOCK if left >= len(BLOCK) else BLOCK[:left]
            self.transport.write(piece)
            left -= len(piece)
            await self.drain()

    async def drain(self) -> None:
        # Back-pressure: wait while the kernel buffer is full.
        while self.transport.get_write_buffer_size() > 4 * 1024 * 1024 and not self.transport.is_closing():
            await asyncio.sleep(0.001)


async def main(port_file: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Handler, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    with open(port_file, "w") as out:
        out.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
