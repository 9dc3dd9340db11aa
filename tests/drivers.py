"""One way to call every operation, whatever the mode, so each scenario is written once."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Dict, List, Type, TypeVar

import runcrate
import runcrate_async

T = TypeVar("T")


class SyncDriver:
    """Calls ``runcrate.<op>(session, ...)``."""

    mode = "sync"
    module: Any = runcrate

    def __init__(self, **options: Any) -> None:
        self.session = runcrate.Session(**options)

    def __call__(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(runcrate, op)(self.session, *args, **kwargs)

    def close(self) -> None:
        self.session.close()

    def items(self, op: str, *args: Any, **kwargs: Any) -> List[Any]:
        """Every item of an iterating function (``list_all_jobs``, ``follow_job_logs``)."""
        return list(getattr(runcrate, op)(self.session, *args, **kwargs))

    # Streams, whatever their mode: all chunks, the next one, or stop early.
    def chunks(self, stream: Any) -> List[Any]:
        return list(stream)

    def next_chunk(self, stream: Any) -> Any:
        return next(stream)

    def close_stream(self, stream: Any) -> None:
        stream.close()


class AsyncDriver:
    """Runs ``await runcrate_async.<op>(session, ...)`` on a loop of its own."""

    mode = "async"
    module: Any = runcrate_async

    def __init__(self, **options: Any) -> None:
        self.session = runcrate_async.AsyncSession(**options)  # first: a refused setting leaves no loop open
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def __call__(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(runcrate_async, op)(self.session, *args, **kwargs))

    def close(self) -> None:
        if not self.loop.is_closed():
            self.run(self.session.close())
            self.loop.close()

    def chunks(self, stream: Any) -> List[Any]:
        async def collect() -> List[Any]:
            return [chunk async for chunk in stream]

        return self.run(collect())

    def items(self, op: str, *args: Any, **kwargs: Any) -> List[Any]:
        return self.chunks(getattr(runcrate_async, op)(self.session, *args, **kwargs))

    def next_chunk(self, stream: Any) -> Any:
        return self.run(stream.__anext__())

    def close_stream(self, stream: Any) -> None:
        self.run(stream.aclose())


DRIVERS: Dict[str, Type[Any]] = {"sync": SyncDriver, "async": AsyncDriver}
MODES: List[str] = list(DRIVERS)
