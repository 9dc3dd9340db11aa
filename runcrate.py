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

import builtins
import dataclasses
import email.utils
import functools
import json
import logging
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)
from urllib.parse import quote

import requests
import urllib3.exceptions as u3
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

# ======================================================================
# 1. Version and defaults
# ======================================================================

__version__ = "0.1.0"

DEFAULT_BASE_URL = "https://www.runcrate.ai"
DEFAULT_INFERENCE_URL = "https://api.runcrate.ai"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3

INFRA_PREFIX = "/api/v1"
INFERENCE_PREFIX = "/v1"

RETRY_AFTER_CAP = 60.0  # seconds: a server's Retry-After never parks a call longer
BACKOFF_BASE = 0.5  # first retry waits 0.5 s, then 1, 2, ... up to BACKOFF_CAP
BACKOFF_CAP = 30.0
MESSAGE_CAP = 500  # characters of server text kept in an error

logger = logging.getLogger("runcrate")

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
    """

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
        return (_rebuild_error, (type(self), self.message, state))


def _rebuild_error(cls: Type[RuncrateError], message: str, state: Dict[str, Any]) -> RuncrateError:
    return cls(message, **state)


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


class ConnectionError(RuncrateError, builtins.ConnectionError):  # noqa: A001
    """No usable response: refused, unresolvable host, reset, or a body cut short."""


class TimeoutError(RuncrateError, builtins.TimeoutError):  # noqa: A001
    """The connect or read timeout passed (``code`` says which)."""


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
            parsed = json.loads(body)
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
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value))


def _code(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _opt_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _request_id_of(body: Dict[str, Any]) -> Optional[str]:
    meta = body.get("meta")
    if isinstance(meta, dict):
        return _opt_str(meta.get("requestId") or meta.get("request_id"))
    return None


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
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NOTHING_DONE_STATUSES = frozenset({429, 503})  # the server says it did nothing


def should_retry_status(method: str, status: int) -> bool:
    """Whether an answer with ``status`` to ``method`` is worth another attempt.

    Repeatable methods are retried on 429/500/502/503/504; a POST only on
    429 and 503, which promise that nothing was done.
    """
    if method.upper() in SAFE_METHODS:
        return status in RETRY_STATUSES
    return status in NOTHING_DONE_STATUSES


class RetryPolicy(Retry):
    """urllib3 ``Retry`` that follows the SDK's rules (see ``should_retry_status``).

    Connect errors are retried for every method (nothing reached the server);
    read errors only for repeatable methods; sleeps follow ``retry_delay``.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return should_retry_status(method, status_code)

    def sleep(self, response: Any = None) -> None:
        header = response.headers.get("Retry-After") if response is not None else None
        time.sleep(retry_delay(max(len(self.history) - 1, 0), header))


def make_retry(max_retries: int) -> RetryPolicy:
    """The retry policy mounted on a session's adapter; ``0`` means one attempt."""
    return RetryPolicy(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        redirect=0,
        allowed_methods=SAFE_METHODS,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )


def _user_agent(http_lib: str, http_version: str) -> str:
    py = ".".join(str(p) for p in sys.version_info[:3])
    return f"runcrate-python/{__version__} {http_lib}/{http_version} python/{py}"


def mask_key(key: str) -> str:
    """A key as it may be shown: ``rc_live_…6789``; never the whole key."""
    if len(key) < 16:
        return "…"
    return f"{key[:8]}…{key[-4:]}"


class _BearerAuth(requests.auth.AuthBase):
    # An auth object (not a default header) keeps the key out of the session's
    # headers and stops requests from replacing it with ~/.netrc credentials.
    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return f"_BearerAuth({mask_key(self._key)})"


class SessionConfig:
    """What every session knows, whatever its transport: key, URLs, limits, headers."""

    base_url: str
    inference_url: str
    timeout: Optional[float]
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
        max_retries: int = DEFAULT_MAX_RETRIES,
        environment: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("RUNCRATE_API_KEY")
        if not key:
            raise RuncrateError(
                "No API key: pass api_key=... or set the RUNCRATE_API_KEY environment variable.",
                code="missing_api_key",
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError("max_retries must be a whole number >= 0")
        if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
            raise ValueError("timeout must be a positive number of seconds, or None")
        self._api_key = key
        self.base_url = _clean_url(base_url or os.environ.get("RUNCRATE_BASE_URL") or DEFAULT_BASE_URL)
        self.inference_url = _clean_url(
            inference_url or os.environ.get("RUNCRATE_INFERENCE_URL") or DEFAULT_INFERENCE_URL
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self.environment = environment or None
        self.headers = dict(headers or {})

    @property
    def api_key(self) -> str:
        """The API key (kept out of ``repr``)."""
        return self._api_key

    def url_for(self, call: Call[Any]) -> str:
        """The absolute URL of a call on this session's surfaces."""
        if call.inference:
            return self.inference_url + INFERENCE_PREFIX + call.path
        return self.base_url + INFRA_PREFIX + call.path

    def params_for(self, call: Call[Any]) -> List[Tuple[str, str]]:
        """Query parameters: ``environment`` first on infrastructure calls, then the call's own."""
        if self.environment and not call.inference:
            return [("environment", self.environment), *call.params]
        return call.params

    def timeouts_for(self, call: Call[Any]) -> Tuple[Optional[float], Optional[float]]:
        """(connect, read) seconds: slow routes get at least their minimum read timeout."""
        if self.timeout is None:
            return None, None
        return self.timeout, max(self.timeout, call.min_timeout)

    def __repr__(self) -> str:
        env = f", environment={self.environment!r}" if self.environment else ""
        return (
            f"{type(self).__name__}(api_key={mask_key(self._api_key)!r}, base_url={self.base_url!r}, "
            f"inference_url={self.inference_url!r}{env})"
        )


def _clean_url(url: str) -> str:
    return url.rstrip("/")


class Session(SessionConfig):
    """Configuration plus one pooled ``requests.Session``; the first argument of every operation.

    ``api_key`` falls back to ``RUNCRATE_API_KEY``; ``base_url`` and
    ``inference_url`` to ``RUNCRATE_BASE_URL`` / ``RUNCRATE_INFERENCE_URL``,
    then to the public hosts. A URL may carry a path prefix. Use it as a
    context manager, or call ``close()``.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        inference_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        environment: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        http: Optional[requests.Session] = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            inference_url=inference_url,
            timeout=timeout,
            max_retries=max_retries,
            environment=environment,
            headers=headers,
        )
        self._http = http
        self._owns_http = http is None

    @property
    def http(self) -> requests.Session:
        """The pooled ``requests.Session``, made on first use."""
        if self._http is None:
            self._http = self._make_http()
        return self._http

    def _make_http(self) -> requests.Session:
        http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=make_retry(self.max_retries))
        http.mount("https://", adapter)
        http.mount("http://", adapter)
        http.auth = _BearerAuth(self._api_key)
        http.headers["User-Agent"] = _user_agent("requests", requests.__version__)
        http.headers["Accept"] = "application/json"
        http.headers.update(self.headers)
        return http

    def close(self) -> None:
        """Close pooled connections (a session passed in by the caller stays open)."""
        if self._http is not None and self._owns_http:
            self._http.close()
        self._http = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


T = TypeVar("T")


class Call(Generic[T]):
    """One HTTP exchange, described as data: what to send and how to read the answer.

    Built once by the pure request builders below and driven by ``send``
    (sync) or ``runcrate_async.send`` (asyncio).
    """

    __slots__ = ("body", "decode", "headers", "inference", "method", "min_timeout", "params", "path")

    method: str
    path: str
    params: List[Tuple[str, str]]
    body: Any
    headers: Dict[str, str]
    decode: Callable[[Any], T]
    inference: bool
    min_timeout: float

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
    ) -> None:
        self.method = method
        self.path = path
        self.params = params or []
        self.body = body
        self.headers = headers or {}
        self.decode = decode
        self.inference = inference
        self.min_timeout = min_timeout

    def request_headers(self) -> Dict[str, str]:
        """Headers of this call beyond the session's own."""
        if self.body is None and self.inference:
            return self.headers
        return {"Content-Type": "application/json", **self.headers}

    def encoded_body(self) -> Optional[bytes]:
        """The JSON body as bytes, or None."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()

    def finish(self, status: int, headers: Mapping[str, str], body: bytes) -> T:
        """Turn the answer into the call's result, or raise its typed error."""
        if status >= 400:
            raise error_from_response(status, headers, body)
        if status >= 300:
            raise _invalid_response(f"unexpected redirect (HTTP {status}) from {self.path}", status)
        if status == 204 or (not body and self.method == "DELETE"):
            return self.decode(None)
        if not _is_json(headers):
            ctype = headers.get("content-type", "none")
            raise _invalid_response(f"expected a JSON answer, got content type {ctype!r}", status)
        try:
            parsed = json.loads(body)
        except ValueError:
            raise _invalid_response(
                f"the answer is not valid JSON: {_cap(body[:200].decode('utf-8', 'replace'))}", status
            ) from None
        try:
            return self.decode(parsed)
        except RuncrateError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            raise _invalid_response(f"unexpected answer shape from {self.path}: {exc}", status) from None


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
    if isinstance(reason, u3.NameResolutionError):
        return ConnectionError(f"host name could not be resolved: {text}", code="dns_error")
    if isinstance(reason, u3.NewConnectionError):
        return ConnectionError(f"could not connect: {text}", code="connect_error")
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, u3.ConnectTimeoutError):
        return TimeoutError(f"no connection within the timeout: {text}", code="connect_timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        reason, (u3.ReadTimeoutError, builtins.TimeoutError)
    ):
        return TimeoutError(f"no answer within the timeout: {text}", code="read_timeout")
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, u3.SSLError):
        return ConnectionError(f"TLS failure: {text}", code="tls_error")
    return ConnectionError(f"the connection failed before a complete answer: {text}", code="connection_error")


def _reason_text(reason: BaseException) -> str:
    # urllib3 puts the connection object first and the sentence last.
    if reason.args and isinstance(reason.args[-1], str):
        return reason.args[-1]
    return str(reason) or type(reason).__name__


# Everything requests or urllib3 may raise while sending or reading a body.
TRANSPORT_ERRORS: Tuple[Type[BaseException], ...] = (requests.exceptions.RequestException, u3.HTTPError, OSError)


def send(session: Session, call: Call[T]) -> T:
    """Send one call through the session's pool (retries included) and decode its answer."""
    started = time.monotonic()
    try:
        response = session.http.request(
            call.method,
            session.url_for(call),
            params=session.params_for(call),
            data=call.encoded_body(),
            headers=call.request_headers(),
            timeout=session.timeouts_for(call),
            allow_redirects=False,
        )
        body = response.content
    except TRANSPORT_ERRORS as exc:
        if isinstance(exc, RuncrateError):
            raise
        raise _transport_error(exc) from None
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s in %.0f ms", call.method, call.path, response.status_code, (time.monotonic() - started) * 1000
        )
    return call.finish(response.status_code, response.headers, body)


# ======================================================================
# 4. Models
# ======================================================================

_MISSING: Any = object()

# dataclasses-json recognises its catch-all field by this type; until it is
# imported (on a user's first to_dict/from_dict) the name means a plain dict.
CatchAll = Optional[Dict[str, Any]]


class Model:
    """Base of every response model: a dataclass whose unknown wire fields are kept.

    Unknown fields live in ``extra`` and read as attributes too
    (``instance.some_new_field``). ``to_dict``, ``to_json``, ``from_dict`` and
    ``from_json`` come from dataclasses-json, loaded on first use.
    """

    extra: CatchAll

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            extra = self.__dict__.get("extra")
            if extra and name in extra:
                return extra[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to_dict(self, encode_json: bool = False) -> Dict[str, Any]:
        """The model as a dict of Python-named fields, unknown fields merged back in."""
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


def _json_mixin() -> Any:
    """Load dataclasses-json once and teach it every model's catch-all field."""
    global _JSON_MIXIN
    if _JSON_MIXIN is None:
        import dataclasses_json

        globals()["CatchAll"] = dataclasses_json.CatchAll
        config = {"undefined": dataclasses_json.Undefined.INCLUDE}
        for cls in _all_models(Model):
            cls.dataclass_json_config = config  # type: ignore[attr-defined]
        _JSON_MIXIN = dataclasses_json.DataClassJsonMixin
    return _JSON_MIXIN


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
    return [_to_str(x) for x in _to_list(v)]


def _to_datetime(v: Any) -> datetime:
    if type(v) is str:
        try:
            parsed = datetime.fromisoformat(v)
        except ValueError:
            parsed = datetime.fromisoformat(_normalise_iso(v))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
    if type(v) in (int, float):
        return datetime.fromtimestamp(v, tz=timezone.utc)
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
        item = _converter(args[0]) if args else None
        if item is None:
            return _to_list
        if item is _to_str:
            return _to_str_list
        return functools.partial(_convert_list, item)
    if origin in (dict, Dict):
        return _to_dict
    return None


def _convert_list(convert_item: Callable[[Any], Any], value: Any) -> List[Any]:
    return [convert_item(x) for x in _to_list(value)]


_Step = Tuple[str, Tuple[str, ...], Optional[Callable[[Any], Any]], bool]  # attribute, wire names, converter, required
_Plan = Tuple[List[_Step], FrozenSet[str]]
_PLANS: Dict[type, _Plan] = {}


def _plan_of(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        import typing

        hints = typing.get_type_hints(cls)
        steps: List[_Step] = []
        known: set[str] = set()
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            camel = _camel(f.name)
            wires: Tuple[str, ...] = (camel, f.name) if camel != f.name else (f.name,)
            known.update(wires)
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            steps.append((f.name, wires, _converter(hints[f.name]), required))
        plan = _PLANS[cls] = (steps, frozenset(known))
    return plan


def _decode_model(cls: Type[M], obj: Any) -> M:
    if type(obj) is not dict:
        raise TypeError(f"expected an object for {cls.__name__}, got {type(obj).__name__}")
    steps, known = _plan_of(cls)
    values: Dict[str, Any] = {}
    found = 0
    for name, wires, convert, required in steps:
        value = _MISSING
        for wire in wires:
            value = obj.get(wire, _MISSING)
            if value is not _MISSING:
                found += 1
                break
        if value is _MISSING or value is None:
            if required:
                raise TypeError(f"{cls.__name__} lacks its required field {wires[-1]!r}")
            values[name] = None
        else:
            values[name] = convert(value) if convert is not None else value
    values["extra"] = {k: v for k, v in obj.items() if k not in known} if found != len(obj) else {}
    model = cls.__new__(cls)
    model.__dict__ = values
    return model


def decode(cls: Type[M], obj: Any) -> M:
    """Decode one wire object into ``cls``; a wrong shape raises ``ApiError`` ``invalid_response``."""
    try:
        return _decode_model(cls, obj)
    except RuncrateError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise _invalid_response(f"unexpected answer shape: {exc}") from None


class ListPage(List[T]):
    """A page of results: a list, plus ``total``, ``has_more``, ``cursor`` and ``request_id``."""

    total: Optional[int]
    has_more: bool
    cursor: Optional[str]
    request_id: Optional[str]

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

    def __repr__(self) -> str:
        return f"ListPage({list.__repr__(self)}, total={self.total!r}, has_more={self.has_more!r})"


@dataclass
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


@dataclass
class InstanceStatus(Model):
    """An instance's live status and IP address (None until it runs)."""

    status: str
    id: Optional[str] = None
    ip: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
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


@dataclass
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


@dataclass
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


@dataclass
class StorageRegion(Model):
    """A region where volumes can be created; create with its ``name``."""

    id: str
    name: str
    provider: Optional[str] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
class StorageDeleteResult(Model):
    """The answer to a volume deletion: a message and the refund in USD."""

    message: Optional[str] = None
    refund_amount: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
class Balance(Model):
    """The workspace's credit balance (1 credit = 1 USD)."""

    credits_balance: float
    active_usage_cost: float
    floating_balance_usd: Optional[float] = None
    burn_usd_per_hour: Optional[float] = None
    runway_hours: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
class Transaction(Model):
    """One billing transaction; ``amount`` is negative for charges."""

    id: str
    project_id: Optional[str] = None
    type: Optional[str] = None
    amount: Optional[float] = None
    description: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
class UsageSummary(Model):
    """Inference usage totals over a period."""

    total_requests: Optional[int] = None
    total_prompt_tokens: Optional[int] = None
    total_completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    total_cost: Optional[float] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


@dataclass
class Template(Model):
    """A launch template."""

    id: str
    name: str
    description: Optional[str] = None
    category: Optional[str] = None
    created_at: Optional[datetime] = None
    extra: CatchAll = field(default_factory=dict, repr=False)


# ======================================================================
# 5. Wire helpers
# ======================================================================


def _unwrap(body: Any) -> Tuple[Any, Dict[str, Any]]:
    """The infrastructure envelope: (data, meta); a body without ``data`` is its own data."""
    if type(body) is dict and "data" in body:
        meta = body.get("meta")
        return body["data"], meta if type(meta) is dict else {}
    return body, {}


def decode_one(cls: Type[M]) -> Callable[[Any], M]:
    """Decoder for an enveloped single object."""

    def decode(body: Any) -> M:
        data, _ = _unwrap(body)
        if data is None:
            raise TypeError(f"no {cls.__name__} in the answer (data is null)")
        return _decode_model(cls, data)

    return decode


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
            [_decode_model(cls, item) for item in data],
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


def _idempotency_key() -> Dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


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


class _Omitted:
    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Any = _Omitted()
"""Default of arguments whose ``None`` means something (turn a limit off)."""


# ======================================================================
# 6. Requests of every operation (pure: shared by the sync and async modules)
# ======================================================================

SLOW_LAUNCH = 75.0  # the launch route may take 60 s


def list_instances_call(search: Optional[str] = None) -> Call[ListPage[Instance]]:
    """GET /instances."""
    return Call("GET", "/instances", decode_page(Instance), params=_query(search=search))


def list_instance_types_call(
    gpu_type: Optional[str] = None, region: Optional[str] = None, gpu_count: Optional[int] = None
) -> Call[ListPage[InstanceType]]:
    """GET /instances/types."""
    _check_int("gpu_count", gpu_count, 1)
    return Call(
        "GET",
        "/instances/types",
        decode_page(InstanceType),
        params=_query(gpu_type=gpu_type, region=region, gpu_count=gpu_count),
    )


def create_instance_call(
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
) -> Call[Instance]:
    """POST /instances, with an Idempotency-Key; never resent once it may have arrived."""
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
    return Call(
        "POST", "/instances", decode_one(Instance), body=body, headers=_idempotency_key(), min_timeout=SLOW_LAUNCH
    )


def get_instance_call(instance_id: str) -> Call[Instance]:
    """GET /instances/{id}."""
    return Call("GET", f"/instances/{segment(instance_id)}", decode_one(Instance))


def update_instance_call(
    instance_id: str, max_runtime_minutes: Any = OMITTED, idle_shutdown_minutes: Any = OMITTED
) -> Call[Instance]:
    """PATCH /instances/{id}: only the limits given; ``None`` turns one off."""
    body = {}
    if max_runtime_minutes is not OMITTED:
        _check_int("max_runtime_minutes", max_runtime_minutes, 5, 10080)
        body["max_runtime_minutes"] = max_runtime_minutes
    if idle_shutdown_minutes is not OMITTED:
        _check_int("idle_shutdown_minutes", idle_shutdown_minutes, 5, 1440)
        body["idle_shutdown_minutes"] = idle_shutdown_minutes
    if not body:
        raise ValueError("update_instance needs max_runtime_minutes or idle_shutdown_minutes")
    return Call("PATCH", f"/instances/{segment(instance_id)}", decode_one(Instance), body=body)


def get_instance_status_call(instance_id: str) -> Call[InstanceStatus]:
    """GET /instances/{id}/status."""
    return Call("GET", f"/instances/{segment(instance_id)}/status", decode_one(InstanceStatus))


def terminate_instance_call(instance_id: str) -> Call[None]:
    """DELETE /instances/{id}."""
    return Call("DELETE", f"/instances/{segment(instance_id)}", _nothing)


def list_ssh_keys_call() -> Call[ListPage[SSHKey]]:
    """GET /ssh-keys."""
    return Call("GET", "/ssh-keys", decode_page(SSHKey))


def create_ssh_key_call(name: str, public_key: str, type: Optional[str] = None) -> Call[SSHKey]:  # noqa: A002
    """POST /ssh-keys (no Idempotency-Key: never resent once it may have arrived)."""
    _check_str("name", name, required=True)
    _check_str("public_key", public_key, required=True)
    return Call("POST", "/ssh-keys", decode_one(SSHKey), body=_body(name=name, public_key=public_key, type=type))


def delete_ssh_key_call(key_id: str) -> Call[None]:
    """DELETE /ssh-keys/{id}."""
    return Call("DELETE", f"/ssh-keys/{segment(key_id)}", _nothing)


def list_storage_regions_call() -> Call[ListPage[StorageRegion]]:
    """GET /storage/regions."""
    return Call("GET", "/storage/regions", decode_page(StorageRegion))


def list_storage_call(search: Optional[str] = None) -> Call[ListPage[StorageVolume]]:
    """GET /storage."""
    return Call("GET", "/storage", decode_page(StorageVolume), params=_query(search=search))


def get_storage_call(volume_id: str) -> Call[StorageVolume]:
    """GET /storage/{id}."""
    return Call("GET", f"/storage/{segment(volume_id)}", decode_one(StorageVolume))


def create_storage_call(name: str, size_gb: int, region: str) -> Call[StorageVolume]:
    """POST /storage, with an Idempotency-Key."""
    _check_str("name", name, required=True)
    _check_int("size_gb", size_gb, 1)
    _check_str("region", region, required=True)
    body = {"name": name, "size_gb": size_gb, "region": region}
    return Call("POST", "/storage", decode_one(StorageVolume), body=body, headers=_idempotency_key())


def resize_storage_call(volume_id: str, size_gb: int) -> Call[StorageVolume]:
    """PATCH /storage/{id}: volumes only grow."""
    _check_int("size_gb", size_gb, 1)
    return Call("PATCH", f"/storage/{segment(volume_id)}", decode_one(StorageVolume), body={"size_gb": size_gb})


def delete_storage_call(volume_id: str) -> Call[StorageDeleteResult]:
    """DELETE /storage/{id}: answers the pro-rata refund."""

    def decode_refund(body: Any) -> StorageDeleteResult:
        return StorageDeleteResult() if body is None else decode_one(StorageDeleteResult)(body)

    return Call("DELETE", f"/storage/{segment(volume_id)}", decode_refund)


def get_balance_call() -> Call[Balance]:
    """GET /billing/balance."""
    return Call("GET", "/billing/balance", decode_one(Balance))


def list_transactions_call(limit: int = 50, offset: int = 0, type: Optional[str] = None) -> Call[ListPage[Transaction]]:  # noqa: A002
    """GET /billing/transactions (``limit`` and ``offset`` always sent)."""
    _check_int("limit", limit, 1, 100)
    _check_int("offset", offset, 0)
    return Call(
        "GET", "/billing/transactions", decode_page(Transaction), params=_query(limit=limit, offset=offset, type=type)
    )


def get_usage_call(
    from_date: Union[str, date, None] = None, to_date: Union[str, date, None] = None
) -> Call[UsageSummary]:
    """GET /billing/usage?from=&to= (YYYY-MM-DD)."""
    return Call(
        "GET",
        "/billing/usage",
        decode_one(UsageSummary),
        params=_query(**{"from": _day(from_date), "to": _day(to_date)}),
    )


def _day(value: Union[str, date, None]) -> Optional[str]:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def list_templates_call(
    page_number: int = 1,
    page_size: int = 25,
    search: Optional[str] = None,
    category: Optional[str] = None,
    sort_by: Optional[str] = None,
    sort_dir: Optional[str] = None,
) -> Call[ListPage[Template]]:
    """GET /templates (``page`` and ``page_size`` always sent)."""
    _check_int("page", page_number, 1)
    _check_int("page_size", page_size, 1)
    if sort_dir is not None and sort_dir not in ("asc", "desc"):
        raise ValueError("sort_dir must be 'asc' or 'desc'")
    params = _query(
        page=page_number, page_size=page_size, search=search, category=category, sort_by=sort_by, sort_dir=sort_dir
    )
    return Call("GET", "/templates", decode_page(Template), params=params)


# ======================================================================
# 7. Operations: plain functions, the session first
# ======================================================================


def list_instances(session: Session, *, search: Optional[str] = None) -> ListPage[Instance]:
    """List the environment's instances; ``search`` filters by name."""
    return send(session, list_instances_call(search))


def list_instance_types(
    session: Session, *, gpu_type: Optional[str] = None, region: Optional[str] = None, gpu_count: Optional[int] = None
) -> ListPage[InstanceType]:
    """List the GPU offers available now, filtered by the arguments given."""
    return send(session, list_instance_types_call(gpu_type, region, gpu_count))


def create_instance(
    session: Session,
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
) -> Instance:
    """Launch an instance (``gpu_type`` or ``instance_type_id`` picks the machine).

    Sent with an Idempotency-Key and retried only when the server answered
    429/503 or the connection never opened; a lost answer raises instead of
    launching twice: list instances before trying again.
    """
    return send(
        session,
        create_instance_call(
            name,
            ssh_key_id,
            gpu_type,
            instance_type_id,
            region,
            gpu_count,
            cpu_cores,
            memory,
            storage,
            template,
            env_vars,
            startup_commands,
            storage_id,
            launch_script,
            launch_script_base64,
            max_runtime_minutes,
            idle_shutdown_minutes,
        ),
    )


def get_instance(session: Session, instance_id: str) -> Instance:
    """Fetch one instance by id."""
    return send(session, get_instance_call(instance_id))


def update_instance(
    session: Session, instance_id: str, *, max_runtime_minutes: Any = OMITTED, idle_shutdown_minutes: Any = OMITTED
) -> Instance:
    """Change an instance's auto-stop limits; an omitted limit is left alone, ``None`` turns it off."""
    return send(session, update_instance_call(instance_id, max_runtime_minutes, idle_shutdown_minutes))


def get_instance_status(session: Session, instance_id: str) -> InstanceStatus:
    """An instance's status and IP address."""
    return send(session, get_instance_status_call(instance_id))


def terminate_instance(session: Session, instance_id: str) -> None:
    """Terminate an instance."""
    send(session, terminate_instance_call(instance_id))


def list_ssh_keys(session: Session) -> ListPage[SSHKey]:
    """List the workspace's SSH keys."""
    return send(session, list_ssh_keys_call())


def create_ssh_key(session: Session, *, name: str, public_key: str, type: Optional[str] = None) -> SSHKey:  # noqa: A002
    """Register a public key (``<type> <blob> [comment]``); a duplicate raises ``ConflictError``."""
    return send(session, create_ssh_key_call(name, public_key, type))


def delete_ssh_key(session: Session, key_id: str) -> None:
    """Delete an SSH key."""
    send(session, delete_ssh_key_call(key_id))


def list_storage_regions(session: Session) -> ListPage[StorageRegion]:
    """List the regions of the workspace's storage provider."""
    return send(session, list_storage_regions_call())


def list_storage(session: Session, *, search: Optional[str] = None) -> ListPage[StorageVolume]:
    """List the environment's volumes; ``search`` filters by name."""
    return send(session, list_storage_call(search))


def get_storage(session: Session, volume_id: str) -> StorageVolume:
    """Fetch one volume by id."""
    return send(session, get_storage_call(volume_id))


def create_storage(session: Session, *, name: str, size_gb: int, region: str) -> StorageVolume:
    """Create a volume of ``size_gb`` in the region named ``region``, billed weekly in advance."""
    return send(session, create_storage_call(name, size_gb, region))


def resize_storage(session: Session, volume_id: str, *, size_gb: int) -> StorageVolume:
    """Grow a volume to ``size_gb`` (shrinking raises ``UnprocessableEntityError``)."""
    return send(session, resize_storage_call(volume_id, size_gb))


def delete_storage(session: Session, volume_id: str) -> StorageDeleteResult:
    """Delete a volume; the result carries the pro-rata ``refund_amount``."""
    return send(session, delete_storage_call(volume_id))


def get_balance(session: Session) -> Balance:
    """The workspace's credit balance."""
    return send(session, get_balance_call())


def list_transactions(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    type: Optional[str] = None,  # noqa: A002
) -> ListPage[Transaction]:
    """A page of billing transactions, newest first; see ``has_more`` and ``total``."""
    return send(session, list_transactions_call(limit, offset, type))


def get_usage(
    session: Session, *, from_date: Union[str, date, None] = None, to_date: Union[str, date, None] = None
) -> UsageSummary:
    """Inference usage totals between two dates (``YYYY-MM-DD`` or ``date``)."""
    return send(session, get_usage_call(from_date, to_date))


def list_templates(
    session: Session,
    *,
    page: int = 1,
    page_size: int = 25,
    search: Optional[str] = None,
    category: Optional[str] = None,
    sort_by: Optional[str] = None,
    sort_dir: Optional[str] = None,
) -> ListPage[Template]:
    """A page of templates with ``total``; filter by ``search`` and ``category``."""
    return send(session, list_templates_call(page, page_size, search, category, sort_by, sort_dir))


# ======================================================================
# 8. The client: namespaces bound to the operations
# ======================================================================

R = TypeVar("R")

if TYPE_CHECKING:
    P = ParamSpec("P")

    class bound(Generic[P, R]):  # noqa: N801 - reads as a decorator
        def __init__(self, fn: Callable[Concatenate[Any, P], R]) -> None: ...

        def __get__(self, namespace: Namespace, owner: Any) -> Callable[P, R]: ...

else:

    class bound:  # noqa: N801 - reads as a decorator
        """An operation bound to the session of the namespace it is read from."""

        def __init__(self, fn):
            self.fn = fn
            self.__doc__ = fn.__doc__

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, namespace, owner):
            if namespace is None:
                return self
            method = _bind(self.fn, namespace.session)
            namespace.__dict__[self.name] = method  # later reads skip this descriptor
            return method


def _bind(fn: Callable[..., R], session: Any) -> Callable[..., R]:
    def method(*args: Any, **kwargs: Any) -> R:
        return fn(session, *args, **kwargs)

    method.__name__ = fn.__name__
    method.__qualname__ = fn.__qualname__
    method.__doc__ = fn.__doc__
    method.__wrapped__ = fn  # type: ignore[attr-defined]
    return method


class Namespace:
    """A group of operations sharing one session."""

    session: Any

    def __init__(self, session: Any) -> None:
        self.session = session


class Instances(Namespace):
    """``client.instances``."""

    list = bound(list_instances)
    list_types = bound(list_instance_types)
    create = bound(create_instance)
    get = bound(get_instance)
    update = bound(update_instance)
    get_status = bound(get_instance_status)
    terminate = bound(terminate_instance)


class SSHKeys(Namespace):
    """``client.ssh_keys``."""

    list = bound(list_ssh_keys)
    create = bound(create_ssh_key)
    delete = bound(delete_ssh_key)


class Storage(Namespace):
    """``client.storage``."""

    list_regions = bound(list_storage_regions)
    list = bound(list_storage)
    get = bound(get_storage)
    create = bound(create_storage)
    resize = bound(resize_storage)
    delete = bound(delete_storage)


class Billing(Namespace):
    """``client.billing``."""

    get_balance = bound(get_balance)
    list_transactions = bound(list_transactions)
    usage = bound(get_usage)


class Templates(Namespace):
    """``client.templates``."""

    list = bound(list_templates)


class Runcrate:
    """The Runcrate client: ``instances``, ``ssh_keys``, ``storage``, ``billing``, ``templates``.

    Arguments are those of ``Session``; or pass ``session=`` to share one.
    """

    session: Session
    instances: Instances
    ssh_keys: SSHKeys
    storage: Storage
    billing: Billing
    templates: Templates

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        inference_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        environment: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        session: Optional[Session] = None,
    ) -> None:
        self.session = session or Session(
            api_key,
            base_url=base_url,
            inference_url=inference_url,
            timeout=timeout,
            max_retries=max_retries,
            environment=environment,
            headers=headers,
        )
        self.instances = Instances(self.session)
        self.ssh_keys = SSHKeys(self.session)
        self.storage = Storage(self.session)
        self.billing = Billing(self.session)
        self.templates = Templates(self.session)

    def close(self) -> None:
        """Close the client's connections."""
        self.session.close()

    def __enter__(self) -> Runcrate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Runcrate({self.session!r})"
