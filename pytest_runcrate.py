"""pytest plugin: the ``runcrate_emulator`` fixture, for your own test suites.

Installed with runcrate-sdk (a ``pytest11`` entry point). Nothing heavy is
imported until a test asks for the fixture::

    def test_launch(runcrate_emulator):
        client = runcrate_emulator.client          # a Runcrate bound to the emulator
        runcrate_emulator.fail("/api/v1/instances", status=503, retry_after="0")
        client.instances.list()
        assert runcrate_emulator.count("GET /api/v1/instances") == 2

One emulator serves the whole test session; its state, faults and counters
are reset before each test that uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from runcrate_emulator import Emulator


@pytest.fixture(scope="session")
def runcrate_emulator_server() -> Iterator[Emulator]:
    """One emulator for the test session (instances start running after 0.1-0.3 s)."""
    from runcrate_emulator import start_emulator

    emulator = start_emulator(start_delay=(0.1, 0.3))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def runcrate_emulator(runcrate_emulator_server: Emulator) -> Iterator[Emulator]:
    """The running emulator, freshly reset: ``.url``, ``.client``, ``.fail()``, ``.count()`` ..."""
    runcrate_emulator_server.reset()
    try:
        yield runcrate_emulator_server
    finally:
        runcrate_emulator_server.close_client()
