"""The asyncio mirror of runcrate, on aiohttp.

Every operation of ``runcrate`` is here as a coroutine with the same name and
signature, taking an ``AsyncSession`` first; ``AsyncRuncrate`` mirrors the
``Runcrate`` client::

    from runcrate import AsyncRuncrate

    async with AsyncRuncrate(api_key="rc_live_...") as client:
        instances = await client.instances.list()
        stream = await client.models.chat_completion(model=..., messages=..., stream=True)
        async for chunk in stream:
            ...

Models, errors, the SSE decoder, encoders and the shape of every request
come from ``runcrate``: this module only moves the bytes.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import os
import threading
import time
import weakref
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Deque,
    Dict,
    Generic,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

import aiohttp
import aiohttp.helpers
import aiohttp.http_exceptions
import yarl

import runcrate as rc
from runcrate import (
    Call,
    ChatCompletion,
    ChatStreamParser,
    ImageData,
    RuncrateError,
    StreamedBody,
    VideoJob,
)

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import ParamSpec

T = TypeVar("T")
MAX_PARSED_URLS = 1024  # parsed URLs a session keeps

# ======================================================================
# Session
# ======================================================================


class AsyncSession(rc.SessionConfig[aiohttp.ClientSession]):
    """``runcrate.Session``'s configuration, owning one ``aiohttp.ClientSession``.

    The ClientSession is made on first use, inside the running loop, with a
    ``TCPConnector(limit=connection_limit)``. It belongs to that loop: used
    from another loop (one ``asyncio.run`` per serverless invocation), or in
    a forked child, the session makes a new one; the old one is closed when
    its loop shuts down (``asyncio.run`` does that) and a forked child never
    touches its parent's. The proxy variables work as with aiohttp's
    ``trust_env=True``, but are read once per API surface: aiohttp would read
    them in a thread on every request. Pass ``http=`` to use your own
    ClientSession: its settings are left alone, it is never closed by the
    SDK, and using it from another loop raises ``RuncrateError``
    ``wrong_event_loop``. ``await close()``, or use ``async with``; a closed
    session reopens on its next call.
    """

    _streams: weakref.WeakSet[AsyncChatStream]
    _pool_owner: AsyncSession

    def _start_transport(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closer: Optional[AsyncGenerator[None, None]] = None
        self._proxies: Dict[Union[bool, str], Dict[str, Any]] = {}
        # Sent on every request, so that a caller's own ClientSession gets them too.
        self._base_headers = self.session_headers(_default_headers())
        self._timeouts: Dict[Tuple[Optional[float], ...], aiohttp.ClientTimeout] = {}
        self._urls: Dict[str, yarl.URL] = {}

    async def send(self, call: Call[T]) -> T:
        """Send one call through this session: ``runcrate_async.send(self, call)``."""
        return await send(self, call)

    async def open_chat(self, call: Call[Any]) -> AsyncChatStream:
        """Open a streamed chat completion, closed with this session if still open."""
        stream = AsyncChatStream(await open_stream(self, call))
        self.track(stream)
        return stream

    def twin(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The coroutine function of this module with the name of ``fn``, a function of ``runcrate``."""
        return globals()[fn.__name__]  # type: ignore[no-any-return]

    def share_pool_of(self, parent: AsyncSession) -> None:
        """Make this copy of ``parent`` use the parent's connections."""
        self._pool_owner = parent._pool_owner
        self._streams = weakref.WeakSet()
        self._base_headers = self.session_headers(_default_headers())

    @property
    def http(self) -> aiohttp.ClientSession:
        """The ``aiohttp.ClientSession`` of the running loop, made on first use (read it inside the loop)."""
        if self._pool_owner is not self:
            return self._pool_owner.http
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._http is None or self._pid != os.getpid():
            self._bind(loop)
        assert self._http is not None  # noqa: S101 - _bind made it
        return self._http

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's pool is not ours to use or close
            rc._INHERITED_POOLS.append((self._http, self._closer))
            self._pid, self._closer, self._streams = os.getpid(), None, weakref.WeakSet()
            if self._owns_http:
                self._http = None
        if not self._owns_http:
            if getattr(self._http, "_loop", loop) is not loop:
                raise RuncrateError(
                    "the aiohttp.ClientSession passed as http= belongs to another event loop (or process): "
                    "make it, and the client, inside the loop that uses them",
                    code="wrong_event_loop",
                )
            self._loop = loop
            return
        if self._http is not None and not self._http.closed:
            # Made in another loop: it cannot serve this one. It is closed when its loop shuts
            # down (by _close_with_its_loop), or at once if that loop is gone already.
            self._release_pool()
        connector = aiohttp.TCPConnector(limit=self.connection_limit)
        self._http = aiohttp.ClientSession(connector=connector, trust_env=False)  # see proxy_for
        self._loop = loop
        self._closer = _close_with_its_loop(self._http)
        _start(self._closer)

    def _release_pool(self) -> None:
        old_loop, http = self._loop, self._http
        if old_loop is None or http is None or not old_loop.is_closed():
            return  # still open in a live loop: its shutdown closes it
        connector = http.connector
        if connector is not None:
            connector._close()  # its loop is closed: this only marks it closed, touching no socket
        self._closer = None

    def parsed_url(self, call: Call[Any]) -> yarl.URL:
        """The call's URL parsed once per distinct URL (aiohttp would parse the string on every request)."""
        text = self.url_for(call)
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= MAX_PARSED_URLS:  # URLs with ids in them: forget them all now and then
                self._urls.clear()
            url = self._urls[text] = yarl.URL(text)
        return url

    def proxy_for(self, call: Call[Any]) -> Dict[str, Any]:
        """``proxy``/``proxy_auth`` from the environment for a call's surface (none for a caller's ClientSession)."""
        if not self._owns_http:
            return {}
        surface = call.surface
        found = self._proxies.get(surface)
        if found is None:
            url = yarl.URL(call.url or (self.inference_url if call.inference else self.base_url))
            try:
                proxy, auth = aiohttp.helpers.get_env_proxy_for_url(url)
            except LookupError:
                proxy, auth = None, None
            found = self._proxies[surface] = {"proxy": proxy, "proxy_auth": auth}
        return found

    def request_headers(self, call: Call[Any]) -> Dict[str, str]:
        """Every header of a call: the session's, then the call's own (a URL outside the API gets no key)."""
        if call.url is not None:
            return {**_default_headers(), **call.request_headers()}
        return {**self._base_headers, **call.request_headers()}

    def client_timeout(self, call: Call[Any], stream: bool = False) -> aiohttp.ClientTimeout:
        """Connect and read timeouts of a call (slow routes read for at least their minimum).

        A call that is not streamed also has a deadline for the whole attempt
        (twice its read timeout): a server trickling bytes cannot hold it.
        """
        connect, read = self.timeouts_for(call)
        total = None if stream or read is None else rc.ATTEMPT_DEADLINE_FACTOR * read
        key = (connect, read, total)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(total=total, connect=connect, sock_read=read)
        return timeout

    def track(self, stream: AsyncChatStream) -> None:
        """Remember an open stream, so that ``close()`` closes it too."""
        self._streams.add(stream)

    async def close(self) -> None:
        """Close the open streams and the ClientSession (one passed in by the caller stays open)."""
        for stream in list(self._streams):
            await stream.aclose(reason="the client was closed")
        self._streams = weakref.WeakSet()
        if self._pool_owner is not self:
            await self._pool_owner.close()
            return
        if self._pid != os.getpid() or not self._owns_http:
            return
        closer, http = self._closer, self._http
        self._closer = self._http = self._loop = None
        if closer is not None:
            await closer.aclose()
        elif http is not None:
            await http.close()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncRawSession(AsyncSession):
    """An async session whose calls answer ``runcrate.RawResponse`` (``client.with_raw_response``)."""

    async def send(self, call: Call[T]) -> rc.RawResponse[T]:  # type: ignore[override]
        """Send one call: ``runcrate_async.send_raw(self, call)``."""
        return await send_raw(self, call)

    async def open_chat(self, call: Call[Any]) -> rc.RawResponse[AsyncChatStream]:  # type: ignore[override]
        """Open a streamed chat completion; its response's status and headers come with it."""
        stream = await super().open_chat(call)
        return rc.RawResponse(stream.response.status, stream.response.headers, parsed=stream)


AsyncSession.raw_kind = AsyncRawSession.raw_kind = AsyncRawSession


def _default_headers() -> Dict[str, str]:
    return {"User-Agent": rc._user_agent("aiohttp", aiohttp.__version__), "Accept": "application/json"}


async def _close_with_its_loop(http: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Closes ``http`` when its loop shuts down.

    Started once, it waits at its ``yield``: the loop keeps it among its async
    generators, and ``asyncio.run`` (``loop.shutdown_asyncgens``) finalises
    them before closing, which runs the ``finally`` while the loop still runs.
    """
    try:
        yield
    finally:
        await http.close()


def _start(generator: AsyncGenerator[None, None]) -> None:
    try:
        generator.asend(None).send(None)  # runs to the yield: no await comes before it
    except StopIteration:
        pass


# ======================================================================
# Transport: one request, with the retry rules of runcrate
# ======================================================================


def _transport_error(exc: BaseException) -> RuncrateError:
    """The SDK error for an aiohttp failure that produced no usable answer."""
    text = rc._cap(str(exc) or type(exc).__name__, 300)
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", ())
    if isinstance(exc, connect_timeout) or (isinstance(exc, asyncio.TimeoutError) and "onnect" in text):
        return rc.TimeoutError(f"no connection within the timeout: {text}", code="connect_timeout")
    if isinstance(exc, asyncio.TimeoutError):
        return rc.TimeoutError(f"no answer within the timeout: {text}", code="read_timeout")
    dns_error = getattr(aiohttp, "ClientConnectorDNSError", ())
    if isinstance(exc, dns_error):
        return rc.ConnectionError(f"host name could not be resolved: {text}", code="dns_error")
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return rc.ConnectionError(f"TLS failure: {text}", code="tls_error")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return rc.ConnectionError(f"could not connect: {text}", code="connect_error")
    if _too_large(exc):
        return rc._invalid_response(f"the answer is larger than aiohttp's decompression limit: {text}")
    if isinstance(exc, RuntimeError):  # aiohttp's word for a closed session or a loop that is gone
        return RuncrateError(f"the request could not be sent: {text}", code="client_closed")
    return rc.ConnectionError(f"the connection failed before a complete answer: {text}", code="connection_error")


TRANSPORT_ERRORS: Tuple[Type[BaseException], ...] = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
REQUEST_ERRORS: Tuple[Type[BaseException], ...] = (
    RuntimeError,
    *TRANSPORT_ERRORS,
)  # RuntimeError: aiohttp's word for a closed session
_DECOMPRESS_SIZE_ERROR = getattr(aiohttp.http_exceptions, "DecompressSizeError", ())  # aiohttp >= 3.13


def _too_large(exc: BaseException) -> bool:
    # aiohttp 3.13 refuses a body that decompresses past its own limit, inside a ClientPayloadError.
    cause = exc.__cause__ or exc.__context__
    return isinstance(exc, aiohttp.ClientPayloadError) and isinstance(cause, _DECOMPRESS_SIZE_ERROR)


def _as_sdk_error(exc: BaseException) -> BaseException:
    """A transport failure as the SDK's error; anything else (a local error, a cancellation) as it is."""
    if isinstance(exc, TRANSPORT_ERRORS) and not isinstance(exc, RuncrateError):
        return _transport_error(exc)
    return exc


async def _request(session: AsyncSession, call: Call[Any], stream: bool) -> aiohttp.ClientResponse:
    http = session.http
    body = _async_body(call)
    try:
        return await http.request(
            call.method,
            session.parsed_url(call),
            params=session.params_for(call),
            data=body,
            headers=_with_length(session.request_headers(call), call),
            timeout=session.client_timeout(call, stream),
            allow_redirects=False,
            **session.proxy_for(call),
        )
    except REQUEST_ERRORS as exc:
        raise _transport_error(exc) from None
    finally:
        if isinstance(body, _FileParts):
            await body.aclose()


def _with_length(headers: Dict[str, str], call: Call[Any]) -> Dict[str, str]:
    if isinstance(call.body, StreamedBody) and call.body.length is not None:
        return {**headers, "Content-Length": str(call.body.length)}
    return headers


async def _exchange(session: AsyncSession, call: Call[Any], stream: bool) -> Tuple[aiohttp.ClientResponse, bytes, int]:
    """Send a call until its answer is final, retrying by ``runcrate.Attempts``: (response, body read, attempts).

    The body is read unless ``stream`` is true and the answer a success.
    """
    attempts = rc.Attempts(session, call)
    while True:
        started = time.monotonic()
        try:
            response = await _request(session, call, stream)
            body = b"" if stream and response.status < 300 else await _read_answer(response, call, stream)
        except (rc.ConnectionError, rc.TimeoutError) as error:
            delay = attempts.after_failure(error, started)
        else:
            wait = attempts.after_answer(response.status, response.headers, body)
            if wait is None:
                return response, body, attempts.made
            delay = wait
        await asyncio.sleep(delay)


async def send(session: AsyncSession, call: Call[T]) -> T:
    """Send one call (retries included) and decode its answer."""
    return (await send_raw(session, call)).parse()


async def send_raw(session: AsyncSession, call: Call[T]) -> rc.RawResponse[T]:
    """Send one call as ``send`` does, and answer the response itself, its result parsed on demand."""
    started = time.monotonic()
    response, body, attempts = await _exchange(session, call, stream=False)
    rc.log_exchange(call.method, response.url, response.status, attempts, started, response.headers)
    return rc.RawResponse.of_call(session, call, response.status, response.headers, body)


async def open_stream(session: AsyncSession, call: Call[Any]) -> aiohttp.ClientResponse:
    """Send a call (retried as ``send`` does) and return its response unread, once its status is a success."""
    started = time.monotonic()
    response, body, attempts = await _exchange(session, call, stream=True)
    rc.log_exchange(call.method, response.url, response.status, attempts, started, response.headers)
    if response.status >= 300:
        try:
            call.finish(response.status, response.headers, body)
        except RuncrateError as error:
            raise session.redact(error) from None
    return response


async def _read_answer(response: aiohttp.ClientResponse, call: Call[Any], stream: bool) -> bytes:
    """The body of an answer, the connection released after it (closed when reading fails)."""
    try:
        if stream:
            body = await response.content.read(64 * 1024)  # a stream's error: the start is enough
            response.close()
            return body
        body = await _read_body(response, None if call.raw else rc.MAX_ANSWER_BYTES)
    except BaseException as exc:
        response.close()
        error = _as_sdk_error(exc)
        if error is exc:
            raise
        raise error from None
    response.release()
    return body


async def _read_body(response: aiohttp.ClientResponse, limit: Optional[int]) -> bytes:
    if limit is None:
        return await response.read()
    parts: List[bytes] = []
    size = 0
    while True:
        chunk = await response.content.readany()
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise rc._invalid_response(f"the answer is larger than {limit // 2**20} MB", response.status)
        parts.append(chunk)


def _async_body(call: Call[Any]) -> Any:
    if isinstance(call.body, StreamedBody):
        return _FileParts(call.body)
    return call.encoded_body()


class _FileParts:
    """A streamed body read off the event loop, closed (with any file the SDK opened) once the request ends.

    aiohttp does not close a body iterator it abandons; the request driver does.
    The body's ``on_progress`` (a function or a coroutine function) runs on the loop.
    """

    def __init__(self, body: StreamedBody) -> None:
        self._body = body
        self._parts = iter(body)
        self._sent = 0
        self._lock = threading.Lock()  # a read still running in its thread finishes before the close

    def __aiter__(self) -> _FileParts:
        # aiohttp sends a PUT again by itself when a reused connection drops (it cannot be turned off):
        # each time it starts reading, the body starts over.
        with self._lock:
            self._parts, self._sent = iter(self._body), 0
        return self

    async def __anext__(self) -> bytes:
        chunk = await asyncio.to_thread(self._next)
        if chunk is None:
            raise StopAsyncIteration
        if self._body.on_progress is not None:  # told once the chunk is handed over, as the sync driver does
            self._sent += len(chunk)
            await _maybe_await(self._body.on_progress(self._sent, self._body.length))
        return chunk

    def _next(self) -> Optional[bytes]:
        with self._lock:
            return next(self._parts, None)

    def _close(self) -> None:
        with self._lock:
            self._body.close()

    async def aclose(self) -> None:
        """Close the parts' generator, and so the file it opened."""
        await asyncio.to_thread(self._close)


# ======================================================================
# Streams and downloads
# ======================================================================

DONE_GRACE = 0.05  # seconds to wait, after [DONE], for the body's end, so the connection can be reused


class AsyncChatStream:
    """The chunks of a streamed chat completion, as dicts: ``async for chunk in stream``.

    Use ``async with stream:`` to close it when leaving early. It closes its
    connection at ``[DONE]`` (handing it back to the pool when the body
    ended too), on an error, on ``aclose()``, when an ``async with`` block
    ends, when the task reading it is cancelled, when the client is closed,
    or when it is garbage-collected.
    """

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self._parser = ChatStreamParser()
        self._ready: Deque[Dict[str, Any]] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._pid = os.getpid()
        self.closed = False

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> Dict[str, Any]:
        while not self._ready:
            if self._parser.done:
                await self._finish()
            if self.closed:
                self._parser.check()
                raise StopAsyncIteration
            self._ready.extend(await self._pull())
        return self._ready.popleft()

    async def _pull(self) -> List[Dict[str, Any]]:
        try:
            self._parser.check()
            data = await self.response.content.readany()
            if data:
                return self._parser.feed(data)
            self._parser.end()
            return []
        except BaseException as exc:  # an error, or a cancellation: the connection must not outlive it
            await self.aclose()
            error = _as_sdk_error(exc)
            if error is exc:
                raise
            raise error from None

    async def _finish(self) -> None:
        # After [DONE] the body's end usually arrives at once: then the connection goes back to the pool.
        if self.closed:
            return
        self.closed = True
        content = self.response.content
        if not content.at_eof():
            try:
                await asyncio.wait_for(content.readany(), DONE_GRACE)
            except TRANSPORT_ERRORS:
                pass
        if content.at_eof():
            self.response.release()
        else:
            self.response.close()

    async def aclose(self, reason: Optional[str] = None) -> None:
        """Stop reading and close the connection (without draining it).

        With a ``reason`` (the client was closed), the next read raises
        ``ConnectionError`` instead of ending quietly: the answer is incomplete.
        """
        if not self.closed:
            self.closed = True
            if reason is not None:
                self._parser.interrupt(reason)
            self.response.close()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Dropped unclosed (an early break, then no reference left): free the connection.
        if getattr(self, "closed", True) or self._pid != os.getpid() or self._loop.is_closed():
            return
        self.closed = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.response.close()
        else:
            self._loop.call_soon_threadsafe(self.response.close)


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


# ======================================================================
# Operations: each derived in one line from runcrate's definition
# ======================================================================

if TYPE_CHECKING:
    P = ParamSpec("P")

    class AsyncOperation(Generic[P, T]):
        """An endpoint: ``await op(session, ...)`` sends it, ``op.call(...)`` builds its Call."""

        __name__: str

        def call(self, *args: P.args, **kwargs: P.kwargs) -> Call[T]: ...

        async def __call__(self, session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    def asynchronous(op: rc.Operation[P, T]) -> AsyncOperation[P, T]: ...

else:

    class AsyncOperation(rc.Operation):
        """An endpoint: ``await op(session, ...)`` sends it, ``op.call(...)`` builds its Call."""

        async def __call__(self, session, /, *args, **kwargs):
            return await send(session, self.call(*args, **kwargs))

    def asynchronous(op):
        """The coroutine twin of a ``runcrate`` operation."""
        twin = AsyncOperation(op.build)
        twin.__module__ = __name__
        twin._is_coroutine = getattr(asyncio.coroutines, "_is_coroutine", None)  # asyncio.iscoroutinefunction
        if hasattr(inspect, "markcoroutinefunction"):  # Python 3.12+: inspect.iscoroutinefunction
            inspect.markcoroutinefunction(twin)
        return twin


list_instances = asynchronous(rc.list_instances)
list_instance_types = asynchronous(rc.list_instance_types)
create_instance = asynchronous(rc.create_instance)
get_instance = asynchronous(rc.get_instance)
update_instance = asynchronous(rc.update_instance)
get_instance_status = asynchronous(rc.get_instance_status)
terminate_instance = asynchronous(rc.terminate_instance)
list_ssh_keys = asynchronous(rc.list_ssh_keys)
create_ssh_key = asynchronous(rc.create_ssh_key)
delete_ssh_key = asynchronous(rc.delete_ssh_key)
list_storage_regions = asynchronous(rc.list_storage_regions)
list_storage = asynchronous(rc.list_storage)
get_storage = asynchronous(rc.get_storage)
create_storage = asynchronous(rc.create_storage)
resize_storage = asynchronous(rc.resize_storage)
delete_storage = asynchronous(rc.delete_storage)
get_balance = asynchronous(rc.get_balance)
list_transactions = asynchronous(rc.list_transactions)
get_usage = asynchronous(rc.get_usage)
top_up = asynchronous(rc.top_up)
get_auto_recharge = asynchronous(rc.get_auto_recharge)
set_auto_recharge = asynchronous(rc.set_auto_recharge)
list_payment_methods = asynchronous(rc.list_payment_methods)
list_templates = asynchronous(rc.list_templates)
list_environments = asynchronous(rc.list_environments)
create_environment = asynchronous(rc.create_environment)
get_environment = asynchronous(rc.get_environment)
update_environment = asynchronous(rc.update_environment)
delete_environment = asynchronous(rc.delete_environment)
list_secrets = asynchronous(rc.list_secrets)
list_crates = asynchronous(rc.list_crates)
create_crate = asynchronous(rc.create_crate)
get_crate = asynchronous(rc.get_crate)
delete_crate = asynchronous(rc.delete_crate)
create_schedule = asynchronous(rc.create_schedule)
list_schedules = asynchronous(rc.list_schedules)
get_schedule = asynchronous(rc.get_schedule)
update_schedule = asynchronous(rc.update_schedule)
delete_schedule = asynchronous(rc.delete_schedule)
run_schedule_now = asynchronous(rc.run_schedule_now)
run_job = asynchronous(rc.run_job)
run_job_group = asynchronous(rc.run_job_group)
rerun_job = asynchronous(rc.rerun_job)
list_jobs = asynchronous(rc.list_jobs)
get_job = asynchronous(rc.get_job)
cancel_job = asynchronous(rc.cancel_job)
delete_job = asynchronous(rc.delete_job)
get_job_logs = asynchronous(rc.get_job_logs)
list_job_events = asynchronous(rc.list_job_events)
get_job_metrics = asynchronous(rc.get_job_metrics)
list_job_artifacts = asynchronous(rc.list_job_artifacts)
get_job_artifact_url = asynchronous(rc.get_job_artifact_url)
create_job_upload = asynchronous(rc.create_job_upload)
get_job_group = asynchronous(rc.get_job_group)
cancel_job_group = asynchronous(rc.cancel_job_group)
generate_image = asynchronous(rc.generate_image)
generate_video = asynchronous(rc.generate_video)
get_video_status = asynchronous(rc.get_video_status)
download_video = asynchronous(rc.download_video)
text_to_speech = asynchronous(rc.text_to_speech)
transcribe = asynchronous(rc.transcribe)
list_models = asynchronous(rc.list_models)


@overload
async def chat_completion(
    session: AsyncSession,
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
async def chat_completion(
    session: AsyncSession,
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
) -> AsyncChatStream: ...


async def chat_completion(
    session: AsyncSession,
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
) -> Union[ChatCompletion, AsyncChatStream]:
    """Chat completion; with ``stream=True``, an ``AsyncChatStream`` of chunk dicts."""
    call = rc.chat_completion_call(
        model=model, messages=messages, stream=stream, max_tokens=max_tokens, temperature=temperature, top_p=top_p,
        stop=stop, frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, timeout=timeout, **params,
    )  # fmt: skip
    if stream:
        return await session.open_chat(call)
    return await session.send(call)


async def image_bytes(image: ImageData, timeout: float = 120.0) -> bytes:
    """An image's bytes: decoded locally, or fetched from its URL without the API key (``ImageData.to_bytes``)."""
    if image.b64_json or not image.url or not image.url.startswith(("http://", "https://")):
        return image.to_bytes()
    limits = aiohttp.ClientTimeout(total=rc.ATTEMPT_DEADLINE_FACTOR * timeout, connect=timeout, sock_read=timeout)
    try:
        async with aiohttp.ClientSession(trust_env=True, timeout=limits) as http, http.get(image.url) as response:
            body = await response.read()
    except TRANSPORT_ERRORS as exc:
        raise _transport_error(exc) from None
    if response.status >= 400:
        raise rc.error_from_response(response.status, response.headers, body)
    return body


async def download_video_to_file(
    session: AsyncSession,
    /,
    video_id: str,
    path: Union[str, os.PathLike[str]],
    *,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> str:
    """Stream a finished video to ``path`` in constant memory, atomically; returns the path.

    ``on_progress`` may be a function or a coroutine function; a local failure
    (a full disk, an error raised by ``on_progress``) is raised as it is.
    """
    download = rc.FileDownload(path)
    try:
        await _download_into(session, rc.download_video.call(video_id), download, on_progress)
        return download.finish()
    except BaseException:
        download.abandon()
        raise


async def _download_into(
    session: AsyncSession,
    call: Call[Any],
    download: rc.Download,
    on_progress: Optional[Callable[[int, Optional[int]], Any]],
) -> None:
    response = await open_stream(session, call)
    try:
        download.expect(response.headers)
        chunks = response.content.iter_chunked(rc.DOWNLOAD_CHUNK)
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TRANSPORT_ERRORS as exc:
                raise _as_sdk_error(exc) from None
            done, total = await asyncio.to_thread(download.write, chunk)
            if on_progress is not None:
                await _maybe_await(on_progress(done, total))
    finally:
        response.release()


async def follow_flow(
    session: AsyncSession, run: rc.FlowRun[Any]
) -> AsyncIterator[Union[rc.Progress, rc.Item, rc.Items]]:
    """Drive a flow as ``runcrate.follow_flow`` does, yielding its progress and items."""
    step = run.next()
    while step is not None:
        answer = None
        if isinstance(step, Call):
            answer = await send(session, step)
        elif isinstance(step, rc.Sleep):
            await asyncio.sleep(step.seconds)
        else:
            yield step
        step = run.next(answer)


async def run_flow(session: AsyncSession, flow: rc.Flow[T], on_progress: Optional[Callable[[Any], Any]] = None) -> T:
    """Drive a flow to its result as ``runcrate.run_flow`` does; ``on_progress`` may be a coroutine function."""
    with rc.FlowRun(flow) as run:
        async for step in follow_flow(session, run):
            if on_progress is not None and isinstance(step, rc.Progress):
                await _maybe_await(on_progress(step.value))
    return run.result  # type: ignore[return-value]


async def iterate_flow(session: AsyncSession, flow: rc.Flow[None]) -> AsyncIterator[Any]:
    """The items of a flow as an async iterator; leaving it early (``aclose``) closes the flow."""
    with rc.FlowRun(flow) as run:
        async for step in follow_flow(session, run):
            for item in rc.items_of(step):
                yield item


def list_all_templates(
    session: AsyncSession,
    /,
    *,
    page_size: int = 25,
    search: Optional[str] = None,
    category: Optional[str] = None,
    sort_by: Optional[str] = None,
    sort_dir: Optional[str] = None,
) -> AsyncIterator[rc.Template]:
    """Every template, as ``runcrate.list_all_templates``: ``async for template in ...``."""
    filters = {"search": search, "category": category, "sort_by": sort_by, "sort_dir": sort_dir}
    return iterate_flow(session, rc.template_pages(page_size, filters))


def list_all_transactions(
    session: AsyncSession, /, *, limit: int = 100, type: Optional[str] = None
) -> AsyncIterator[rc.Transaction]:
    """Every billing transaction, as ``runcrate.list_all_transactions``: ``async for transaction in ...``."""
    return iterate_flow(session, rc.transaction_pages(limit, type))


def list_all_jobs(
    session: AsyncSession,
    /,
    *,
    status: Union[str, Sequence[str], None] = None,
    tags: Optional[Mapping[str, str]] = None,
    group_id: Optional[str] = None,
    q: Optional[str] = None,
    gpu_type: Optional[str] = None,
    created_after: Union[datetime, str, None] = None,
    page_size: int = 100,
) -> AsyncIterator[rc.Job]:
    """Every job matching the filters, as ``runcrate.list_all_jobs``: ``async for job in ...``."""
    filters = dict(status=status, tags=tags, group_id=group_id, q=q, gpu_type=gpu_type, created_after=created_after)
    return iterate_flow(session, rc.job_pages(page_size, filters))


async def wait_for_job(
    session: AsyncSession,
    /,
    id: str,
    *,
    timeout: Optional[float] = None,
    poll_interval: float = 2.0,
    max_poll_interval: float = 30.0,
    on_status: Optional[Callable[[rc.Job], Any]] = None,
) -> rc.Job:
    """Wait until a job ends, as ``runcrate.wait_for_job``; ``on_status`` may be a coroutine function."""
    return await run_flow(session, rc.job_wait_flow(id, timeout, poll_interval, max_poll_interval), on_status)


def follow_job_logs(
    session: AsyncSession, /, id: str, *, after: int = 0, timeout: Optional[float] = None
) -> AsyncIterator[rc.JobLogChunk]:
    """A job's log chunks as they are written, as ``runcrate.follow_job_logs``: ``async for chunk in ...``."""
    rc._check_int("after", after, 0)
    return iterate_flow(session, rc.log_follow_flow(id, after, timeout))


async def download_job_artifact(
    session: AsyncSession,
    /,
    job_id: str,
    path: str,
    *,
    to: Union[str, os.PathLike[str], None] = None,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> Union[bytes, Path]:
    """One artifact of a job, checked, as ``runcrate.download_job_artifact``; ``on_progress`` may be a coroutine
    function."""
    sink = rc._artifact_sink(to)
    try:
        url = await run_flow(session, rc.artifact_flow(job_id, path, sink))
        await _download_into(session, rc.signed_download(url), sink, on_progress)
        return rc._artifact_answer(sink)
    except BaseException:
        sink.abandon()
        raise


async def upload_job_code(
    session: AsyncSession,
    /,
    source: Union[str, os.PathLike[str], bytes],
    *,
    on_progress: Optional[Callable[[int, Optional[int]], Any]] = None,
) -> rc.JobUpload:
    """Upload a job's code, as ``runcrate.upload_job_code``; the packing runs off the event loop."""
    code = await asyncio.to_thread(rc.pack_code, source)
    try:
        return await run_flow(session, rc.upload_flow(code, on_progress))
    finally:
        code.close()


async def generate_video_and_save(
    session: AsyncSession,
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
    """Submit, poll and stream to ``path``, as ``runcrate.generate_video_and_save``.

    ``on_status`` may be a function or a coroutine function.
    """
    download = rc.FileDownload(path)
    job: Optional[VideoJob] = None
    try:
        job = await run_flow(session, rc.video_flow(model, prompt, poll_interval, timeout, params), on_status)
        await _download_into(session, rc.download_video.call(job.id), download, None)
        download.finish()
        return job
    except BaseException as exc:
        download.abandon()
        if isinstance(exc, RuncrateError) and exc.job is None:
            exc.job = job
        raise


# ======================================================================
# The client: runcrate's namespaces, on an AsyncSession
# ======================================================================


class AsyncRuncrate(rc.Client[AsyncSession]):
    """The asyncio Runcrate client, with the namespaces and methods of ``runcrate.Runcrate``.

    Arguments are those of ``AsyncSession``; or pass ``session=`` to share one.
    """

    session_kind = AsyncSession

    async def close(self) -> None:
        """Close the client's open streams and connections; a later call reopens them."""
        await self.session.close()

    async def __aenter__(self) -> AsyncRuncrate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


__all__ = [
    "AsyncSession", "AsyncRawSession", "AsyncRuncrate", "AsyncChatStream", "AsyncOperation", "asynchronous", "send",
    "send_raw", "open_stream", "run_flow", "follow_flow", "iterate_flow", "image_bytes", "chat_completion",
    "download_video_to_file", "generate_video_and_save", "list_all_templates", "list_all_transactions",
    "list_all_jobs", "wait_for_job", "follow_job_logs", "download_job_artifact", "upload_job_code",
    *(name for name, value in list(globals().items()) if isinstance(value, AsyncOperation)),
]  # fmt: skip
