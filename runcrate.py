"""Runcrate Python SDK: GPU infrastructure and model inference, in one file.

Vendoring: copy this file into your project. It needs only ``requests``,
``urllib3`` and ``dataclasses-json`` (the latter only when you call a
model's ``to_dict``/``to_json``/``from_dict``).

Two ways to use it::

    import runcrate
    with runcrate.Session("rc_live_...") as session:        # functional core
        for inst in runcrate.list_instances(session):
            print(inst.name, inst.status)

    from runcrate import Runcrate                          # client facade
    with Runcrate(api_key="rc_live_...") as client:
        print(client.billing.get_balance().credits_balance)

Sections: version and defaults; errors; session and transport; models;
wire helpers; operations; the client.
"""

from __future__ import annotations

import base64
import builtins
import codecs
import collections
import contextvars
import copy
import email.utils
import functools
import gc
import http.client
import json
import logging
import math
import os
import random
import re
import socket
import sys
import threading
import time
import warnings
import weakref
from datetime import date, datetime, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    BinaryIO,
    Callable,
    Coroutine,
    Deque,
    Dict,
    Generator,
    Generic,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    NamedTuple,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    TypeVar,
    Union,
    overload,
)
from urllib.parse import quote, urljoin

import requests
import urllib3.exceptions as u3
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Concatenate, ParamSpec, Required, Unpack

    # A vendored runcrate.py may have no runcrate_async beside it: the names are then Any.
    from runcrate_async import AsyncRuncrate as AsyncRuncrate  # type: ignore[import,unused-ignore]
    from runcrate_async import AsyncSession as AsyncSession  # type: ignore[import,unused-ignore]

# ======================================================================
# 1. Version and defaults
# ======================================================================

__version__ = "1.1.0"

DEFAULT_BASE_URL = "https://www.runcrate.ai"
DEFAULT_INFERENCE_URL = "https://api.runcrate.ai"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3


class _Omitted:
    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Any = _Omitted()
"""Default of arguments whose ``None`` means something (turn a limit off)."""


INFRA_PREFIX = "/api/v1"
INFERENCE_PREFIX = "/v1"

RETRY_AFTER_CAP = 60.0  # seconds: a server's Retry-After never parks a call longer
BACKOFF_BASE = 0.5  # first retry waits 0.5 s, then 1, 2, ... up to BACKOFF_CAP
BACKOFF_CAP = 30.0
MESSAGE_CAP = 500  # characters of server text kept in an error

logger = logging.getLogger("runcrate")
logger.addHandler(logging.NullHandler())  # silent unless the application configures logging

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


class _StderrUnlessConfigured(logging.StreamHandler):  # type: ignore[type-arg]
    """RUNCRATE_LOG's handler: quiet once the application has a root handler, which prints the lines itself."""

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.getLogger().handlers:
            super().emit(record)


def _log_from_environment() -> None:
    # RUNCRATE_LOG=debug (or info) prints the SDK's request log to stderr, as OPENAI_LOG does.
    value = os.environ.get("RUNCRATE_LOG", "").strip()
    if not value:
        return
    level = LOG_LEVELS.get(value.lower())
    if level is None:
        warnings.warn(f"RUNCRATE_LOG={value!r} is ignored: use 'debug' or 'info'", stacklevel=2)
        return
    handler = _StderrUnlessConfigured()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


_log_from_environment()


def loggable_url(url: str) -> str:
    """A URL as the request log shows it: without its query string (which may carry private values)."""
    return url.split("?", 1)[0]


def log_exchange(method: str, url: Any, status: int, attempts: int, started: float, headers: Mapping[str, str]) -> None:
    """One INFO line per call: method, URL (made a string only then), status, attempts, duration, request id."""
    if logger.isEnabledFor(logging.INFO):
        url = str(url)
        elapsed = (time.monotonic() - started) * 1000
        request_id = headers.get("x-request-id")
        logger.info(
            "%s %s -> %s in %.0f ms (attempts %d, request id %s)",
            method, loggable_url(url), status, elapsed, attempts, request_id,
        )  # fmt: skip


def log_failure(method: str, url: str, error: BaseException, started: float) -> None:
    """One INFO line for a call that ended without an answer (or with a local error)."""
    if logger.isEnabledFor(logging.INFO):
        elapsed = (time.monotonic() - started) * 1000
        code = getattr(error, "code", type(error).__name__)
        logger.info("%s %s failed after %.0f ms: %s", method, loggable_url(url), elapsed, code)


def log_retry(method: str, url: str, outcome: str, retry_number: int, delay: float) -> None:
    """One INFO line per retry: what the attempt got and how long the SDK waits before the next."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s %s -> %s; retry %d in %.2f s", method, loggable_url(url), outcome, retry_number + 1, delay)


# ======================================================================
# 2. Errors
# ======================================================================


def _cap(text: str, limit: int = MESSAGE_CAP) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class RuncrateError(Exception):
    """Base of every error this SDK raises.

    Attributes: ``message`` (the server's own text, at most 500 characters),
    ``status_code`` (None without a response), ``code`` (machine-readable),
    ``details`` (a dict or None) and ``request_id`` (when the server sent one).
    An error that interrupts waiting on paid work (a video job) carries that
    work's last known state in ``job``, so that it can be resumed.
    """

    job: Any = None
    idempotency_key: Optional[str] = None  # of the keyed call it interrupted: resend with it, nothing happens twice
    message: str
    status_code: Optional[int]
    code: str
    details: Optional[Dict[str, Any]]
    request_id: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = None,
        code: Optional[str] = None,
        details: Optional[Dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        self.message = _cap(message)
        self.status_code = status_code
        self.code = code or "api_error"
        self.details = details
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        head = " ".join(str(p) for p in (self.status_code, self.code) if p is not None)
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Any:
        state = {
            "status_code": self.status_code,
            "code": self.code,
            "details": self.details,
            "request_id": self.request_id,
        }
        return (_rebuild_error, (type(self), self.message, state, self.job, self.idempotency_key))


def _rebuild_error(
    cls: Type[RuncrateError], message: str, state: Dict[str, Any], job: Any = None, key: Optional[str] = None
) -> RuncrateError:
    error = cls(message, **state)
    error.job, error.idempotency_key = job, key
    return error


class ApiError(RuncrateError):
    """The server answered with an error status, or with a body that is not what the API promises."""


class BadRequestError(ApiError):
    """400: invalid or missing parameters."""


class AuthenticationError(ApiError):
    """401: missing or invalid API key."""


class InsufficientCreditsError(ApiError):
    """402: not enough credits, or the environment's budget is reached."""


class PermissionDeniedError(ApiError):
    """403: the key lacks a permission."""


class NotFoundError(ApiError):
    """404: no such resource."""


class ConflictError(ApiError):
    """409: the request conflicts with the resource's state."""


class UnprocessableEntityError(ApiError):
    """422: validation failed."""


class RateLimitError(ApiError):
    """429: rate limited; retried automatically before it reaches you."""


class InternalServerError(ApiError):
    """5xx: the server or an upstream provider failed."""


class InsecureURLWarning(UserWarning):
    """A base URL sends the API key over plain http to a host other than this machine."""


class ConnectionError(RuncrateError, builtins.ConnectionError):  # noqa: A001
    """No usable response: refused, unresolvable host, reset, or a body cut short."""


class TimeoutError(RuncrateError, builtins.TimeoutError):  # noqa: A001
    """The connect or read timeout passed (``code`` says which)."""


class JobWaitTimeoutError(TimeoutError):
    """A job was still live when waiting for it timed out; ``job`` is its last state, and it keeps running."""


_STATUS_ERRORS: Dict[int, Type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _invalid_response(message: str, status_code: Optional[int] = None) -> ApiError:
    return ApiError(message, status_code=status_code, code="invalid_response")


def error_from_response(status_code: int, headers: Mapping[str, str], body: bytes) -> ApiError:
    """Build the typed error for an error answer (any envelope of API.md section 3, or none)."""
    cls = _STATUS_ERRORS.get(status_code) or (InternalServerError if status_code >= 500 else ApiError)
    message, code, details, request_id = _read_error_body(headers, body)
    return cls(
        message or f"HTTP {status_code}",
        status_code=status_code,
        code=code,
        details=details,
        request_id=request_id or headers.get("x-request-id"),
    )


def _read_error_body(
    headers: Mapping[str, str], body: bytes
) -> Tuple[str, Optional[str], Optional[Dict[str, Any]], Optional[str]]:
    parsed: Any = None
    if _is_json(headers):
        try:
            parsed = parse_json(body)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        request_id = _request_id_of(parsed)
        error = parsed.get("error")
        if isinstance(error, dict):
            details = error.get("details")
            return (
                _text(error.get("message")),
                _code(error.get("code")),
                details if isinstance(details, dict) else None,
                request_id or _opt_str(error.get("request_id")),
            )
        if isinstance(error, str):
            return error, None, None, request_id
        if isinstance(parsed.get("message"), str):
            return parsed["message"], _code(parsed.get("code")), None, request_id
        if isinstance(parsed.get("detail"), str):
            return parsed["detail"], None, None, request_id
    text = body[: MESSAGE_CAP * 4].decode("utf-8", "replace").strip()
    return text, None, None, None


def _text(value: Any) -> str:
    if isinstance(value, str) or value is None:
        return value or ""
    try:
        return json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return type(value).__name__


def _code(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _opt_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _request_id_of(body: Dict[str, Any]) -> Optional[str]:
    meta = body.get("meta")
    if isinstance(meta, dict):
        return _opt_str(meta.get("requestId") or meta.get("request_id"))
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# NaN and Infinity are not JSON: an answer carrying them is not what the API promises.
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SCAN_JSON: Callable[[str, int], Tuple[Any, int]] = _JSON_DECODER.scan_once  # type: ignore[attr-defined]


def parse_json(body: Union[bytes, str]) -> Any:
    """Strict ``json.loads``: NaN, Infinity and nesting deeper than the parser allows raise ``ValueError``.

    The cyclic garbage collector is paused meanwhile: a large answer would
    set it off many times for nothing, and a deeply nested one would run
    other objects' finalisers at the very limit of the stack.
    """
    text = body if isinstance(body, str) else body.decode(json.detect_encoding(body), "surrogatepass")
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _JSON_DECODER.decode(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    finally:
        if paused:
            gc.enable()


def _is_json(headers: Mapping[str, str]) -> bool:
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


# ======================================================================
# 3. Session and transport
# ======================================================================


def retry_delay(retry_number: int, retry_after: Optional[str] = None) -> float:
    """Seconds to wait before retry ``retry_number`` (0 for the first).

    ``Retry-After`` (seconds or an HTTP-date) wins, clamped to 0..60 s;
    otherwise exponential backoff ``min(0.5 * 2**n, 30)`` plus 0-25 % jitter.
    A ``Retry-After`` that does not parse, or is not finite, is ignored.
    """
    if retry_after:
        seconds = _parse_retry_after(retry_after)
        if seconds is not None:
            return min(max(seconds, 0.0), RETRY_AFTER_CAP)
    backoff = min(BACKOFF_BASE * 2**retry_number, BACKOFF_CAP)
    return float(backoff * (1 + random.random() * 0.25))  # noqa: S311 - jitter, not crypto


def _parse_retry_after(value: str) -> Optional[float]:
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})  # the same effect when sent twice
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOTHING_DONE_STATUSES = frozenset({429, 503})  # the server says it did nothing
IN_PROGRESS_WAIT = 3.0  # seconds at least before resending a key the server is still processing


def should_retry_status(method: str, status: int, *, repeatable: Optional[bool] = None) -> bool:
    """Whether an answer with ``status`` is worth another attempt.

    A repeatable request (by default: one of REPEATABLE_METHODS) is retried
    on 429/500/502/503/504; any other only on 429 and 503, which promise
    that nothing was done.
    """
    if repeatable is None:
        repeatable = method.upper() in REPEATABLE_METHODS
    return status in (RETRY_STATUSES if repeatable else NOTHING_DONE_STATUSES)


def should_retry_transport(method: str, connected: bool, *, repeatable: Optional[bool] = None) -> bool:
    """Whether a failure without an answer is worth another attempt.

    When the connection never opened nothing was sent, so any request may go
    again; after that only repeatable ones do.
    """
    if repeatable is None:
        repeatable = method.upper() in REPEATABLE_METHODS
    return not connected or repeatable


def retry_after_answer(
    call: Call[Any], retry_number: int, status: int, headers: Mapping[str, str], body: bytes
) -> Optional[float]:
    """Seconds to wait before sending ``call`` again after this answer, or None to answer it.

    The rules of ``should_retry_status``, plus what only the answer's body
    says: ``launch_refused`` is never retried, and a 409
    ``idempotency_in_progress`` to a keyed call is resent with the same key
    after at least IN_PROGRESS_WAIT seconds.
    """
    if status not in RETRY_STATUSES and status != 409:
        return None
    _, code, details, _ = _read_error_body(headers, body) if _is_json(headers) else (None, None, None, None)
    if code == "launch_refused":
        return None
    retry_after = headers.get("Retry-After")
    if status == 409:
        if call.keyed and isinstance(details, dict) and details.get("reason") == "idempotency_in_progress":
            return max(retry_delay(retry_number, retry_after), IN_PROGRESS_WAIT)
        return None
    if should_retry_status(call.method, status, repeatable=call.repeatable):
        return retry_delay(retry_number, retry_after)
    return None


def retry_after_failure(call: Call[Any], retry_number: int, connected: bool) -> Optional[float]:
    """Seconds to wait before sending ``call`` again after a failure without an answer, or None to raise it."""
    if should_retry_transport(call.method, connected, repeatable=call.repeatable):
        return retry_delay(retry_number)
    return None


class Attempts:
    """The retry state of one call, for the sync and async drivers alike.

    A driver sends an attempt, then asks ``after_answer`` or ``after_failure``
    how long to wait before the next one; no answer means the last one is
    final (a failure is then logged and raised). ``reconnects`` says that the
    transport retries connections that never opened by itself (urllib3 on the
    SDK's pool), with ``left`` as its budget.
    """

    def __init__(self, session: SessionConfig[Any], call: Call[Any], reconnects: bool = False) -> None:
        self.call = call
        self.budget = session.retries_for(call)
        self.retries = 0
        self._session = session
        self._reconnects = reconnects

    @property
    def left(self) -> int:
        """Retries still allowed."""
        return max(self.budget - self.retries, 0)

    @property
    def made(self) -> int:
        """Attempts made so far."""
        return self.retries + 1

    def reconnected(self, count: int) -> None:
        """Count the connection retries the transport made within the last attempt."""
        self.retries += count

    def after_answer(self, status: int, headers: Mapping[str, str], body: bytes) -> Optional[float]:
        """Seconds to wait before the next attempt after this answer; None when it is the final one."""
        if self.retries >= self.budget:
            return None
        delay = retry_after_answer(self.call, self.retries, status, headers, body)
        return None if delay is None else self._next(str(status), delay)

    def after_failure(self, error: RuncrateError, started: float) -> float:
        """Seconds to wait before the next attempt after a transport failure; raises ``error`` when none is due."""
        connected = not never_connected(error)
        delay = None
        if self.retries < self.budget and (connected or not self._reconnects):
            delay = retry_after_failure(self.call, self.retries, connected)
        if delay is None:
            log_failure(self.call.method, self._session.url_for(self.call), error, started)
            raise self.call.marked(error)
        return self._next(error.code or "error", delay)

    def _next(self, outcome: str, delay: float) -> float:
        log_retry(self.call.method, self._session.url_for(self.call), outcome, self.retries, delay)
        self.retries += 1
        return delay


class RetryPolicy(Retry):
    """urllib3 ``Retry`` for what happens before a request is sent: connections that do not open.

    Everything decided by the answer (its status, its error code) is decided
    by the SDK's own loop in ``send``, which sees the body; this policy only
    retries connect errors, which sent nothing, with the SDK's delays.
    """

    def sleep(self, response: Any = None) -> None:
        retry_number = max(len(self.history) - 1, 0)
        delay = retry_delay(retry_number)
        if self.history:
            last = self.history[-1]
            log_retry(last.method or "", last.url or "", type(last.error).__name__, retry_number, delay)
        time.sleep(delay)


def connection_retry(retries: int) -> RetryPolicy:
    """The urllib3 policy of one attempt: up to ``retries`` new connections, nothing resent once sent."""
    return RetryPolicy(
        total=retries,
        connect=retries,
        read=0,
        status=0,
        other=0,
        redirect=0,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=False,
    )


def _user_agent(http_lib: str, http_version: str) -> str:
    py = ".".join(str(p) for p in sys.version_info[:3])
    return f"runcrate-python/{__version__} {http_lib}/{http_version} python/{py}"


def mask_key(key: str) -> str:
    """A key as it may be shown: ``rc_live_…6789``; never the whole key."""
    if len(key) < 16:
        return "…"
    return f"{key[:8]}…{key[-4:]}"


SC = TypeVar("SC", bound="SessionConfig[Any]")
R = TypeVar("R")


H = TypeVar("H")  # the HTTP library's session: requests.Session, or aiohttp.ClientSession

DEFAULT_CONNECTION_LIMIT = 100  # connections kept per host: more than a default ThreadPoolExecutor's 32 threads


class SessionConfig(Generic[H]):
    """What every session knows, whatever its transport: key, URLs, limits, headers, its pool.

    The configuration of both kinds of session, and of both clients, is declared here once.
    """

    base_url: str
    inference_url: str
    timeout: float
    max_retries: int
    environment: Optional[str]
    headers: Dict[str, str]

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        inference_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: Optional[int] = DEFAULT_MAX_RETRIES,
        environment: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        http: Optional[H] = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("RUNCRATE_API_KEY")
        key = _header_safe("api_key", key)
        if not key:
            raise RuncrateError(
                "No API key: pass api_key=... or set the RUNCRATE_API_KEY environment variable.",
                code="missing_api_key",
            )
        # None means the default, as with the official client (a call that may wait forever is not offered).
        timeout = DEFAULT_TIMEOUT if timeout is None else _checked_timeout(timeout)
        max_retries = DEFAULT_MAX_RETRIES if max_retries is None else check_max_retries(max_retries)
        self._api_key = key
        self.base_url = _checked_url("base_url", base_url or os.environ.get("RUNCRATE_BASE_URL") or DEFAULT_BASE_URL)
        self.inference_url = _checked_url(
            "inference_url", inference_url or os.environ.get("RUNCRATE_INFERENCE_URL") or DEFAULT_INFERENCE_URL
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self.environment = _header_safe("environment", environment) or None
        self.headers = dict(headers or {})
        for url in {self.base_url, self.inference_url}:
            _warn_if_plain_http(url)
        self.connection_limit = check_connection_limit(connection_limit)
        self._http = http
        self._owns_http = http is None
        self._pid = os.getpid()
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._pool_owner: Any = self  # a with_options() copy uses its parent's pool
        self._start_transport()

    def _start_transport(self) -> None:
        """Set up the state of this kind of session's transport (each kind says what)."""

    @property
    def api_key(self) -> str:
        """The API key (kept out of ``repr``)."""
        return self._api_key

    def session_headers(self, defaults: Mapping[str, Any]) -> Dict[str, Any]:
        """Headers on every request: the transport's defaults, the caller's ``headers``, then the key."""
        return {**defaults, **self.headers, "Authorization": f"Bearer {self._api_key}"}

    def redact(self, error: RuncrateError) -> RuncrateError:
        """The error with the API key masked wherever the server echoed it."""
        if self._api_key in error.message:
            error.message = error.message.replace(self._api_key, mask_key(self._api_key))
            error.args = (error.message,)
        return error

    def retries_for(self, call: Call[Any]) -> int:
        """How many times a call may be sent again: its own ``max_retries``, else the session's."""
        return self.max_retries if call.max_retries is None else call.max_retries

    def url_for(self, call: Call[Any]) -> str:
        """The absolute URL of a call on this session's surfaces (or the URL outside the API it goes to)."""
        if call.url is not None:
            return call.url
        if call.inference:
            return self.inference_url + INFERENCE_PREFIX + call.path
        return self.base_url + INFRA_PREFIX + call.path

    def params_for(self, call: Call[Any]) -> List[Tuple[str, str]]:
        """Query parameters: ``environment`` first on infrastructure calls, then the call's own."""
        if self.environment and not call.inference and call.url is None:
            return [("environment", self.environment), *call.params]
        return call.params

    def timeouts_for(self, call: Call[Any]) -> Tuple[Optional[float], Optional[float]]:
        """(connect, read) seconds: a call's own ``timeout`` exactly, else the session's,
        raised on slow routes to their minimum read timeout."""
        if call.timeout is not None:
            return call.timeout, call.timeout
        return self.timeout, max(self.timeout, call.min_timeout)

    def send(self, call: Call[T]) -> Any:
        """Send one call through this session (the sync and async sessions say how)."""
        raise NotImplementedError

    def twin(self, fn: Callable[..., R]) -> Callable[..., R]:
        """This session's kind of ``fn``, a function of the sync module (the async session gives its coroutine twin)."""
        return fn

    def method(self, fn: Any, path: str) -> Callable[..., Any]:
        """``fn`` (an operation, or a function of the session) as the client method at ``path``."""
        if isinstance(fn, Operation):
            return method_of_operation(fn, self.send, path)
        return bind_session(self.twin(fn), self, path)

    def with_options(
        self: SC, *, timeout: Any = OMITTED, max_retries: Any = OMITTED, headers: Optional[Mapping[str, str]] = None
    ) -> SC:
        """A session with other defaults that shares this one's connection pool; this one is unchanged."""
        derived = copy.copy(self)
        if timeout is not OMITTED:
            derived.timeout = DEFAULT_TIMEOUT if timeout is None else _checked_timeout(timeout)
        if max_retries is not OMITTED:
            derived.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else check_max_retries(max_retries)
        if headers:
            derived.headers = {**self.headers, **headers}
        derived.share_pool_of(self)
        return derived

    def raw(self) -> Any:
        """This session's twin whose calls answer ``RawResponse``, sharing this one's pool."""
        derived = copy.copy(self)
        derived.__class__ = self.raw_kind  # the same state, the raw kind's send
        derived.share_pool_of(self)
        return derived

    raw_kind: Any = None  # the class of raw(): set by each kind of session

    def share_pool_of(self, parent: Any) -> None:
        """Make this copy of ``parent`` use the parent's connections (each kind of session says how)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        env = f", environment={self.environment!r}" if self.environment else ""
        return (
            f"{type(self).__name__}(api_key={mask_key(self._api_key)!r}, base_url={self.base_url!r}, "
            f"inference_url={self.inference_url!r}{env})"
        )


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _header_safe(name: str, value: Optional[str]) -> Optional[str]:
    """A key or environment name stripped of surrounding space; control characters are refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    value = value.strip()
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError(f"{name} contains a control character (a line break?); check how it was read")
    return value


def _checked_url(name: str, url: str) -> str:
    """An http(s) base URL with a host and no credentials, stored without its trailing slash."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        raise TypeError(f"{name} must be a string, not {type(url).__name__}")
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError(f"{name} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(f"{name} must be an http:// or https:// URL with a host name")
    if "@" in parts.netloc:
        raise ValueError(f"{name} must not carry credentials (user:password@); the API key is sent as a Bearer token")
    if _CONTROL_CHARACTERS.search(url) or parts.query or parts.fragment:
        raise ValueError(f"{name} must be a plain base URL, without a query, a fragment or control characters")
    return url.rstrip("/")


def _warn_if_plain_http(url: str) -> None:
    if not url.lower().startswith("http://"):
        return
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
        return
    warnings.warn(
        f"{url} is plain http: the API key would cross the network unencrypted; use https",
        InsecureURLWarning,
        stacklevel=4,
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Pools a forked child inherited: the parent's connections, kept referenced so that the
# child never uses them nor closes them under the parent (see Session.http).
_INHERITED_POOLS: List[Any] = []


class AttemptAdapter(requests.adapters.HTTPAdapter):
    """The SDK's ``HTTPAdapter``: its urllib3 ``Retry`` is the one of the attempt being sent.

    ``send`` sets it per attempt (``connection_retry``), so that a call's own
    ``max_retries`` bounds the connection retries too; outside an SDK call
    the adapter retries nothing.
    """

    def __init__(self, pool_maxsize: int) -> None:
        super().__init__(max_retries=connection_retry(0), pool_maxsize=pool_maxsize)

    @property
    def max_retries(self) -> Retry:
        return _ATTEMPT_RETRY.get() or self._idle_retry

    @max_retries.setter
    def max_retries(self, value: Retry) -> None:
        self._idle_retry = value


class Session(SessionConfig[requests.Session]):
    """Configuration plus one pooled ``requests.Session``; the first argument of every operation.

    ``api_key`` falls back to ``RUNCRATE_API_KEY``; ``base_url`` and
    ``inference_url`` to ``RUNCRATE_BASE_URL`` / ``RUNCRATE_INFERENCE_URL``,
    then to the public hosts. A URL may carry a path prefix. Use it as a
    context manager, or call ``close()``; a closed session reopens on its
    next call. ``connection_limit`` is how many connections per host the
    pool keeps for reuse (threads beyond it still get a connection). Safe to
    share between threads; after ``os.fork()`` the child gets a fresh pool.
    """

    _streams: weakref.WeakSet[ChatStream]
    _pool_owner: Session

    def _start_transport(self) -> None:
        self._lock = threading.Lock()
        self._send_options: Dict[Union[bool, str], Dict[str, Any]] = {}
        self._headers: Optional[Dict[str, Any]] = None

    def send(self, call: Call[T]) -> T:
        """Send one call through this session: ``runcrate.send(self, call)``."""
        return send(self, call)

    def open_chat(self, call: Call[Any]) -> ChatStream:
        """Open a streamed chat completion, closed with this session if still open."""
        stream = ChatStream(open_stream(self, call))
        self.track(stream)
        return stream

    def share_pool_of(self, parent: Session) -> None:
        """Make this copy of ``parent`` use the parent's connections."""
        self._pool_owner = parent._pool_owner
        self._lock = threading.Lock()
        self._streams = weakref.WeakSet()
        self._send_options = {}
        self._headers = None

    @property
    def http(self) -> requests.Session:
        """The pooled ``requests.Session``, made on first use (and anew in a forked child)."""
        if self._pool_owner is not self:
            return self._pool_owner.http
        http = self._http
        if http is None or self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._leave_parent_pools()
                if self._http is None:
                    self._http = self._make_http()
                http = self._http
        return http

    def _leave_parent_pools(self) -> None:
        # The connections were opened by the parent, which may be using them right now.
        self._pid = os.getpid()
        self._streams = weakref.WeakSet()
        if self._http is None:
            return
        if self._owns_http:
            _INHERITED_POOLS.append(self._http)
            self._http = None
            return
        for adapter in self._http.adapters.values():  # a caller's session: give its adapters new pools
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                _INHERITED_POOLS.append((adapter.poolmanager, adapter.proxy_manager))
                adapter.proxy_manager = {}
                renew: Callable[..., None] = adapter.init_poolmanager  # untyped in older types-requests
                renew(
                    getattr(adapter, "_pool_connections", 10),
                    getattr(adapter, "_pool_maxsize", 10),
                    block=getattr(adapter, "_pool_block", False),
                )

    @property
    def owns_pool(self) -> bool:
        """Whether the requests session is the SDK's own (else the caller's, passed as ``http=``)."""
        return self._pool_owner._owns_http

    def _make_http(self) -> requests.Session:
        http = requests.Session()
        adapter = AttemptAdapter(pool_maxsize=self.connection_limit)
        http.mount("https://", adapter)
        http.mount("http://", adapter)
        http.headers["User-Agent"] = _user_agent("requests", requests.__version__)
        http.headers["Accept"] = "application/json"
        return http

    def prepare(self, call: Call[Any]) -> requests.PreparedRequest:
        """The request of a call, with the session's headers and key (never ~/.netrc's)."""
        prepared = requests.PreparedRequest()
        if self._headers is None:  # once per pool, not once per request
            self._headers = self.session_headers(self.http.headers)
        if call.url is None:
            headers = {**self._headers, **call.request_headers()}
        else:  # a URL outside the API gets no key, nor the caller's headers meant for the API
            headers = {"User-Agent": self._headers.get("User-Agent", ""), **call.request_headers()}
        prepared.prepare(
            method=call.method,
            url=self.url_for(call),
            headers=headers,
            data=call.encoded_body(),
            params=self.params_for(call),
            hooks=None if self.owns_pool else self.http.hooks,  # a caller's session keeps its response hooks
        )
        return prepared

    def send_options(self, call: Call[Any], stream: bool = False) -> Dict[str, Any]:
        """Keyword arguments of ``requests.Session.send`` for a call.

        Proxies, TLS verification and client certificates come from the
        requests session and the environment, read once per API surface
        rather than on every request as ``requests.Session.request`` does.
        """
        surface = call.surface
        options = self._send_options.get(surface)
        if options is None:
            url = call.url or (self.inference_url if call.inference else self.base_url)
            options = dict(self.http.merge_environment_settings(url, {}, None, None, None))
            self._send_options[surface] = options
        return {**options, "stream": stream, "timeout": self.timeouts_for(call), "allow_redirects": False}

    def track(self, stream: ChatStream) -> None:
        """Remember an open stream, so that ``close()`` closes it too."""
        self._streams.add(stream)

    def close(self) -> None:
        """Close the open streams and pooled connections (a session passed in by the caller stays open).

        The session stays usable: its next call opens a new pool.
        """
        for stream in list(self._streams):
            stream.close(reason="the client was closed")
        self._streams = weakref.WeakSet()
        if self._pool_owner is not self:
            self._pool_owner.close()
            return
        if self._http is not None and self._owns_http and self._pid == os.getpid():
            self._http.close()
        if self._owns_http:
            self._http = None
        self._send_options.clear()
        self._headers = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawSession(Session):
    """A session whose calls answer ``RawResponse`` (``client.with_raw_response``), sharing its parent's pool."""

    def send(self, call: Call[T]) -> RawResponse[T]:  # type: ignore[override]
        """Send one call: ``runcrate.send_raw(self, call)``."""
        return send_raw(self, call)

    def open_chat(self, call: Call[Any]) -> RawResponse[ChatStream]:  # type: ignore[override]
        """Open a streamed chat completion; its response's status and headers come with it."""
        stream = super().open_chat(call)
        return RawResponse(stream.response.status_code, stream.response.headers, parsed=stream)


Session.raw_kind = RawSession.raw_kind = RawSession


def check_connection_limit(limit: int) -> int:
    """``connection_limit`` as given, when it is a whole number >= 1."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("connection_limit must be a whole number >= 1")
    return limit


T = TypeVar("T")
E = TypeVar("E")  # the elements of a listing


@overload
def _checked_timeout(timeout: float) -> float: ...


@overload
def _checked_timeout(timeout: None) -> None: ...


def _checked_timeout(timeout: Optional[float]) -> Optional[float]:
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError("timeout must be a positive number of seconds")
    return timeout


def _transport_error(exc: BaseException) -> RuncrateError:
    """The SDK error for a requests/urllib3 failure that produced no usable answer."""
    reason: BaseException = exc
    # requests wraps urllib3 errors (MaxRetryError with a reason inside) in its own.
    while True:
        inner = reason.args[0] if reason.args and isinstance(reason.args[0], BaseException) else None
        if isinstance(reason, u3.MaxRetryError) and reason.reason is not None:
            inner = reason.reason
        if inner is None or inner is reason:
            break
        reason = inner
    if isinstance(reason, u3.ProtocolError) and reason.args:
        reason = reason.args[-1] if isinstance(reason.args[-1], BaseException) else reason
    text = _cap(_reason_text(reason), 300)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: test it first.
    if _is_name_resolution_failure(reason):
        host = getattr(getattr(reason, "conn", None) or getattr(reason, "pool", None), "host", None)
        where = f"{host}: " if isinstance(host, str) and host not in text else ""
        return ConnectionError(f"host name could not be resolved: {where}{text}", code="dns_error")
    if isinstance(reason, u3.NewConnectionError):
        return ConnectionError(f"could not connect: {text}", code="connect_error")
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, u3.ConnectTimeoutError):
        return TimeoutError(f"no connection within the timeout: {text}", code="connect_timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        reason, (u3.ReadTimeoutError, builtins.TimeoutError, socket.timeout)
    ):
        return TimeoutError(f"no answer within the timeout: {text}", code="read_timeout")
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, u3.SSLError):
        return ConnectionError(f"TLS failure: {text}", code="tls_error")
    return ConnectionError(f"the connection failed before a complete answer: {text}", code="connection_error")


_NAME_RESOLUTION_ERROR = getattr(u3, "NameResolutionError", ())  # urllib3 2; 1.26 has none


def _is_name_resolution_failure(reason: BaseException) -> bool:
    # urllib3 1.26 says NewConnectionError, raised while handling the resolver's gaierror.
    return isinstance(reason, _NAME_RESOLUTION_ERROR) or isinstance(reason.__context__, socket.gaierror)


def _reason_text(reason: BaseException) -> str:
    # urllib3 puts the connection object first and the sentence last.
    if reason.args and isinstance(reason.args[-1], str):
        return reason.args[-1]
    return str(reason) or type(reason).__name__


# Everything requests or urllib3 may raise while sending or reading a body.
TRANSPORT_ERRORS: Tuple[Type[BaseException], ...] = (requests.exceptions.RequestException, u3.HTTPError, OSError)


MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a decoded JSON answer beyond this is refused (a gzip bomb, a runaway server)
BODY_READ_SIZE = 64 * 1024
ATTEMPT_DEADLINE_FACTOR = 2  # one attempt may take at most twice its read timeout in all


def send(session: Session, /, call: Call[T]) -> T:
    """Send one call through the session's pool, retrying by the SDK's rules, and decode its answer."""
    return send_raw(session, call).parse()


def send_raw(session: Session, /, call: Call[T]) -> RawResponse[T]:
    """Send one call as ``send`` does, and answer the response itself, its result parsed on demand."""
    started = time.monotonic()
    response, body, attempts = _exchange(session, call, stream=False)
    log_exchange(call.method, response.url, response.status_code, attempts, started, response.headers)
    return RawResponse.of_call(session, call, response.status_code, response.headers, body)


def open_stream(session: Session, /, call: Call[Any]) -> requests.Response:
    """Send a call (retried as ``send`` does) and return its streaming response, unread, once it is a success."""
    started = time.monotonic()
    response, body, attempts = _exchange(session, call, stream=True)
    log_exchange(call.method, response.url, response.status_code, attempts, started, response.headers)
    if response.status_code >= 300:
        try:
            call.finish(response.status_code, response.headers, body)
        except RuncrateError as error:
            raise session.redact(error) from None
    return response


def _exchange(session: Session, call: Call[Any], stream: bool) -> Tuple[requests.Response, bytes, int]:
    """Send a call until its answer is final: (response, body read, attempts made).

    The body is read unless ``stream`` is true and the answer a success.
    urllib3 makes the connection retries of each attempt on the SDK's own
    pool; a caller's ``requests.Session`` gets them from ``Attempts``.
    """
    attempts = Attempts(session, call, reconnects=session.owns_pool)
    while True:
        started = time.monotonic()
        try:
            response = _open(session, call, attempts.left)
            attempts.reconnected(_connection_retries(response))
            body = (
                b"" if stream and response.status_code < 300 else _read_answer(session, response, call, stream, started)
            )
        except (ConnectionError, TimeoutError) as error:
            delay = attempts.after_failure(error, started)
        else:
            wait = attempts.after_answer(response.status_code, response.headers, body)
            if wait is None:
                return response, body, attempts.made
            response.close()
            delay = wait
        time.sleep(delay)


def _connection_retries(response: requests.Response) -> int:
    retries = getattr(response.raw, "retries", None)  # urllib3's Retry as it ended: one history entry per retry
    return len(retries.history) if retries is not None else 0


def never_connected(error: RuncrateError) -> bool:
    """Whether a transport error came before any byte of the request was sent."""
    return error.code in ("connect_error", "connect_timeout", "dns_error")


def _as_sdk_error(exc: BaseException) -> BaseException:
    """A transport failure as the SDK's error; anything else (a local error, a cancellation) as it is."""
    if isinstance(exc, TRANSPORT_ERRORS) and not isinstance(exc, RuncrateError):
        return _transport_error(exc)
    return exc


_ATTEMPT_RETRY: contextvars.ContextVar[Optional[Retry]] = contextvars.ContextVar("runcrate_attempt", default=None)


@functools.cache
def _connection_retry(retries: int) -> RetryPolicy:
    return connection_retry(retries)  # a Retry is immutable: one per budget, shared


def _open(session: Session, call: Call[Any], connection_retries: int) -> requests.Response:
    """Send one attempt (urllib3 reconnecting up to ``connection_retries`` times); the body is left unread."""
    prepared = session.prepare(call)
    token = _ATTEMPT_RETRY.set(_connection_retry(max(connection_retries, 0)))
    try:
        return session.http.send(prepared, **session.send_options(call, stream=True))
    except TRANSPORT_ERRORS as exc:
        raise _transport_error(exc) from None
    finally:
        _ATTEMPT_RETRY.reset(token)
        if isinstance(call.body, StreamedBody):  # close the file the SDK opened, even if the error is kept
            call.body.close()


def _read_answer(session: Session, response: requests.Response, call: Call[Any], stream: bool, started: float) -> bytes:
    """The body of an answer; the response is closed when reading it fails (or, for a stream's error, after it)."""
    try:
        if stream:
            return _read_capped(response)
        return _read_body(response, call, session.timeouts_for(call)[1], started)
    except BaseException as exc:
        response.close()
        error = _as_sdk_error(exc)
        if error is exc:
            raise
        raise error from None
    finally:
        if stream:
            response.close()


def _read_body(response: requests.Response, call: Call[Any], read_timeout: Optional[float], started: float) -> bytes:
    """The whole body, read as it arrives: within the attempt's deadline and, for JSON, at most MAX_ANSWER_BYTES.

    The pooled connection goes back to the pool once the body has been read to its end.
    """
    raw = response.raw
    read = _read_what_arrived(raw, BODY_READ_SIZE)
    limit = None if call.raw else MAX_ANSWER_BYTES
    wait = read_timeout if read_timeout is not None else math.inf
    deadline = started + ATTEMPT_DEADLINE_FACTOR * wait
    parts: List[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"the answer took longer than {ATTEMPT_DEADLINE_FACTOR * wait:g} s to arrive", code="read_timeout"
            )
        if remaining < wait:
            _limit_socket_wait(raw, remaining)
        chunk = read(BODY_READ_SIZE)
        if not chunk:
            break
        size += len(chunk)
        if limit is not None and size > limit:
            raise _invalid_response(f"the answer is larger than {limit // 2**20} MB", response.status_code)
        parts.append(chunk)
    _check_length(response.headers, size)
    return b"".join(parts)


def _limit_socket_wait(raw: Any, seconds: float) -> None:
    # The read timeout applies to each socket read; near the deadline, one read may not wait past it.
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _check_length(headers: Mapping[str, str], size: int) -> None:
    length = headers.get("content-length")
    if length and length.isdigit() and not headers.get("content-encoding") and size < int(length):
        raise ConnectionError(f"the answer ended after {size} of {length} bytes", code="incomplete_body")


def fetch_public_url(url: str, timeout: float = 120.0) -> bytes:
    """GET a public URL (a generated image) with no Runcrate key; errors become SDK errors."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("only http(s) URLs are fetched")
    try:
        with requests.get(url, timeout=timeout, allow_redirects=True) as response:
            if response.status_code >= 400:
                raise error_from_response(response.status_code, response.headers, response.content)
            _check_length(response.headers, len(response.content))
            return response.content
    except TRANSPORT_ERRORS as exc:
        if isinstance(exc, RuncrateError):
            raise
        raise _transport_error(exc) from None


SSE_READ_SIZE = 64 * 1024


def _read_what_arrived(raw: Any, fallback_size: int = 1) -> Callable[[int], bytes]:
    """A reader that hands over whatever bytes have arrived (``read(n)`` would wait for n).

    urllib3 2 has ``read1``. urllib3 1.26 has none, but its http.client
    response has one for a body without content coding; for a gzip body it
    reads ``fallback_size`` bytes at a time. requests leaves the decoding of
    gzip and deflate to its reader, and so the SDK's decodes.
    """
    if hasattr(raw, "read1"):
        return lambda size: bytes(raw.read1(size, decode_content=True))
    plain = getattr(raw, "_fp", None)
    if hasattr(plain, "read1") and not raw.headers.get("content-encoding"):

        def read_plain(size: int) -> bytes:
            try:
                chunk = bytes(plain.read1(size))  # type: ignore[union-attr]
            except (http.client.HTTPException, ValueError) as exc:  # a chunked body cut short
                raise u3.ProtocolError("the body was cut short", exc) from None
            if not chunk:  # the body is all read: finish http.client's answer, the connection goes back
                plain.close()  # type: ignore[union-attr]
                raw.release_conn()
            return chunk

        return read_plain
    return lambda size: bytes(raw.read(fallback_size, decode_content=True))


# ======================================================================
# 4. Models
# ======================================================================


# dataclasses-json recognises its catch-all field by this type; until it is
# imported (on a user's first to_dict/from_dict) the name means a plain dict.
CatchAll = Optional[Dict[str, Any]]


class _LaterField:
    """``dataclasses.field(...)``'s arguments in a model's body, kept until the model is made a dataclass."""

    def __init__(self, **options: Any) -> None:
        self.options = options


if TYPE_CHECKING:
    from dataclasses import dataclass as api_model
    from dataclasses import field
else:

    def api_model(cls):
        """Declare a response model: a dataclass, made one on its first use as one (constructed,
        compared, its fields read), so that importing the SDK neither builds forty of them nor
        imports ``dataclasses`` (and ``inspect``, which it loads)."""
        cls.__dataclass_fields__ = _LazyFields()
        return cls

    field = _LaterField


class _LazyFields:
    """``__dataclass_fields__`` of a model not yet made a dataclass: reading it makes it one."""

    def __get__(self, instance: Any, owner: type) -> Any:
        make_dataclasses(owner)
        return owner.__dataclass_fields__  # type: ignore[attr-defined]


_MAKING = threading.RLock()


def make_dataclasses(cls: type) -> None:
    """Make ``cls`` and the models it derives from the dataclasses they are declared as (once each)."""
    import dataclasses

    with _MAKING:
        for klass in reversed(cls.__mro__):
            if isinstance(klass.__dict__.get("__dataclass_fields__"), _LazyFields):
                del klass.__dataclass_fields__  # type: ignore[attr-defined]
                for name, value in list(vars(klass).items()):
                    if isinstance(value, _LaterField):
                        setattr(klass, name, dataclasses.field(**value.options))
                dataclasses.dataclass(repr=False)(klass)


class Model:
    """Base of every response model: a dataclass whose unknown wire fields are kept.

    Unknown fields live in ``extra`` and read as attributes too
    (``instance.some_new_field``). ``to_dict``, ``to_json``, ``from_dict`` and
    ``from_json`` come from dataclasses-json, loaded on first use.
    """

    extra: CatchAll
    _request_id: Optional[str] = None  # of the answer it came in (meta.requestId, else x-request-id)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            extra = self.__dict__.get("extra")
            if extra and name in extra:
                return extra[name]
            if name == "extra" and _plan_of(type(self)).keeps_extra:
                # A decoded model without unknown fields gets its empty ``extra`` when first read: a dict
                # holding a dict is one the garbage collector tracks, and lists of thousands would cost it.
                return self.__dict__.setdefault("extra", {})
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        # Until a model is made a dataclass (see ``api_model``), these stand in for the methods it then has.
        def __init__(self, *args, **kwargs):
            make_dataclasses(type(self))
            if type(self).__init__ is Model.__init__:
                raise TypeError(f"{type(self).__name__} is not a model: declare it with @api_model")
            type(self).__init__(self, *args, **kwargs)

        def __eq__(self, other):
            make_dataclasses(type(self))
            if type(self).__eq__ is Model.__eq__:
                return NotImplemented
            return type(self).__eq__(self, other)

        __hash__ = None

    def __getitem__(self, name: str) -> Any:
        """``model["id"]``, as ``model.id``: code written for the plain dicts some answers were keeps working."""
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        """``model.get("id")``, as a dict's."""
        return getattr(self, name, default)

    def __repr__(self) -> str:
        # As the dataclass repr, but a long string (an image's base64) shows as its start and length.
        import dataclasses

        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        shown = ", ".join(f"{f.name}={_short_repr(self.__dict__.get(f.name))}" for f in fields if f.repr)
        return f"{type(self).__name__}({shown})"

    def to_dict(self, encode_json: bool = False) -> Dict[str, Any]:
        """The model as a dict of Python-named fields, unknown fields merged back in.

        Timestamps become ISO-8601 strings (``2025-01-01T00:00:00Z``), so the
        dict goes through ``json.dumps`` and back through ``from_dict``.
        """
        return _json_mixin().to_dict(self, encode_json=encode_json)  # type: ignore[no-any-return]

    def to_json(self, **kwargs: Any) -> str:
        """The model as a JSON string (dataclasses-json's encoding)."""
        return _json_mixin().to_json(self, **kwargs)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls: Type[M], data: Dict[str, Any], *, infer_missing: bool = True) -> M:
        """Rebuild a model from ``to_dict`` output (dataclasses-json)."""
        mixin = _json_mixin()
        return mixin.from_dict.__func__(cls, data, infer_missing=infer_missing)  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls: Type[M], text: str, *, infer_missing: bool = True) -> M:
        """Rebuild a model from ``to_json`` output (dataclasses-json)."""
        mixin = _json_mixin()
        return mixin.from_json.__func__(cls, text, infer_missing=infer_missing)  # type: ignore[no-any-return]


M = TypeVar("M", bound=Model)
_JSON_MIXIN: Any = None
REPR_CHARS = 60  # a string field longer than this shows its start and its length in repr()


def _short_repr(value: Any) -> str:
    if isinstance(value, str) and len(value) > REPR_CHARS:
        return f"{value[:REPR_CHARS]!r}… ({len(value):,} characters)"
    return repr(value)


def _json_mixin() -> Any:
    """Load dataclasses-json once and teach it every model's catch-all field and timestamps."""
    global _JSON_MIXIN
    if _JSON_MIXIN is None:
        import dataclasses
        import types
        import typing

        import dataclasses_json

        globals()["CatchAll"] = dataclasses_json.CatchAll
        keep = {"undefined": dataclasses_json.Undefined.INCLUDE}
        drop = {"undefined": dataclasses_json.Undefined.EXCLUDE}  # a model without ``extra`` (Secret)
        timestamp = {"dataclasses_json": {"encoder": _iso_timestamp, "decoder": _to_datetime}}
        for cls in _all_models(Model):
            has_extra = any(f.name == "extra" for f in dataclasses.fields(cls))
            cls.dataclass_json_config = keep if has_extra else drop  # type: ignore[attr-defined]
            hints = typing.get_type_hints(cls)
            for f in dataclasses.fields(cls):
                if _inner(hints[f.name]) is datetime:  # the API's ISO strings, not epoch floats
                    f.metadata = types.MappingProxyType({**f.metadata, **timestamp})
        _JSON_MIXIN = dataclasses_json.DataClassJsonMixin
    return _JSON_MIXIN


def _iso_timestamp(value: Optional[datetime]) -> Optional[str]:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _all_models(base: type) -> List[type]:
    found: List[type] = []
    sub: type
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_all_models(sub))
    return found


# --- the decoding plan ---------------------------------------------------
# dataclasses-json walks type hints on every call; the SDK instead builds,
# once per class, a list of (attribute, wire names, converter, required)
# and fills the instance's __dict__ directly.


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _to_str(v: Any) -> str:
    if type(v) is str:
        return v
    if type(v) in (int, float):
        return str(v)
    raise TypeError(f"expected a string, got {type(v).__name__}")


def _to_int(v: Any) -> int:
    if type(v) is int:
        return v
    if type(v) is float and v.is_integer():
        return int(v)
    raise TypeError(f"expected a whole number, got {v!r:.40}")


def _to_float(v: Any) -> float:
    if type(v) in (float, int):
        return float(v)
    raise TypeError(f"expected a number, got {type(v).__name__}")


def _to_bool(v: Any) -> bool:
    if type(v) is bool:
        return v
    raise TypeError(f"expected true or false, got {type(v).__name__}")


def _to_dict(v: Any) -> Dict[str, Any]:
    if type(v) is dict:
        return v
    raise TypeError(f"expected an object, got {type(v).__name__}")


def _to_list(v: Any) -> List[Any]:
    if type(v) is list:
        return v
    raise TypeError(f"expected a list, got {type(v).__name__}")


def _to_str_list(v: Any) -> List[str]:
    items = _to_list(v)
    if set(map(type, items)) <= _ONLY_TEXT:  # checked in C: the usual case, taken as it is
        return items
    return [_to_str(x) for x in items]


_ONLY_TEXT = frozenset({str})


def _to_datetime(v: Any) -> datetime:
    if type(v) is str:
        try:
            parsed = _from_iso(v)
        except ValueError:
            parsed = datetime.fromisoformat(_normalise_iso(v))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)
    if type(v) in (int, float):
        try:
            return datetime.fromtimestamp(v, tz=_UTC)
        except (OverflowError, OSError):  # past the platform's range: an OSError on some, never the SDK's
            raise ValueError(f"timestamp {v} is out of range") from None
    raise TypeError(f"expected a timestamp, got {type(v).__name__}")


def _normalise_iso(text: str) -> str:
    # Python < 3.11 reads neither a "Z" suffix nor fractions of other than 3 or 6 digits.
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"


_UTC = timezone.utc


def _iso_normalised(text: str) -> datetime:
    return datetime.fromisoformat(_normalise_iso(text))


# Python 3.11 reads every ISO 8601 form the API sends as it is; older ones need it normalised first.
_from_iso: Callable[[str], datetime] = datetime.fromisoformat if sys.version_info >= (3, 11) else _iso_normalised


_SCALARS: Dict[Any, Callable[[Any], Any]] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    datetime: _to_datetime,
}


def _converter(hint: Any) -> Optional[Callable[[Any], Any]]:
    """The function that checks and converts a wire value to ``hint``."""
    origin = getattr(hint, "__origin__", None)
    args = getattr(hint, "__args__", ())
    if origin is Union:
        inner = [a for a in args if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Model):
        return functools.partial(_decode_model, hint)
    if origin in (list, List):
        element: Any = args[0] if args else Any
        item = _converter(element)
        if item is None:
            return _to_list
        if item is _to_str:
            return _to_str_list
        if isinstance(element, type) and issubclass(element, Model):
            return functools.partial(_decode_list, element)  # a list of models shares its shapes
        return functools.partial(_convert_list, item)
    if origin in (dict, Dict):
        return _to_dict
    return None


def _convert_list(convert_item: Callable[[Any], Any], value: Any) -> List[Any]:
    return [convert_item(x) for x in _to_list(value)]


def _exact_kind(hint: Any, convert: Optional[Callable[[Any], Any]]) -> Optional[type]:
    """The JSON type a field's value is taken as it is in (str for ``str``, dict for ``Dict[str, Any]``)."""
    if hint in (str, int, float, bool):
        return hint  # type: ignore[no-any-return]
    if convert is _to_dict:
        return dict
    if convert is _to_list:
        return list
    return None


class _Field(NamedTuple):
    required: bool
    default: Any
    factory: Optional[Callable[[], Any]]
    kind: Optional[type]  # a value of this type is taken as it is
    convert: Optional[Callable[[Any], Any]]  # checks and converts a value of any other type
    listed: Optional[type]  # the model of a list-of-models field


class _Shape(NamedTuple):
    """What decoding an object with one set of keys and value types takes, beyond reusing its dict."""

    renames: Tuple[Tuple[str, str], ...]  # (camelCase key, field) moved to the field's name
    # camelCase keys whose snake_case spelling came too; keys of no field, in a model without ``extra``
    dropped: Tuple[str, ...]
    extras: Tuple[str, ...]  # keys of no field, kept in ``extra``
    defaults: Dict[str, Any]  # absent fields' declared defaults
    made: Tuple[Tuple[str, Callable[[], Any]], ...]  # absent or null list fields: a new list each
    converts: Tuple[Tuple[str, Callable[[Any], Any]], ...]  # fields whose value this shape's types must convert
    stamps: Tuple[str, ...]  # timestamp fields given as text, parsed in the decoding loop itself
    nested: Tuple[Tuple[str, type], ...]  # list-of-models fields given as lists, with their model
    reshaped: bool  # whether any key is renamed or dropped, or any field filled in
    more: bool  # whether anything is to be done beyond parsing ``stamps``


class _Plan:
    """How to decode one model class, worked out once from its fields and type hints.

    Decoding an object then costs a lookup of its shape: one tuple of its keys,
    then its values' types, built and hashed in C. What a shape
    takes (which keys are renamed or extra, which fields are absent, which
    values need converting: timestamps, nested models, a whole float for an
    int) is worked out the first time it is seen. The objects of one list
    share a handful of shapes, so the per-field Python loop runs a few times
    per class instead of once per object; each value is still checked by its
    type, and converters still check the values that are converted.
    """

    __slots__ = ("fields", "keeps_extra", "model", "renames", "shapes")

    MAX_SHAPES = 256  # an API sending ever new key sets costs the slow path, not memory

    def __init__(self, cls: type) -> None:
        import dataclasses
        import typing

        hints = typing.get_type_hints(cls)
        fields = [f for f in dataclasses.fields(cls) if f.name != "extra"]
        self.model = cls.__name__
        self.keeps_extra = len(fields) < len(dataclasses.fields(cls))  # a model without ``extra`` drops the rest
        self.fields: Dict[str, _Field] = {}
        for f in fields:
            hint = _inner(hints[f.name])
            factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
            required = f.default is dataclasses.MISSING and factory is None
            default = None if f.default is dataclasses.MISSING else f.default
            convert = _converter(hint)
            listed = (
                convert.args[0] if isinstance(convert, functools.partial) and convert.func is _decode_list else None
            )
            self.fields[f.name] = _Field(required, default, factory, _exact_kind(hint, convert), convert, listed)
        # Every field reads its camelCase spelling too (sizeGb, createdAt, ...).
        self.renames = {_camel(name): name for name in self.fields if _camel(name) != name}
        self.shapes = _Shapes(self.shape)

    def shape(self, seen: Tuple[Any, ...]) -> _Shape:
        """What decoding an object of ``seen`` keys, then value types, takes; a shape no object may have raises."""
        keys = seen[: len(seen) // 2]
        typed = dict(zip(keys, seen[len(keys) :]))
        renames, dropped, extras = [], [], []
        for key in keys:
            name = self.renames.get(key)
            if name is not None and typed.get(name, type(None)) is type(None):
                renames.append((key, name))  # a camelCase spelling; the snake_case one wins if both came
                typed[name] = typed[key]
            elif name is not None:
                dropped.append(key)
            elif key not in self.fields:
                extras.append(key)
        defaults, made, converts, stamps, nested = {}, [], [], [], []
        for name, field in self.fields.items():
            kind = typed.get(name)
            if kind is None or kind is type(None):
                if field.required:
                    raise TypeError(f"{self.model} lacks its required field {name!r}")
                if field.factory is not None:
                    made.append((name, field.factory))
                elif kind is None:
                    defaults[name] = field.default
            elif kind is str and field.convert is _to_datetime:
                stamps.append(name)
            elif kind is list and field.listed is not None:
                nested.append((name, field.listed))
            elif kind is not field.kind and field.convert is not None:
                converts.append((name, field.convert))
        if not self.keeps_extra:
            dropped, extras = dropped + extras, []
        reshaped = bool(renames or dropped or defaults or made)
        more = reshaped or bool(nested or converts or extras)
        return _Shape(
            tuple(renames),
            tuple(dropped),
            tuple(extras),
            defaults,
            tuple(made),
            tuple(converts),
            tuple(stamps),
            tuple(nested),
            reshaped,
            more,
        )


def _reshape(shape: _Shape, obj: Dict[str, Any]) -> None:
    """Rename ``obj``'s camelCase keys, drop the losing ones and fill in the absent fields, as ``shape`` says."""
    for key, name in shape.renames:
        obj[name] = obj.pop(key)
    for key in shape.dropped:
        del obj[key]
    obj.update(shape.defaults)
    for name, make in shape.made:
        obj[name] = make()


def _inner(hint: Any) -> Any:
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    return args[0] if getattr(hint, "__origin__", None) is Union and len(args) == 1 else hint


class _Shapes(Dict[Tuple[Any, ...], _Shape]):
    """Shapes by what was seen (an object's keys, then its values' types), each worked out on first sight."""

    __slots__ = ("work_out",)

    def __init__(self, work_out: Callable[[Tuple[Any, ...]], _Shape]) -> None:
        super().__init__()
        self.work_out = work_out

    def __missing__(self, seen: Tuple[Any, ...]) -> _Shape:
        shape = self.work_out(seen)
        if len(self) < _Plan.MAX_SHAPES:
            self[seen] = shape
        return shape


_PLANS: Dict[type, _Plan] = {}


def _plan_of(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _decode_model(cls: Type[M], obj: Any) -> M:
    """``obj``, a dict the SDK parsed and owns, turned into ``cls`` in place (it becomes the model's ``__dict__``)."""
    return _built(cls, (obj,), {})[0]


def _decode_list(cls: Type[M], items: Any) -> List[M]:
    return _built(cls, _to_list(items), {})


def _built(cls: Type[M], objects: Iterable[Any], tables: Dict[type, _Shapes]) -> List[M]:
    """``objects`` decoded into ``cls`` in place, looking shapes up in ``tables``, this answer's own per class.

    The objects of one answer share their key strings (the JSON parser's), so
    its own shapes compare by identity, before the class's by value.
    """
    shapes = tables.get(cls)
    if shapes is None:
        shapes = tables[cls] = _Shapes(_plan_of(cls).shapes.__getitem__)
    # One loop for all the objects, its steps inline: a Python call per object,
    # or per timestamp, would cost as much as the rest of the object's decoding.
    models = []
    new = cls.__new__
    for obj in objects:
        if type(obj) is not dict:
            raise TypeError(f"expected an object for {cls.__name__}, got {type(obj).__name__}")
        seen = (*obj, *map(type, obj.values()))  # its keys, then its values' types: built and hashed in C
        shape = shapes[seen]
        if shape.more:  # the common shape has only timestamps to parse, if anything
            if shape.reshaped:
                _reshape(shape, obj)
            for name, element in shape.nested:
                obj[name] = _built(element, obj[name], tables)
            for name, convert in shape.converts:
                obj[name] = convert(obj[name])
            if shape.extras:  # else ``extra`` is made when first read (see Model.__getattr__)
                obj["extra"] = {key: obj.pop(key) for key in shape.extras}
        for name in shape.stamps:
            try:
                moment = _from_iso(obj[name])
            except ValueError:
                moment = _to_datetime(obj[name])  # the other spellings it reads, or its error
            obj[name] = moment if moment.tzinfo is not None else moment.replace(tzinfo=_UTC)
        model = new(cls)
        model.__dict__ = obj
        models.append(model)
    return models


def decode_many(cls: Type[M], items: List[Any]) -> List[M]:
    """Decode a list of wire objects, with the cyclic garbage collector paused meanwhile.

    Every model is an object the collector tracks; building thousands of them
    would set off collections that walk all the objects alive, which cost
    more than the decoding itself. Nothing made here is cyclic garbage.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _decode_list(cls, items)
    finally:
        if paused:
            gc.enable()


def decode(cls: Type[M], obj: Any) -> M:
    """Decode one wire object into ``cls``; a wrong shape raises ``ApiError`` ``invalid_response``.

    ``obj`` itself is left as it is: the model is built from a copy.
    """
    try:
        return _decode_model(cls, _copied(obj))
    except RuncrateError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise _invalid_response(f"unexpected answer shape: {exc}") from None


def _copied(value: Any) -> Any:
    """``value`` with each of its dicts and lists copied, as decoding turns them into models in place."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


class ListPage(List[T]):
    """A page of results: a list, plus ``total``, ``has_more``, ``cursor`` and ``request_id``."""

    total: Optional[int]
    has_more: bool
    cursor: Optional[str]
    request_id: Optional[str]
    _request_id: Optional[str] = None

    def __init__(
        self,
        items: Iterable[T] = (),
        *,
        total: Optional[int] = None,
        has_more: bool = False,
        cursor: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(items)
        self.total = total
        self.has_more = has_more
        self.cursor = cursor
        self.request_id = request_id

    @property
    def data(self) -> List[T]:
        """The items (the official client's ``page.data``): the page itself, which is a list."""
        return self

    @property
    def meta(self) -> PageMeta:
        """``has_more``, ``total`` and ``cursor`` (the official client's ``page.meta``)."""
        return PageMeta(self.has_more, self.total, self.cursor)

    def __repr__(self) -> str:
        return f"ListPage({list.__repr__(self)}, total={self.total!r}, has_more={self.has_more!r})"


class PageMeta(NamedTuple):
    """What a page says of the list it belongs to."""

    has_more: bool
    total: Optional[int]
    cursor: Optional[str]


PaginatedResponse = ListPage  # the official client's name of a page


@api_model
class Instance(Model):
    """A GPU instance."""

    id: str
    name: str
    status: str
    gpu_type: Optional[str] = None
    gpu_count: Optional[int] = None
    cpu_cores: Optional[int] = None
    memory: Optional[int] = None
    storage: Optional[int] = None
    region: Optional[str] = None
    ip: Optional[str] = None
    os_image: Optional[str] = None
    cost_per_hour: Optional[float] = None
    deployed_at: Optional[datetime] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    auto_stop_at: Optional[datetime] = None
    max_runtime_minutes: Optional[int] = None
    idle_shutdown_minutes: Optional[int] = None
    stop_reason: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class InstanceStatus(Model):
    """An instance's live status and IP address (None until it runs)."""

    status: str
    id: Optional[str] = None
    ip: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class InstanceType(Model):
    """A GPU offer: GPU model, count and region, with its hourly rate."""

    id: str
    gpu_type: str
    gpu_count: int
    cpu_cores: int
    memory_gb: float
    storage_gb: float
    region: str
    hourly_rate: float
    deployment_type: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class SSHKey(Model):
    """An SSH public key registered with the workspace."""

    id: str
    name: str
    fingerprint: Optional[str] = None
    type: Optional[str] = None
    created_at: Optional[datetime] = None
    last_used: Optional[datetime] = None
    project_id: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class StorageVolume(Model):
    """A storage volume."""

    id: str
    name: str
    size_gb: Optional[int] = None
    status: Optional[str] = None
    region: Optional[str] = None
    provider_type: Optional[str] = None
    deployment_id: Optional[str] = None
    project_id: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class StorageRegion(Model):
    """A region where volumes can be created; create with its ``name``."""

    id: str
    name: str
    provider: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class StorageDeleteResult(Model):
    """The answer to a volume deletion: a message and the refund in USD."""

    message: Optional[str] = None
    refund_amount: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Balance(Model):
    """The workspace's credit balance (1 credit = 1 USD)."""

    credits_balance: float
    active_usage_cost: float
    floating_balance_usd: Optional[float] = None
    burn_usd_per_hour: Optional[float] = None
    runway_hours: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Transaction(Model):
    """One billing transaction; ``amount`` is negative for charges."""

    id: str
    project_id: Optional[str] = None
    type: Optional[str] = None
    amount: Optional[float] = None
    description: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class UsageSummary(Model):
    """Inference usage totals over a period."""

    total_requests: Optional[int] = None
    total_prompt_tokens: Optional[int] = None
    total_completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    total_cost: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class TopUp(Model):
    """A charge of the saved card: ``status`` is ``succeeded``, ``processing``, ``requires_action`` or ``declined``."""

    id: str
    status: str
    amount_usd: float
    idempotency_key: str
    invoice_number: Optional[str] = None
    balance_usd: Optional[float] = None
    confirm_url: Optional[str] = None
    expires_at: Optional[datetime] = None
    reason: Optional[str] = None
    message: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class AutoRecharge(Model):
    """Below ``threshold_usd`` the balance is topped up to ``target_usd``."""

    enabled: bool
    threshold_usd: Optional[float] = None
    target_usd: Optional[float] = None
    last_failure_reason: Optional[str] = None
    last_failure_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class PaymentMethod(Model):
    """A saved payment method (a card: ``brand``, ``last4``, expiry)."""

    type: str
    brand: Optional[str] = None
    last4: Optional[str] = None
    exp_month: Optional[int] = None
    exp_year: Optional[int] = None
    default: bool = False
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Template(Model):
    """A launch template."""

    id: str
    name: str
    description: Optional[str] = None
    category: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ChatMessage(Model):
    """A message of a chat completion."""

    role: Optional[str] = None
    content: Union[str, List[Any], None] = None  # a list of parts in multimodal answers
    name: Optional[str] = None
    reasoning_content: Optional[str] = None
    tool_calls: Optional[List[Any]] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ChatChoice(Model):
    """One completion choice: ``message`` and why it stopped (``finish_reason``)."""

    message: ChatMessage
    index: Optional[int] = None
    finish_reason: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ChatUsage(Model):
    """Token counts of a completion."""

    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ChatCompletion(Model):
    """A chat completion: ``choices[0].message.content`` holds the answer."""

    choices: List[ChatChoice]
    id: Optional[str] = None
    object: Optional[str] = None
    created: Optional[int] = None
    model: Optional[str] = None
    usage: Optional[ChatUsage] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ImageData(Model):
    """One generated image: ``b64_json`` or ``url``; ``to_bytes()`` and ``save(path)`` get its bytes."""

    url: Optional[str] = None
    b64_json: Optional[str] = None
    revised_prompt: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)

    def to_bytes(self, timeout: float = 120.0) -> bytes:
        """The image bytes: decoded from ``b64_json`` or a data URI, else fetched from ``url`` without the API key."""
        if self.b64_json:
            return _b64decode(self.b64_json)
        if self.url and self.url.startswith("data:"):
            return _b64decode(self.url.partition(",")[2])
        if self.url:
            return fetch_public_url(self.url, timeout)
        raise ApiError("the image has neither b64_json nor url", code="invalid_response")

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the image to ``path``, atomically: a failed fetch or write leaves ``path`` as it was."""
        save_atomically(path, self.to_bytes())


@api_model
class ImageGeneration(Model):
    """The answer of an image generation: ``data`` holds the images."""

    data: List[ImageData]
    created: Optional[int] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class VideoJob(Model):
    """A video generation job: ``status`` goes queued → processing → completed | failed."""

    id: str
    status: str
    model: Optional[str] = None
    error: Optional[Any] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Transcription(Model):
    """A transcription: ``text`` is the transcript (or the SRT/VTT subtitles)."""

    text: str
    language: Optional[str] = None
    duration: Optional[float] = None
    segments: Optional[List[Any]] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Environment(Model):
    """An environment of the workspace: instances, volumes, jobs, schedules and secrets live in one."""

    id: str
    name: str
    is_default: Optional[bool] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    monthly_budget_usd: Optional[float] = None
    month_to_date_usd: Optional[float] = None
    budget_remaining_usd: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Secret(Model):
    """A secret's name: its value is never returned, and any field beyond these is dropped, never kept."""

    key: str
    sensitive: bool = False
    updated_at: Optional[datetime] = None


@api_model
class Crate(Model):
    """A crate: its fields are not documented, so every one is kept (``crate.extra``, or as attributes)."""

    id: str
    name: Optional[str] = None
    status: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class InferenceModel(Model):
    """A model the inference API serves: ``id`` is what ``model=`` takes, ``type`` its kind (``chat``, ``image``)."""

    id: str
    object: str = "model"
    owned_by: Optional[str] = None
    type: Optional[str] = None
    created: Optional[int] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class GpuCandidate(Model):
    """One GPU choice of a job, tried in order: ``gpu_count`` GPUs of ``gpu_type``."""

    gpu_type: str
    gpu_count: int = 1
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobAttempt(Model):
    """One run of a job on one machine; a retry is a new attempt on a new machine."""

    attempt: int
    status: str
    gpu_type: str
    gpu_count: int
    deployment_id: Optional[str] = None
    exit_code: Optional[int] = None
    error: Optional[str] = None
    started_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    cost_usd: Optional[float] = None
    region: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


JOB_FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


@api_model
class Job(Model):
    """A shell command run on a fresh GPU machine of its own, which stops when the command ends.

    ``status`` is ``queued``, ``starting`` or ``running`` while live, then
    ``succeeded``, ``failed``, ``cancelled`` or ``timed_out``; ``env_keys``
    names its environment variables, whose values are never shown.
    """

    id: str
    name: str
    status: str
    command: str
    gpu_type: str
    gpu_count: int
    max_runtime_minutes: int
    created_at: datetime
    gpu_candidates: Optional[List[GpuCandidate]] = None
    template: Optional[str] = None
    image: Optional[str] = None
    env_keys: Optional[List[str]] = None
    storage_id: Optional[str] = None
    capacity_wait_minutes: Optional[int] = None
    queue_reason: Optional[str] = None
    next_attempt_at: Optional[datetime] = None
    attempt: Optional[int] = None
    max_retries: Optional[int] = None
    retry_on: Optional[List[str]] = None
    retry_exit_codes: Optional[List[int]] = None
    attempts: Optional[List[JobAttempt]] = None
    exit_code: Optional[int] = None
    error: Optional[str] = None
    instance_id: Optional[str] = None
    environment_id: Optional[str] = None
    tags: Optional[Dict[str, str]] = None
    group_id: Optional[str] = None
    job_index: int = 0
    rerun_of: Optional[str] = None
    webhook_url: Optional[str] = None
    webhook_events: Optional[List[str]] = None
    webhook_secret: Optional[str] = None
    started_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    cost_per_hour: Optional[float] = None
    cost_usd: Optional[float] = None
    log_bytes: Optional[int] = None
    logs_truncated: Optional[bool] = None
    code: Optional[Dict[str, Any]] = None
    allow_cpu_container: Optional[bool] = None
    image_registry_auth: Optional[Dict[str, Any]] = None
    artifacts_count: Optional[int] = None
    gpu_util_avg: Optional[float] = None
    gpu_mem_peak_mb: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)

    @property
    def is_final(self) -> bool:
        """Whether the job has ended (succeeded, failed, cancelled or timed out)."""
        return self.status in JOB_FINAL_STATUSES


@api_model
class JobGroup(Model):
    """Jobs submitted together; ``status_counts`` tells how many of them are in each status."""

    id: str
    count: int
    created_at: datetime
    max_parallel: Optional[int] = None
    status_counts: Optional[Dict[str, int]] = None
    cost_usd: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class SubmittedJobGroup(JobGroup):
    """The answer of a group submit: the group, with its ``jobs`` and the ``webhook_secret``."""

    jobs: List[Job] = field(default_factory=list)
    webhook_secret: Optional[str] = None


@api_model
class JobLogChunk(Model):
    """A piece of a job's output; ``seq`` and ``ts`` are None where output was dropped."""

    text: str
    seq: Optional[int] = None
    ts: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobLogs(Model):
    """A page of a job's log: pass ``cursor`` back as ``after``; ``done`` once the job ended and all was read."""

    job_id: str
    chunks: List[JobLogChunk]
    cursor: int
    status: Optional[str] = None
    truncated: bool = False
    done: bool = False
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobEvent(Model):
    """Something that happened to a job (``created``, ``queued``, ``started``, ``exited`` ...)."""

    at: datetime
    kind: str
    detail: Optional[str] = None
    attempt: Optional[int] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class GpuMetric(Model):
    """One GPU over one step: average utilisation (%) and peak memory."""

    util: Optional[float] = None
    mem_used_mb: Optional[float] = None
    mem_total_mb: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobMetricPoint(Model):
    """A job's GPUs at one moment, one ``gpus`` entry per GPU."""

    at: datetime
    gpus: List[GpuMetric] = field(default_factory=list)
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobArtifact(Model):
    """A file the job wrote to ``$RUNCRATE_OUTPUT_DIR``: its path, size and sha256."""

    path: str
    bytes: int
    sha256: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class JobUpload(Model):
    """A place for a job's code: run the job with ``code={"upload_id": upload.upload_id}`` before ``expires_at``.

    ``url`` is where the archive goes (a PUT without the API key); None when
    the server already holds an upload with this sha256.
    """

    upload_id: str
    expires_at: datetime
    max_bytes: int
    url: Optional[str] = None
    url_expires_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class Schedule(Model):
    """An instance or a job started later: once at ``run_at``, or on a ``cron`` (read in ``timezone``)."""

    id: str
    name: str
    kind: str
    spec: Dict[str, Any]
    environment_id: Optional[str] = None
    created_by: Optional[str] = None
    run_as: Optional[str] = None
    run_as_credential: Optional[str] = None
    max_runtime_minutes: Optional[int] = None
    run_at: Optional[datetime] = None
    cron: Optional[str] = None
    timezone: str = "UTC"
    overlap: str = "skip"
    enabled: bool = True
    next_run_at: Optional[datetime] = None
    last_run_at: Optional[datetime] = None
    last_status: Optional[str] = None
    last_error: Optional[str] = None
    last_instance_id: Optional[str] = None
    last_job_id: Optional[str] = None
    run_count: int = 0
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@api_model
class ScheduleRun(Model):
    """What a run-now launched: the ``schedule``, and its ``instance`` or its ``job``."""

    schedule: Schedule
    instance: Optional[Instance] = None
    job: Optional[Job] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


class VideoGenerationError(RuncrateError, RuntimeError):
    """A video job failed, or did not finish in time (``code`` says which); ``job`` is its last state."""

    job: Optional[VideoJob]

    def __init__(self, message: str, *, job: Optional[VideoJob] = None, code: str = "video_failed") -> None:
        super().__init__(message, code=code)
        self.job = job

    def __reduce__(self) -> Any:
        return (_rebuild_video_error, (self.message, self.code, self.job))


def _rebuild_video_error(message: str, code: str, job: Optional[VideoJob]) -> VideoGenerationError:
    return VideoGenerationError(message, job=job, code=code)


# ======================================================================
# 5. Wire helpers
# ======================================================================


def _unwrap(body: Any) -> Tuple[Any, Dict[str, Any]]:
    """The infrastructure envelope: (data, meta); a body without ``data`` is its own data."""
    if type(body) is dict and "data" in body:
        meta = body.get("meta")
        return body["data"], meta if type(meta) is dict else {}
    return body, {}


@functools.cache  # one decoder per model class, not one per call
def decode_one(cls: Type[M]) -> Callable[[Any], M]:
    """Decoder for an enveloped single object."""

    def decode(body: Any) -> M:
        data, _ = _unwrap(body)
        if data is None:
            raise TypeError(f"no {cls.__name__} in the answer (data is null)")
        return _decode_model(cls, data)

    return decode


@functools.cache  # one decoder per model class, not one per call
def decode_page(cls: Type[M]) -> Callable[[Any], ListPage[M]]:
    """Decoder for an enveloped list with its ``meta``."""

    def decode(body: Any) -> ListPage[M]:
        data, meta = _unwrap(body)
        if type(data) is not list:
            raise TypeError(f"expected a list of {cls.__name__}, got {type(data).__name__}")
        has_more = meta.get("hasMore", meta.get("has_more"))
        total = meta.get("total")
        cursor = meta.get("cursor")
        return ListPage(
            decode_many(cls, data),
            total=total if type(total) is int else None,
            has_more=has_more is True,
            cursor=cursor if isinstance(cursor, str) else None,
            request_id=_opt_str(meta.get("requestId") or meta.get("request_id")),
        )

    return decode


def _nothing(body: Any) -> None:
    return None


def segment(value: str) -> str:
    """Percent-encode an id as one path segment (``/``, ``%``, ``?``, ``#`` included).

    ``.`` and ``..`` are refused: URL normalisation (requests undoes ``%2E``)
    would turn them into a step up the path, to another route.
    """
    if not isinstance(value, str):
        raise TypeError(f"an id must be a string, not {type(value).__name__}")
    if not value or value in (".", ".."):
        raise ValueError(f"{value!r} is not a valid id")
    return quote(value, safe="")


def _query(**params: Any) -> List[Tuple[str, str]]:
    """Query parameters in the given order, leaving out the unset ones."""
    out = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        out.append((key, str(value)))
    return out


def _body(**fields: Any) -> Dict[str, Any]:
    """A JSON body without the unset (None) fields."""
    return {k: v for k, v in fields.items() if v is not None}


def _uuid4() -> str:
    import uuid  # it imports platform: a cold-start cost only the calls that need one pay

    return str(uuid.uuid4())


def _check_int(name: str, value: Optional[int], low: int, high: Optional[int] = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")


def _check_str(name: str, value: Any, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{name} must not be empty")


# --- inference answers -------------------------------------------------------


@functools.cache  # one decoder per model class, not one per call
def decode_bare(cls: Type[M]) -> Callable[[Any], M]:
    """Decoder for an inference answer: the object itself, no envelope."""
    return functools.partial(_decode_model, cls)


# --- calls: one exchange, described as data ------------------------------------


def sent_chunks(body: StreamedBody) -> Iterator[bytes]:
    """The chunks of a streamed body, telling its ``on_progress`` of each one sent."""
    sent, total, progress = 0, body.length, body.on_progress
    for chunk in body:
        yield chunk
        sent += len(chunk)
        if progress is not None:
            progress(sent, total)


class _SizedBody:
    """A streamed body that tells requests its length (so it is not sent chunked)."""

    def __init__(self, body: StreamedBody) -> None:
        self._body = body

    def __len__(self) -> int:
        return self._body.length or 0

    def __iter__(self) -> Iterator[bytes]:
        return sent_chunks(self._body)


class SpecCallOptions(TypedDict, total=False):
    """The per-call options of a call whose own fields include ``max_retries`` (a job's): all but that one.

    Such a call takes its retry budget from the client (``with_options(max_retries=...)``).
    """

    timeout: Optional[float]
    extra_headers: Optional[Mapping[str, str]]
    extra_query: Optional[Mapping[str, Any]]
    extra_body: Optional[Mapping[str, Any]]


class CallOptions(SpecCallOptions, total=False):
    """Keyword-only options every operation takes; the pipeline applies them, none is ever sent in a body.

    ``timeout`` is this call's read (and connect) timeout, exactly, whatever
    the route; ``max_retries`` its own retry budget; ``extra_headers``,
    ``extra_query`` and ``extra_body`` are added to what it sends (the body's
    keys at its top level, replacing the SDK's own).
    """

    max_retries: Optional[int]


OPTION_NAMES = tuple(CallOptions.__annotations__)


def take_options(params: Dict[str, Any]) -> Dict[str, Any]:
    """Move the per-call options out of an operation's pass-through keyword arguments."""
    return {name: params.pop(name) for name in OPTION_NAMES if name in params}


class Call(Generic[T]):
    """One HTTP exchange, described as data: what to send and how to read the answer.

    Built by the pure request builders (the ``@operation`` functions) and
    driven by ``send`` (sync) or ``runcrate_async.send`` (asyncio). ``keyed``
    calls carry an Idempotency-Key (``idempotency_key``, or a fresh UUID4)
    that every retry repeats; ``repeatable`` says whether the call may be sent
    again once it may have arrived (by default: its method is repeatable).
    """

    __slots__ = (
        "accepts_redirect", "body", "decode", "failure_code", "headers", "inference", "keyed", "max_retries", "method",
        "min_timeout", "params", "path", "raw", "repeatable", "timeout", "url",
    )  # fmt: skip

    method: str
    path: str
    params: List[Tuple[str, str]]
    body: Any
    headers: Dict[str, str]
    decode: Callable[[Any], T]
    inference: bool
    min_timeout: float
    raw: bool
    timeout: Optional[float]
    max_retries: Optional[int]
    keyed: bool
    repeatable: bool
    url: Optional[str]
    accepts_redirect: bool
    failure_code: Optional[str]

    def __init__(
        self,
        method: str,
        path: str,
        decode: Callable[[Any], T],
        *,
        params: Optional[List[Tuple[str, str]]] = None,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        inference: bool = False,
        min_timeout: float = 0.0,
        raw: bool = False,
        keyed: bool = False,
        idempotency_key: Optional[str] = None,
        repeatable: Optional[bool] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        url: Optional[str] = None,
        accepts_redirect: bool = False,
        failure_code: Optional[str] = None,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params or []
        self.body = body
        self.headers = headers or {}
        self.decode = decode
        self.inference = inference
        self.min_timeout = min_timeout
        self.raw = raw  # decode receives a RawAnswer (headers, bytes) instead of parsed JSON
        self.keyed = keyed
        self.repeatable = method in REPEATABLE_METHODS if repeatable is None else repeatable
        self.timeout = _checked_timeout(timeout)  # this call's own read timeout, whatever the route
        self.max_retries = None if max_retries is None else check_max_retries(max_retries)
        # A URL outside the API (a signed storage URL): sent there as it is, with neither key nor environment.
        self.url = url
        self.accepts_redirect = accepts_redirect  # a 3xx is the answer (its Location), not an error
        self.failure_code = failure_code  # the code of every error status, when the server's own means nothing here
        if keyed:
            _check_str("idempotency_key", idempotency_key)
            self.headers = {"Idempotency-Key": idempotency_key or _uuid4(), **self.headers}
        if extra_headers or extra_query or extra_body:
            self._add_extras(extra_headers, extra_query, extra_body)

    def _add_extras(
        self,
        headers: Optional[Mapping[str, str]],
        query: Optional[Mapping[str, Any]],
        body: Optional[Mapping[str, Any]],
    ) -> None:
        if headers:
            self.headers = {**self.headers, **{k: _header_safe(k, v) or "" for k, v in headers.items()}}
        if query:
            self.params = [*self.params, *_query(**query)]
        if body:
            if isinstance(self.body, MultipartBody):
                self.body.add_fields(body)
            elif self.body is None or isinstance(self.body, dict):
                self.body = {**(self.body or {}), **body}
            else:
                raise TypeError(f"extra_body cannot be merged into the body of {self.method} {self.path}")

    @property
    def surface(self) -> Union[bool, str]:
        """Where the call goes, for settings read once per place.

        The inference surface (True), the infrastructure one (False), or the
        scheme and host of a URL outside the API.
        """
        return self.inference if self.url is None else "/".join(self.url.split("/", 3)[:3])

    def marked(self, error: RuncrateError) -> RuncrateError:
        """``error``, with this call's Idempotency-Key when it carries one (``error.idempotency_key``)."""
        if self.keyed:
            error.idempotency_key = self.headers.get("Idempotency-Key")
        return error

    def request_headers(self) -> Dict[str, str]:
        """Headers of this call beyond the session's own."""
        if self.body is None and (self.inference or self.url is not None):
            return self.headers
        if isinstance(self.body, StreamedBody):
            return {"Content-Type": self.body.content_type, **self.headers}
        return {"Content-Type": "application/json", **self.headers}

    def encoded_body(self) -> Any:
        """The body as sent: JSON bytes, a streamed body, or None."""
        if self.body is None:
            return None
        if isinstance(self.body, StreamedBody):
            # With a length, requests sends Content-Length; a bare iterator goes out chunked.
            return _SizedBody(self.body) if self.body.length is not None else sent_chunks(self.body)
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()

    def finish(self, status: int, headers: Mapping[str, str], body: bytes, url: str = "") -> T:
        """Turn the answer to ``url`` into the call's result (with its ``_request_id``), or raise its typed error."""
        if status >= 400:
            error = error_from_response(status, headers, body)
            if self.failure_code is not None:
                error.code = self.failure_code
            raise error
        if status >= 300 and not self.accepts_redirect:
            raise _invalid_response(f"unexpected redirect (HTTP {status}) from {self.path}", status)
        if self.raw:
            return self._decoded(RawAnswer(headers, body, url), status, headers.get("x-request-id"))
        if status == 204 or (not body and self.method == "DELETE"):
            return self.decode(None)
        if not _is_json(headers):
            ctype = headers.get("content-type", "none")
            raise _invalid_response(f"expected a JSON answer, got content type {ctype!r}", status)
        try:
            parsed = parse_json(body)
        except ValueError:
            raise _invalid_response(
                f"the answer is not valid JSON: {_cap(body[:200].decode('utf-8', 'replace'))}", status
            ) from None
        request_id = _request_id_of(parsed) if type(parsed) is dict else None
        return self._decoded(parsed, status, request_id or headers.get("x-request-id"))

    def _decoded(self, answer: Any, status: int, request_id: Optional[str]) -> T:
        try:
            result = self.decode(answer)
        except RuncrateError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            raise _invalid_response(f"unexpected answer shape from {self.path}: {exc}", status) from None
        if isinstance(result, (Model, ListPage)):
            result._request_id = request_id
        return result


class RawResponse(Generic[T]):
    """An answer as it came, parsed on demand: what ``client.with_raw_response.<namespace>.<method>()`` returns.

    ``status_code``, ``headers`` (case-insensitive: ``x-ratelimit-remaining``
    ...), ``content`` (the body's bytes; empty for a stream), ``request_id``,
    and ``parse()``: what the plain call returns. An error status raises its
    typed error at once, as the plain call does.
    """

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes = b"",
        parse: Optional[Callable[[], T]] = None,
        parsed: Any = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self._parse = parse
        self._parsed = parsed

    @classmethod
    def of_call(
        cls, session: SessionConfig[Any], call: Call[T], status: int, headers: Mapping[str, str], body: bytes
    ) -> RawResponse[T]:
        """The raw answer to ``call``; raises its typed error when the status is not a success."""

        def parse() -> T:
            try:
                return call.finish(status, headers, body, session.url_for(call) if call.raw else "")
            except RuncrateError as error:
                raise call.marked(session.redact(error)) from None

        raw = cls(status, headers, body, parse)
        if status >= 300:
            raw.parse()
        return raw

    def parse(self) -> T:
        """The result of the call, decoded once."""
        if self._parse is not None:
            self._parsed, self._parse = self._parse(), None
        return self._parsed  # type: ignore[no-any-return]

    @property
    def request_id(self) -> Optional[str]:
        """The server's request id: the answer's ``meta.requestId``, else its ``x-request-id`` header."""
        found = getattr(self.parse(), "_request_id", None)
        return found if isinstance(found, str) else self.headers.get("x-request-id")

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}]>"


def check_max_retries(max_retries: int) -> int:
    """``max_retries`` as given, when it is a whole number >= 0."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError("max_retries must be a whole number >= 0")
    return max_retries


# --- streamed multipart upload ---------------------------------------------------

UPLOAD_CHUNK = 1024 * 1024
FileInput = Union[str, "os.PathLike[str]", bytes, BinaryIO]


class StreamedBody:
    """A request body streamed from a file (a path, a binary file, or bytes), never read whole.

    Iterating it yields the chunks; iterating again starts over (a path is
    reopened, a seekable file rewound), so a retry sends the same body.
    ``length`` is known unless the file is a pipe or socket. The drivers call
    ``on_progress(sent, total)`` after each chunk they send.
    """

    content_type = "application/octet-stream"

    def __init__(
        self,
        file: FileInput,
        content_type: Optional[str] = None,
        on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
    ) -> None:
        self._file = file
        self._start = _tell(file)
        self._size = _size_of(file, self._start)
        self._iterations: List[Iterator[bytes]] = []
        self.on_progress = on_progress
        if content_type:
            self.content_type = content_type

    @property
    def length(self) -> Optional[int]:
        """Bytes of the whole body, or None when the file's size is unknown (a pipe)."""
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        parts = self._parts()
        self._iterations.append(parts)
        return parts

    def _parts(self) -> Iterator[bytes]:
        return self._file_chunks()

    def close(self) -> None:
        """Close what iterating opened (the file, when it was given as a path); the caller's own file stays open."""
        for parts in self._iterations:
            parts.close()  # type: ignore[attr-defined]
        self._iterations.clear()

    def _file_chunks(self) -> Iterator[bytes]:
        source = self._file
        if isinstance(source, (bytes, bytearray, memoryview)):
            view = memoryview(source)
            for offset in range(0, len(view), UPLOAD_CHUNK):
                yield bytes(view[offset : offset + UPLOAD_CHUNK])
            return
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                yield from iter(functools.partial(f.read, UPLOAD_CHUNK), b"")
            return
        if self._start is not None:
            source.seek(self._start)
        yield from iter(functools.partial(source.read, UPLOAD_CHUNK), b"")


class MultipartBody(StreamedBody):
    """A multipart/form-data body: form fields, then the file, streamed as ``StreamedBody`` streams it."""

    def __init__(self, fields: Sequence[Tuple[str, Any]], file: FileInput, filename: Optional[str]) -> None:
        super().__init__(file)
        self.boundary = os.urandom(16).hex()
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        name = filename or _filename_of(file)
        self._fields = b""
        self.add_fields(dict(fields))
        import mimetypes  # only uploads need it

        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._file_head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quote_header(name)}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")

    def add_fields(self, fields: Mapping[str, Any]) -> None:
        """Form fields, sent before the file (a caller's ``extra_body`` too); values that are not strings go as JSON."""
        for key, value in fields.items():
            if value is None:
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            part = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote_header(key)}"\r\n\r\n{text}\r\n'
            self._fields += part.encode("utf-8")

    @property
    def length(self) -> Optional[int]:
        """Bytes of the whole body, or None when the file's size is unknown (a pipe)."""
        if self._size is None:
            return None
        return len(self._fields) + len(self._file_head) + self._size + len(self._tail)

    def _parts(self) -> Iterator[bytes]:
        yield self._fields + self._file_head
        yield from self._file_chunks()
        yield self._tail


def _quote_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _filename_of(file: FileInput) -> str:
    if isinstance(file, (str, os.PathLike)):
        return os.path.basename(os.fspath(file))
    name = getattr(file, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else "audio.wav"


def _tell(file: FileInput) -> Optional[int]:
    if isinstance(file, (str, os.PathLike, bytes, bytearray, memoryview)):
        return None
    try:
        return file.tell() if file.seekable() else None
    except (OSError, AttributeError, ValueError):
        return None


def _size_of(file: FileInput, start: Optional[int]) -> Optional[int]:
    if isinstance(file, (bytes, bytearray, memoryview)):
        return len(file)
    if isinstance(file, (str, os.PathLike)):
        return os.path.getsize(file)
    if start is None:
        return None
    try:
        return os.fstat(file.fileno()).st_size - start
    except (OSError, AttributeError, ValueError):
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
        return end - start


def _check_file(file: Any) -> None:
    if isinstance(file, (str, os.PathLike)):
        if not os.path.isfile(file):
            raise ValueError(f"file: {os.fspath(file)!r} is not an existing file")
    elif not isinstance(file, (bytes, bytearray, memoryview)) and not callable(getattr(file, "read", None)):
        raise TypeError(f"file must be a path, bytes or a binary file object, not {type(file).__name__}")


class RawAnswer(NamedTuple):
    """A non-JSON answer (audio, video, subtitles, a redirect) with its headers, and the URL it came from."""

    headers: Mapping[str, str]
    body: bytes
    url: str = ""


def _answer_bytes(answer: RawAnswer) -> bytes:
    return answer.body


def _transcription(answer: RawAnswer) -> Transcription:
    # Decide by what came back, not by what was asked: proxies wrap srt/vtt/text in JSON.
    if _is_json(answer.headers):
        return _decode_model(Transcription, parse_json(answer.body))
    return Transcription(text=answer.body.decode("utf-8", "replace"))


# --- server-sent events --------------------------------------------------------


class ServerSentEvent(NamedTuple):
    """One event of an event stream."""

    event: str
    data: str
    id: Optional[str] = None
    retry: Optional[int] = None


MAX_EVENT_CHARS = 8 * 1024 * 1024  # an SSE line or event beyond this is refused, memory bounded


class SSEDecoder:
    """Bytes in, events out, by the WHATWG event-stream rules.

    Lines end at CR, LF or CRLF (and nowhere else: U+2028 is data); UTF-8
    characters may be split across chunks; a leading BOM is dropped;
    invalid bytes become U+FFFD. Feed it whatever arrived; call ``end()``
    when the body ends. A line or an event longer than ``MAX_EVENT_CHARS``
    raises ``ApiError`` ``invalid_response``; text without a line end is
    kept in pieces, so a long line costs linear time, not quadratic.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: List[str] = []  # text after the last line end, in the pieces it came in
        self._pending_size = 0
        self._started = False
        self._after_cr = False  # the previous chunk ended in CR: a first LF is part of that line end
        self._data: List[str] = []
        self._data_size = 0
        self._event = ""
        self._last_id: Optional[str] = None
        self._retry: Optional[int] = None

    def feed(self, chunk: bytes) -> List[ServerSentEvent]:
        """The events completed by ``chunk``."""
        return self._take(self._utf8.decode(chunk))

    def end(self) -> Optional[str]:
        """Finish the body; returns the data of an event left incomplete (its last line included), or None."""
        rest = self._utf8.decode(b"", final=True)
        events = self._take(rest)
        if events:  # a blank line arrived in the last bytes: nothing is left pending
            self._data = [events[-1].data]
        data = list(self._data)
        pending = "".join(self._pending)
        if pending:
            name, _, value = pending.partition(":")
            if name == "data":
                data.append(value[1:] if value.startswith(" ") else value)
        self._pending, self._pending_size, self._data, self._data_size = [], 0, [], 0
        return "\n".join(data) if data else None

    def _take(self, text: str) -> List[ServerSentEvent]:
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
        if "\n" not in text and "\r" not in text:  # no line ends: keep the piece, join nothing yet
            if text:
                self._pending.append(text)
                self._pending_size += len(text)
                self._check_size(self._pending_size + self._data_size)
            return []
        self._pending.append(text)
        buffer = "".join(self._pending)
        if "\r" in buffer:
            if buffer.endswith("\r"):
                self._after_cr = True
            buffer = buffer.replace("\r\n", "\n").replace("\r", "\n")
        lines = buffer.split("\n")
        last = lines.pop()
        self._pending, self._pending_size = ([last], len(last)) if last else ([], 0)
        events: List[ServerSentEvent] = []
        for line in lines:
            if line[:5] == "data:":  # the usual line, handled here rather than in _field
                value = line[6:] if line[5:6] == " " else line[5:]
                self._data.append(value)
                self._data_size += len(value) + 1
                if self._data_size > MAX_EVENT_CHARS:
                    self._check_size(self._data_size)
            elif line:
                self._field(line)
            elif self._data:
                data = "\n".join(self._data)
                self._data, self._data_size = [], 0
                if data:  # an event whose data is empty is skipped
                    events.append(ServerSentEvent(self._event or "message", data, self._last_id, self._retry))
                self._event = ""
            else:
                self._event = ""
        self._check_size(self._pending_size + self._data_size)
        return events

    @staticmethod
    def _check_size(size: int) -> None:
        if size > MAX_EVENT_CHARS:
            raise _invalid_response(f"a stream event is larger than {MAX_EVENT_CHARS // 2**20} MB")

    def _field(self, line: str) -> None:
        name, colon, value = line.partition(":")
        if not name:
            return  # a comment
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
            self._check_size(self._data_size)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)


_STREAM_ERROR_CODES: Dict[str, Type[ApiError]] = {
    "invalid_api_key": AuthenticationError,
    "rate_limited": RateLimitError,
    "budget_exceeded": InsufficientCreditsError,
    "insufficient_credits": InsufficientCreditsError,
    "not_found": NotFoundError,
    "internal_error": InternalServerError,
}


def _stream_error(payload: Any) -> ApiError:
    """The typed error for an error event inside a stream."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        error = payload if isinstance(payload, dict) else {"message": str(payload)}
    status = error.get("status") or error.get("status_code")
    code = _code(error.get("code"))
    if isinstance(status, int) and status >= 400:
        cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else ApiError)
    else:
        status, cls = None, _STREAM_ERROR_CODES.get(code or "", ApiError)
    details = error.get("details")
    return cls(
        _text(error.get("message")) or "error event in the stream",
        status_code=status,
        code=code,
        details=details if isinstance(details, dict) else None,
    )


SHALLOW_JSON_CHARS = 1000  # shorter JSON cannot nest near the parser's recursion limit


def _loads(text: str) -> Any:
    """``parse_json`` for one value with no surrounding space, minus its wrapper's cost (streams decode many)."""
    if len(text) > SHALLOW_JSON_CHARS:
        return parse_json(text)  # which pauses the collector while it parses
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        end = -1
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if end != len(text):  # leading or trailing text: let parse_json accept the space or reject the rest
        return parse_json(text)
    return value


class ChatStreamParser:
    """The chat-completion layer over ``SSEDecoder``: chunk dicts out, errors raised.

    ``[DONE]`` sets ``done`` (the caller stops reading); an error event raises
    its ``ApiError``; data that is not JSON raises ``invalid_response``; a
    body that ends before ``[DONE]`` raises ``ConnectionError`` in ``end()``.
    """

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self.done = False
        self._error: Optional[RuncrateError] = None

    def feed(self, chunk: bytes) -> List[Dict[str, Any]]:
        """The chunk dicts completed by these bytes.

        An error event behind good chunks in the same bytes is held back, so
        that the chunks reach the caller first: ``check()`` raises it.
        """
        self.check()
        chunks: List[Dict[str, Any]] = []
        for event in self._sse.feed(chunk):
            if event.data == "[DONE]":
                self.done = True
                break
            try:
                chunks.append(self._chunk(event))
            except RuncrateError as error:
                if not chunks:
                    raise
                self._error = error
                break
        return chunks

    def interrupt(self, reason: str) -> None:
        """The stream was closed before ``[DONE]`` (its client closed): ``check()`` raises ``ConnectionError``."""
        if not self.done and self._error is None:
            self._error = ConnectionError(f"{reason} before the stream ended", code="stream_closed")

    def check(self) -> None:
        """Raise the error held back by ``feed`` or ``interrupt``, if any; call it before reading more."""
        if self._error is not None:
            error, self._error = self._error, None
            self.done = True
            raise error

    def end(self) -> None:
        """The body ended: fine after ``[DONE]``, else the answer was cut short."""
        self.check()
        pending = self._sse.end()
        if self.done:
            return
        if pending is not None and pending.strip() == "[DONE]":
            self.done = True
            return
        where = "in the middle of an event" if pending else "before [DONE]"
        raise ConnectionError(f"the stream ended {where}: the answer is incomplete", code="stream_truncated")

    @staticmethod
    def _chunk(event: ServerSentEvent) -> Dict[str, Any]:
        try:
            payload = _loads(event.data)
        except ValueError:
            raise _invalid_response(f"a stream event is not JSON: {_cap(event.data, 200)}") from None
        if event.event == "error" or (isinstance(payload, dict) and "error" in payload and "choices" not in payload):
            raise _stream_error(payload)
        if not isinstance(payload, dict):
            raise _invalid_response(f"a stream event is not an object: {_cap(event.data, 200)}")
        return payload


# --- media inputs ----------------------------------------------------------------

IMAGE_FIELDS = ("image", "start_image", "mask", "control_image")
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]+={0,2}\s*")
ImageInput = Union[str, bytes, "os.PathLike[str]"]


def encode_image(value: ImageInput, name: str = "image") -> str:
    """An image input as the API takes it.

    ``bytes`` and ``os.PathLike`` become a base64 data URI; a string is sent
    as is when it is an http(s) URL, a data URI or base64, and read when it
    is the path of an existing image file (png, jpeg, webp, gif). Anything
    else, a non-image file included, raises ``ValueError``.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _data_uri(bytes(value), _sniff_image(bytes(value)))
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        with open(path, "rb") as f:
            content = f.read()
        return _data_uri(content, _IMAGE_TYPES.get(os.path.splitext(path)[1].lower()) or _sniff_image(content))
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a path, bytes, a URL or base64, not {type(value).__name__}")
    if value.startswith(("https://", "http://", "data:")):
        return value
    if os.path.isfile(value):
        media_type = _IMAGE_TYPES.get(os.path.splitext(value)[1].lower())
        if media_type is None:
            raise ValueError(
                f"{name}: {value!r} is not an image file (png, jpeg, webp or gif); pass its bytes to send it"
            )
        with open(value, "rb") as f:
            return _data_uri(f.read(), media_type)
    if len(value) >= 16 and _BASE64.fullmatch(value) and len("".join(value.split())) % 4 == 0:
        return value
    raise ValueError(
        f"{name}: {_cap(value, 80)!r} is neither an existing image file, an http(s) URL, a data URI nor base64"
    )


def _data_uri(content: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode('ascii')}"


def _sniff_image(content: bytes) -> str:
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"GIF8"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (ValueError, TypeError):
        raise _invalid_response("the image is not valid base64") from None


# ======================================================================
# 6. Operations: one definition per endpoint
# ======================================================================
#
# An endpoint is its pure request builder, made public by @operation:
# ``get_instance(session, "i-1")`` sends it, ``get_instance.call("i-1")``
# returns the Call. runcrate_async derives its coroutine twin in one line.

OPERATIONS: Dict[str, Any] = {}  # name -> operation, in the order they are defined

if TYPE_CHECKING:
    P = ParamSpec("P")

    class Operation(Generic[P, T]):
        """An endpoint: ``op(session, ...)`` sends it, ``op.call(...)`` builds its Call."""

        __name__: str

        def call(self, *args: P.args, **kwargs: P.kwargs) -> Call[T]: ...

        def __call__(self, session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    def operation(build: Callable[P, Call[T]]) -> Operation[P, T]: ...

else:

    class Operation:
        """An endpoint: ``op(session, ...)`` sends it, ``op.call(...)`` builds its Call."""

        def __init__(self, build):
            self.build = build
            self.aliases = getattr(build, "aliases", {})
            self.__name__ = build.__name__
            self.__qualname__ = build.__qualname__
            self.__doc__ = build.__doc__
            self.__module__ = build.__module__

        def call(self, *args, **kwargs):
            return self.build_as(self.__name__, args, kwargs)

        def build_as(self, shown_as, args, kwargs):
            """The Call, argument errors told of ``shown_as`` (the function or method the caller used)."""
            if self.aliases and kwargs:
                kwargs = {self.aliases.get(name, name): value for name, value in kwargs.items()}
            try:
                return self.build(*args, **kwargs)
            except TypeError as error:
                raise argument_error(error, self.__name__, shown_as) from None

        def __call__(self, session, /, *args, **kwargs):
            return send(session, self.call(*args, **kwargs))

        @property
        def __signature__(self):
            return operation_signature(self.build, session=True)

        def __repr__(self):
            return f"<operation {self.__module__}.{self.__name__}>"

    def operation(build):
        """Make a request builder the public operation (and register it in OPERATIONS)."""
        op = OPERATIONS[build.__name__] = Operation(build)
        return op


_REFUSED_OPTION = re.compile(r"(Call\.)?__init__\(\)(?= got an unexpected keyword)")


def argument_error(error: TypeError, name: str, shown_as: str) -> TypeError:
    """A TypeError from building an operation's call, told of the function or method the caller used.

    Arguments the operation does not take end up among its per-call options:
    Call refuses them. An error raised inside the builder stays as it is.
    """
    message = str(error)
    refused = _REFUSED_OPTION.match(message)  # Python 3.9 says "__init__()", later ones "Call.__init__()"
    if refused:
        return TypeError(f"{shown_as}(){message[refused.end() :]}")
    if error.__traceback__ is not None and error.__traceback__.tb_next is None:  # the call itself was wrong
        return TypeError(message.replace(f"{name}()", f"{shown_as}()", 1))
    return error


def operation_signature(build: Callable[..., Any], session: bool) -> Any:
    """What ``inspect.signature`` shows of an operation: its builder's parameters (after a
    positional-only ``session`` for the module's function) and the result of its Call."""
    import inspect

    own = inspect.signature(build)
    result = own.return_annotation
    if isinstance(result, str) and result.startswith("Call[") and result.endswith("]"):
        result = result[len("Call[") : -1]
    parameters = list(own.parameters.values())
    if session:
        parameters.insert(0, inspect.Parameter("session", inspect.Parameter.POSITIONAL_ONLY))
    return own.replace(parameters=parameters, return_annotation=result)


F = TypeVar("F", bound=Callable[..., Any])


def aliased(**names: str) -> Callable[[F], F]:
    """Let a builder take a parameter under an older name too: ``@aliased(instance_id="id")``."""

    def mark(build: F) -> F:
        build.aliases = names  # type: ignore[attr-defined]
        return build

    return mark


SLOW_LAUNCH = 75.0  # the launch route may take 60 s


@operation
def list_instances(*, search: Optional[str] = None, **options: Unpack[CallOptions]) -> Call[ListPage[Instance]]:
    """List the environment's instances (GET /instances); ``search`` filters by name."""
    return Call("GET", "/instances", decode_page(Instance), params=_query(search=search), **options)


@operation
def list_instance_types(
    *,
    gpu_type: Optional[str] = None,
    region: Optional[str] = None,
    gpu_count: Optional[int] = None,
    **options: Unpack[CallOptions],
) -> Call[ListPage[InstanceType]]:
    """List the GPU offers available now (GET /instances/types), filtered by the arguments given."""
    _check_int("gpu_count", gpu_count, 1)
    params = _query(gpu_type=gpu_type, region=region, gpu_count=gpu_count)
    return Call("GET", "/instances/types", decode_page(InstanceType), params=params, **options)


@operation
def create_instance(
    *,
    name: str,
    ssh_key_id: Optional[str] = None,
    gpu_type: Optional[str] = None,
    instance_type_id: Optional[str] = None,
    region: Optional[str] = None,
    gpu_count: Optional[int] = None,
    cpu_cores: Optional[int] = None,
    memory: Optional[int] = None,
    storage: Optional[int] = None,
    template: Optional[str] = None,
    env_vars: Optional[Mapping[str, str]] = None,
    startup_commands: Optional[Sequence[str]] = None,
    storage_id: Optional[str] = None,
    launch_script: Optional[str] = None,
    launch_script_base64: Optional[str] = None,
    max_runtime_minutes: Optional[int] = None,
    idle_shutdown_minutes: Optional[int] = None,
    idempotency_key: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[Instance]:
    """Launch an instance (POST /instances); ``gpu_type`` or ``instance_type_id`` picks the machine.

    Sent with an Idempotency-Key (``idempotency_key``, or a fresh one) and
    retried only when the server answered 429/503 or the connection never
    opened; a lost answer raises instead of launching twice: list instances
    before trying again (the server does not dedupe launches by key).
    """
    _check_str("name", name, required=True)
    if gpu_type is None and instance_type_id is None:
        raise ValueError("create_instance needs gpu_type or instance_type_id")
    for label, number in (("gpu_count", gpu_count), ("cpu_cores", cpu_cores), ("memory", memory), ("storage", storage)):
        _check_int(label, number, 1)
    _check_int("max_runtime_minutes", max_runtime_minutes, 5, 10080)
    _check_int("idle_shutdown_minutes", idle_shutdown_minutes, 5, 1440)
    if isinstance(startup_commands, str):
        raise TypeError("startup_commands must be a list of strings, not one string")
    body = _body(
        name=name,
        ssh_key_id=ssh_key_id,
        gpu_type=gpu_type,
        instance_type_id=instance_type_id,
        region=region,
        gpu_count=gpu_count,
        cpu_cores=cpu_cores,
        memory=memory,
        storage=storage,
        template=template,
        env_vars=dict(env_vars) if env_vars is not None else None,
        startup_commands=list(startup_commands) if startup_commands is not None else None,
        storage_id=storage_id,
        launch_script=launch_script,
        launch_script_base64=launch_script_base64,
        max_runtime_minutes=max_runtime_minutes,
        idle_shutdown_minutes=idle_shutdown_minutes,
    )
    key = idempotency_key
    return Call(
        "POST", "/instances", decode_one(Instance), body=body, keyed=True, idempotency_key=key, min_timeout=SLOW_LAUNCH,
        **options,
    )  # fmt: skip


@operation
@aliased(instance_id="id")
def get_instance(id: str, **options: Unpack[CallOptions]) -> Call[Instance]:
    """Fetch one instance by id (GET /instances/{id})."""
    return Call("GET", f"/instances/{segment(id)}", decode_one(Instance), **options)


@operation
@aliased(instance_id="id")
def update_instance(
    id: str,
    *,
    max_runtime_minutes: Optional[int] = OMITTED,
    idle_shutdown_minutes: Optional[int] = OMITTED,
    **options: Unpack[CallOptions],
) -> Call[Instance]:
    """Change an instance's auto-stop limits (PATCH /instances/{id}).

    An omitted limit is left alone; ``None`` turns it off.
    """
    body = {}
    if max_runtime_minutes is not OMITTED:
        _check_int("max_runtime_minutes", max_runtime_minutes, 5, 10080)
        body["max_runtime_minutes"] = max_runtime_minutes
    if idle_shutdown_minutes is not OMITTED:
        _check_int("idle_shutdown_minutes", idle_shutdown_minutes, 5, 1440)
        body["idle_shutdown_minutes"] = idle_shutdown_minutes
    if not body:
        raise ValueError("update_instance needs max_runtime_minutes or idle_shutdown_minutes")
    return Call("PATCH", f"/instances/{segment(id)}", decode_one(Instance), body=body, **options)


@operation
@aliased(instance_id="id")
def get_instance_status(id: str, **options: Unpack[CallOptions]) -> Call[InstanceStatus]:
    """An instance's status and IP address (GET /instances/{id}/status)."""
    return Call("GET", f"/instances/{segment(id)}/status", decode_one(InstanceStatus), **options)


@operation
@aliased(instance_id="id")
def terminate_instance(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Terminate an instance (DELETE /instances/{id})."""
    return Call("DELETE", f"/instances/{segment(id)}", _nothing, **options)


@operation
def list_ssh_keys(**options: Unpack[CallOptions]) -> Call[ListPage[SSHKey]]:
    """List the workspace's SSH keys (GET /ssh-keys)."""
    return Call("GET", "/ssh-keys", decode_page(SSHKey), **options)


@operation
def create_ssh_key(
    *,
    name: str,
    public_key: str,
    type: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[SSHKey]:
    """Register a public key, ``<type> <blob> [comment]`` (POST /ssh-keys); a duplicate raises ``ConflictError``.

    No Idempotency-Key: never resent once it may have arrived.
    """
    _check_str("name", name, required=True)
    _check_str("public_key", public_key, required=True)
    body = _body(name=name, public_key=public_key, type=type)
    return Call("POST", "/ssh-keys", decode_one(SSHKey), body=body, **options)


@operation
@aliased(key_id="id")
def delete_ssh_key(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Delete an SSH key (DELETE /ssh-keys/{id})."""
    return Call("DELETE", f"/ssh-keys/{segment(id)}", _nothing, **options)


@operation
def list_storage_regions(**options: Unpack[CallOptions]) -> Call[ListPage[StorageRegion]]:
    """List the regions of the workspace's storage provider (GET /storage/regions)."""
    return Call("GET", "/storage/regions", decode_page(StorageRegion), **options)


@operation
def list_storage(*, search: Optional[str] = None, **options: Unpack[CallOptions]) -> Call[ListPage[StorageVolume]]:
    """List the environment's volumes (GET /storage); ``search`` filters by name."""
    return Call("GET", "/storage", decode_page(StorageVolume), params=_query(search=search), **options)


@operation
@aliased(volume_id="id")
def get_storage(id: str, **options: Unpack[CallOptions]) -> Call[StorageVolume]:
    """Fetch one volume by id (GET /storage/{id})."""
    return Call("GET", f"/storage/{segment(id)}", decode_one(StorageVolume), **options)


@operation
def create_storage(
    *,
    name: str,
    size_gb: int,
    region: str,
    idempotency_key: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[StorageVolume]:
    """Create a volume of ``size_gb`` in the region named ``region`` (POST /storage), billed weekly in advance.

    Sent with an Idempotency-Key (``idempotency_key``, or a fresh one), the same on every retry.
    """
    _check_str("name", name, required=True)
    _check_int("size_gb", size_gb, 1)
    _check_str("region", region, required=True)
    body = {"name": name, "size_gb": size_gb, "region": region}
    key = idempotency_key
    return Call("POST", "/storage", decode_one(StorageVolume), body=body, keyed=True, idempotency_key=key, **options)


@operation
@aliased(volume_id="id")
def resize_storage(id: str, *, size_gb: int, **options: Unpack[CallOptions]) -> Call[StorageVolume]:
    """Grow a volume to ``size_gb`` (PATCH /storage/{id}); shrinking raises ``UnprocessableEntityError``."""
    _check_int("size_gb", size_gb, 1)
    path = f"/storage/{segment(id)}"
    return Call("PATCH", path, decode_one(StorageVolume), body={"size_gb": size_gb}, **options)


def _refund(body: Any) -> StorageDeleteResult:
    return StorageDeleteResult() if body is None else decode_one(StorageDeleteResult)(body)


@operation
@aliased(volume_id="id")
def delete_storage(id: str, **options: Unpack[CallOptions]) -> Call[StorageDeleteResult]:
    """Delete a volume (DELETE /storage/{id}); the result carries the pro-rata ``refund_amount``."""
    return Call("DELETE", f"/storage/{segment(id)}", _refund, **options)


@operation
def get_balance(**options: Unpack[CallOptions]) -> Call[Balance]:
    """The workspace's credit balance (GET /billing/balance)."""
    return Call("GET", "/billing/balance", decode_one(Balance), **options)


@operation
def list_transactions(
    *,
    limit: int = 50,
    offset: int = 0,
    type: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[ListPage[Transaction]]:
    """A page of billing transactions, newest first (GET /billing/transactions); see ``has_more`` and ``total``."""
    _check_int("limit", limit, 1, 100)
    _check_int("offset", offset, 0)
    params = _query(limit=limit, offset=offset, type=type)
    return Call("GET", "/billing/transactions", decode_page(Transaction), params=params, **options)


@operation
def get_usage(
    *,
    from_date: Union[str, date, None] = None,
    to_date: Union[str, date, None] = None,
    **options: Unpack[CallOptions],
) -> Call[UsageSummary]:
    """Inference usage totals between two dates, ``YYYY-MM-DD`` or ``date`` (GET /billing/usage?from=&to=)."""
    params = _query(**{"from": _day(from_date), "to": _day(to_date)})
    return Call("GET", "/billing/usage", decode_one(UsageSummary), params=params, **options)


def _day(value: Union[str, date, None]) -> Optional[str]:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@operation
def top_up(*, amount_usd: float, idempotency_key: Optional[str] = None, **options: Unpack[CallOptions]) -> Call[TopUp]:
    """Charge the saved card ``amount_usd`` (20-10000) into the balance (POST /billing/topups).

    The key (``idempotency_key``, or a fresh one) goes in the body and the
    header, the same on every attempt: the server never charges twice for a
    key, so the call is retried like a GET, and every error raised carries
    the key in ``error.idempotency_key`` for a safe resend. ``processing``,
    ``requires_action`` (see ``confirm_url``) and ``declined`` are answers,
    not errors; posting the key again tells the current status.
    """
    _check_number("amount_usd", amount_usd, 20, 10000)
    _check_str("idempotency_key", idempotency_key)
    key = idempotency_key or _uuid4()
    body = {"amount_usd": amount_usd, "idempotency_key": key}
    return Call(
        "POST", "/billing/topups", decode_one(TopUp), body=body, keyed=True, idempotency_key=key, repeatable=True,
        **options,
    )  # fmt: skip


@operation
def get_auto_recharge(**options: Unpack[CallOptions]) -> Call[AutoRecharge]:
    """The auto-recharge setting (GET /billing/auto-recharge)."""
    return Call("GET", "/billing/auto-recharge", decode_one(AutoRecharge), **options)


@operation
def set_auto_recharge(
    *, enabled: bool, threshold_usd: float, target_usd: float, **options: Unpack[CallOptions]
) -> Call[AutoRecharge]:
    """Turn auto-recharge on or off: below ``threshold_usd``, top up to ``target_usd`` (PUT /billing/auto-recharge)."""
    if not isinstance(enabled, bool):
        raise TypeError("enabled must be a bool")
    _check_number("threshold_usd", threshold_usd, 0, math.inf)
    _check_number("target_usd", target_usd, 0, math.inf)
    body = {"enabled": enabled, "threshold_usd": threshold_usd, "target_usd": target_usd}
    return Call("PUT", "/billing/auto-recharge", decode_one(AutoRecharge), body=body, **options)


@operation
def list_payment_methods(**options: Unpack[CallOptions]) -> Call[ListPage[PaymentMethod]]:
    """The workspace's saved payment methods (GET /billing/payment-methods)."""
    return Call("GET", "/billing/payment-methods", decode_page(PaymentMethod), **options)


@operation
def list_templates(
    *,
    page: int = 1,
    page_size: int = 25,
    search: Optional[str] = None,
    category: Optional[str] = None,
    sort_by: Optional[str] = None,
    sort_dir: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[ListPage[Template]]:
    """A page of templates with ``total`` (GET /templates); filter by ``search`` and ``category``."""
    _check_int("page", page, 1)
    _check_int("page_size", page_size, 1)
    if sort_dir is not None and sort_dir not in ("asc", "desc"):
        raise ValueError("sort_dir must be 'asc' or 'desc'")
    params = _query(
        page=page, page_size=page_size, search=search, category=category, sort_by=sort_by, sort_dir=sort_dir
    )
    return Call("GET", "/templates", decode_page(Template), params=params, **options)


@operation
def list_environments(**options: Unpack[CallOptions]) -> Call[ListPage[Environment]]:
    """The workspace's environments (GET /environments)."""
    return Call("GET", "/environments", decode_page(Environment), **options)


@operation
def create_environment(*, name: str, **options: Unpack[CallOptions]) -> Call[Environment]:
    """Create an environment named ``name`` (POST /environments; never resent once it may have arrived)."""
    _check_str("name", name, required=True)
    return Call("POST", "/environments", decode_one(Environment), body={"name": name}, **options)


@operation
def get_environment(id: str, **options: Unpack[CallOptions]) -> Call[Environment]:
    """Fetch one environment by id (GET /environments/{id})."""
    return Call("GET", f"/environments/{segment(id)}", decode_one(Environment), **options)


@operation
def update_environment(
    id: str, *, name: Optional[str] = None, is_default: Optional[bool] = None, **options: Unpack[CallOptions]
) -> Call[Environment]:
    """Rename an environment, or make it the default (PATCH /environments/{id}); only what is given is sent."""
    _check_str("name", name)
    if is_default is not None and not isinstance(is_default, bool):
        raise TypeError("is_default must be a bool")
    body = _body(name=name, is_default=is_default)
    if not body:
        raise ValueError("update_environment needs name or is_default")
    return Call("PATCH", f"/environments/{segment(id)}", decode_one(Environment), body=body, **options)


@operation
def delete_environment(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Delete an environment (DELETE /environments/{id})."""
    return Call("DELETE", f"/environments/{segment(id)}", _nothing, **options)


@operation
def list_secrets(**options: Unpack[CallOptions]) -> Call[ListPage[Secret]]:
    """The names of the environment's secrets, sorted (GET /secrets); values are set in the dashboard only."""
    return Call("GET", "/secrets", decode_page(Secret), **options)


@operation
def list_crates(**filters: Any) -> Call[ListPage[Crate]]:
    """The environment's crates (GET /crates); keyword arguments are sent as query filters."""
    options = take_options(filters)
    return Call("GET", "/crates", decode_page(Crate), params=_query(**filters), **options)


@operation
def create_crate(**fields: Any) -> Call[Crate]:
    """Create a crate (POST /crates) from the keyword arguments, sent as the snake_case body.

    Never resent once it may have arrived.
    """
    options = take_options(fields)
    return Call("POST", "/crates", decode_one(Crate), body=_body(**fields), **options)


@operation
def get_crate(id: str, **options: Unpack[CallOptions]) -> Call[Crate]:
    """Fetch one crate by id (GET /crates/{id})."""
    return Call("GET", f"/crates/{segment(id)}", decode_one(Crate), **options)


@operation
def delete_crate(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Delete a crate (DELETE /crates/{id})."""
    return Call("DELETE", f"/crates/{segment(id)}", _nothing, **options)


# --- schedules -------------------------------------------------------------------

SCHEDULE_KINDS = ("instance", "job")
SCHEDULE_OVERLAPS = ("skip", "allow")


def utc_instant(name: str, value: Union[datetime, str]) -> str:
    """An aware datetime, or an ISO 8601 string with an offset, as the UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` the API reads.

    A time without an offset raises ``ValueError``: it names no instant.
    """
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(_normalise_iso(value))
        except ValueError:
            raise ValueError(f"{name} must be an ISO 8601 time, got {value!r}") from None
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime or an ISO 8601 string, not {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} has no UTC offset: pass an aware datetime or a string ending in Z or +HH:MM")
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _schedule_fields(
    run_at: Union[datetime, str, None],
    cron: Optional[str],
    tz: Optional[str],
    overlap: Optional[str],
    name: Optional[str],
) -> Dict[str, Any]:
    if run_at is not None and cron is not None:
        raise ValueError("a schedule runs once at run_at or on a cron, not both")
    _check_choice("overlap", overlap, SCHEDULE_OVERLAPS)
    _check_str("cron", cron)
    _check_str("timezone", tz)
    _check_str("name", name)
    return _body(
        run_at=None if run_at is None else utc_instant("run_at", run_at),
        cron=cron,
        timezone=tz,
        overlap=overlap,
        name=name,
    )


@operation
def create_schedule(
    *,
    kind: str,
    spec: Mapping[str, Any],
    run_at: Union[datetime, str, None] = None,
    cron: Optional[str] = None,
    timezone: Optional[str] = None,
    overlap: Optional[str] = None,
    name: Optional[str] = None,
    enabled: Optional[bool] = None,
    idempotency_key: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[Schedule]:
    """Start an instance or a job later (POST /schedules): once at ``run_at``, or on a ``cron`` read in ``timezone``.

    ``spec`` is the body of an instance launch or of a job run (with its
    ``max_runtime_minutes``); ``run_at`` an aware datetime or an ISO string
    with an offset, sent in UTC. Unset options take the server's defaults.
    Never resent once it may have arrived.
    """
    _check_choice("kind", kind, SCHEDULE_KINDS)
    if not isinstance(spec, Mapping):
        raise TypeError(f"spec must be a mapping, not {type(spec).__name__}")
    if (run_at is None) == (cron is None):
        raise ValueError("create_schedule needs exactly one of run_at and cron")
    body = {"kind": kind, "spec": dict(spec), **_schedule_fields(run_at, cron, timezone, overlap, name)}
    body.update(_body(enabled=enabled))
    return Call(
        "POST", "/schedules", decode_one(Schedule), body=body, keyed=True, idempotency_key=idempotency_key, **options
    )


@operation
def list_schedules(**options: Unpack[CallOptions]) -> Call[ListPage[Schedule]]:
    """The environment's schedules, newest first (GET /schedules)."""
    return Call("GET", "/schedules", decode_page(Schedule), **options)


@operation
def get_schedule(id: str, **options: Unpack[CallOptions]) -> Call[Schedule]:
    """Fetch one schedule (GET /schedules/{id})."""
    return Call("GET", f"/schedules/{segment(id)}", decode_one(Schedule), **options)


@operation
def update_schedule(
    id: str,
    *,
    enabled: Optional[bool] = None,
    run_at: Union[datetime, str, None] = None,
    cron: Optional[str] = None,
    timezone: Optional[str] = None,
    overlap: Optional[str] = None,
    name: Optional[str] = None,
    spec: Optional[Mapping[str, Any]] = None,
    **options: Unpack[CallOptions],
) -> Call[Schedule]:
    """Change what is given of a schedule (PATCH /schedules/{id}), at least one thing.

    ``run_at`` makes it a one-off, ``cron`` recurring; ``spec`` replaces the
    whole spec (send env values again); ``enabled=False`` pauses it.
    """
    body = _schedule_fields(run_at, cron, timezone, overlap, name)
    body.update(_body(enabled=enabled, spec=None if spec is None else dict(spec)))
    if not body:
        raise ValueError("update_schedule needs at least one field to change")
    return Call("PATCH", f"/schedules/{segment(id)}", decode_one(Schedule), body=body, **options)


@operation
def delete_schedule(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Delete a schedule (DELETE /schedules/{id})."""
    return Call("DELETE", f"/schedules/{segment(id)}", _nothing, **options)


@operation
def run_schedule_now(id: str, **options: Unpack[CallOptions]) -> Call[ScheduleRun]:
    """Launch a schedule's instance or job now, even when paused (POST /schedules/{id}/run-now).

    ``next_run_at`` stays as it was. Never resent once it may have arrived.
    """
    return Call(
        "POST", f"/schedules/{segment(id)}/run-now", decode_one(ScheduleRun), min_timeout=SLOW_LAUNCH, **options
    )


# --- jobs ------------------------------------------------------------------------------


class _JobFields(TypedDict, total=False):
    gpu_count: Optional[int]
    template: Optional[str]
    image: Optional[str]
    env: Optional[Mapping[str, str]]
    storage_id: Optional[str]
    name: Optional[str]
    region: Optional[str]
    capacity_wait_minutes: Optional[int]
    max_retries: Optional[int]
    retry_on: Optional[Sequence[str]]
    retry_exit_codes: Optional[Sequence[int]]
    tags: Optional[Mapping[str, str]]
    webhook_url: Optional[str]
    webhook_events: Optional[Sequence[str]]
    code: Optional[Mapping[str, Any]]
    image_registry_auth: Optional[Mapping[str, str]]
    allow_cpu_container: Optional[bool]


class JobSpec(_JobFields, total=False):
    """A job's fields (the API's JobSpec): run with bash in ``/workspace`` on its own machine.

    ``gpu_type`` is one type (``"A4000"``) or candidates tried in order
    (``["H100", "A100-80GB:2"]``); ``max_runtime_minutes`` (1-10080) bounds
    each attempt; ``max_retries`` here is the job's own (0-10), not the SDK's.
    """

    command: Required[str]
    gpu_type: Required[Union[str, Sequence[str]]]
    max_runtime_minutes: Required[int]


class JobGroupSpec(JobSpec, total=False):
    """A group's fields: a job's, and ``count`` copies or one job per ``params`` entry (merged over ``env``)."""

    count: Optional[int]
    params: Optional[Sequence[Mapping[str, Any]]]
    max_parallel: Optional[int]


class JobOverrides(_JobFields, total=False):
    """What a rerun changes: any job field; ``None`` clears it (``webhook_url=None``), ``env`` merges."""

    command: Optional[str]
    gpu_type: Union[str, Sequence[str], None]
    max_runtime_minutes: Optional[int]


class JobRun(JobSpec, SpecCallOptions, total=False):
    """``run_job``'s keyword arguments: the job's fields and the per-call options."""


class JobGroupRun(JobGroupSpec, SpecCallOptions, total=False):
    """``run_job_group``'s keyword arguments: the group's fields and the per-call options."""


class JobRerun(JobOverrides, SpecCallOptions, total=False):
    """``rerun_job``'s keyword arguments: the overrides and the per-call options."""


SLOW_JOB = 135.0  # job run, group run, rerun and cancel may take 120 s
SLOW_GROUP_CANCEL = 315.0  # a volume copy-up per machine: up to 300 s
LOG_FOLLOW_READ = 40.0  # the server holds an empty log read for up to 25 s
JOB_REQUIRED = ("command", "gpu_type", "max_runtime_minutes")
JOB_FIELDS = frozenset(JobOverrides.__annotations__)
JOB_GROUP_FIELDS = JOB_FIELDS | {"count", "params", "max_parallel"}
SPEC_OPTION_NAMES = tuple(SpecCallOptions.__annotations__)
JOB_STATUSES = ("queued", "starting", "running", "succeeded", "failed", "cancelled", "timed_out")


def _job_body(
    function: str, given: Mapping[str, Any], fields: frozenset[str], run: bool
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(body, per-call options) of a job call's keyword arguments, checked.

    A run leaves out what is None and needs the required fields; a rerun
    (``run`` false) sends None as null, which clears the field.
    """
    spec = dict(given)
    options = {name: spec.pop(name) for name in SPEC_OPTION_NAMES if name in spec}
    unknown = sorted(spec.keys() - fields)
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    if run:
        spec = {k: v for k, v in spec.items() if v is not None}
        missing = [name for name in JOB_REQUIRED if name not in spec]
        if missing:
            raise TypeError(f"{function}() missing required keyword argument: {missing[0]!r}")
    _check_job_spec(spec)
    body = {
        k: dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, (list, tuple)) else v
        for k, v in spec.items()
    }
    if isinstance(body.get("params"), list):
        body["params"] = [dict(p) for p in body["params"]]
    return body, options


def _check_job_spec(spec: Mapping[str, Any]) -> None:
    _check_str("command", spec.get("command"))
    gpu_type = spec.get("gpu_type")
    if not (
        gpu_type is None
        or isinstance(gpu_type, str)
        or (isinstance(gpu_type, (list, tuple)) and gpu_type and all(isinstance(g, str) for g in gpu_type))
    ):
        raise TypeError("gpu_type must be a string or a non-empty list of strings")
    for name, low, high in (
        ("max_runtime_minutes", 1, 10080),
        ("gpu_count", 1, 8),
        ("capacity_wait_minutes", 0, 1440),
        ("max_retries", 0, 10),
        ("count", 1, None),
        ("max_parallel", 1, None),
    ):
        _check_int(name, spec.get(name), low, high)
    if isinstance(spec.get("command"), str) and len(spec["command"].encode()) > 64 * 1024:
        raise ValueError("command must be at most 64 KB")
    for name in ("retry_on", "retry_exit_codes", "webhook_events", "params"):
        if isinstance(spec.get(name), (str, bytes)):
            raise TypeError(f"{name} must be a list, not one string")


def _job_post(
    path: str, decode: Callable[[Any], T], body: Dict[str, Any], key: Optional[str], options: Dict[str, Any]
) -> Call[T]:
    # The server dedupes by key: a resend after a lost answer gets the first job, never a second one.
    return Call(
        "POST",
        path,
        decode,
        body=body,
        keyed=True,
        idempotency_key=key,
        repeatable=True,
        min_timeout=SLOW_JOB,
        **options,
    )


@operation
def run_job(*, idempotency_key: Optional[str] = None, **spec: Unpack[JobRun]) -> Call[Job]:
    """Run a command on a fresh GPU machine (POST /jobs): ``command``, ``gpu_type`` and ``max_runtime_minutes`` needed.

    Sent with an Idempotency-Key (``idempotency_key``, or a fresh one) that
    the server dedupes by, so it is retried like a GET and every error
    carries the key (``error.idempotency_key``) for a safe resend.
    """
    body, options = _job_body("run_job", spec, JOB_FIELDS, run=True)
    return _job_post("/jobs", decode_one(Job), body, idempotency_key, options)


@operation
def run_job_group(*, idempotency_key: Optional[str] = None, **spec: Unpack[JobGroupRun]) -> Call[SubmittedJobGroup]:
    """Run ``count`` copies of a job, or one per ``params`` entry (POST /jobs), at most ``max_parallel`` at once.

    Keyed and retried as ``run_job``; the answer holds the group's ``jobs``.
    """
    body, options = _job_body("run_job_group", spec, JOB_GROUP_FIELDS, run=True)
    if ("count" in body) == ("params" in body):
        raise ValueError("run_job_group needs exactly one of count and params")
    return _job_post("/jobs", decode_one(SubmittedJobGroup), body, idempotency_key, options)


@operation
def rerun_job(id: str, *, idempotency_key: Optional[str] = None, **overrides: Unpack[JobRerun]) -> Call[Job]:
    """Run a job again as a new job (POST /jobs/{id}/rerun), with any field overridden.

    A field given as None is sent as null and cleared (``webhook_url=None``);
    ``env`` is merged over the old values. Keyed and retried as ``run_job``.
    """
    body, options = _job_body("rerun_job", overrides, JOB_FIELDS, run=False)
    return _job_post(f"/jobs/{segment(id)}/rerun", decode_one(Job), body, idempotency_key, options)


@operation
def list_jobs(
    *,
    status: Union[str, Sequence[str], None] = None,
    tags: Optional[Mapping[str, str]] = None,
    group_id: Optional[str] = None,
    q: Optional[str] = None,
    gpu_type: Optional[str] = None,
    created_after: Union[datetime, str, None] = None,
    limit: Optional[int] = None,
    cursor: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[ListPage[Job]]:
    """A page of the environment's jobs, newest first (GET /jobs); the next: ``cursor=page.cursor`` while ``has_more``.

    ``status`` is one status or several; ``tags`` match every ``key: value``;
    ``created_after`` is an aware datetime or an ISO string with an offset.
    """
    statuses = [status] if isinstance(status, str) else list(status or ())
    for one in statuses:
        _check_choice("status", one, JOB_STATUSES)
    _check_int("limit", limit, 1, 100)
    after = None if created_after is None else utc_instant("created_after", created_after)
    params = _query(status=",".join(statuses) or None)
    params += [("tag", f"{key}:{value}") for key, value in (tags or {}).items()]
    params += _query(group_id=group_id, q=q, gpu_type=gpu_type, created_after=after, limit=limit, cursor=cursor)
    return Call("GET", "/jobs", decode_page(Job), params=params, **options)


@operation
def get_job(id: str, **options: Unpack[CallOptions]) -> Call[Job]:
    """Fetch one job (GET /jobs/{id})."""
    return Call("GET", f"/jobs/{segment(id)}", decode_one(Job), **options)


@operation
def cancel_job(id: str, **options: Unpack[CallOptions]) -> Call[Job]:
    """Cancel a job (POST /jobs/{id}/cancel); a job that ended otherwise gives ``ConflictError``.

    Cancelling twice is harmless, so it is retried like a GET.
    """
    path = f"/jobs/{segment(id)}/cancel"
    return Call("POST", path, decode_one(Job), repeatable=True, min_timeout=SLOW_JOB, **options)


@operation
def delete_job(id: str, **options: Unpack[CallOptions]) -> Call[None]:
    """Delete an ended job (DELETE /jobs/{id}); a live one gives ``ConflictError``."""
    return Call("DELETE", f"/jobs/{segment(id)}", _nothing, **options)


@operation
def get_job_logs(
    id: str, *, after: int = 0, limit: Optional[int] = None, follow: bool = False, **options: Unpack[CallOptions]
) -> Call[JobLogs]:
    """A page of a job's log after the cursor ``after`` (GET /jobs/{id}/logs).

    With ``follow=True`` the server holds an empty read up to 25 s for new output.
    """
    _check_int("after", after, 0)
    _check_int("limit", limit, 1)
    params = _query(after=after, limit=limit, follow=True if follow else None)
    wait = LOG_FOLLOW_READ if follow else 0.0
    return Call("GET", f"/jobs/{segment(id)}/logs", decode_one(JobLogs), params=params, min_timeout=wait, **options)


@operation
def list_job_events(id: str, **options: Unpack[CallOptions]) -> Call[ListPage[JobEvent]]:
    """What happened to a job, oldest first (GET /jobs/{id}/events)."""
    return Call("GET", f"/jobs/{segment(id)}/events", decode_page(JobEvent), **options)


@operation
def get_job_metrics(
    id: str, *, step: Optional[int] = None, **options: Unpack[CallOptions]
) -> Call[ListPage[JobMetricPoint]]:
    """A job's GPU utilisation and memory over time (GET /jobs/{id}/metrics), one point per ``step`` seconds."""
    _check_int("step", step, 60, 86400)
    path = f"/jobs/{segment(id)}/metrics"
    return Call("GET", path, decode_page(JobMetricPoint), params=_query(step=step), **options)


@operation
def list_job_artifacts(job_id: str, **options: Unpack[CallOptions]) -> Call[ListPage[JobArtifact]]:
    """The files a job wrote to ``$RUNCRATE_OUTPUT_DIR`` (GET /jobs/{id}/artifacts), kept 30 days after it ended."""
    return Call("GET", f"/jobs/{segment(job_id)}/artifacts", decode_page(JobArtifact), **options)


def _artifact_path(path: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"an artifact path must be a string, not {type(path).__name__}")
    return "/".join(segment(part) for part in path.split("/"))


def _location(answer: RawAnswer) -> str:
    found = answer.headers.get("location")
    if not found and _is_json(answer.headers):  # a server may answer the URL itself rather than redirect
        data, _ = _unwrap(parse_json(answer.body))
        found = data.get("url") if type(data) is dict else None
    if not isinstance(found, str) or not found:
        raise _invalid_response("the artifact answer names no URL (no Location)")
    url = urljoin(answer.url, found)
    if not url.startswith(("https://", "http://")):
        raise _invalid_response(f"the artifact URL is not http(s): {url[:100]!r}")
    return url


@operation
def get_job_artifact_url(job_id: str, path: str, **options: Unpack[CallOptions]) -> Call[str]:
    """A signed URL of one artifact, valid 1 hour, that needs no key (GET /jobs/{id}/artifacts/{path}).

    The redirect is not followed: its ``Location`` is the answer, made absolute.
    """
    route = f"/jobs/{segment(job_id)}/artifacts/{_artifact_path(path)}"
    return Call("GET", route, _location, raw=True, accepts_redirect=True, **options)


MAX_UPLOAD_BYTES = 1024**3


@operation
def create_job_upload(  # the official name of the size parameter: bytes
    *,
    bytes: int,  # noqa: A002
    sha256: Optional[str] = None,
    **options: Unpack[CallOptions],
) -> Call[JobUpload]:
    """A place to PUT a job's code archive of ``bytes`` bytes (POST /jobs/uploads), at most 1 GB.

    With ``sha256`` (lowercase hex of the archive) the server answers the
    upload it already has for it (``url`` None: nothing to send), and the
    call is retried like a GET; without, it is never resent once it may have arrived.
    """
    _check_int("bytes", bytes, 1, MAX_UPLOAD_BYTES)
    if sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    body = _body(bytes=bytes, sha256=sha256)
    return Call("POST", "/jobs/uploads", decode_one(JobUpload), body=body, repeatable=sha256 is not None, **options)


@operation
def get_job_group(id: str, **options: Unpack[CallOptions]) -> Call[JobGroup]:
    """Fetch a job group (GET /job-groups/{id}); its jobs: ``list_jobs(group_id=...)``."""
    return Call("GET", f"/job-groups/{segment(id)}", decode_one(JobGroup), **options)


@operation
def cancel_job_group(id: str, **options: Unpack[CallOptions]) -> Call[JobGroup]:
    """Cancel every job of a group that has not ended (POST /job-groups/{id}/cancel); retried like a GET."""
    path = f"/job-groups/{segment(id)}/cancel"
    return Call("POST", path, decode_one(JobGroup), repeatable=True, min_timeout=SLOW_GROUP_CANCEL, **options)


SLOW_MEDIA = 120.0  # image, video, speech and transcription routes may take this long
SLOW_CHAT = 600.0  # a completion without streaming answers only at its end (openai-python's default)

IMAGE_FORMATS = ("url", "b64_json")
SPEECH_FORMATS = ("mp3", "pcm", "wav", "opus", "aac", "flac")
TRANSCRIPT_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def _check_choice(name: str, value: Optional[str], allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_number(name: str, value: Optional[float], low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")


def _check_messages(messages: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValueError("messages must not be empty")
    for message in messages:
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise TypeError("each message must be a dict with a 'role'")
    return [dict(m) for m in messages]


def chat_completion_call(
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    stream: bool = False,
    max_tokens: Optional[int] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    stop: Union[str, Sequence[str], None] = None,
    frequency_penalty: Optional[float] = None,
    presence_penalty: Optional[float] = None,
    timeout: Optional[float] = None,
    **params: Any,
) -> Call[ChatCompletion]:
    """POST /v1/chat/completions; other keyword arguments go into the body unchanged (the per-call options not).

    Without streaming the answer comes only at the end of the generation: the
    read timeout is then at least SLOW_CHAT, unless ``timeout`` is given.
    The sync and async ``chat_completion`` send it, or open it as a stream.
    """
    _check_str("model", model, required=True)
    _check_int("max_tokens", max_tokens, 1)
    _check_number("temperature", temperature, 0, 2)
    _check_number("top_p", top_p, 0, 1)
    _check_number("frequency_penalty", frequency_penalty, -2, 2)
    _check_number("presence_penalty", presence_penalty, -2, 2)
    options = take_options(params)
    body = _body(
        model=model,
        messages=_check_messages(messages),
        stream=bool(stream),
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop=stop if isinstance(stop, str) or stop is None else list(stop),
        frequency_penalty=frequency_penalty,
        presence_penalty=presence_penalty,
    )
    body.update(params)
    return Call(
        "POST",
        "/chat/completions",
        decode_bare(ChatCompletion),
        body=body,
        inference=True,
        min_timeout=0.0 if stream else SLOW_CHAT,
        timeout=timeout,
        **options,
    )


def _with_images(body: Dict[str, Any], params: Mapping[str, Any]) -> Dict[str, Any]:
    for key, value in params.items():
        if value is None:
            continue
        body[key] = encode_image(value, key) if key in IMAGE_FIELDS else value
    return body


@operation
def generate_image(
    *,
    model: str,
    prompt: str,
    width: Optional[int] = None,
    height: Optional[int] = None,
    aspect_ratio: Optional[str] = None,
    response_format: Optional[str] = None,
    num_inference_steps: Optional[int] = None,
    guidance: Optional[float] = None,
    seed: Optional[int] = None,
    negative_prompt: Optional[str] = None,
    **params: Any,
) -> Call[ImageGeneration]:
    """Generate images (POST /v1/images/generations).

    ``image``, ``start_image``, ``mask`` and ``control_image`` take a file path,
    bytes, an http(s) URL, a data URI or base64 (see ``encode_image``); other
    keyword arguments (``strength``, ...) pass through to the model.
    """
    _check_str("model", model, required=True)
    _check_str("prompt", prompt, required=True)
    _check_int("width", width, 1)
    _check_int("height", height, 1)
    _check_int("num_inference_steps", num_inference_steps, 1)
    _check_choice("response_format", response_format, IMAGE_FORMATS)
    options = take_options(params)
    body = _body(
        model=model,
        prompt=prompt,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        response_format=response_format,
        num_inference_steps=num_inference_steps,
        guidance=guidance,
        seed=seed,
        negative_prompt=negative_prompt,
    )
    body = _with_images(body, params)
    return Call(
        "POST",
        "/images/generations",
        decode_bare(ImageGeneration),
        body=body,
        inference=True,
        min_timeout=SLOW_MEDIA,
        **options,
    )


@operation
def generate_video(*, model: str, prompt: str, **params: Any) -> Call[VideoJob]:
    """Submit a video job (POST /v1/videos); ``duration``, ``image`` (encoded), ``seed`` ... pass through."""
    _check_str("model", model, required=True)
    _check_str("prompt", prompt, required=True)
    options = take_options(params)
    body = _with_images({"model": model, "prompt": prompt}, params)
    return Call("POST", "/videos", decode_bare(VideoJob), body=body, inference=True, min_timeout=SLOW_MEDIA, **options)


@operation
@aliased(video_id="id")
def get_video_status(id: str, **options: Unpack[CallOptions]) -> Call[VideoJob]:
    """Poll a video job (GET /v1/videos/{id})."""
    return Call("GET", f"/videos/{segment(id)}", decode_bare(VideoJob), inference=True, **options)


@operation
@aliased(video_id="id")
def download_video(id: str, **options: Unpack[CallOptions]) -> Call[bytes]:
    """A finished video's bytes, in memory (GET /v1/videos/{id}/download; 404 until the job completed).

    ``download_video_to_file`` streams to disk instead.
    """
    path = f"/videos/{segment(id)}/download"
    return Call("GET", path, _answer_bytes, inference=True, raw=True, min_timeout=SLOW_MEDIA, **options)


@operation
def text_to_speech(
    *,
    model: str,
    input: str,
    voice: Optional[str] = None,
    response_format: Optional[str] = None,
    **params: Any,
) -> Call[bytes]:
    """Speech audio for ``input`` (POST /v1/audio/speech): mp3 bytes unless ``response_format`` says otherwise."""
    _check_str("model", model, required=True)
    _check_str("input", input, required=True)
    _check_choice("response_format", response_format, SPEECH_FORMATS)
    options = take_options(params)
    body = {**_body(model=model, input=input, voice=voice, response_format=response_format), **params}
    return Call(
        "POST", "/audio/speech", _answer_bytes, body=body, inference=True, raw=True, min_timeout=SLOW_MEDIA, **options
    )


@operation
def transcribe(
    *,
    model: str,
    file: FileInput,
    filename: Optional[str] = None,
    language: Optional[str] = None,
    response_format: Optional[str] = None,
    **params: Any,
) -> Call[Transcription]:
    """Transcribe audio (POST /v1/audio/transcriptions, multipart/form-data), streaming the file.

    ``file`` is a path, bytes or a binary file object. ``.text`` of the result
    holds the transcript, or the subtitles for ``srt``/``vtt``.
    """
    _check_str("model", model, required=True)
    _check_choice("response_format", response_format, TRANSCRIPT_FORMATS)
    _check_file(file)
    options = take_options(params)
    fields = {"model": model, "language": language, "response_format": response_format, **params}
    body = MultipartBody(list(fields.items()), file, filename)
    return Call(
        "POST",
        "/audio/transcriptions",
        _transcription,
        body=body,
        inference=True,
        raw=True,
        min_timeout=SLOW_MEDIA,
        **options,
    )


@operation
def list_models(**options: Unpack[CallOptions]) -> Call[ListPage[InferenceModel]]:
    """The models the inference API serves (GET /v1/models), each with its ``type``."""
    return Call("GET", "/models", decode_page(InferenceModel), inference=True, **options)


# ======================================================================
# 7. Streams, downloads and flows: what is more than one call
# ======================================================================


# --- flows: multi-step operations written once, driven by a sync or an async driver ---------


class Sleep(NamedTuple):
    """A flow step: wait this many seconds."""

    seconds: float


class Progress(NamedTuple):
    """A flow step: hand ``value`` (the latest state of the work) to the caller's callback."""

    value: Any


class Item(NamedTuple):
    """A flow step: one item of a listing, for the caller's iteration."""

    value: Any


class Items(NamedTuple):
    """A flow step: a page of items, for the caller's iteration one by one (fewer steps than one Item each)."""

    values: Sequence[Any]


FlowStep = Union["Call[Any]", Sleep, Progress, Item, Items]
Flow = Generator[FlowStep, Any, T]


def video_flow(
    model: str, prompt: str, poll_interval: float, timeout: Optional[float], params: Mapping[str, Any]
) -> Flow[VideoJob]:
    """Submit a video job and poll it until it completes; each state seen (the submitted one first) is a Progress."""
    wait = VideoWait(poll_interval, timeout)
    job: VideoJob = yield generate_video.call(model=model, prompt=prompt, **params)
    yield Progress(job)
    while not wait.finished(job):
        yield Sleep(wait.poll_interval)
        job = yield get_video_status.call(job.id)
        yield Progress(job)
    return job


class FlowRun(Generic[T]):
    """The I/O-free half of a flow driver: hands out steps, takes answers, keeps the result.

    Used as a context manager: an SDK error raised inside gets the last
    Progress value in ``job`` (so paid work can be resumed); the flow is closed.
    """

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self.last: Any = None
        self.result: Optional[T] = None

    def next(self, answer: Any = None) -> Optional[FlowStep]:
        """The next step, given the answer to the previous one; None once the flow returned."""
        try:
            step = self._flow.send(answer)
        except StopIteration as finished:
            self.result = finished.value
            return None
        if isinstance(step, Progress):
            self.last = step.value
        return step

    def __enter__(self) -> FlowRun[T]:
        return self

    def __exit__(self, kind: Any, error: Optional[BaseException], trace: Any) -> None:
        self._flow.close()
        if isinstance(error, RuncrateError) and error.job is None:
            error.job = self.last


def items_of(step: Union[Progress, Item, Items]) -> Sequence[Any]:
    """The items a flow step hands to the caller's iteration."""
    return step.values if isinstance(step, Items) else (step.value,)


def follow_flow(session: Session, run: FlowRun[Any]) -> Iterator[Union[Progress, Item, Items]]:
    """Drive a flow: send its calls, sleep its sleeps, and yield its progress and items as they come."""
    step = run.next()
    while step is not None:
        answer = None
        if isinstance(step, Call):
            answer = send(session, step)
        elif isinstance(step, Sleep):
            time.sleep(step.seconds)
        else:
            yield step
        step = run.next(answer)


def run_flow(session: Session, flow: Flow[T], on_progress: Optional[Callable[[Any], Any]] = None) -> T:
    """Drive a flow to its result, handing each progress value to ``on_progress``."""
    with FlowRun(flow) as run:
        for step in follow_flow(session, run):
            if on_progress is not None and isinstance(step, Progress):
                on_progress(step.value)
    return run.result  # type: ignore[return-value]


def template_pages(page_size: int, filters: Mapping[str, Any]) -> Flow[None]:
    """Every template, one page (``page=1, 2, ...``) at a time, a page an Items step; no page past the last."""
    page = 1
    while True:
        found: ListPage[Template] = yield list_templates.call(page=page, page_size=page_size, **filters)
        yield Items(found)
        seen = (page - 1) * page_size + len(found)
        if not found.has_more or len(found) < page_size or (found.total is not None and seen >= found.total):
            return
        page += 1


def transaction_pages(limit: int, kind: Optional[str]) -> Flow[None]:
    """Every transaction, ``limit`` at a time by offset, a page an Items step; no page past the last."""
    offset = 0
    while True:
        found: ListPage[Transaction] = yield list_transactions.call(limit=limit, offset=offset, type=kind)
        yield Items(found)
        offset += len(found)
        if not found.has_more or len(found) < limit or (found.total is not None and offset >= found.total):
            return


def iterate_flow(session: Session, flow: Flow[None]) -> Iterator[Any]:
    """The items of a flow as an iterator; leaving it early closes the flow."""
    with FlowRun(flow) as run:
        for step in follow_flow(session, run):
            yield from items_of(step)


def list_all_templates(
    session: Session,
    /,
    *,
    page_size: int = 25,
    search: Optional[str] = None,
    category: Optional[str] = None,
    sort_by: Optional[str] = None,
    sort_dir: Optional[str] = None,
) -> Iterator[Template]:
    """Every template, fetched a page at a time as the iteration reaches it (GET /templates)."""
    filters = {"search": search, "category": category, "sort_by": sort_by, "sort_dir": sort_dir}
    return iterate_flow(session, template_pages(page_size, filters))


def list_all_transactions(
    session: Session,
    /,
    *,
    limit: int = 100,
    type: Optional[str] = None,
) -> Iterator[Transaction]:
    """Every billing transaction, newest first, ``limit`` a request (GET /billing/transactions)."""
    return iterate_flow(session, transaction_pages(limit, type))


def job_pages(page_size: int, filters: Mapping[str, Any]) -> Flow[None]:
    """Every job matching ``filters``, newest first, ``page_size`` a request by cursor, a page an Items step."""
    cursor = None
    while True:
        found: ListPage[Job] = yield list_jobs.call(limit=page_size, cursor=cursor, **filters)
        yield Items(found)
        if not found.has_more or not found.cursor or found.cursor == cursor:
            return
        cursor = found.cursor


def list_all_jobs(
    session: Session,
    /,
    *,
    status: Union[str, Sequence[str], None] = None,
    tags: Optional[Mapping[str, str]] = None,
    group_id: Optional[str] = None,
    q: Optional[str] = None,
    gpu_type: Optional[str] = None,
    created_after: Union[datetime, str, None] = None,
    page_size: int = 100,
) -> Iterator[Job]:
    """Every job matching the filters (as ``list_jobs``), fetched a page at a time as the iteration reaches it."""
    filters = dict(status=status, tags=tags, group_id=group_id, q=q, gpu_type=gpu_type, created_after=created_after)
    return iterate_flow(session, job_pages(page_size, filters))


# --- waiting for a job, following its log ---------------------------------------------


def job_wait_flow(id: str, timeout: Optional[float], poll_interval: float, max_poll_interval: float) -> Flow[Job]:
    """Poll a job until it ends: the first poll at once, then gaps from ``poll_interval`` doubling up to
    ``max_poll_interval``; each job polled is a Progress. Past ``timeout``, ``JobWaitTimeoutError``."""
    if poll_interval < 0 or max_poll_interval < poll_interval:
        raise ValueError("poll_interval must be >= 0 and max_poll_interval >= poll_interval")
    deadline = None if timeout is None else time.monotonic() + timeout
    gap = poll_interval
    while True:
        job: Job = yield get_job.call(id)
        yield Progress(job)
        if job.status in JOB_FINAL_STATUSES:
            return job
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            error = JobWaitTimeoutError(
                f"job {job.id} is still {job.status} after {timeout:g} s", code="job_wait_timeout"
            )
            error.job = job
            raise error
        yield Sleep(gap if deadline is None else min(gap, deadline - now))
        gap = min(gap * 2, max_poll_interval)


def wait_for_job(
    session: Session,
    /,
    id: str,
    *,
    timeout: Optional[float] = None,
    poll_interval: float = 2.0,
    max_poll_interval: float = 30.0,
    on_status: Optional[Callable[[Job], Any]] = None,
) -> Job:
    """Wait until a job ends and answer it; ``on_status`` sees each job polled.

    Past ``timeout`` seconds, ``JobWaitTimeoutError`` (a ``TimeoutError``)
    carries the last job in ``error.job``; the job keeps running.
    """
    return run_flow(session, job_wait_flow(id, timeout, poll_interval, max_poll_interval), on_status)


EMPTY_LOG_PAUSE = 1.0  # after an empty page that came back at once


def log_follow_flow(id: str, after: int, timeout: Optional[float]) -> Flow[None]:
    """A job's log chunks as they are written, a page an Items step, until the job ended and all was read.

    Held reads (``follow=true``) while more than one may fit before ``timeout``;
    after that, plain reads a second apart; past it, ``TimeoutError`` ``follow_timeout``.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        started = time.monotonic()
        hold = deadline is None or deadline - started > LOG_FOLLOW_READ
        logs: JobLogs = yield get_job_logs.call(id, after=after, follow=hold)
        yield Items(logs.chunks)
        after = max(after, logs.cursor)
        if logs.done:
            return
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise TimeoutError(f"the log of job {id} was still open after {timeout:g} s", code="follow_timeout")
        if not logs.chunks and now - started < EMPTY_LOG_PAUSE:
            yield Sleep(EMPTY_LOG_PAUSE if deadline is None else min(EMPTY_LOG_PAUSE, deadline - now))


def follow_job_logs(
    session: Session, /, id: str, *, after: int = 0, timeout: Optional[float] = None
) -> Iterator[JobLogChunk]:
    """A job's log chunks from the cursor ``after`` on, as they are written, until the job ended and all was read.

    ``timeout`` bounds the whole follow (``TimeoutError`` after it); leaving
    the loop early holds nothing open.
    """
    _check_int("after", after, 0)
    return iterate_flow(session, log_follow_flow(id, after, timeout))


# --- waiting for a video -------------------------------------------------------------


class VideoWait:
    """When a polled video job is finished, and when waiting has gone on too long."""

    def __init__(self, poll_interval: float, timeout: Optional[float]) -> None:
        if poll_interval < 0:
            raise ValueError("poll_interval must be >= 0")
        self.poll_interval = poll_interval
        self._deadline = None if timeout is None else time.monotonic() + timeout

    def finished(self, job: VideoJob) -> bool:
        """True once completed; raises ``VideoGenerationError`` on failure or past the timeout."""
        if job.status == "completed":
            return True
        if job.status == "failed":
            detail = f": {job.error}" if job.error else ""
            raise VideoGenerationError(f"video job {job.id} failed{detail}", job=job)
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise VideoGenerationError(
                f"video job {job.id} is still {job.status} after the timeout", job=job, code="video_timeout"
            )
        return False


class Download:
    """What a download must come to, checked as its chunks arrive: the Content-Length announced,
    and the size and sha256 a listing gave (``listed``). ``write`` each chunk; the kinds say where it goes."""

    total: Optional[int] = None
    done = 0
    _size: Optional[int] = None
    _digest: Any = None
    _sha256: Optional[str] = None
    _file: BinaryIO

    def listed(self, size: Optional[int], sha256: Optional[str]) -> None:
        """Check the download against a listing's size and sha256 when it ends."""
        self._size, self._sha256 = size, sha256
        if sha256:
            import hashlib  # only checked downloads need it

            self._digest = hashlib.sha256()

    def expect(self, headers: Mapping[str, str]) -> None:
        """Take the announced length from the answer's Content-Length."""
        length = headers.get("content-length")
        self.total = int(length) if length and length.isdigit() else None

    def write(self, chunk: bytes) -> Tuple[int, Optional[int]]:
        """Append a chunk; returns (bytes done, bytes announced or None)."""
        self._file.write(chunk)
        if self._digest is not None:
            self._digest.update(chunk)
        self.done += len(chunk)
        return self.done, self.total

    def check(self) -> None:
        """``ConnectionError`` if fewer bytes came than announced; ``ApiError`` ``download_failed`` if
        the bytes are not those listed."""
        if self.total is not None and self.done != self.total:
            raise ConnectionError(
                f"the download ended after {self.done} of {self.total} bytes", code="download_truncated"
            )
        if self._size is not None and self.done != self._size:
            raise ApiError(f"the download has {self.done} bytes, the listing {self._size}", code="download_failed")
        if self._digest is not None and self._digest.hexdigest() != self._sha256:
            raise ApiError("the download's sha256 is not the one listed", code="download_failed")


class FileDownload(Download):
    """A download written beside its target and renamed into place only once complete.

    ``write`` each chunk; ``finish()`` checks it and renames; ``abandon()``
    removes the partial file. A failed download so never leaves a file at the target path.
    """

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None:
        self.target = os.fspath(path)
        directory, name = os.path.split(os.path.abspath(self.target))
        # An unpredictable name, created exclusively: a planted file or symlink cannot take the write.
        self.partial = os.path.join(directory, f".{name}.{os.urandom(8).hex()}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        self._file = os.fdopen(os.open(self.partial, flags, 0o666), "wb")

    def finish(self) -> str:
        """Check the download (see ``check``) and put the file in place; returns its path."""
        self._file.close()
        self.check()
        os.replace(self.partial, self.target)
        return self.target

    def abandon(self) -> None:
        """Drop the partial file."""
        try:
            self._file.close()
        except OSError:
            pass  # a full disk may fail the last flush: the file goes anyway
        try:
            os.remove(self.partial)
        except FileNotFoundError:
            pass


class MemoryDownload(Download):
    """A download kept in memory, checked as a ``FileDownload`` is."""

    def __init__(self) -> None:
        import io

        self._buffer = self._file = io.BytesIO()

    def finish(self) -> bytes:
        """Check the download (see ``check``) and answer its bytes."""
        self.check()
        return self._buffer.getvalue()

    def abandon(self) -> None:
        """Drop what arrived."""
        self._file.close()


def save_atomically(path: Union[str, os.PathLike[str]], content: bytes) -> str:
    """Write ``content`` to ``path`` through a temporary file renamed into place; on failure ``path`` is untouched."""
    download = FileDownload(path)
    try:
        download.write(content)
        return download.finish()
    except BaseException:
        download.abandon()
        raise


def network_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks of a download, with only the network's failures turned into SDK errors."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except TRANSPORT_ERRORS as exc:
            raise _as_sdk_error(exc) from None
        yield chunk


@overload
def chat_completion(
    session: Session,
    /,
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    stream: Literal[False] = False,
    max_tokens: Optional[int] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    stop: Union[str, Sequence[str], None] = None,
    frequency_penalty: Optional[float] = None,
    presence_penalty: Optional[float] = None,
    timeout: Optional[float] = None,
    **params: Any,
) -> ChatCompletion: ...


@overload
def chat_completion(
    session: Session,
    /,
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    stream: Literal[True],
    max_tokens: Optional[int] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    stop: Union[str, Sequence[str], None] = None,
    frequency_penalty: Optional[float] = None,
    presence_penalty: Optional[float] = None,
    timeout: Optional[float] = None,
    **params: Any,
) -> ChatStream: ...


def chat_completion(
    session: Session,
    /,
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    stream: bool = False,
    max_tokens: Optional[int] = None,
    temperature: Optional[float] = None,
    top_p: Optional[float] = None,
    stop: Union[str, Sequence[str], None] = None,
    frequency_penalty: Optional[float] = None,
    presence_penalty: Optional[float] = None,
    timeout: Optional[float] = None,
    **params: Any,
) -> Union[ChatCompletion, ChatStream]:
    """Chat completion (POST /v1/chat/completions); extra keyword arguments go into the body.

    Returns a ``ChatCompletion``; with ``stream=True``, a ``ChatStream`` of
    chunk dicts (``chunk["choices"][0]["delta"]``), each handed out as soon
    as it arrives. A stream is never retried once it started. Without
    streaming the read timeout is at least 600 s; ``timeout`` sets this
    call's own (per read, for a stream).
    """
    call = chat_completion_call(
        model=model, messages=messages, stream=stream, max_tokens=max_tokens, temperature=temperature, top_p=top_p,
        stop=stop, frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, timeout=timeout, **params,
    )  # fmt: skip
    if stream:
        return session.open_chat(call)
    return session.send(call)


def _read_capped(response: requests.Response, limit: int = 64 * 1024) -> bytes:
    # An error page can be megabytes long; the error keeps 500 characters of it.
    try:
        return response.raw.read(limit) or b""
    except TRANSPORT_ERRORS:
        return b""


class ChatStream(Iterator[Dict[str, Any]]):
    """The chunks of a streamed chat completion, as dicts.

    Closes its connection at ``[DONE]``, on an error, when the caller calls
    ``close()`` or leaves a ``with`` block, when the client is closed, or
    when it is garbage-collected. Leaving a ``for`` loop early (``break``)
    does not close it while it is still referenced: use ``with`` for that.
    """

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self._parser = ChatStreamParser()
        self._ready: Deque[Dict[str, Any]] = collections.deque()
        self._read = _read_what_arrived(response.raw)
        self.closed = False

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> Dict[str, Any]:
        while not self._ready:
            if self.closed or self._parser.done:
                self.close()
                self._parser.check()
                raise StopIteration
            self._ready.extend(self._pull())
        return self._ready.popleft()

    def _pull(self) -> List[Dict[str, Any]]:
        try:
            self._parser.check()
            data = self._read(SSE_READ_SIZE)
            if data:
                return self._parser.feed(data)
            self._parser.end()
            return []
        except BaseException as exc:  # an error, or KeyboardInterrupt: the connection must not outlive it
            self.close()
            error = _as_sdk_error(exc)
            if error is exc:
                raise
            raise error from None

    def close(self, reason: Optional[str] = None) -> None:
        """Stop reading and close the connection (without draining it).

        With a ``reason`` (the client was closed), the next read raises
        ``ConnectionError`` instead of ending quietly: the answer is incomplete.
        """
        if not self.closed:
            self.closed = True
            if reason is not None:
                self._parser.interrupt(reason)
            self.response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            self.close()


DOWNLOAD_CHUNK = 1024 * 1024


def download_video_to_file(
    session: Session,
    /,
    video_id: str,
    path: Union[str, os.PathLike[str]],
    *,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> str:
    """Stream a finished video to ``path`` in constant memory; returns the path.

    The bytes go to a temporary file beside ``path``, renamed into place only
    when complete: a failed download leaves no file. ``on_progress(done, total)``
    is called after each chunk (``total`` is None without a Content-Length).
    Network failures raise SDK errors; a local one (a full disk, an error
    raised by ``on_progress``) is raised as it is.
    """
    download = FileDownload(path)
    try:
        _download_into(session, download_video.call(video_id), download, on_progress)
        return download.finish()
    except BaseException:
        download.abandon()
        raise


def _download_into(
    session: Session, call: Call[Any], download: Download, on_progress: Optional[Callable[[int, Optional[int]], Any]]
) -> None:
    with open_stream(session, call) as response:
        download.expect(response.headers)
        for chunk in network_chunks(response.iter_content(DOWNLOAD_CHUNK)):
            done, total = download.write(chunk)
            if on_progress is not None:
                on_progress(done, total)


def generate_video_and_save(
    session: Session,
    /,
    path: Union[str, os.PathLike[str]],
    *,
    model: str,
    prompt: str,
    poll_interval: float = 5.0,
    timeout: Optional[float] = None,
    on_status: Optional[Callable[[VideoJob], Any]] = None,
    **params: Any,
) -> VideoJob:
    """Submit a video job, poll until it completes, stream it to ``path``; returns the final job.

    The destination is checked (a temporary file made beside it) before the
    paid job is submitted. ``on_status`` sees the submitted job, then each
    polled one, so the job id is known at once. A failed job, or one still
    running after ``timeout`` seconds, raises ``VideoGenerationError`` (also
    a ``RuntimeError``); every error raised after the submit carries the
    last known job in ``error.job``, so that the work can be resumed.
    """
    download = FileDownload(path)
    job: Optional[VideoJob] = None
    try:
        job = run_flow(session, video_flow(model, prompt, poll_interval, timeout, params), on_status)
        _download_into(session, download_video.call(job.id), download, None)
        download.finish()
        return job
    except BaseException as exc:
        download.abandon()
        if isinstance(exc, RuncrateError) and exc.job is None:
            exc.job = job
        raise


# --- a job's files: artifacts down, code up ----------------------------------------------


def artifact_flow(job_id: str, path: str, sink: Download) -> Flow[str]:
    """The signed URL of one artifact; the download is to come to the size and sha256 its listing gives."""
    listing: ListPage[JobArtifact] = yield list_job_artifacts.call(job_id)
    url: str = yield get_job_artifact_url.call(job_id, path)
    artifact = next((a for a in listing if a.path == path), None)
    if artifact is not None:
        sink.listed(artifact.bytes, artifact.sha256)
    return url


def signed_download(url: str) -> Call[None]:
    """The GET of a signed storage URL: no key, retried as any GET; an error status is ``download_failed``."""
    return Call("GET", "", _ignore_answer, url=url, raw=True, min_timeout=SLOW_MEDIA, failure_code="download_failed")


def _ignore_answer(answer: RawAnswer) -> None:
    return None


def _artifact_sink(to: Union[str, os.PathLike[str], None]) -> Union[FileDownload, MemoryDownload]:
    return MemoryDownload() if to is None else FileDownload(to)


def _artifact_answer(sink: Union[FileDownload, MemoryDownload]) -> Union[bytes, Path]:
    """The checked download: its bytes, or the Path it was saved to."""
    result = sink.finish()
    if isinstance(result, bytes):
        return result
    from pathlib import Path  # off the import path: only this answer needs it

    return Path(result)


def download_job_artifact(
    session: Session,
    /,
    job_id: str,
    path: str,
    *,
    to: Union[str, os.PathLike[str], None] = None,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> Union[bytes, Path]:
    """One artifact of a job: its bytes, or with ``to`` streamed to that file in constant memory (answers its Path).

    The file is written beside ``to`` and renamed into place only once its
    length and the listed sha256 are checked: a failed download leaves no
    file there. The signed URL is fetched without the API key; a refusal
    there is ``ApiError`` ``download_failed``. ``on_progress(done, total)``
    follows each chunk.
    """
    sink = _artifact_sink(to)  # a destination that cannot be written fails before anything is sent
    try:
        url = run_flow(session, artifact_flow(job_id, path, sink))
        _download_into(session, signed_download(url), sink, on_progress)
        return _artifact_answer(sink)
    except BaseException:
        sink.abandon()
        raise


CODE_SKIPPED = frozenset({".git", "__pycache__", "node_modules"})


class PackedCode(NamedTuple):
    """A job's code archive, ready to upload: the file (or bytes), its length and its sha256."""

    file: FileInput
    size: int
    sha256: str
    temporary: bool = False  # a file the SDK packed, dropped by close()

    def close(self) -> None:
        """Drop the archive if the SDK packed it; a caller's file stays."""
        if self.temporary and hasattr(self.file, "close"):
            self.file.close()


class _Hashing:
    """A binary file that counts and hashes what is written to it."""

    def __init__(self, file: BinaryIO) -> None:
        import hashlib

        self.file = file
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def pack_directory(directory: Union[str, os.PathLike[str]], into: BinaryIO) -> Tuple[int, str]:
    """Write ``directory`` as a deterministic tar.gz into ``into``: (bytes written, their sha256).

    Regular files only, by sorted name; every member with time 0, owner 0 and
    no owner names, the gzip header time 0; ``.git``, ``__pycache__`` and
    ``node_modules`` skipped at any depth. Equal trees so hash equally.
    """
    import gzip
    import tarfile

    root = os.fspath(directory)
    out = _Hashing(into)
    packed = gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6)  # zlib's own default level
    with packed, tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d not in CODE_SKIPPED)
            for name in sorted(files):
                full = os.path.join(folder, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                _add_member(tar, full, os.path.relpath(full, root).replace(os.sep, "/"))
    return out.size, out.digest.hexdigest()


def _add_member(tar: Any, full: str, name: str) -> None:
    import tarfile

    with open(full, "rb") as f:
        info = tarfile.TarInfo(name)
        stat = os.fstat(f.fileno())
        info.size = stat.st_size
        info.mode = 0o755 if stat.st_mode & 0o100 else 0o644
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        tar.addfile(info, f)


def pack_code(source: Union[str, os.PathLike[str], bytes]) -> PackedCode:
    """The archive of a job's code: a directory packed into a temporary file (see ``pack_directory``),
    a ``.tar.gz`` file or bytes as they are."""
    import hashlib

    if isinstance(source, (bytes, bytearray, memoryview)):
        return PackedCode(bytes(source), len(source), hashlib.sha256(source).hexdigest())
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a directory, a .tar.gz path or bytes, not {type(source).__name__}")
    if os.path.isdir(source):
        import tempfile

        archive = tempfile.TemporaryFile()  # noqa: SIM115 - closed by PackedCode.close
        try:
            size, digest = pack_directory(source, archive)
            archive.seek(0)
        except BaseException:
            archive.close()
            raise
        return PackedCode(archive, size, digest, temporary=True)
    if not os.path.isfile(source):
        raise ValueError(f"source: {os.fspath(source)!r} is neither a directory nor a file")
    hashed = hashlib.sha256()
    with open(source, "rb") as f:
        for chunk in iter(functools.partial(f.read, UPLOAD_CHUNK), b""):
            hashed.update(chunk)
    return PackedCode(source, os.path.getsize(source), hashed.hexdigest())


def upload_flow(code: PackedCode, on_progress: Optional[Callable[[int, Optional[int]], Any]]) -> Flow[JobUpload]:
    """Ask for an upload of the archive's size and sha256; PUT the archive where the answer says, if anywhere."""
    upload: JobUpload = yield create_job_upload.call(bytes=code.size, sha256=code.sha256)
    if upload.url is not None:
        body = StreamedBody(code.file, "application/gzip", on_progress)
        yield Call("PUT", "", _ignore_answer, url=upload.url, body=body, raw=True, failure_code="upload_failed")
    return upload


def upload_job_code(
    session: Session,
    /,
    source: Union[str, os.PathLike[str], bytes],
    *,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> JobUpload:
    """Upload a job's code: a directory (packed deterministically into a temporary file), a ``.tar.gz`` or bytes.

    Run the job with ``code={"upload_id": upload.upload_id}``. The archive is
    streamed, never held whole in memory; nothing is sent when the server
    already has one with its sha256. The PUT carries no API key and is
    retried like any PUT; a refusal there is ``ApiError`` ``upload_failed``.
    ``on_progress(sent, total)`` follows each chunk sent.
    """
    code = pack_code(source)
    try:
        return run_flow(session, upload_flow(code, on_progress))
    finally:
        code.close()


# ======================================================================
# 8. The client: one namespace table for both clients
# ======================================================================

S = TypeVar("S", bound=SessionConfig[Any])

if TYPE_CHECKING:
    from runcrate_async import AsyncChatStream as AsyncChatStream  # type: ignore[import,attr-defined,unused-ignore]
    from runcrate_async import AsyncRawSession as AsyncRawSession  # type: ignore[import,attr-defined,unused-ignore]

    Async = Coroutine[Any, Any, R]

    class bound(Generic[P, R]):  # noqa: N801 - reads as a decorator
        """An operation as a method of a namespace, typed after the namespace's kind of session."""

        def __init__(self, fn: Operation[P, R]) -> None: ...

        @overload
        def __get__(self, namespace: None, owner: Any) -> bound[P, R]: ...

        @overload
        def __get__(self, namespace: Namespace[Session], owner: Any) -> Callable[P, R]: ...

        @overload
        def __get__(self, namespace: Namespace[RawSession], owner: Any) -> Callable[P, RawResponse[R]]: ...

        @overload
        def __get__(self, namespace: Namespace[AsyncSession], owner: Any) -> Callable[P, Async[R]]: ...

        @overload  # with no runcrate_async beside a vendored runcrate.py, both async kinds are Any
        def __get__(  # type: ignore[overload-cannot-match,unused-ignore]
            self, namespace: Namespace[AsyncRawSession], owner: Any
        ) -> Callable[P, Async[RawResponse[R]]]: ...

        def __get__(self, namespace: Any, owner: Any) -> Any: ...

    class bound_flow(Generic[P, R]):  # noqa: N801 - reads as a decorator
        """A function of the session (more than one call) as a method: its result is never raw."""

        def __init__(self, fn: Callable[Concatenate[Session, P], R]) -> None: ...

        @overload
        def __get__(self, namespace: None, owner: Any) -> bound_flow[P, R]: ...

        @overload
        def __get__(
            self, namespace: Union[Namespace[Session], Namespace[RawSession]], owner: Any
        ) -> Callable[P, R]: ...

        @overload
        def __get__(
            self, namespace: Union[Namespace[AsyncSession], Namespace[AsyncRawSession]], owner: Any
        ) -> Callable[P, Async[R]]: ...

        def __get__(self, namespace: Any, owner: Any) -> Any: ...

    class bound_pages(Generic[P, E]):  # noqa: N801 - reads as a decorator
        """A function of the session that iterates over every item: an async iterator on the async client."""

        def __init__(self, fn: Callable[Concatenate[Session, P], Iterator[E]]) -> None: ...

        @overload
        def __get__(self, namespace: None, owner: Any) -> bound_pages[P, E]: ...

        @overload
        def __get__(
            self, namespace: Union[Namespace[Session], Namespace[RawSession]], owner: Any
        ) -> Callable[P, Iterator[E]]: ...

        @overload
        def __get__(
            self, namespace: Union[Namespace[AsyncSession], Namespace[AsyncRawSession]], owner: Any
        ) -> Callable[P, AsyncIterator[E]]: ...

        def __get__(self, namespace: Any, owner: Any) -> Any: ...

    class chat_method:  # noqa: N801 - reads as a decorator
        """``chat_completion`` as a method, typed after the namespace's kind of session."""

        @overload
        def __get__(self, namespace: None, owner: Any) -> chat_method: ...

        @overload
        def __get__(
            self, namespace: Namespace[Session], owner: Any
        ) -> ChatCompletionFunction[ChatCompletion, ChatStream]: ...

        @overload
        def __get__(
            self, namespace: Namespace[RawSession], owner: Any
        ) -> ChatCompletionFunction[RawResponse[ChatCompletion], RawResponse[ChatStream]]: ...

        @overload
        def __get__(
            self, namespace: Namespace[AsyncSession], owner: Any
        ) -> ChatCompletionFunction[Async[ChatCompletion], Async[AsyncChatStream]]: ...

        @overload
        def __get__(  # type: ignore[overload-cannot-match,unused-ignore]
            self, namespace: Namespace[AsyncRawSession], owner: Any
        ) -> ChatCompletionFunction[Async[RawResponse[ChatCompletion]], Async[RawResponse[AsyncChatStream]]]: ...

        def __get__(self, namespace: Any, owner: Any) -> Any: ...

else:

    class bound:  # noqa: N801 - reads as a decorator
        """An operation, or a function of the session, as a method of the namespace it is read from."""

        def __init__(self, fn=None):
            self.fn = fn
            self.__doc__ = getattr(fn, "__doc__", None)

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, namespace, owner):
            if namespace is None:
                return self
            method = namespace.session.method(self.fn or chat_completion, f"{namespace.path}.{self.name}")
            namespace.__dict__[self.name] = method  # later reads skip this descriptor
            return method

    bound_flow = bound_pages = chat_method = bound


def method_of_operation(op: Any, send_call: Callable[[Call[Any]], R], path: str) -> Callable[..., R]:
    """The client method at ``path`` (``instances.get``): builds the operation's call, hands it to ``send_call``.

    The call is built at once, so a wrong argument raises where the method is called, async or not.
    """
    build = op.build
    build_as = op.build_as

    def method(*args: Any, **kwargs: Any) -> R:
        return send_call(build_as(path, args, kwargs))

    method.__name__ = build.__name__
    method.__qualname__ = path
    method.__doc__ = build.__doc__
    method.__wrapped__ = op  # type: ignore[attr-defined]
    method.__signature__ = operation_signature(build, session=False)  # type: ignore[attr-defined]
    return method


def bind_session(fn: Callable[..., R], session: Any, path: str) -> Callable[..., R]:
    """``fn`` with ``session`` as its first argument, as the client method at ``path`` (``videos.download_to_file``)."""

    def method(*args: Any, **kwargs: Any) -> R:
        try:
            return fn(session, *args, **kwargs)
        except TypeError as error:
            if error.__traceback__ is not None and error.__traceback__.tb_next is None:  # the call itself was wrong
                raise TypeError(_as_method_error(str(error), fn.__name__, path)) from None
            raise

    method.__name__ = fn.__name__
    method.__qualname__ = path
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn  # type: ignore[attr-defined]
    return method


_POSITIONAL_COUNT = re.compile(r"takes (from (\d+) to )?(\d+) positional arguments? but (\d+) (?:was|were) given")


def _as_method_error(message: str, function: str, path: str) -> str:
    """A TypeError's message about ``function(session, ...)``, told of the client method: no hidden session."""

    def without_session(match: re.Match[str]) -> str:
        most, given = int(match[3]) - 1, int(match[4]) - 1
        takes = f"from {int(match[2]) - 1} to {most}" if match[1] else str(most)
        noun = "argument" if most == 1 else "arguments"
        return f"takes {takes} positional {noun} but {given} {'was' if given == 1 else 'were'} given"

    return _POSITIONAL_COUNT.sub(without_session, message.replace(f"{function}()", f"{path}()", 1))


class Namespace(Generic[S]):
    """A group of operations sharing one session; ``path`` is where the client shows it (``chat.completions``)."""

    session: S
    path: str = ""

    def __init__(self, session: S) -> None:
        self.session = session


class Instances(Namespace[S]):
    """``client.instances``."""

    path = "instances"

    list = bound(list_instances)
    list_types = bound(list_instance_types)
    create = bound(create_instance)
    get = bound(get_instance)
    update = bound(update_instance)
    get_status = bound(get_instance_status)
    terminate = bound(terminate_instance)


class SSHKeys(Namespace[S]):
    """``client.ssh_keys``."""

    path = "ssh_keys"

    list = bound(list_ssh_keys)
    create = bound(create_ssh_key)
    delete = bound(delete_ssh_key)


class Storage(Namespace[S]):
    """``client.storage``."""

    path = "storage"

    list_regions = bound(list_storage_regions)
    list = bound(list_storage)
    get = bound(get_storage)
    create = bound(create_storage)
    resize = bound(resize_storage)
    delete = bound(delete_storage)


class Billing(Namespace[S]):
    """``client.billing``."""

    path = "billing"

    get_balance = bound(get_balance)
    list_transactions = bound(list_transactions)
    usage = bound(get_usage)
    list_all_transactions = bound_pages(list_all_transactions)
    top_up = bound(top_up)
    get_auto_recharge = bound(get_auto_recharge)
    set_auto_recharge = bound(set_auto_recharge)
    list_payment_methods = bound(list_payment_methods)


class Environments(Namespace[S]):
    """``client.environments``."""

    path = "environments"

    list = bound(list_environments)
    create = bound(create_environment)
    get = bound(get_environment)
    update = bound(update_environment)
    delete = bound(delete_environment)


class Crates(Namespace[S]):
    """``client.crates``."""

    path = "crates"

    list = bound(list_crates)
    create = bound(create_crate)
    get = bound(get_crate)
    delete = bound(delete_crate)


class Secrets(Namespace[S]):
    """``client.secrets``: names only."""

    path = "secrets"

    list = bound(list_secrets)


class Schedules(Namespace[S]):
    """``client.schedules``."""

    path = "schedules"

    create = bound(create_schedule)
    list = bound(list_schedules)
    get = bound(get_schedule)
    update = bound(update_schedule)
    delete = bound(delete_schedule)
    run_now = bound(run_schedule_now)


class JobArtifacts(Namespace[S]):
    """``client.jobs.artifacts``."""

    path = "jobs.artifacts"

    list = bound(list_job_artifacts)
    url = bound(get_job_artifact_url)
    download = bound_flow(download_job_artifact)


class JobUploads(Namespace[S]):
    """``client.jobs.uploads``."""

    path = "jobs.uploads"

    create = bound(create_job_upload)
    upload = bound_flow(upload_job_code)


class Jobs(Namespace[S]):
    """``client.jobs``, with ``artifacts`` and ``uploads``."""

    path = "jobs"

    artifacts: JobArtifacts[S]
    uploads: JobUploads[S]

    def __init__(self, session: S) -> None:
        super().__init__(session)
        self.artifacts = JobArtifacts(session)
        self.uploads = JobUploads(session)

    run = bound(run_job)
    run_group = bound(run_job_group)
    rerun = bound(rerun_job)
    list = bound(list_jobs)
    list_all = bound_pages(list_all_jobs)
    get = bound(get_job)
    cancel = bound(cancel_job)
    delete = bound(delete_job)
    logs = bound(get_job_logs)
    follow_logs = bound_pages(follow_job_logs)
    events = bound(list_job_events)
    metrics = bound(get_job_metrics)
    wait = bound_flow(wait_for_job)


class JobGroups(Namespace[S]):
    """``client.job_groups``."""

    path = "job_groups"

    get = bound(get_job_group)
    cancel = bound(cancel_job_group)


class Templates(Namespace[S]):
    """``client.templates``."""

    path = "templates"

    list = bound(list_templates)
    list_all = bound_pages(list_all_templates)


class Models(Namespace[S]):
    """``client.models``: inference under the public page's names."""

    path = "models"

    list = bound(list_models)
    chat_completion = chat_method()
    generate_image = bound(generate_image)
    generate_video = bound(generate_video)
    get_video_status = bound(get_video_status)
    download_video = bound(download_video)
    download_video_to_file = bound_flow(download_video_to_file)
    generate_video_and_save = bound_flow(generate_video_and_save)
    text_to_speech = bound(text_to_speech)
    transcribe = bound(transcribe)


class ChatCompletions(Namespace[S]):
    """``client.chat.completions`` (OpenAI style)."""

    path = "chat.completions"

    create = chat_method()


class Chat(Namespace[S]):
    """``client.chat``."""

    path = "chat"

    completions: ChatCompletions[S]

    def __init__(self, session: S) -> None:
        super().__init__(session)
        self.completions = ChatCompletions(session)


class Images(Namespace[S]):
    """``client.images`` (OpenAI style)."""

    path = "images"

    generate = bound(generate_image)


class Speech(Namespace[S]):
    """``client.audio.speech``."""

    path = "audio.speech"

    create = bound(text_to_speech)


class Transcriptions(Namespace[S]):
    """``client.audio.transcriptions``."""

    path = "audio.transcriptions"

    create = bound(transcribe)


class Audio(Namespace[S]):
    """``client.audio``: ``speech`` and ``transcriptions``."""

    path = "audio"

    speech: Speech[S]
    transcriptions: Transcriptions[S]

    def __init__(self, session: S) -> None:
        super().__init__(session)
        self.speech = Speech(session)
        self.transcriptions = Transcriptions(session)


class Videos(Namespace[S]):
    """``client.videos`` (OpenAI style)."""

    path = "videos"

    create = bound(generate_video)
    retrieve = bound(get_video_status)
    download = bound(download_video)
    download_to_file = bound_flow(download_video_to_file)
    create_and_save = bound_flow(generate_video_and_save)
    generate = bound(generate_video)  # the official client's names
    get_status = bound(get_video_status)
    generate_and_save = bound_flow(generate_video_and_save)


C_co = TypeVar("C_co", covariant=True)
S_co = TypeVar("S_co", covariant=True)


class ChatCompletionFunction(Protocol[C_co, S_co]):
    """The type of ``chat_completion`` bound to a session: ``C_co`` without streaming, ``S_co`` with."""

    @overload
    def __call__(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        stream: Literal[False] = False,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        stop: Union[str, Sequence[str], None] = None,
        frequency_penalty: Optional[float] = None,
        presence_penalty: Optional[float] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> C_co: ...

    @overload
    def __call__(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        stream: Literal[True],
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        stop: Union[str, Sequence[str], None] = None,
        frequency_penalty: Optional[float] = None,
        presence_penalty: Optional[float] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> S_co: ...


if TYPE_CHECKING:

    class RawView:
        """The type of ``client.with_raw_response``: the client's kind of session, raw."""

        @overload
        def __get__(self, client: Client[Session], owner: Any) -> Client[RawSession]: ...

        @overload
        def __get__(self, client: Client[AsyncSession], owner: Any) -> Client[AsyncRawSession]: ...

        def __get__(self, client: Any, owner: Any) -> Any: ...

else:

    class RawView:
        """``client.with_raw_response``: the same client whose calls answer ``RawResponse``
        (status, headers, request id, and ``parse()``), sharing its connections."""

        def __get__(self, client, owner):
            if client is None:
                return self
            raw = object.__new__(Client)
            raw._attach(client.session.raw())
            return raw


class Client(Generic[S]):
    """What both clients hold: a session, and the namespaces on it."""

    session: S
    instances: Instances[S]
    ssh_keys: SSHKeys[S]
    storage: Storage[S]
    billing: Billing[S]
    templates: Templates[S]
    environments: Environments[S]
    secrets: Secrets[S]
    schedules: Schedules[S]
    jobs: Jobs[S]
    job_groups: JobGroups[S]
    crates: Crates[S]
    models: Models[S]
    chat: Chat[S]
    images: Images[S]
    audio: Audio[S]
    videos: Videos[S]

    NAMESPACES: Tuple[Tuple[str, Callable[[Any], Namespace[Any]]], ...] = (
        ("instances", Instances),
        ("ssh_keys", SSHKeys),
        ("storage", Storage),
        ("billing", Billing),
        ("templates", Templates),
        ("environments", Environments),
        ("secrets", Secrets),
        ("schedules", Schedules),
        ("jobs", Jobs),
        ("job_groups", JobGroups),
        ("crates", Crates),
        ("models", Models),
        ("chat", Chat),
        ("images", Images),
        ("audio", Audio),
        ("videos", Videos),
    )

    session_kind: Callable[..., S]  # the kind of session each client makes

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        inference_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: Optional[int] = DEFAULT_MAX_RETRIES,
        environment: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        http: Any = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
        session: Optional[S] = None,
    ) -> None:
        """Arguments are those of the client's kind of session (``Session`` or ``AsyncSession``,
        ``http`` a ``requests.Session`` or an ``aiohttp.ClientSession``); or pass ``session=`` to share one."""
        if session is None:
            session = self.session_kind(
                api_key, base_url=base_url, inference_url=inference_url, timeout=timeout, max_retries=max_retries,
                environment=environment, headers=headers, http=http, connection_limit=connection_limit,
            )  # fmt: skip
        self._attach(session)

    def _attach(self, session: S) -> None:
        self.session = session
        for name, namespace in self.NAMESPACES:
            setattr(self, name, namespace(session))

    def with_options(
        self: CL, *, timeout: Any = OMITTED, max_retries: Any = OMITTED, headers: Optional[Mapping[str, str]] = None
    ) -> CL:
        """A client with other defaults (``timeout``, ``max_retries``, more ``headers``) sharing this one's connections.

        This client is left unchanged; closing either closes the shared pool.
        """
        clone = object.__new__(type(self))
        clone._attach(self.session.with_options(timeout=timeout, max_retries=max_retries, headers=headers))
        return clone

    with_raw_response = RawView()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session!r})"


CL = TypeVar("CL", bound=Client[Any])


class Runcrate(Client[Session]):
    """The Runcrate client.

    Infrastructure: ``instances``, ``ssh_keys``, ``storage``, ``billing``,
    ``templates``, ``environments``, ``secrets``, ``schedules``, ``jobs``,
    ``job_groups``, ``crates``. Inference: ``models`` (the public page's names) and the
    OpenAI-style ``chat.completions``, ``images``, ``audio``, ``videos``.

    Arguments are those of ``Session``; or pass ``session=`` to share one.
    """

    session_kind = Session

    def close(self) -> None:
        """Close the client's open streams and connections; a later call reopens them."""
        self.session.close()

    def __enter__(self) -> Runcrate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "__version__",
    # defaults
    "DEFAULT_BASE_URL", "DEFAULT_INFERENCE_URL", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES", "DEFAULT_CONNECTION_LIMIT",
    "OMITTED",
    # errors
    "RuncrateError", "ApiError", "BadRequestError", "AuthenticationError", "InsufficientCreditsError",
    "PermissionDeniedError", "NotFoundError", "ConflictError", "UnprocessableEntityError", "RateLimitError",
    "InternalServerError", "ConnectionError", "TimeoutError", "JobWaitTimeoutError", "VideoGenerationError",
    "InsecureURLWarning",
    # sessions and the pipeline
    "SessionConfig", "Session", "RawSession", "Call", "CallOptions", "SpecCallOptions", "OPTION_NAMES", "RawResponse",
    "send", "send_raw", "open_stream", "operation", "Operation", "OPERATIONS", "Attempts", "retry_delay",
    "should_retry_status",
    "should_retry_transport", "retry_after_answer", "retry_after_failure", "RetryPolicy", "connection_retry",
    # models
    "Model", "ListPage", "PaginatedResponse", "PageMeta", "decode", "Instance", "InstanceStatus", "InstanceType",
    "SSHKey", "StorageVolume",
    "StorageRegion", "StorageDeleteResult", "Balance", "Transaction", "UsageSummary", "Template", "ChatMessage",
    "ChatChoice", "ChatUsage", "ChatCompletion", "ImageData", "ImageGeneration", "VideoJob", "Transcription",
    "InferenceModel", "Environment", "Secret", "Crate", "TopUp", "AutoRecharge", "PaymentMethod", "Job", "JobAttempt",
    "GpuCandidate", "JobGroup", "SubmittedJobGroup", "JobLogs", "JobLogChunk", "JobEvent", "JobMetricPoint",
    "GpuMetric", "JobArtifact", "JobUpload", "Schedule", "ScheduleRun", "JobSpec", "JobGroupSpec", "JobOverrides",
    "JobRun",
    "JobGroupRun", "JobRerun", "JOB_FINAL_STATUSES",
    # wire helpers
    "parse_json", "error_from_response", "mask_key", "encode_image", "StreamedBody", "MultipartBody", "utc_instant",
    "SSEDecoder", "ServerSentEvent", "ChatStreamParser", "fetch_public_url",
    # what is more than one call
    "chat_completion", "chat_completion_call", "ChatStream", "download_video_to_file", "generate_video_and_save",
    "list_all_templates", "list_all_transactions", "list_all_jobs", "wait_for_job", "follow_job_logs",
    "download_job_artifact", "upload_job_code", "pack_code", "pack_directory", "PackedCode", "job_pages",
    "job_wait_flow", "log_follow_flow", "artifact_flow", "upload_flow", "signed_download", "Download", "MemoryDownload",
    "Sleep", "Progress", "Item", "Items", "items_of", "FlowRun", "run_flow", "follow_flow", "iterate_flow",
    "video_flow", "template_pages", "transaction_pages", "FileDownload", "save_atomically",
    # the client
    "Runcrate", "Client", "Namespace", "Instances", "SSHKeys", "Storage", "Billing", "Templates", "Environments",
    "Secrets", "Schedules", "Jobs", "JobArtifacts", "JobUploads", "JobGroups", "Crates", "Models", "Chat",
    "ChatCompletions", "Images", "Audio", "Speech", "Transcriptions", "Videos", "ChatCompletionFunction",
    # every endpoint
    *OPERATIONS,
]  # fmt: skip


def __dir__() -> List[str]:
    return sorted({*__all__, "AsyncRuncrate", "AsyncSession"})


def __getattr__(name: str) -> Any:
    # `from runcrate import AsyncRuncrate` loads aiohttp only when asked for:
    # a plain `import runcrate` (or the vendored file alone) never needs it.
    if name in ("AsyncRuncrate", "AsyncSession"):
        try:
            import runcrate_async
        except ModuleNotFoundError as missing:
            if missing.name not in ("aiohttp", "yarl", "runcrate_async"):
                raise
            raise ModuleNotFoundError(
                f"runcrate.{name} needs aiohttp and runcrate_async.py: pip install 'runcrate-sdk[async]'",
                name=missing.name,
            ) from None
        return getattr(runcrate_async, name)
    raise AttributeError(f"module 'runcrate' has no attribute {name!r}")
