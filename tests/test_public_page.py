"""Every example of the public SDK page runs unchanged against the emulator."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
from seed_page import EXPECTED, INPUT_FILES, OUTPUT_FILES, SECTIONS

import runcrate


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_public_page_example_runs_unchanged(
    section: str, emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUNCRATE_BASE_URL", emu.url)
    monkeypatch.setenv("RUNCRATE_INFERENCE_URL", emu.url)
    monkeypatch.chdir(tmp_path)
    for name, content in INPUT_FILES.items():
        (tmp_path / name).write_bytes(content)
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: real_sleep(min(seconds, 0.01)))  # the page polls every 5 s
    emu.state.stream_delay = 0.0
    emu.add_volume("volume-id", "existing")
    client = runcrate.Runcrate(api_key="rc_live_YOUR_API_KEY")
    namespace = {"client": client}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(SECTIONS[section], f"<public page: {section}>", "exec"), namespace)  # noqa: S102
    finally:
        client.close()
        for value in namespace.values():
            if isinstance(value, runcrate.Runcrate):
                value.close()
    printed = out.getvalue()
    for expected in EXPECTED[section]:
        assert expected in printed, printed
    for name, start in OUTPUT_FILES.get(section, {}).items():
        assert (tmp_path / name).read_bytes().startswith(start)


def test_client_namespaces_carry_docs_and_names(emu: Any) -> None:
    client = emu.make_client()
    assert client.instances.list.__name__ == "list_instances"
    assert "List the environment's instances" in (client.instances.list.__doc__ or "")
    assert client.instances.list is client.instances.list  # bound once, then cached
    assert client.billing.usage.__wrapped__ is runcrate.get_usage
    client.close()


def test_client_shares_a_given_session(emu: Any) -> None:
    session = emu.make_session()
    client = runcrate.Runcrate(session=session)
    assert client.session is session and client.instances.session is session
    assert client.instances.list() == []
    client.close()
