"""One way to call every operation, whatever the mode, so each scenario is written once."""

from __future__ import annotations

from typing import Any, Dict, List, Type

import runcrate


class SyncDriver:
    """Calls ``runcrate.<op>(session, ...)``."""

    mode = "sync"
    module = runcrate

    def __init__(self, **options: Any) -> None:
        self.session = runcrate.Session(**options)

    def __call__(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(runcrate, op)(self.session, *args, **kwargs)

    def close(self) -> None:
        self.session.close()

    # Streams, whatever their mode: all chunks, the next one, or stop early.
    def chunks(self, stream: Any) -> List[Any]:
        return list(stream)

    def next_chunk(self, stream: Any) -> Any:
        return next(stream)

    def close_stream(self, stream: Any) -> None:
        stream.close()


DRIVERS: Dict[str, Type[Any]] = {"sync": SyncDriver}
MODES: List[str] = list(DRIVERS)
