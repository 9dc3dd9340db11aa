"""Shared by the examples: use the real API when RUNCRATE_API_KEY is set, else a local emulator."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator


@contextlib.contextmanager
def real_api_or_emulator() -> Iterator[None]:
    """Point the RUNCRATE_* variables at a local emulator unless a key is set; say which."""
    if os.environ.get("RUNCRATE_API_KEY"):
        print("Using the Runcrate API with the key from RUNCRATE_API_KEY.")
        yield
        return
    from runcrate_emulator import start_emulator

    with start_emulator(start_delay=(0.5, 1.0)) as emulator:
        print(f"RUNCRATE_API_KEY is not set: using a local emulator at {emulator.url}.")
        names = ("RUNCRATE_API_KEY", "RUNCRATE_BASE_URL", "RUNCRATE_INFERENCE_URL")
        values = (emulator.api_key, emulator.url, emulator.url)
        os.environ.update(zip(names, values))
        try:
            yield
        finally:
            for name in names:
                os.environ.pop(name, None)
