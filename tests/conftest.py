from __future__ import annotations

from typing import Any, Callable, Iterator, List

import pytest
from drivers import DRIVERS, MODES
from tinyserver import TinyServer

import runcrate


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or URLs, and retries wait no time."""
    for name in ("RUNCRATE_API_KEY", "RUNCRATE_BASE_URL", "RUNCRATE_INFERENCE_URL", "RUNCRATE_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runcrate, "BACKOFF_BASE", 0.001)


@pytest.fixture(autouse=True)
def _emulator_handlers_never_crash(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A handler that crashes answers 500, which a test could take for the fault it asked for."""
    yield
    crashes = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelname == "ERROR"]
    assert not crashes, crashes[0].getMessage()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(mode: str) -> Iterator[Callable[..., Any]]:
    """connect(url, **session_options): a driver of the current mode, closed after the test."""
    made: List[Any] = []

    def make(url: str, **options: Any) -> Any:
        options.setdefault("api_key", "rc_live_test_key_0123456789")
        driver = DRIVERS[mode](base_url=url, inference_url=url, **options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def emu(runcrate_emulator: Any) -> Any:
    state = runcrate_emulator.state
    state.start_delay = (0.0, 0.0)
    state.job_seconds, state.log_lines, state.log_hold, state.artifact_bytes = 0.3, 3, 25.0, 0
    return runcrate_emulator


@pytest.fixture
def api(connect: Callable[..., Any], emu: Any) -> Any:
    """A driver bound to the emulator."""
    return connect(emu.url)


@pytest.fixture
def free_port() -> int:
    """A local port with nothing listening on it."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Callable[..., TinyServer]]:
    """serve(respond): a tiny raw-socket server answering with ``respond``, closed after the test."""
    servers: List[TinyServer] = []

    def start(respond: Callable[..., None], **options: Any) -> TinyServer:
        servers.append(TinyServer(respond, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
