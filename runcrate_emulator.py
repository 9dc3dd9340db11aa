"""A local, stateful Runcrate API server for tests, examples and offline work.

Run it::

    python -m runcrate_emulator --port 8787

or from Python (a background thread)::

    from runcrate_emulator import start_emulator
    with start_emulator() as emu:
        client = emu.client            # a runcrate.Runcrate bound to it
        emu.fail("/api/v1/instances", status=503, retry_after=0)   # next request fails

Both API surfaces (``/api/v1`` and ``/v1``) are served on one port. State
lives in memory. The server needs only the standard library and aiohttp;
the test conveniences that hand out clients (``make_client``, ``client``)
import runcrate when used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import fnmatch
import functools
import hashlib
import io
import itertools
import json
import math
import os
import random
import re
import socket
import struct
import sys
import threading
import uuid
import wave
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    import runcrate

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API = "/api/v1"
V1 = "/v1"
CONTROL = "/_emulator"

# Each handler declares its route beside it; the order of definition is the order of matching
# (/instances/types before /instances/{id}).
routes = web.RouteTableDef()
STORAGE_PRICE_GB_MONTH = 0.03
WEEK = timedelta(days=7)
INITIAL_CREDITS = 100.0
DEFAULT_JOB_SECONDS = 3.0
MAX_UPLOAD = 1024**3
STORAGE = "/storage"  # signed URLs: artifacts and code uploads, served without the API key

# ----------------------------------------------------------------------
# Catalogues
# ----------------------------------------------------------------------

# (gpu type, USD per GPU-hour, CPU cores per GPU, memory GB per GPU, regions)
GPU_OFFERS: Sequence[Tuple[str, float, int, int, Sequence[str]]] = (
    ("H100", 2.49, 16, 200, ("us-east", "us-west", "eu-west")),
    ("H100-SXM", 2.99, 24, 240, ("us-east",)),
    ("A100", 1.29, 12, 120, ("us-east", "eu-west", "eu-central")),
    ("A100-80GB", 1.69, 12, 160, ("us-east", "us-west")),
    ("L40S", 0.99, 8, 64, ("us-west", "eu-central")),
    ("RTX4090", 0.49, 8, 48, ("us-east", "eu-central", "ap-southeast")),
    ("A4000", 0.19, 4, 32, ("us-east", "eu-west")),
)
GPU_COUNTS = (1, 2, 4, 8)
ADJECTIVES = ("bold", "calm", "brave", "eager", "keen", "swift", "quiet", "bright")
SCIENTISTS = ("tesla", "curie", "turing", "noether", "hopper", "lovelace", "bohr", "fermi")

STORAGE_REGIONS = (
    {"id": "137", "name": "us-east-1", "provider": "aws-s3"},
    {"id": "138", "name": "us-west-2", "provider": "aws-s3"},
    {"id": "211", "name": "eu-central-1", "provider": "wasabi"},
    {"id": "305", "name": "us-west-004", "provider": "backblaze-b2"},
)

TEMPLATE_SEEDS = (
    ("PyTorch", "ml", "PyTorch with CUDA and cuDNN"),
    ("TensorFlow", "ml", "TensorFlow with GPU support"),
    ("JAX", "ml", "JAX with CUDA"),
    ("vLLM", "llm", "vLLM OpenAI-compatible server"),
    ("Text Generation Inference", "llm", "Hugging Face TGI server"),
    ("Ollama", "llm", "Ollama with a web UI"),
    ("ComfyUI", "image", "ComfyUI node editor for diffusion models"),
    ("Stable Diffusion WebUI", "image", "AUTOMATIC1111 web UI"),
    ("Jupyter Lab", "notebook", "JupyterLab with the scientific Python stack"),
    ("VS Code Server", "dev", "Browser VS Code"),
    ("Ubuntu", "base", "Plain Ubuntu with CUDA drivers"),
    ("Axolotl", "ml", "Fine-tuning with Axolotl"),
)


def _instance_types() -> List[Dict[str, Any]]:
    offers = []
    names = itertools.product(ADJECTIVES, SCIENTISTS)
    for gpu, rate, cpus, mem, regions in GPU_OFFERS:
        for region in regions:
            for count in GPU_COUNTS:
                adjective, scientist = next(names, ("spare", "unit"))
                suffix = hashlib.sha256(f"{gpu}{region}{count}".encode()).hexdigest()[:4]
                offers.append(
                    {
                        "id": f"{adjective}-{scientist}-{gpu.lower()}-{suffix}",
                        "gpu_type": gpu,
                        "gpu_count": count,
                        "cpu_cores": cpus * count,
                        "memory_gb": mem * count,
                        "storage_gb": 100 * count,
                        "region": region,
                        "deployment_type": "vm",
                        "hourly_rate": round(rate * count, 2),
                    }
                )
    return offers


def _templates() -> List[Dict[str, Any]]:
    out = []
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i, (version, (name, category, description)) in enumerate(
        itertools.product(("latest", "2024.10", "2024.04"), TEMPLATE_SEEDS)
    ):
        out.append(
            {
                "id": f"tpl_{i + 1:03d}",
                "name": f"{name} ({version})",
                "description": description,
                "category": category,
                "created_at": _iso(start + timedelta(days=7 * i)),
            }
        )
    return out


# ----------------------------------------------------------------------
# State
# ----------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@dataclass
class Fault:
    """What the next ``count`` matching requests get instead of a normal answer."""

    path: str
    method: Optional[str] = None
    count: int = 1
    status: Optional[int] = None
    retry_after: Optional[str] = None
    body: Optional[Any] = None
    content_type: Optional[str] = None
    delay: float = 0.0
    drop: Optional[str] = None  # "before_body" or "after_body"
    error_after_events: Optional[int] = None  # a chat stream sends an error event after N events
    cut_after_events: Optional[int] = None  # a chat stream stops in the middle of event N
    cut_after_bytes: Optional[int] = None  # a video download stops after N bytes
    chance: float = 1.0  # the share of matching requests it hits (with a large count: a fault rate)

    @property
    def changes_the_answer(self) -> bool:
        """Whether the handler must know of it (it shapes a stream or a download)."""
        return any(v is not None for v in (self.error_after_events, self.cut_after_events, self.cut_after_bytes))

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path)


class ApiFailureError(Exception):
    """Raised by handlers; becomes the error envelope."""

    def __init__(self, status: int, code: str, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _starter_secret() -> Dict[str, Any]:
    """The secret every environment starts with (by key; the value stays private)."""
    return {"key": "EMULATOR_TOKEN", "sensitive": True, "updated_at": _iso(_now()), "_value": "emulated"}


@dataclass
class Scope:
    """The resources of one environment."""

    instances: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    volumes: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    secrets: Dict[str, Dict[str, Any]] = field(default_factory=lambda: {"EMULATOR_TOKEN": _starter_secret()})
    crates: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    schedules: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    jobs: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)


class Lifecycle:
    """How a resource moves through its statuses: the one time model of the emulator.

    A resource stays in each status for at least the time it was given, and
    moves on by one status each time it is looked at (read, listed, polled)
    after that: an instance runs once its start delay has passed; a video job
    goes queued, processing, completed (or failed) at one poll each.
    ``on_enter(resource, status, when)`` sees every move.
    """

    def __init__(self, *statuses: str, on_enter: Callable[[Dict[str, Any], str, datetime], None]) -> None:
        self.statuses = statuses
        self.on_enter = on_enter

    def begin(self, resource: Dict[str, Any], lasts: float = 0.0) -> Dict[str, Any]:
        """Put a new resource in the first status for ``lasts`` seconds."""
        resource["status"] = self.statuses[0]
        resource["_until"] = _now() + timedelta(seconds=lasts)
        return resource

    def look(self, resource: Dict[str, Any]) -> None:
        """Move the resource on by one status if the current one has lasted its time."""
        status = resource["status"]
        if status not in self.statuses[:-1] or _now() < resource["_until"]:
            return
        following = self.statuses[self.statuses.index(status) + 1]
        resource["status"] = following  # the next statuses last no time of their own
        self.on_enter(resource, following, resource["_until"])


def _instance_enters(inst: Dict[str, Any], status: str, when: datetime) -> None:
    inst["ip"] = f"203.0.113.{random.randint(2, 254)}"  # noqa: S311 - documentation range
    inst["deployed_at"] = inst["updated_at"] = _iso(when)
    inst["_running_since"] = when


def _video_enters(job: Dict[str, Any], status: str, when: datetime) -> None:
    if status == "completed" and job["_fails"]:
        job["status"], job["error"] = "failed", "The provider rejected the prompt"


INSTANCE_LIFE = Lifecycle("deploying", "running", on_enter=_instance_enters)
VIDEO_LIFE = Lifecycle("queued", "processing", "completed", on_enter=_video_enters)


class EmulatorState:
    """Everything the emulator remembers; safe to drive from another thread."""

    def __init__(
        self,
        *,
        api_keys: Optional[Sequence[str]] = None,
        start_delay: Tuple[float, float] = (1.0, 3.0),
        initial_credits: float = INITIAL_CREDITS,
        stream_delay: float = 0.02,
        video_size: int = 256 * 1024,
        job_seconds: Optional[float] = None,
        log_lines: int = 3,
        log_hold: float = 25.0,
        artifact_bytes: int = 0,
    ) -> None:
        if job_seconds is None:
            job_seconds = float(os.environ.get("RUNCRATE_EMULATOR_JOB_SECONDS") or DEFAULT_JOB_SECONDS)
        self.job_seconds = job_seconds  # from submit to end
        self.log_lines = log_lines  # lines a job writes between its command line and its exit code
        self.log_hold = log_hold  # the longest an empty followed log read is held
        self.artifact_bytes = artifact_bytes  # the size of the model.bin a job leaves besides result.txt (0: none)
        self.api_keys = set(api_keys) if api_keys else None
        self.start_delay = start_delay
        self.stream_delay = stream_delay
        self.video_size = video_size
        self.initial_credits = initial_credits
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every resource, fault and counter."""
        with self.lock:
            self.scopes: Dict[str, Scope] = defaultdict(Scope)
            self.environments: Dict[str, Dict[str, Any]] = {}
            self.add_environment("main", is_default=True)
            self.topups: Dict[str, Dict[str, Any]] = {}  # by idempotency key
            self.topup_outcome = "succeeded"  # what the next new top-up answers (requires_action, declined ...)
            self.auto_recharge: Dict[str, Any] = {
                "enabled": False,
                "threshold_usd": None,
                "target_usd": None,
                "last_failure_reason": None,
                "last_failure_at": None,
            }
            self.ssh_keys: Dict[str, Dict[str, Any]] = {}
            self.transactions: List[Dict[str, Any]] = []
            self.faults: List[Fault] = []
            self.counts: Counter[str] = Counter()
            self.idempotency_keys: Dict[str, List[str]] = defaultdict(list)
            self.videos: Dict[str, Dict[str, Any]] = {}
            self.uploads: Dict[str, Dict[str, Any]] = {}
            self.uploads_by_sha: Dict[str, Dict[str, Any]] = {}
            self.job_answers: Dict[Tuple[str, str], Callable[[], Dict[str, Any]]] = {}  # by route and key
            self.files: Dict[str, bytes] = {}
            self.file_requests: List[Optional[str]] = []  # the Authorization header of each image fetch
            self.abandoned_streams = 0  # chat streams whose client went away before the end
            self.abandoned_downloads = 0  # video downloads the client stopped
            self.connections: Set[Any] = set()  # the client address of every connection a request came on
            self._record_transaction("credit", self.initial_credits, "Initial credits")

    def add_environment(self, name: str, is_default: bool = False) -> Dict[str, Any]:
        """A new environment (the caller holds the lock)."""
        now = _iso(_now())
        env: Dict[str, Any] = {
            "id": _new_id("env"),
            "name": name,
            "is_default": is_default,
            "created_at": now,
            "updated_at": now,
            "monthly_budget_usd": None,
            "month_to_date_usd": 0.0,
            "budget_remaining_usd": None,
        }
        self.environments[env["id"]] = env
        return env

    # --- faults and records ------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Optional[Fault]:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path) and (fault.chance >= 1 or random.random() < fault.chance):  # noqa: S311
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def rate_limit_headers(self) -> Dict[str, str]:
        """The X-RateLimit-* headers of an inference answer (a 600-per-minute window)."""
        with self.lock:
            used = sum(n for route, n in self.counts.items() if " /v1/" in route)
        reset = int(_now().timestamp()) // 60 * 60 + 60
        return {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": str(max(600 - used, 0)),
            "X-RateLimit-Reset": str(reset),
        }

    def record(self, route: str, idempotency_key: Optional[str], transport: Any = None) -> None:
        with self.lock:
            self.counts[route] += 1
            if transport is not None:
                self.connections.add(transport.get_extra_info("peername"))
            if idempotency_key is not None:
                self.idempotency_keys[route].append(idempotency_key)

    # --- billing -------------------------------------------------------

    def _record_transaction(self, kind: str, amount: float, description: str) -> None:
        self.transactions.append(
            {
                "id": _new_id("txn"),
                "project_id": "prj_emulator",
                "type": kind,
                "amount": round(amount, 6),
                "description": description,
                "created_at": _iso(_now()),
            }
        )

    def credits(self) -> float:
        return float(sum(t["amount"] for t in self.transactions))

    def set_credits(self, amount: float) -> None:
        """Adjust the balance to ``amount`` with an ``adjustment`` transaction."""
        with self.lock:
            self._record_transaction("adjustment", amount - self.credits(), "Balance set by the emulator")

    def environment_named(self, name: str) -> Optional[Dict[str, Any]]:
        return next((e for e in self.environments.values() if e["name"] == name), None)

    def check_launch(self, environment: str, hourly_rate: float) -> None:
        """Refuse a launch the environment's budget or the balance cannot pay for (402)."""
        env = self.environment_named(environment)
        budget = env and env.get("monthly_budget_usd")
        if env is not None and budget is not None and env["month_to_date_usd"] >= budget:
            raise ApiFailureError(
                402, "BUDGET_REACHED", f"The environment {environment!r} reached its monthly budget of ${budget:g}"
            )
        if self.balance()["floating_balance_usd"] < hourly_rate:
            raise ApiFailureError(402, "insufficient_credits", "Insufficient credits to launch this")

    def charge(self, environment: str, amount: float, description: str) -> None:
        """Record usage: the balance goes down, the environment's month-to-date spend up."""
        self._record_transaction("usage", -amount, description)
        env = self.environment_named(environment)
        if env is not None:
            env["month_to_date_usd"] = round(env["month_to_date_usd"] + amount, 6)
            budget = env.get("monthly_budget_usd")
            env["budget_remaining_usd"] = (
                None if budget is None else round(max(budget - env["month_to_date_usd"], 0), 6)
            )

    def running_instances(self) -> Iterator[Dict[str, Any]]:
        for scope in self.scopes.values():
            for inst in scope.instances.values():
                self.refresh(inst)
                if inst["status"] == "running":
                    yield inst

    def accrued(self, inst: Dict[str, Any]) -> float:
        started = inst.get("_running_since")
        if started is None:
            return 0.0
        hours: float = (_now() - started).total_seconds() / 3600
        return float(inst["cost_per_hour"]) * hours

    def balance(self) -> Dict[str, Any]:
        with self.lock:
            running = list(self.running_instances())
            active = sum(self.accrued(i) for i in running)
            burn = sum(float(i["cost_per_hour"]) for i in running)
            balance = self.credits()
            floating = balance - active
            return {
                "creditsBalance": round(balance, 6),
                "activeUsageCost": round(active, 6),
                "floating_balance_usd": round(floating, 6),
                "burn_usd_per_hour": round(burn, 6),
                "runway_hours": round(floating / burn, 3) if burn else None,
            }

    # --- instances -----------------------------------------------------

    def refresh(self, inst: Dict[str, Any]) -> None:
        """Advance a deploying instance to running once its start delay has passed."""
        INSTANCE_LIFE.look(inst)

    def terminate(self, inst: Dict[str, Any]) -> None:
        self.refresh(inst)
        cost = self.accrued(inst)
        if cost:
            self._record_transaction("usage", -cost, f"Instance {inst['name']}")
        inst.update(status="terminated", ip=None, stop_reason="user", updated_at=_iso(_now()), _running_since=None)


INSTANCE_TYPES = _instance_types()
TEMPLATES = _templates()


def public(resource: Dict[str, Any]) -> Dict[str, Any]:
    """A stored resource without its private bookkeeping (keys starting with ``_``)."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


STATE = web.AppKey("state", EmulatorState)
USAGE = {
    "total_requests": 42,
    "total_prompt_tokens": 5120,
    "total_completion_tokens": 2048,
    "total_tokens": 7168,
    "total_cost": 0.0143,
}

# ----------------------------------------------------------------------
# Request helpers
# ----------------------------------------------------------------------


def envelope(data: Any, status: int = 200, meta: Optional[Dict[str, Any]] = None) -> web.Response:
    body: Dict[str, Any] = {"data": data}
    if meta is not None:
        body["meta"] = meta
    return web.json_response(body, status=status)


def listing(items: List[Any], total: Optional[int] = None, has_more: bool = False) -> web.Response:
    meta = {"total": len(items) if total is None else total, "hasMore": has_more, "requestId": _new_id("req")}
    return envelope(items, meta=meta)


def error_response(status: int, code: str, message: str, details: Optional[Dict[str, Any]] = None) -> web.Response:
    error: Dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=status)


async def json_body(request: web.Request) -> Dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiFailureError(400, "bad_request", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiFailureError(400, "bad_request", "The request body must be a JSON object.")
    return body


def need_str(body: Dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiFailureError(400, "bad_request", f"Missing required field: {name}")
    if not isinstance(value, str):
        raise ApiFailureError(422, "validation_error", f"{name} must be a string")
    return value


def opt_str(body: Dict[str, Any], name: str) -> Optional[str]:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiFailureError(422, "validation_error", f"{name} must be a string")
    return value


def opt_int(body: Dict[str, Any], name: str, low: int, high: Optional[int] = None) -> Optional[int]:
    """A whole number whether it arrives as ``8`` or ``8.0``, within its range."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
        raise ApiFailureError(422, "validation_error", f"{name} must be a whole number")
    number = int(value)
    if number < low or (high is not None and number > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiFailureError(422, "validation_error", f"{name} must be {limit}, got {number}")
    return number


def opt_number(body: Dict[str, Any], name: str, low: float, high: float) -> Optional[float]:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiFailureError(422, "invalid_parameter", f"{name} must be a number between {low} and {high}")
    return float(value)


def scope_of(request: web.Request) -> Scope:
    return request.app[STATE].scopes[request.query.get("environment") or "main"]


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE]


def find(items: Dict[str, Dict[str, Any]], key: str, what: str) -> Dict[str, Any]:
    item = items.get(key)
    if item is None:
        raise ApiFailureError(404, "not_found", f"{what} not found")
    return item


def search_filter(items: List[Dict[str, Any]], text: Optional[str], *keys: str) -> List[Dict[str, Any]]:
    if not text:
        return items
    needle = text.lower()
    return [i for i in items if any(needle in str(i.get(k) or "").lower() for k in keys)]


# How the middleware hands a stream or download fault to its handler (RequestKey is aiohttp >= 3.13).
FAULT: Any = web.RequestKey("fault", Fault) if hasattr(web, "RequestKey") else "runcrate_emulator.fault"


def _sse(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


STREAM_ERROR = {"message": "Emulated failure in the middle of the stream", "code": "internal_error"}


async def write_stream(
    request: web.Request,
    response: web.StreamResponse,
    pieces: Iterable[bytes],
    *,
    pause: float = 0.0,
    counter: str = "abandoned_streams",
) -> web.StreamResponse:
    """Write the pieces of a prepared stream (events, or chunks of a file), with the request's fault.

    ``error_after_events=N`` sends an error event instead of piece N;
    ``cut_after_events=N`` sends half of piece N, ``cut_after_bytes=N`` the
    first N bytes, and then the connection is dropped. ``pause`` seconds pass
    between pieces. A client that leaves before the end is counted in the
    state's ``counter``, never a handler crash.
    """
    fault: Optional[Fault] = request.get(FAULT)
    sent = 0
    try:
        for number, piece in enumerate(pieces):
            if fault is not None and fault.error_after_events == number:
                await response.write(_sse({"error": STREAM_ERROR}))
                return response
            if fault is not None and fault.cut_after_events == number:
                await response.write(piece[: len(piece) // 2])
                return _drop(request)
            if fault is not None and fault.cut_after_bytes is not None and sent + len(piece) > fault.cut_after_bytes:
                await response.write(piece[: fault.cut_after_bytes - sent])
                return _drop(request)
            if number and pause:  # between pieces: [DONE] and the body's end come together
                await asyncio.sleep(pause)
            await response.write(piece)
            sent += len(piece)
        await response.write_eof()
    except ConnectionError:
        state = state_of(request)
        with state.lock:
            setattr(state, counter, getattr(state, counter) + 1)
    return response


# ----------------------------------------------------------------------
# Infrastructure handlers
# ----------------------------------------------------------------------


# --- Instances ---------------------------------------------------------


@routes.get(f"{API}/instances")
async def list_instances(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        items = [i for i in scope_of(request).instances.values() if i["status"] != "terminated"]
        for inst in items:
            state.refresh(inst)
        found = search_filter(items, request.query.get("search"), "name")
        return listing([public(i) for i in found])


@routes.get(f"{API}/instances/types")
async def list_instance_types(request: web.Request) -> web.Response:
    offers = INSTANCE_TYPES
    gpu = request.query.get("gpu_type")
    if gpu:
        offers = [o for o in offers if gpu.lower() in o["gpu_type"].lower()]
    region = request.query.get("region")
    if region:
        offers = [o for o in offers if o["region"].startswith(region)]
    count = request.query.get("gpu_count")
    if count:
        offers = [o for o in offers if str(o["gpu_count"]) == count]
    return listing(offers)


def _pick_offer(gpu_type: Optional[str], type_id: Optional[str], count: int, region: Optional[str]) -> Dict[str, Any]:
    if type_id is not None:
        for offer in INSTANCE_TYPES:
            if offer["id"] == type_id:
                return offer
        raise ApiFailureError(422, "validation_error", f"Unknown instance_type_id: {type_id}")
    assert gpu_type is not None  # noqa: S101 - checked by the caller
    known = [o for o in INSTANCE_TYPES if o["gpu_type"].lower() == gpu_type.lower()]
    if not known:
        raise ApiFailureError(422, "validation_error", f"Unknown gpu_type: {gpu_type}")
    fits = [o for o in known if o["gpu_count"] == count and (region in (None, "auto") or o["region"] == region)]
    if not fits:
        raise ApiFailureError(503, "no_capacity", f"No {gpu_type} x{count} capacity available right now")
    return min(fits, key=lambda o: o["hourly_rate"])


@routes.post(f"{API}/instances")
async def create_instance(request: web.Request) -> web.Response:
    body = await json_body(request)
    state = state_of(request)
    with state.lock:
        inst = launch_instance(state, request.query.get("environment") or "main", body)
        return envelope(public(inst), status=201)  # a fresh launch always answers "deploying"


def launch_instance(state: EmulatorState, environment: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """Launch an instance from a create body in an environment (the caller holds the lock)."""
    name = need_str(body, "name")
    ssh_key_id = need_str(body, "ssh_key_id")
    gpu_type, type_id = opt_str(body, "gpu_type"), opt_str(body, "instance_type_id")
    if gpu_type is None and type_id is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: gpu_type or instance_type_id")
    count = opt_int(body, "gpu_count", 1, 8) or 1
    for key in ("cpu_cores", "memory", "storage"):
        opt_int(body, key, 1)
    max_runtime = opt_int(body, "max_runtime_minutes", 5, 10080)
    idle = opt_int(body, "idle_shutdown_minutes", 5, 1440)
    commands = body.get("startup_commands")
    if commands is not None and not (isinstance(commands, list) and all(isinstance(c, str) for c in commands)):
        raise ApiFailureError(422, "validation_error", "startup_commands must be a list of strings")
    env_vars = body.get("env_vars")
    if env_vars is not None and not isinstance(env_vars, dict):
        raise ApiFailureError(422, "validation_error", "env_vars must be an object of names to values")
    offer = _pick_offer(gpu_type, type_id, count, opt_str(body, "region"))
    state.check_launch(environment, offer["hourly_rate"])
    now = _now()
    low, high = state.start_delay
    inst: Dict[str, Any] = {
        "id": _new_id("inst"),
        "name": name,
        "status": "deploying",
        "gpu_type": offer["gpu_type"],
        "gpu_count": offer["gpu_count"],
        "cpu_cores": opt_int(body, "cpu_cores", 1) or offer["cpu_cores"],
        "memory": opt_int(body, "memory", 1) or offer["memory_gb"],
        "storage": opt_int(body, "storage", 1) or offer["storage_gb"],
        "region": offer["region"],
        "ip": None,
        "os_image": "ubuntu-22.04-cuda-12.4",
        "cost_per_hour": offer["hourly_rate"],
        "ssh_key_id": ssh_key_id,
        "template": opt_str(body, "template"),
        "storage_id": opt_str(body, "storage_id"),
        "deployed_at": None,
        "created_at": _iso(now),
        "updated_at": _iso(now),
        "auto_stop_at": None,
        "max_runtime_minutes": max_runtime,
        "idle_shutdown_minutes": idle,
        "stop_reason": None,
    }
    INSTANCE_LIFE.begin(inst, random.uniform(low, high))  # noqa: S311 - not crypto
    state.scopes[environment].instances[inst["id"]] = inst
    return inst


def _instance(request: web.Request) -> Dict[str, Any]:
    instances = scope_of(request).instances
    key = request.match_info["id"]
    inst = instances.get(key) or next((i for i in instances.values() if i["name"] == key), None)
    if inst is None:
        raise ApiFailureError(404, "not_found", "Instance not found")
    state_of(request).refresh(inst)
    return inst


@routes.get(f"{API}/instances/{{id}}")
async def get_instance(request: web.Request) -> web.Response:
    with state_of(request).lock:
        return envelope(public(_instance(request)))


@routes.patch(f"{API}/instances/{{id}}")
async def update_instance(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not ({"max_runtime_minutes", "idle_shutdown_minutes"} & body.keys()):
        raise ApiFailureError(
            400, "bad_request", "Nothing to update: send max_runtime_minutes or idle_shutdown_minutes"
        )
    max_runtime = opt_int(body, "max_runtime_minutes", 5, 10080)
    idle = opt_int(body, "idle_shutdown_minutes", 5, 1440)
    with state_of(request).lock:
        inst = _instance(request)
        if inst["status"] not in ("deploying", "running"):
            raise ApiFailureError(
                409, "conflict", f"Instance is {inst['status']}; limits can change only while it is live"
            )
        if "max_runtime_minutes" in body:
            inst["max_runtime_minutes"] = max_runtime
            since = inst.get("_running_since") or _now()
            inst["auto_stop_at"] = _iso(since + timedelta(minutes=max_runtime)) if max_runtime else None
        if "idle_shutdown_minutes" in body:
            inst["idle_shutdown_minutes"] = idle
        inst["updated_at"] = _iso(_now())
        return envelope(public(inst))


@routes.get(f"{API}/instances/{{id}}/status")
async def instance_status(request: web.Request) -> web.Response:
    with state_of(request).lock:
        inst = _instance(request)
        return envelope({"id": inst["id"], "status": inst["status"], "ip": inst["ip"]})


@routes.delete(f"{API}/instances/{{id}}")
async def terminate_instance(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        inst = _instance(request)
        if inst["status"] != "terminated":
            state.terminate(inst)
        return envelope({"id": inst["id"], "status": inst["status"]})


# --- SSH keys ----------------------------------------------------------


def _fingerprint(public_key: str) -> Tuple[str, str]:
    parts = public_key.split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-", "sk-")):
        message = "public_key must look like '<type> <key> [comment]', e.g. 'ssh-ed25519 AAAA... me@laptop'"
        raise ApiFailureError(422, "validation_error", message)
    digest = hashlib.sha256(parts[1].encode()).digest()
    return parts[0], "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@routes.get(f"{API}/ssh-keys")
async def list_ssh_keys(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return listing([public(k) for k in state.ssh_keys.values()])


@routes.post(f"{API}/ssh-keys")
async def create_ssh_key(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = need_str(body, "name")
    key_type, fingerprint = _fingerprint(need_str(body, "public_key"))
    state = state_of(request)
    with state.lock:
        if any(k["fingerprint"] == fingerprint for k in state.ssh_keys.values()):
            raise ApiFailureError(409, "conflict", "This SSH key already exists in the workspace")
        key: Dict[str, Any] = {
            "id": _new_id("key"),
            "name": name,
            "fingerprint": fingerprint,
            "type": opt_str(body, "type") or key_type,
            "createdAt": _iso(_now()),
            "lastUsed": None,
            "projectId": "prj_emulator",
        }
        state.ssh_keys[key["id"]] = key
        return envelope(key, status=201)


@routes.delete(f"{API}/ssh-keys/{{id}}")
async def delete_ssh_key(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        key = find(state.ssh_keys, request.match_info["id"], "SSH key")
        del state.ssh_keys[key["id"]]
        return envelope({"id": key["id"], "deleted": True})


# --- Storage -----------------------------------------------------------


def _region(name_or_id: str) -> Dict[str, str]:
    for region in STORAGE_REGIONS:
        if name_or_id in (region["name"], region["id"]):
            return region
    names = ", ".join(r["name"] for r in STORAGE_REGIONS)
    raise ApiFailureError(422, "validation_error", f"Unknown region {name_or_id!r}; choose one of {names}")


def _week_charge(size_gb: int) -> float:
    return size_gb * STORAGE_PRICE_GB_MONTH * 7 / 30


def _unused_week_fraction(volume: Dict[str, Any]) -> float:
    elapsed: timedelta = (_now() - volume["_billed_from"]) % WEEK
    return 1.0 - elapsed.total_seconds() / WEEK.total_seconds()


@routes.get(f"{API}/storage/regions")
async def list_regions(request: web.Request) -> web.Response:
    return listing(list(STORAGE_REGIONS))


@routes.get(f"{API}/storage")
async def list_storage(request: web.Request) -> web.Response:
    with state_of(request).lock:
        volumes = list(scope_of(request).volumes.values())
        return listing([public(v) for v in search_filter(volumes, request.query.get("search"), "name")])


@routes.get(f"{API}/storage/{{id}}")
async def get_storage(request: web.Request) -> web.Response:
    with state_of(request).lock:
        return envelope(public(find(scope_of(request).volumes, request.match_info["id"], "Storage volume")))


@routes.post(f"{API}/storage")
async def create_storage(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = need_str(body, "name")
    size = opt_int(body, "size_gb", 1, 100_000)
    if size is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: size_gb")
    region = _region(need_str(body, "region"))
    state = state_of(request)
    with state.lock:
        charge = _week_charge(size)
        if state.credits() < charge:
            raise ApiFailureError(402, "insufficient_credits", "Insufficient credits for the first week of storage")
        now = _now()
        volume: Dict[str, Any] = {
            "id": _new_id("vol"),
            "name": name,
            "sizeGb": size,
            "status": "available",
            "region": region["name"],
            "providerType": region["provider"],
            "deploymentId": None,
            "projectId": "prj_emulator",
            "createdAt": _iso(now),
            "updatedAt": _iso(now),
            "_billed_from": now,
        }
        state._record_transaction("usage", -charge, f"Storage {name}: first week")
        scope_of(request).volumes[volume["id"]] = volume
        return envelope(public(volume), status=201)


@routes.patch(f"{API}/storage/{{id}}")
async def resize_storage(request: web.Request) -> web.Response:
    body = await json_body(request)
    size = opt_int(body, "size_gb", 1, 100_000)
    if size is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: size_gb")
    state = state_of(request)
    with state.lock:
        volume = find(scope_of(request).volumes, request.match_info["id"], "Storage volume")
        if size < volume["sizeGb"]:
            raise ApiFailureError(422, "validation_error", f"Volumes can only grow: {size} GB < {volume['sizeGb']} GB")
        extra = _week_charge(size - volume["sizeGb"]) * _unused_week_fraction(volume)
        if extra:
            state._record_transaction("usage", -extra, f"Storage {volume['name']}: resize")
        volume.update(sizeGb=size, updatedAt=_iso(_now()))
        return envelope(public(volume))


@routes.delete(f"{API}/storage/{{id}}")
async def delete_storage(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        volumes = scope_of(request).volumes
        volume = find(volumes, request.match_info["id"], "Storage volume")
        refund = round(_week_charge(volume["sizeGb"]) * _unused_week_fraction(volume), 6)
        if refund:
            state._record_transaction("refund", refund, f"Storage {volume['name']}: unused days")
        del volumes[volume["id"]]
        return envelope({"message": "Storage volume deleted successfully", "refund_amount": refund})


# --- Billing -----------------------------------------------------------


@routes.get(f"{API}/billing/balance")
async def get_balance(request: web.Request) -> web.Response:
    return envelope(state_of(request).balance())


@routes.get(f"{API}/billing/transactions")
async def list_transactions(request: web.Request) -> web.Response:
    query = dict(request.query)
    limit = opt_int(_numbers(query), "limit", 1, 100) or 50
    offset = opt_int(_numbers(query), "offset", 0) or 0
    state = state_of(request)
    with state.lock:
        items = list(reversed(state.transactions))
    kind = request.query.get("type")
    if kind:
        items = [t for t in items if t["type"] == kind]
    chunk = items[offset : offset + limit]
    return listing(chunk, total=len(items), has_more=offset + limit < len(items))


def _numbers(query: Dict[str, str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in query.items():
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def _date_param(request: web.Request, name: str) -> Optional[str]:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise ApiFailureError(400, "bad_request", f"{name} must be a date as YYYY-MM-DD") from None
    return value


@routes.get(f"{API}/billing/usage")
async def get_usage(request: web.Request) -> web.Response:
    _date_param(request, "from")
    _date_param(request, "to")
    return envelope(dict(USAGE))


def _new_topup(state: EmulatorState, key: str, amount: float) -> Dict[str, Any]:
    topup: Dict[str, Any] = {
        "id": _new_id("topup"),
        "status": state.topup_outcome,
        "amount_usd": amount,
        "idempotency_key": key,
        "invoice_number": None,
        "created_at": _iso(_now()),
    }
    if state.topup_outcome == "succeeded":
        state._record_transaction("credit", amount, "Top-up")
        topup.update(invoice_number=f"INV-{len(state.topups) + 1:04d}", balance_usd=round(state.credits(), 6))
    elif state.topup_outcome == "requires_action":
        topup.update(confirm_url="https://runcrate.ai/billing/confirm", expires_at=_iso(_now() + timedelta(hours=1)))
    elif state.topup_outcome == "declined":
        topup.update(reason="card_declined", message="The card was declined")
    return topup


@routes.post(f"{API}/billing/topups")
async def create_topup(request: web.Request) -> web.Response:
    body = await json_body(request)
    key = need_str(body, "idempotency_key")
    if request.headers.get("Idempotency-Key") != key:
        raise ApiFailureError(400, "bad_request", "The Idempotency-Key header and idempotency_key differ")
    amount = opt_number(body, "amount_usd", 20, 10000)
    if amount is None:
        raise ApiFailureError(400, "bad_request", "amount_usd is required")
    state = state_of(request)
    with state.lock:
        known = state.topups.get(key)
        if known is not None:  # the same key answers the same top-up: nothing is charged twice
            return envelope(public(known))
        topup = state.topups[key] = _new_topup(state, key, amount)
        return envelope(public(topup), status=201)


@routes.get(f"{API}/billing/auto-recharge")
async def get_auto_recharge(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return envelope(dict(state.auto_recharge))


@routes.put(f"{API}/billing/auto-recharge")
async def set_auto_recharge(request: web.Request) -> web.Response:
    body = await json_body(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise ApiFailureError(422, "invalid_parameter", "enabled must be a boolean")
    numbers = {name: opt_number(body, name, 0, 1_000_000) for name in ("threshold_usd", "target_usd")}
    if None in numbers.values():
        raise ApiFailureError(400, "bad_request", "threshold_usd and target_usd are required")
    state = state_of(request)
    with state.lock:
        state.auto_recharge.update(enabled=enabled, **numbers)
        return envelope(dict(state.auto_recharge))


PAYMENT_METHODS = [
    {"type": "card", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "default": True}
]


@routes.get(f"{API}/billing/payment-methods")
async def list_payment_methods(request: web.Request) -> web.Response:
    return listing(list(PAYMENT_METHODS))


# --- Templates ---------------------------------------------------------


@routes.get(f"{API}/templates")
async def list_templates(request: web.Request) -> web.Response:
    numbers = _numbers(dict(request.query))
    page = opt_int(numbers, "page", 1) or 1
    size = opt_int(numbers, "page_size", 1, 100) or 25
    items = search_filter(TEMPLATES, request.query.get("search"), "name", "description")
    category = request.query.get("category")
    if category:
        items = [t for t in items if t["category"].lower() == category.lower()]
    sort_by = request.query.get("sort_by")
    if sort_by:
        if sort_by not in ("name", "category", "created_at"):
            raise ApiFailureError(422, "validation_error", "sort_by must be name, category or created_at")
        items = sorted(items, key=lambda t: t[sort_by], reverse=request.query.get("sort_dir") == "desc")
    start = (page - 1) * size
    return listing(items[start : start + size], total=len(items), has_more=start + size < len(items))


# --- Environments and secrets ------------------------------------------


def _unique_environment_name(state: EmulatorState, name: str) -> str:
    if any(e["name"] == name for e in state.environments.values()):
        raise ApiFailureError(409, "conflict", f"An environment named {name!r} already exists")
    return name


@routes.get(f"{API}/environments")
async def list_environments(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return listing([public(e) for e in state.environments.values()])


@routes.post(f"{API}/environments")
async def create_environment(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = need_str(body, "name")
    state = state_of(request)
    with state.lock:
        env = state.add_environment(_unique_environment_name(state, name))
        return envelope(public(env), status=201)


@routes.get(f"{API}/environments/{{id}}")
async def get_environment(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return envelope(public(find(state.environments, request.match_info["id"], "Environment")))


@routes.patch(f"{API}/environments/{{id}}")
async def update_environment(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = opt_str(body, "name")
    is_default = body.get("is_default")
    if name is None and is_default is None:
        raise ApiFailureError(400, "bad_request", "Give name or is_default")
    if is_default is not None and not isinstance(is_default, bool):
        raise ApiFailureError(422, "invalid_parameter", "is_default must be a boolean")
    state = state_of(request)
    with state.lock:
        env = find(state.environments, request.match_info["id"], "Environment")
        if is_default is False and env["is_default"]:
            raise ApiFailureError(422, "invalid_parameter", "Make another environment the default instead")
        if name is not None and name != env["name"]:
            state.scopes[_unique_environment_name(state, name)] = state.scopes.pop(env["name"], Scope())
            env["name"] = name
        if is_default:
            for other in state.environments.values():
                other["is_default"] = other is env
        env["updated_at"] = _iso(_now())
        return envelope(public(env))


@routes.delete(f"{API}/environments/{{id}}")
async def delete_environment(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        env = find(state.environments, request.match_info["id"], "Environment")
        if env["is_default"]:
            raise ApiFailureError(409, "conflict", "The default environment cannot be deleted")
        del state.environments[env["id"]]
        state.scopes.pop(env["name"], None)
        return web.Response(status=204)


@routes.get(f"{API}/secrets")
async def list_secrets(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        secrets = sorted(scope_of(request).secrets.values(), key=lambda secret: str(secret["key"]))
        return listing([public(secret) for secret in secrets])


# --- Schedules ---------------------------------------------------------

CRON_FIELDS = 5


def _run_at(value: Any) -> str:
    if not isinstance(value, str):
        raise ApiFailureError(422, "validation_error", "run_at must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiFailureError(422, "validation_error", f"run_at is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ApiFailureError(422, "validation_error", "run_at needs a UTC offset")
    return _iso(moment.astimezone(timezone.utc)) or value


def _cron(value: Any) -> str:
    if not isinstance(value, str) or len(value.split()) != CRON_FIELDS:
        raise ApiFailureError(422, "validation_error", "cron must have 5 fields")
    return value


def _schedule_timing(schedule: Dict[str, Any], body: Dict[str, Any]) -> None:
    """Apply run_at or cron, and the options, of a create or PATCH body to a schedule."""
    if body.get("run_at") is not None and body.get("cron") is not None:
        raise ApiFailureError(422, "validation_error", "Give run_at or cron, not both")
    if body.get("run_at") is not None:
        schedule.update(run_at=_run_at(body["run_at"]), cron=None)
    if body.get("cron") is not None:
        schedule.update(cron=_cron(body["cron"]), run_at=None)
    if body.get("overlap") is not None:
        if body["overlap"] not in ("skip", "allow"):
            raise ApiFailureError(422, "validation_error", "overlap must be skip or allow")
        schedule["overlap"] = body["overlap"]
    for key in ("timezone", "name"):
        if body.get(key) is not None:
            schedule[key] = need_str(body, key)
    if body.get("enabled") is not None:
        if not isinstance(body["enabled"], bool):
            raise ApiFailureError(422, "validation_error", "enabled must be a boolean")
        schedule["enabled"] = body["enabled"]
    schedule["next_run_at"] = schedule["run_at"] if schedule["enabled"] else None


def _schedule_spec(spec: Any) -> Dict[str, Any]:
    if not isinstance(spec, dict):
        raise ApiFailureError(422, "validation_error", "spec must be an object")
    if spec.get("max_runtime_minutes") is None:
        raise ApiFailureError(422, "validation_error", "spec.max_runtime_minutes is required")
    return dict(spec)


@routes.post(f"{API}/schedules")
async def create_schedule(request: web.Request) -> web.Response:
    body = await json_body(request)
    kind = need_str(body, "kind")
    if kind not in ("instance", "job"):
        raise ApiFailureError(422, "validation_error", "kind must be instance or job")
    spec = _schedule_spec(body.get("spec"))
    if (body.get("run_at") is None) == (body.get("cron") is None):
        raise ApiFailureError(422, "validation_error", "Give exactly one of run_at and cron")
    environment = request.query.get("environment") or "main"
    state = state_of(request)
    now = _iso(_now())
    schedule: Dict[str, Any] = {
        "id": _new_id("sch"),
        "name": spec.get("name") or f"{kind} schedule",
        "kind": kind,
        "spec": spec,
        "environment_id": _environment_id(state, environment),
        "created_by": "usr_emulator",
        "run_as": "usr_emulator",
        "run_as_credential": "api_key",
        "max_runtime_minutes": spec["max_runtime_minutes"],
        "run_at": None,
        "cron": None,
        "timezone": "UTC",
        "overlap": "skip",
        "enabled": True,
        "next_run_at": None,
        "last_run_at": None,
        "last_status": None,
        "last_error": None,
        "last_instance_id": None,
        "last_job_id": None,
        "run_count": 0,
        "created_at": now,
        "updated_at": now,
        "_environment": environment,
    }
    _schedule_timing(schedule, body)
    with state.lock:
        scope_of(request).schedules[schedule["id"]] = schedule
        return envelope(public(schedule), status=201)


def _environment_id(state: EmulatorState, name: str) -> Optional[str]:
    with state.lock:
        env = state.environment_named(name)
        return None if env is None else str(env["id"])


@routes.get(f"{API}/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    with state_of(request).lock:
        found = sorted(scope_of(request).schedules.values(), key=lambda s: str(s["created_at"]), reverse=True)
        return listing([public(s) for s in found])


@routes.get(f"{API}/schedules/{{id}}")
async def get_schedule(request: web.Request) -> web.Response:
    with state_of(request).lock:
        return envelope(public(find(scope_of(request).schedules, request.match_info["id"], "Schedule")))


@routes.patch(f"{API}/schedules/{{id}}")
async def update_schedule(request: web.Request) -> web.Response:
    body = await json_body(request)
    changes = {k: v for k, v in body.items() if v is not None}
    if not changes.keys() & {"enabled", "run_at", "cron", "timezone", "overlap", "name", "spec"}:
        raise ApiFailureError(400, "bad_request", "Nothing to change")
    with state_of(request).lock:
        schedule = find(scope_of(request).schedules, request.match_info["id"], "Schedule")
        if "spec" in changes:
            schedule["spec"] = _schedule_spec(changes["spec"])
            schedule["max_runtime_minutes"] = schedule["spec"]["max_runtime_minutes"]
        _schedule_timing(schedule, changes)
        schedule["updated_at"] = _iso(_now())
        return envelope(public(schedule))


@routes.delete(f"{API}/schedules/{{id}}")
async def delete_schedule(request: web.Request) -> web.Response:
    with state_of(request).lock:
        schedules = scope_of(request).schedules
        find(schedules, request.match_info["id"], "Schedule")
        del schedules[request.match_info["id"]]
        return envelope({"deleted": True})


@routes.post(f"{API}/schedules/{{id}}/run-now")
async def run_schedule_now(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        schedule = find(scope_of(request).schedules, request.match_info["id"], "Schedule")
        environment = schedule["_environment"]
        answer: Dict[str, Any] = {}
        if schedule["kind"] == "instance":
            inst = launch_instance(state, environment, dict(schedule["spec"]))
            answer["instance"], schedule["last_instance_id"] = public(inst), inst["id"]
        else:
            job = launch_job(state, environment, dict(schedule["spec"]))
            answer["job"], schedule["last_job_id"] = public(job), job["id"]
        schedule.update(last_run_at=_iso(_now()), last_status="launched", run_count=schedule["run_count"] + 1)
        return envelope({"schedule": public(schedule), **answer})


# --- Jobs --------------------------------------------------------------

JOB_LIVE = ("queued", "starting", "running")
JOB_SPEC_FIELDS = (
    "command", "gpu_type", "max_runtime_minutes", "gpu_count", "template", "image", "env", "storage_id", "name",
    "region", "capacity_wait_minutes", "max_retries", "retry_on", "retry_exit_codes", "tags", "webhook_url",
    "webhook_events", "code", "image_registry_auth", "allow_cpu_container",
)  # fmt: skip
GPU_MEMORY_MB = {"H100": 81920, "H100-SXM": 81920, "A100": 40960, "A100-80GB": 81920, "L40S": 46068}
EXIT = re.compile(r"\bexit\s+(\d+)")


def _candidates(gpu_type: Any, gpu_count: int) -> List[Dict[str, Any]]:
    names = [gpu_type] if isinstance(gpu_type, str) else gpu_type
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ApiFailureError(422, "validation_error", "gpu_type must be a string or a list of strings")
    known = {offer[0] for offer in GPU_OFFERS}
    candidates = []
    for name in names:
        kind, _, count = name.partition(":")
        if kind not in known:
            raise ApiFailureError(422, "validation_error", f"Unknown GPU type {kind!r}")
        candidates.append({"gpu_type": kind, "gpu_count": int(count) if count.isdigit() else gpu_count})
    return candidates


def _job_spec(body: Dict[str, Any]) -> Dict[str, Any]:
    """A checked JobSpec from a body (a run's, a rerun's merged one, or a schedule's)."""
    spec = {k: body[k] for k in JOB_SPEC_FIELDS if body.get(k) is not None}
    need_str(spec, "command")
    if "gpu_type" not in spec:
        raise ApiFailureError(400, "bad_request", "Missing required field: gpu_type")
    if opt_int(spec, "max_runtime_minutes", 1, 10080) is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: max_runtime_minutes")
    opt_int(spec, "gpu_count", 1, 8)
    opt_int(spec, "capacity_wait_minutes", 0, 1440)
    opt_int(spec, "max_retries", 0, 10)
    for key in ("env", "tags"):
        if key in spec and not (isinstance(spec[key], dict) and all(isinstance(v, str) for v in spec[key].values())):
            raise ApiFailureError(422, "validation_error", f"{key} must be an object of strings")
    if spec.get("webhook_url") is not None and not str(spec["webhook_url"]).startswith("https://"):
        raise ApiFailureError(422, "validation_error", "webhook_url must be https")
    return spec


def launch_job(state: EmulatorState, environment: str, body: Dict[str, Any], **placement: Any) -> Dict[str, Any]:
    """Submit one job in an environment (the caller holds the lock); ``placement``: group_id, job_index, rerun_of."""
    spec = _job_spec(body)
    count = spec.get("gpu_count", 1)
    candidates = _candidates(spec["gpu_type"], count)
    first = candidates[0]
    price = next(offer[1] for offer in GPU_OFFERS if offer[0] == first["gpu_type"]) * first["gpu_count"]
    state.check_launch(environment, price)
    now = _now()
    job: Dict[str, Any] = {
        "id": _new_id("job"),
        "name": spec.get("name") or spec["command"].split()[0][:40],
        "status": "queued",
        "command": spec["command"],
        "gpu_type": first["gpu_type"],
        "gpu_count": first["gpu_count"],
        "gpu_candidates": candidates,
        "max_runtime_minutes": spec["max_runtime_minutes"],
        "template": spec.get("template"),
        "image": spec.get("image"),
        "env_keys": sorted({*spec.get("env", {}), *state.scopes[environment].secrets}),
        "storage_id": spec.get("storage_id"),
        "capacity_wait_minutes": spec.get("capacity_wait_minutes", 30),
        "queue_reason": None,
        "attempt": 1,
        "max_retries": spec.get("max_retries", 0),
        "retry_on": spec.get("retry_on", []),
        "retry_exit_codes": spec.get("retry_exit_codes", []),
        "attempts": [],
        "exit_code": None,
        "error": None,
        "instance_id": None,
        "environment_id": _environment_id(state, environment),
        "tags": spec.get("tags", {}),
        "group_id": placement.get("group_id"),
        "job_index": placement.get("job_index", 0),
        "rerun_of": placement.get("rerun_of"),
        "webhook_url": spec.get("webhook_url"),
        "webhook_events": spec.get("webhook_events", []),
        "started_at": None,
        "ended_at": None,
        "cost_per_hour": price,
        "cost_usd": 0.0,
        "log_bytes": 0,
        "logs_truncated": False,
        "code": _job_code(state, spec.get("code")),
        "allow_cpu_container": spec.get("allow_cpu_container", False),
        "image_registry_auth": spec.get("image_registry_auth"),
        "artifacts_count": 0,
        "created_at": _iso(now),
        "_spec": spec,
        "_environment": environment,
        "_submitted": now,
        "_chunks": [],
        "_events": [],
        "_metrics": [],
        "_artifacts": {},
        "_phase": 0,
    }
    _job_event(job, "created", None)
    _job_event(job, "queued", None)
    state.scopes[environment].jobs[job["id"]] = job
    return job


def _job_code(state: EmulatorState, code: Any) -> Optional[Dict[str, Any]]:
    if code is None:
        return None
    if not isinstance(code, dict):
        raise ApiFailureError(422, "validation_error", "code must be an object")
    if "upload_id" in code:
        upload = state.uploads.get(code["upload_id"])
        if upload is None or not upload["_received"]:
            raise ApiFailureError(422, "validation_error", "code.upload_id names no finished upload")
        return {"source": "upload", "ref": upload["upload_id"], "sha256": upload["_sha256"]}
    if isinstance(code.get("git"), dict) and code["git"].get("url"):
        git = code["git"]
        return {"source": "git", "url": git["url"], "ref": git.get("ref") or "main", "commit": "0" * 40}
    raise ApiFailureError(422, "validation_error", "code needs upload_id or git")


def _job_event(job: Dict[str, Any], kind: str, detail: Any, attempt: Optional[int] = None) -> None:
    job["_events"].append({"at": _iso(_now()), "kind": kind, "detail": detail, "attempt": attempt})


def _log(job: Dict[str, Any], text: str) -> None:
    chunks = job["_chunks"]
    chunks.append({"seq": len(chunks) + 1, "ts": _iso(_now()), "text": text})
    job["log_bytes"] += len(text.encode())


# Where a job is, as a share of its run: queued, then starting, then running, then ended.
JOB_PHASES = ((0.1, "starting"), (0.25, "running"), (1.0, "ended"))


def advance_job(state: EmulatorState, job: Dict[str, Any]) -> None:
    """Move a live job on to where its clock says it is (the caller holds the lock)."""
    if job["status"] not in JOB_LIVE:
        return
    elapsed = (_now() - job["_submitted"]).total_seconds()
    while job["_phase"] < len(JOB_PHASES) and elapsed >= JOB_PHASES[job["_phase"]][0] * state.job_seconds:
        phase = JOB_PHASES[job["_phase"]][1]
        job["_phase"] += 1
        if phase == "starting":
            job["status"], job["instance_id"] = "starting", _new_id("inst")
            _job_event(job, "launch_attempt", f"{job['gpu_count']}x {job['gpu_type']}", 1)
        elif phase == "running":
            _job_starts(state, job)
        else:
            _job_ends(state, job)


def _job_starts(state: EmulatorState, job: Dict[str, Any]) -> None:
    job["status"], job["started_at"] = "running", _iso(_now())
    job["attempts"] = [
        {"attempt": 1, "status": "running", "gpu_type": job["gpu_type"], "gpu_count": job["gpu_count"],
         "deployment_id": job["instance_id"], "exit_code": None, "error": None, "started_at": job["started_at"],
         "ended_at": None, "cost_usd": 0.0, "region": "us-east"}
    ]  # fmt: skip
    _job_event(job, "started", None, 1)
    _log(job, f"$ {job['command']}\n")
    for line in range(state.log_lines):
        _log(job, f"step {line + 1}/{state.log_lines}\n")
    _metric(job)


def _metric(job: Dict[str, Any]) -> None:
    total = GPU_MEMORY_MB.get(job["gpu_type"], 24576)
    gpus = [
        {"util": round(random.uniform(40, 100), 1), "mem_used_mb": random.randint(1024, total), "mem_total_mb": total}  # noqa: S311
        for _ in range(job["gpu_count"])
    ]
    job["_metrics"].append({"at": _iso(_now()), "gpus": gpus})


def _job_ends(state: EmulatorState, job: Dict[str, Any]) -> None:
    found = EXIT.search(job["command"])
    code = int(found.group(1)) if found else 0
    job["status"], job["exit_code"], job["ended_at"] = ("failed" if code else "succeeded"), code, _iso(_now())
    if code:
        job["error"] = f"The command exited with code {code}"
    _log(job, f"exit code {code}\n")
    _metric(job)
    _job_event(job, "exited", f"exit code {code}", 1)
    _settle(state, job)
    job["_artifacts"] = {"result.txt": _artifact(f"{job['id']} {job['status']}\n".encode())}
    if state.artifact_bytes:
        job["_artifacts"]["model.bin"] = _generated_artifact(state.artifact_bytes)
    job["artifacts_count"] = len(job["_artifacts"])


def _settle(state: EmulatorState, job: Dict[str, Any]) -> None:
    """Close the job's attempt and charge for the time it ran."""
    started = job["started_at"]
    hours = (
        0.0
        if started is None
        else (_now() - datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds() / 3600
    )
    job["cost_usd"] = round(job["cost_per_hour"] * hours, 6)
    for attempt in job["attempts"]:
        attempt.update(
            status=job["status"], exit_code=job["exit_code"], ended_at=job["ended_at"], cost_usd=job["cost_usd"]
        )
    if job["cost_usd"]:
        state.charge(job["_environment"], job["cost_usd"], f"Job {job['name']}")


ARTIFACT_PATTERN = bytes(range(256)) * 4096  # 1 MiB


def _artifact(content: bytes) -> Dict[str, Any]:
    return {
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "_content": content,
        "_token": uuid.uuid4().hex,
    }


def _generated_artifact(size: int) -> Dict[str, Any]:
    """A large artifact made of a repeated pattern, never held whole: its sha256 computed piece by piece."""
    digest = hashlib.sha256()
    for piece in _pattern(size):
        digest.update(piece)
    return {"bytes": size, "sha256": digest.hexdigest(), "_content": None, "_token": uuid.uuid4().hex}


def _pattern(size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        piece = ARTIFACT_PATTERN[: min(left, len(ARTIFACT_PATTERN))]
        left -= len(piece)
        yield piece


def _job(request: web.Request) -> Dict[str, Any]:
    state = state_of(request)
    job = find(scope_of(request).jobs, request.match_info["id"], "Job")
    advance_job(state, job)
    return job


Answer = Callable[[], Dict[str, Any]]  # what a keyed POST made, as it is now


def _keyed(request: web.Request, make: Callable[[], Answer]) -> web.Response:
    """Answer a keyed POST: the same Idempotency-Key answers what the first request made (the caller holds the lock)."""
    state = state_of(request)
    key = request.headers.get("Idempotency-Key")
    answer = state.job_answers.get((route_label(request), key)) if key else None
    if answer is not None:
        return envelope(answer())
    answer = make()
    if key:
        state.job_answers[(route_label(request), key)] = answer
    return envelope(answer(), status=201)


@routes.post(f"{API}/jobs")
async def run_jobs(request: web.Request) -> web.Response:
    body = await json_body(request)
    state = state_of(request)
    environment = request.query.get("environment") or "main"
    with state.lock:
        if body.get("count") is None and body.get("params") is None:
            return _keyed(request, lambda: _one_job(state, environment, body))
        return _keyed(request, lambda: _group(state, environment, body))


def _one_job(state: EmulatorState, environment: str, body: Dict[str, Any]) -> Answer:
    job = launch_job(state, environment, body)
    secret = _new_id("whsec") if job["webhook_url"] else None  # shown in the submit answer only
    return lambda: {**_fresh(state, job), "webhook_secret": secret}


def _fresh(state: EmulatorState, job: Dict[str, Any]) -> Dict[str, Any]:
    advance_job(state, job)
    return public(job)


def _group(state: EmulatorState, environment: str, body: Dict[str, Any]) -> Answer:
    count, params = body.get("count"), body.get("params")
    if count is not None and params is not None:
        raise ApiFailureError(422, "validation_error", "Give count or params, not both")
    if params is not None and not (isinstance(params, list) and params and all(isinstance(p, dict) for p in params)):
        raise ApiFailureError(422, "validation_error", "params must be a non-empty list of objects")
    total = opt_int(body, "count", 1, 1000) or len(params or [])
    group: Dict[str, Any] = {
        "id": _new_id("grp"),
        "count": total,
        "max_parallel": opt_int(body, "max_parallel", 1) or total,
        "created_at": _iso(_now()),
        "_environment": environment,
        "_jobs": [],
    }
    for index in range(total):
        spec = dict(body)
        if params is not None:
            spec["env"] = {**(body.get("env") or {}), **{k: str(v) for k, v in params[index].items()}}
        job = launch_job(state, environment, spec, group_id=group["id"], job_index=index)
        group["_jobs"].append(job["id"])
    state.scopes[environment].groups[group["id"]] = group
    secret = _new_id("whsec") if body.get("webhook_url") else None

    def answer() -> Dict[str, Any]:
        jobs = [_fresh(state, job) for job in _group_jobs(state, group)]
        return {**group_view(state, group), "jobs": jobs, "webhook_secret": secret}

    return answer


def _group_jobs(state: EmulatorState, group: Dict[str, Any]) -> List[Dict[str, Any]]:
    jobs = state.scopes[group["_environment"]].jobs
    return [jobs[i] for i in group["_jobs"] if i in jobs]


def group_view(state: EmulatorState, group: Dict[str, Any]) -> Dict[str, Any]:
    jobs = _group_jobs(state, group)
    for job in jobs:
        advance_job(state, job)
    counts = Counter(job["status"] for job in jobs)
    return {**public(group), "status_counts": dict(counts), "cost_usd": round(sum(j["cost_usd"] for j in jobs), 6)}


@routes.get(f"{API}/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    query = request.query
    limit = query.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise ApiFailureError(422, "validation_error", "limit must be 1-100")
    after = _parse_time(query["created_after"]) if query.get("created_after") else None
    state = state_of(request)
    with state.lock:
        jobs = list(scope_of(request).jobs.values())
        for job in jobs:
            advance_job(state, job)
        jobs = [j for j in jobs if _job_matches(j, query) and (after is None or j["_submitted"] > after)]
        jobs.sort(key=lambda j: j["_submitted"], reverse=True)
        cursor = query.get("cursor", "c_0")
        start = int(cursor[2:]) if cursor.startswith("c_") and cursor[2:].isdigit() else 0
        page = jobs[start : start + int(limit)]
        more = start + len(page) < len(jobs)
        meta = {
            "total": len(jobs),
            "hasMore": more,
            "cursor": f"c_{start + len(page)}" if more else None,
            "requestId": _new_id("req"),
        }
        return envelope([public(j) for j in page], meta=meta)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(_run_at(value).replace("Z", "+00:00"))


def _job_matches(job: Dict[str, Any], query: Any) -> bool:
    statuses = query.get("status")
    if statuses and job["status"] not in statuses.split(","):
        return False
    for tag in query.getall("tag", []):
        key, _, value = tag.partition(":")
        if job["tags"].get(key) != value:
            return False
    for name in ("group_id", "gpu_type"):
        if query.get(name) and job[name] != query[name]:
            return False
    return not query.get("q") or query["q"].lower() in f"{job['name']} {job['command']}".lower()


@routes.get(f"{API}/jobs/{{id}}")
async def get_job(request: web.Request) -> web.Response:
    with state_of(request).lock:
        return envelope(public(_job(request)))


@routes.post(f"{API}/jobs/{{id}}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        job = _job(request)
        if job["status"] in JOB_LIVE:
            _cancel(state, job)
        elif job["status"] != "cancelled":
            raise ApiFailureError(409, "conflict", f"Job {job['id']} already ended: {job['status']}")
        return envelope(public(job))


def _cancel(state: EmulatorState, job: Dict[str, Any]) -> None:
    job.update(status="cancelled", ended_at=_iso(_now()), error="Cancelled by the user")
    _job_event(job, "cancelled", None, 1 if job["attempts"] else None)
    _settle(state, job)


@routes.delete(f"{API}/jobs/{{id}}")
async def delete_job(request: web.Request) -> web.Response:
    with state_of(request).lock:
        job = _job(request)
        if job["status"] in JOB_LIVE:
            raise ApiFailureError(409, "conflict", f"Job {job['id']} is still {job['status']}: cancel it first")
        del scope_of(request).jobs[job["id"]]
        return envelope({"deleted": True})


@routes.post(f"{API}/jobs/{{id}}/rerun")
async def rerun_job(request: web.Request) -> web.Response:
    overrides = await json_body(request)
    state = state_of(request)
    with state.lock:
        old = _job(request)

        def make() -> Answer:
            spec = {**old["_spec"], **{k: v for k, v in overrides.items() if k != "env"}}  # a null clears
            if "env" in overrides:
                spec["env"] = {**old["_spec"].get("env", {}), **(overrides["env"] or {})}
            job = launch_job(state, old["_environment"], spec, rerun_of=old["id"])
            return lambda: _fresh(state, job)

        return _keyed(request, make)


LOG_HOLD = 25.0


@routes.get(f"{API}/jobs/{{id}}/logs")
async def job_logs(request: web.Request) -> web.Response:
    query = request.query
    after = int(query.get("after", "0")) if query.get("after", "0").isdigit() else -1
    if after < 0:
        raise ApiFailureError(422, "validation_error", "after must be a whole number")
    limit = int(query["limit"]) if query.get("limit", "").isdigit() else 1000
    state = state_of(request)
    held_until = _now() + timedelta(seconds=min(LOG_HOLD, state.log_hold)) if query.get("follow") == "true" else None
    while True:
        with state.lock:
            job = _job(request)
            chunks = [c for c in job["_chunks"] if c["seq"] > after][:limit]
            ended = job["status"] not in JOB_LIVE
            if chunks or ended or held_until is None or _now() >= held_until:
                cursor = chunks[-1]["seq"] if chunks else max(after, 0)
                done = ended and cursor >= len(job["_chunks"])
                logs = {
                    "job_id": job["id"],
                    "status": job["status"],
                    "chunks": chunks,
                    "cursor": cursor,
                    "truncated": False,
                    "done": done,
                }
                return envelope(logs)
        await asyncio.sleep(0.05)


@routes.get(f"{API}/jobs/{{id}}/events")
async def job_events(request: web.Request) -> web.Response:
    with state_of(request).lock:
        return listing(list(_job(request)["_events"]))


@routes.get(f"{API}/jobs/{{id}}/metrics")
async def job_metrics(request: web.Request) -> web.Response:
    step = request.query.get("step")
    if step is not None and not (step.isdigit() and 60 <= int(step) <= 86400):
        raise ApiFailureError(422, "validation_error", "step must be 60-86400 seconds")
    with state_of(request).lock:
        return listing(list(_job(request)["_metrics"]))


@routes.get(f"{API}/jobs/{{id}}/artifacts")
async def job_artifacts(request: web.Request) -> web.Response:
    with state_of(request).lock:
        found = _job(request)["_artifacts"]
        return listing([{"path": path, **public(a)} for path, a in sorted(found.items())])


@routes.get(f"{API}/jobs/{{id}}/artifacts/{{path:.+}}")
async def job_artifact(request: web.Request) -> web.Response:
    with state_of(request).lock:
        artifact = _job(request)["_artifacts"].get(request.match_info["path"])
        if artifact is None:
            raise ApiFailureError(404, "not_found", "Artifact not found")
        location = f"{_origin(request)}{STORAGE}/artifacts/{artifact['_token']}"
        return web.Response(status=302, headers={"Location": location})


def storage_refusal(status: int, code: str) -> web.Response:
    """How object storage says no: XML, not the API's envelope."""
    return web.Response(status=status, text=f"<Error><Code>{code}</Code></Error>", content_type="application/xml")


def _origin(request: web.Request) -> str:
    """The scheme, host and port the request came to: signed URLs point back at the emulator itself."""
    return f"{request.scheme}://{request.host}"


@routes.get(f"{STORAGE}/artifacts/{{token}}")
async def signed_artifact(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    with state.lock:
        artifact = next(
            (
                a
                for s in state.scopes.values()
                for j in s.jobs.values()
                for a in j["_artifacts"].values()
                if a["_token"] == request.match_info["token"]
            ),
            None,
        )
    if artifact is None:
        return storage_refusal(403, "AccessDenied")
    response = web.StreamResponse(
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(artifact["bytes"])}
    )
    await response.prepare(request)
    content = artifact["_content"]
    pieces = [content] if content is not None else _pattern(artifact["bytes"])
    return await write_stream(request, response, pieces, counter="abandoned_downloads")


# --- Code uploads ----------------------------------------------------------


@routes.post(f"{API}/jobs/uploads")
async def create_upload(request: web.Request) -> web.Response:
    body = await json_body(request)
    size = opt_int(body, "bytes", 1, MAX_UPLOAD)
    if size is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: bytes")
    sha256 = opt_str(body, "sha256")
    state = state_of(request)
    with state.lock:
        known = state.uploads_by_sha.get(sha256) if sha256 else None
        if known is not None and known["_received"]:
            return envelope({**public(known), "url": None, "url_expires_at": None})
        now = _now()
        upload: Dict[str, Any] = {
            "upload_id": _new_id("upl"),
            "expires_at": _iso(now + timedelta(hours=24)),
            "max_bytes": MAX_UPLOAD,
            "url": None,
            "url_expires_at": _iso(now + timedelta(hours=1)),
            "_bytes": size,
            "_sha256": sha256,
            "_received": False,
        }
        upload["url"] = f"{_origin(request)}{STORAGE}/uploads/{upload['upload_id']}"
        state.uploads[upload["upload_id"]] = upload
        if sha256:
            state.uploads_by_sha[sha256] = upload
        return envelope(public(upload), status=201)


@routes.put(f"{STORAGE}/uploads/{{id}}")
async def put_upload(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        upload = state.uploads.get(request.match_info["id"])
    if upload is None:
        return storage_refusal(403, "AccessDenied")
    digest, size = hashlib.sha256(), 0
    async for piece in request.content.iter_chunked(1024 * 1024):
        digest.update(piece)
        size += len(piece)
    if size != upload["_bytes"] or (upload["_sha256"] and digest.hexdigest() != upload["_sha256"]):
        return storage_refusal(400, "BadDigest")
    with state.lock:
        upload.update(_received=True, _sha256=digest.hexdigest())
    return web.Response(status=200)


# --- Job groups ----------------------------------------------------------


@routes.get(f"{API}/job-groups/{{id}}")
async def get_job_group(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return envelope(group_view(state, find(scope_of(request).groups, request.match_info["id"], "Job group")))


@routes.post(f"{API}/job-groups/{{id}}/cancel")
async def cancel_job_group(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        group = find(scope_of(request).groups, request.match_info["id"], "Job group")
        for job in _group_jobs(state, group):
            advance_job(state, job)
            if job["status"] in JOB_LIVE:
                _cancel(state, job)
        return envelope(group_view(state, group))


# --- Crates ------------------------------------------------------------


@routes.get(f"{API}/crates")
async def list_crates(request: web.Request) -> web.Response:
    state = state_of(request)
    filters = {k: v for k, v in request.query.items() if k != "environment"}
    with state.lock:
        crates = [c for c in scope_of(request).crates.values() if all(str(c.get(k)) == v for k, v in filters.items())]
        return listing([public(c) for c in crates])


@routes.post(f"{API}/crates")
async def create_crate(request: web.Request) -> web.Response:
    body = await json_body(request)
    crate = {**body, "id": _new_id("crate"), "status": "created", "created_at": _iso(_now())}
    state = state_of(request)
    with state.lock:
        scope_of(request).crates[crate["id"]] = crate
        return envelope(public(crate), status=201)


@routes.get(f"{API}/crates/{{id}}")
async def get_crate(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return envelope(public(find(scope_of(request).crates, request.match_info["id"], "Crate")))


@routes.delete(f"{API}/crates/{{id}}")
async def delete_crate(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        crates = scope_of(request).crates
        del crates[find(crates, request.match_info["id"], "Crate")["id"]]
        return web.Response(status=204)


# ----------------------------------------------------------------------
# Inference handlers (/v1)
# ----------------------------------------------------------------------

MODELS: Dict[str, Sequence[str]] = {
    "chat": (
        "deepseek-ai/DeepSeek-V3",
        "deepseek-ai/DeepSeek-R1",
        "meta-llama/Llama-3.3-70B-Instruct",
        "Qwen/Qwen2.5-72B-Instruct",
    ),
    "image": (
        "black-forest-labs/FLUX.1-schnell",
        "black-forest-labs/FLUX.1-dev",
        "black-forest-labs/FLUX.1-kontext-pro",
        "Wan-AI/Wan2.6-Image-Edit",
        "some-controlnet-model",
    ),
    "video": ("google/veo-3.0", "some-img2vid-model"),
    "speech": ("hexgrad/Kokoro-82M",),
    "transcription": ("openai/whisper-1", "openai/whisper-large-v3"),
}


def need_model(body: Dict[str, Any], kind: str) -> str:
    model = body.get("model")
    if not model:
        raise ApiFailureError(400, "bad_request", "Missing required field: model")
    if model not in MODELS[kind]:
        raise ApiFailureError(404, "model_not_found", f"The model {model!r} does not exist or is not a {kind} model")
    return str(model)


# --- Chat --------------------------------------------------------------


CHAT_ROLES = {"system", "user", "assistant", "tool", "developer"}


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _check_messages(messages: Any) -> List[Dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise ApiFailureError(400, "bad_request", "messages must be a non-empty list")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in CHAT_ROLES:
            raise ApiFailureError(422, "invalid_parameter", f"each message needs a role among {sorted(CHAT_ROLES)}")
    return messages


def chat_answer(messages: List[Dict[str, Any]]) -> str:
    """The emulator's deterministic reply: derived from the last user message."""
    last = next((_message_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    return f"You said: {last.strip() or '(nothing)'}. This reply comes from the Runcrate emulator."


@routes.post(f"{V1}/chat/completions")
async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    model = need_model(body, "chat")
    messages = _check_messages(body.get("messages"))
    max_tokens = opt_int(body, "max_tokens", 1)
    opt_number(body, "temperature", 0, 2)
    opt_number(body, "top_p", 0, 1)
    opt_number(body, "frequency_penalty", -2, 2)
    opt_number(body, "presence_penalty", -2, 2)
    words = chat_answer(messages).split(" ")
    finish = "stop"
    if max_tokens is not None and len(words) > max_tokens:
        words, finish = words[:max_tokens], "length"
    prompt_tokens = sum(len(_message_text(m.get("content")).split()) for m in messages)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(words),
        "total_tokens": prompt_tokens + len(words),
    }
    completion_id = _new_id("chatcmpl")
    if body.get("stream"):
        options = body.get("stream_options")
        with_usage = isinstance(options, dict) and options.get("include_usage") is True
        return await _stream_chat(request, completion_id, model, words, finish, usage if with_usage else None)
    return web.json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(_now().timestamp()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": " ".join(words)}, "finish_reason": finish}
            ],
            "usage": usage,
        }
    )


async def _stream_chat(
    request: web.Request,
    completion_id: str,
    model: str,
    words: List[str],
    finish: str,
    usage: Optional[Dict[str, int]],
) -> web.StreamResponse:
    state = state_of(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": int(_now().timestamp()), "model": model}
    deltas = [{"role": "assistant"}] + [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
    events = [_sse({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in deltas]
    events.append(_sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
    if usage is not None:  # as OpenAI does, only when stream_options.include_usage asks for it
        events.append(_sse({**base, "choices": [], "usage": usage}))
    events.append(b"data: [DONE]\n\n")
    return await write_stream(request, response, events, pause=state.stream_delay)


# --- Images and their files --------------------------------------------


ASPECT_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"}


@functools.lru_cache(maxsize=32)
def png_image(width: int, height: int, seed: int) -> bytes:
    """A real PNG of the given size: a two-colour gradient chosen by ``seed``."""
    red, green, blue = seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF
    row = bytearray(b"\x00")
    for x in range(width):
        shade = x * 255 // max(width - 1, 1)
        row += bytes(((red + shade) & 0xFF, green, (blue + 255 - shade) & 0xFF))
    raw = bytes(row) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _image_size(body: Dict[str, Any]) -> Tuple[int, int]:
    width = opt_int(body, "width", 256, 2048)
    height = opt_int(body, "height", 256, 2048)
    ratio = body.get("aspect_ratio")
    if ratio is not None and ratio not in ASPECT_RATIOS:
        raise ApiFailureError(422, "invalid_parameter", f"aspect_ratio must be one of {sorted(ASPECT_RATIOS)}")
    if width is None and height is None and ratio:
        w, h = (int(p) for p in ratio.split(":"))
        return (1024, 1024 * h // w // 8 * 8) if w >= h else (1024 * w // h // 8 * 8, 1024)
    return width or 1024, height or 1024


@routes.post(f"{V1}/images/generations")
async def images_generations(request: web.Request) -> web.Response:
    body = await json_body(request)
    need_model(body, "image")
    prompt = need_str(body, "prompt")
    width, height = _image_size(body)
    opt_int(body, "num_inference_steps", 1, 100)
    count = opt_int(body, "n", 1, 4) or 1
    response_format = body.get("response_format") or "b64_json"
    if response_format not in ("url", "b64_json"):
        raise ApiFailureError(422, "invalid_parameter", "response_format must be url or b64_json")
    for name in ("image", "start_image", "mask", "control_image"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ApiFailureError(422, "invalid_parameter", f"{name} must be a URL, a data URI or base64")
    seed = int.from_bytes(hashlib.sha256(f"{prompt}{body.get('seed')}".encode()).digest()[:3], "big")
    png = png_image(width, height, seed)
    state = state_of(request)
    data = []
    for _ in range(count):
        if response_format == "b64_json":
            data.append({"b64_json": base64.b64encode(png).decode(), "revised_prompt": prompt})
        else:
            name = f"{uuid.uuid4().hex}.png"
            with state.lock:
                state.files[name] = png
            data.append({"url": f"{request.url.origin()}{V1}/files/{name}", "revised_prompt": prompt})
    return web.json_response({"created": int(_now().timestamp()), "data": data})


@routes.get(f"{V1}/files/{{name}}")
async def get_file(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        state.file_requests.append(request.headers.get("Authorization"))
        content = state.files.get(request.match_info["name"])
    if content is None:
        raise ApiFailureError(404, "not_found", "File not found")
    return web.Response(body=content, content_type="image/png")


# --- Videos ------------------------------------------------------------


@routes.post(f"{V1}/videos")
async def create_video(request: web.Request) -> web.Response:
    body = await json_body(request)
    model = need_model(body, "video")
    prompt = need_str(body, "prompt")
    opt_number(body, "duration", 1, 60)
    ratio = body.get("aspect_ratio")
    if ratio is not None and ratio not in ("16:9", "9:16", "1:1"):
        raise ApiFailureError(422, "invalid_parameter", "aspect_ratio must be 16:9, 9:16 or 1:1")
    if body.get("image") is not None and not isinstance(body["image"], str):
        raise ApiFailureError(422, "invalid_parameter", "image must be a URL, a data URI or base64")
    job: Dict[str, Any] = {
        "id": _new_id("vid"),
        "status": "queued",
        "model": model,
        "prompt": prompt,
        "created_at": _iso(_now()),
        "_fails": "[fail]" in prompt,
    }
    VIDEO_LIFE.begin(job)
    state = state_of(request)
    with state.lock:
        state.videos[job["id"]] = job
    return web.json_response(public(job))


@routes.get(f"{V1}/videos/{{id}}")
async def video_status(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        job = find(state.videos, request.match_info["id"], "Video")
        VIDEO_LIFE.look(job)
        return web.json_response(public(job))


def fake_mp4(size: int) -> Iterator[bytes]:
    """``size`` bytes shaped like an MP4 (an ftyp box, then media data), in 256 KiB pieces."""
    head = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    head += struct.pack(">I", max(size - len(head), 8)) + b"mdat"
    yield head[:size]
    left = size - len(head)
    filler = bytes(range(256)) * 1024
    while left > 0:
        piece = filler[: min(left, len(filler))]
        left -= len(piece)
        yield piece


@routes.get(f"{V1}/videos/{{id}}/download")
async def download_video(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    with state.lock:
        job = find(state.videos, request.match_info["id"], "Video")
        size = state.video_size
    if job["status"] != "completed":
        raise ApiFailureError(404, "not_found", f"Video {job['id']} is not ready (status: {job['status']})")
    response = web.StreamResponse(
        headers={
            "Content-Type": "video/mp4",
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="{job["id"]}.mp4"',
        }
    )
    await response.prepare(request)
    return await write_stream(request, response, fake_mp4(size), counter="abandoned_downloads")


# --- Audio: speech and transcription -----------------------------------


TRANSCRIPT_FORMATS = {"json", "text", "srt", "vtt", "verbose_json"}
MP3_SILENT_FRAME = b"\xff\xfb\x90\xc0" + bytes(413)  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, mono


def speech_audio(text: str, response_format: str) -> Tuple[bytes, str]:
    """Real audio for ``text``: silent MP3 frames, or a quiet tone as PCM/WAV (16 kHz, 16-bit mono)."""
    seconds = max(0.5, len(text) / 15)
    if response_format == "mp3":
        return MP3_SILENT_FRAME * int(seconds * 44100 / 1152), "audio/mpeg"
    rate = 16000
    samples = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))
    )
    if response_format == "pcm":
        return samples, "audio/pcm"
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue(), "audio/wav"


@routes.post(f"{V1}/audio/speech")
async def speech(request: web.Request) -> web.Response:
    body = await json_body(request)
    need_model(body, "speech")
    text = need_str(body, "input")
    if len(text) > 4096:
        raise ApiFailureError(422, "invalid_parameter", "input is longer than 4096 characters")
    response_format = body.get("response_format") or "mp3"
    if response_format not in ("mp3", "pcm", "wav"):
        raise ApiFailureError(422, "invalid_parameter", "response_format must be mp3, pcm or wav")
    opt_number(body, "speed", 0.25, 4.0)
    audio, content_type = speech_audio(text, response_format)
    return web.Response(body=audio, content_type=content_type)


def _timestamp(seconds: float, separator: str) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{separator}{int(seconds * 1000) % 1000:03d}"


@routes.post(f"{V1}/audio/transcriptions")
async def transcriptions(request: web.Request) -> web.Response:
    fields: Dict[str, str] = {}
    filename, size = None, 0
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = part.filename or "audio"
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
        elif part.name:
            fields[part.name] = await part.text()
    need_model(fields, "transcription")
    if filename is None:
        raise ApiFailureError(400, "bad_request", "Missing required field: file")
    response_format = fields.get("response_format") or "json"
    if response_format not in TRANSCRIPT_FORMATS:
        raise ApiFailureError(422, "invalid_parameter", f"response_format must be one of {sorted(TRANSCRIPT_FORMATS)}")
    duration = round(max(size / 32000, 0.1), 3)
    text = f"Transcript of {filename}: {size} bytes of audio."
    language = fields.get("language") or "en"
    if response_format in ("json", "verbose_json"):
        answer: Dict[str, Any] = {"text": text, "language": language, "duration": duration}
        if response_format == "verbose_json":
            answer["segments"] = [{"id": 0, "start": 0.0, "end": duration, "text": text}]
        return web.json_response(answer)
    if response_format == "text":
        return web.Response(text=text, content_type="text/plain")
    if response_format == "srt":
        return web.Response(
            text=f"1\n00:00:00,000 --> {_timestamp(duration, ',')}\n{text}\n", content_type="text/plain"
        )
    return web.Response(
        text=f"WEBVTT\n\n00:00:00.000 --> {_timestamp(duration, '.')}\n{text}\n", content_type="text/plain"
    )


# --- Models ------------------------------------------------------------


@routes.get(f"{V1}/models")
async def list_models(request: web.Request) -> web.Response:
    data = [
        {"id": m, "object": "model", "owned_by": m.split("/")[0], "type": k} for k, ms in MODELS.items() for m in ms
    ]
    return web.json_response({"object": "list", "data": data})


# ----------------------------------------------------------------------
# Middleware: records, faults, auth, errors
# ----------------------------------------------------------------------


def route_label(request: web.Request) -> str:
    """``METHOD /path/{id}``: how counters and Idempotency-Keys are grouped."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    return f"{request.method} {path}"


@web.middleware
async def emulate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL):
        return await handler(request)
    state = state_of(request)
    state.record(route_label(request), request.headers.get("Idempotency-Key"), request.transport)
    fault = state.take_fault(request.method, request.path)
    if fault is None:
        response = await _answer(request, handler)
    else:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop == "before_body":
            return _drop(request)
        if fault.changes_the_answer:
            request[FAULT] = fault
        response = _fault_response(request, fault) if fault.status is not None else await _answer(request, handler)
        if fault.drop == "after_body":
            return _drop(request)
    return response


async def _answer_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Headers of every answer, a stream's too: a request id, and on inference the rate-limit window."""
    if request.path.startswith(CONTROL):
        return
    response.headers.setdefault("x-request-id", _new_id("req"))
    if request.path.startswith(V1 + "/"):
        response.headers.update(state_of(request).rate_limit_headers())


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = _bearer(request)
    state = state_of(request)
    public_file = request.path.startswith((f"{V1}/files/", f"{STORAGE}/"))
    if request.path.startswith(f"{STORAGE}/") and "Authorization" in request.headers:
        return storage_refusal(400, "InvalidArgument")  # a presigned URL refuses a second kind of auth
    known = key is not None and key.startswith("rc_live_") and (state.api_keys is None or key in state.api_keys)
    if not known and not public_file:
        return error_for(request, 401, "invalid_api_key", "Invalid or missing API key")
    try:
        return await handler(request)
    except ApiFailureError as failure:
        return error_for(request, failure.status, failure.code, failure.message, failure.details)
    except ConnectionError:  # the client left in the middle of its request: not a handler crash
        return web.Response(status=499)


def error_for(
    request: web.Request, status: int, code: str, message: str, details: Optional[Dict[str, Any]] = None
) -> web.Response:
    """The error envelope of the surface the request went to (OpenAI style on /v1)."""
    if request.path.startswith(V1 + "/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        return web.json_response({"error": {"message": message, "type": kind, "code": code}}, status=status)
    return error_response(status, code, message, details)


def _bearer(request: web.Request) -> Optional[str]:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


def _fault_response(request: web.Request, fault: Fault) -> web.Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    status = fault.status or 500
    if fault.body is None:
        response = error_for(request, status, _FAULT_CODES.get(status, "api_error"), f"Emulated HTTP {status}")
        response.headers.update(headers)
        return response
    text = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
    ctype = fault.content_type or ("text/plain" if isinstance(fault.body, str) else "application/json")
    return web.Response(body=text.encode(), status=status, headers={**headers, "Content-Type": ctype})


_FAULT_CODES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway", 503: "unavailable", 504: "timeout"}


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=599)  # never reaches the client: the connection is gone


# ----------------------------------------------------------------------
# Control routes (fault injection and introspection over HTTP)
# ----------------------------------------------------------------------


@routes.post(f"{CONTROL}/faults")
async def control_fault(request: web.Request) -> web.Response:
    body = await request.json()
    state_of(request).add_fault(Fault(**body))
    return web.json_response({"ok": True})


@routes.delete(f"{CONTROL}/faults")
async def control_clear(request: web.Request) -> web.Response:
    with state_of(request).lock:
        state_of(request).faults.clear()
    return web.json_response({"ok": True})


@routes.get(f"{CONTROL}/requests")
async def control_requests(request: web.Request) -> web.Response:
    state = state_of(request)
    with state.lock:
        return web.json_response({"counts": dict(state.counts), "idempotency_keys": dict(state.idempotency_keys)})


@routes.post(f"{CONTROL}/reset")
async def control_reset(request: web.Request) -> web.Response:
    state_of(request).reset()
    return web.json_response({"ok": True})


@routes.post(f"{CONTROL}/credits")
async def control_credits(request: web.Request) -> web.Response:
    body = await request.json()
    state_of(request).set_credits(float(body["credits"]))
    return web.json_response({"ok": True})


# ----------------------------------------------------------------------
# The application and how to run it
# ----------------------------------------------------------------------


def build_app(state: Optional[EmulatorState] = None) -> web.Application:
    """The aiohttp application serving both API surfaces and the control routes."""
    app = web.Application(middlewares=[emulate])
    app[STATE] = state or EmulatorState()
    app.on_response_prepare.append(_answer_headers)
    app.router.add_routes(routes)
    return app


# Long ids (10,000 characters, percent-encoded) must reach their route, not a parser limit.
HANDLER_ARGS: Dict[str, Any] = {"max_line_size": 128 * 1024}


class Emulator:
    """A running emulator: its ``url``, its ``state``, fault injection, and ``stop()``."""

    api_key = "rc_live_emulator_0000000000000000"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **state_options: Any) -> None:
        self.state = EmulatorState(**state_options)
        self._host, self._port = host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failure: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, name="runcrate-emulator", daemon=True)
        self.url = ""
        self._client: Optional[runcrate.Runcrate] = None

    def start(self) -> Emulator:
        self._thread.start()
        self._ready.wait(10)
        if self._failure is not None:
            raise RuntimeError(f"the emulator did not start: {self._failure}")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(build_app(self.state), access_log=None, handle_signals=False, **HANDLER_ARGS)
        try:
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self._host, self._port)
            self._loop.run_until_complete(site.start())
            port = runner.addresses[0][1]
            self.url = f"http://{self._host}:{port}"
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self.close_client()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- conveniences for tests ------------------------------------------

    def make_session(self, **options: Any) -> runcrate.Session:
        """A new ``runcrate.Session`` pointed at this emulator (both surfaces)."""
        import runcrate

        options.setdefault("api_key", self.api_key)
        return runcrate.Session(base_url=self.url, inference_url=self.url, **options)

    def make_client(self, **options: Any) -> runcrate.Runcrate:
        """A new ``runcrate.Runcrate`` client pointed at this emulator."""
        import runcrate

        options.setdefault("api_key", self.api_key)
        return runcrate.Runcrate(base_url=self.url, inference_url=self.url, **options)

    @property
    def client(self) -> runcrate.Runcrate:
        """A shared client bound to this emulator, made on first use."""
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def close_client(self) -> None:
        """Close the shared client (a later ``client`` read makes a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def fail(self, path: str, *, status: Optional[int] = None, count: int = 1, **options: Any) -> None:
        """Make the next ``count`` requests whose path matches ``path`` (a glob) fail.

        Options: ``method``, ``status``, ``retry_after``, ``body``, ``content_type``,
        ``delay`` (seconds before answering), ``drop`` (``"before_body"``: close
        without handling; ``"after_body"``: handle, then close without answering).
        """
        self.state.add_fault(Fault(path=path, status=status, count=count, **options))

    def count(self, route: str) -> int:
        """How many requests a route received, e.g. ``count("POST /api/v1/instances")``."""
        with self.state.lock:
            return self.state.counts[route]

    def idempotency_keys(self, route: str) -> List[str]:
        """The Idempotency-Key of each request a route received, in order."""
        with self.state.lock:
            return list(self.state.idempotency_keys[route])

    def reset(self) -> None:
        """Forget all resources, faults and counters."""
        self.state.reset()

    def set_secret(self, key: str, value: str, *, sensitive: bool = False, environment: str = "main") -> None:
        """Set a secret, as the dashboard does (the API lists its name only)."""
        with self.state.lock:
            self.state.scopes[environment].secrets[key] = {
                "key": key,
                "sensitive": sensitive,
                "updated_at": _iso(_now()),
                "_value": value,
            }

    def set_credits(self, amount: float) -> None:
        """Set the workspace balance."""
        self.state.set_credits(amount)

    def set_budget(self, monthly_usd: Optional[float], *, spent: float = 0.0, environment: str = "main") -> None:
        """Give an environment a monthly budget and a month-to-date spend (launches past it get 402 BUDGET_REACHED)."""
        with self.state.lock:
            env = self.state.environment_named(environment) or self.state.add_environment(environment)
            remaining = None if monthly_usd is None else round(max(monthly_usd - spent, 0.0), 6)
            env.update(monthly_budget_usd=monthly_usd, month_to_date_usd=spent, budget_remaining_usd=remaining)

    def add_volume(self, volume_id: str, name: str, size_gb: int = 100, *, environment: str = "main") -> None:
        """Place a volume with a chosen id, as if made earlier."""
        now = _now()
        with self.state.lock:
            self.state.scopes[environment].volumes[volume_id] = {
                "id": volume_id,
                "name": name,
                "sizeGb": size_gb,
                "status": "available",
                "region": "us-east-1",
                "providerType": "aws-s3",
                "deploymentId": None,
                "projectId": "prj_emulator",
                "createdAt": _iso(now),
                "updatedAt": _iso(now),
                "_billed_from": now,
            }


def start_emulator(host: str = "127.0.0.1", port: int = 0, **state_options: Any) -> Emulator:
    """Start an emulator in a background thread (``port=0`` picks a free port).

    ``state_options``: ``api_keys`` (accepted keys; default any ``rc_live_`` key),
    ``start_delay`` (seconds range before an instance runs; default 1-3),
    ``initial_credits`` (starting balance, default 100).
    """
    return Emulator(host, port, **state_options).start()


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``python -m runcrate_emulator``: serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m runcrate_emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--start-delay", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument(
        "--job-seconds", type=float, default=None, help="seconds from a job's submit to its end (default 3)"
    )
    args = parser.parse_args(argv)
    state = EmulatorState(start_delay=tuple(args.start_delay), job_seconds=args.job_seconds)
    try:
        listener = socket.create_server((args.host, args.port))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"runcrate-emulator: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        raise SystemExit(2) from None
    url = f"http://{args.host}:{args.port}"
    print(f"Runcrate emulator on {url} (Ctrl-C stops it)")
    print(f"Point a client at it: RUNCRATE_BASE_URL={url} RUNCRATE_INFERENCE_URL={url}", flush=True)
    web.run_app(build_app(state), sock=listener, print=None, access_log=None, handler_args=HANDLER_ARGS)


if __name__ == "__main__":
    main()
