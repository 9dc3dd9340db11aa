"""What a newcomer meets first: versions, messages, reprs, JSON of models, imports without extras."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

import runcrate
from runcrate_async import AsyncRuncrate

KEY = "rc_live_release_0000000000000"


def test_the_version_comes_after_the_official_0x_client() -> None:
    version = tuple(int(part) for part in runcrate.__version__.split("."))
    assert version > (0, 5, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.instances.create("x", "k", "A100"),
            "instances.create() takes 0 positional arguments but 3 were given",
        ),
        (lambda c: c.instances.get(), "instances.get() missing 1 required positional argument"),
        (lambda c: c.instances.get("a", "b"), "instances.get() takes 1 positional argument but 2 were given"),
        (lambda c: c.storage.list(1), "storage.list() takes 0 positional arguments but 1 was given"),
        (lambda c: c.billing.get_balance(nope=1), "billing.get_balance() got an unexpected keyword argument 'nope'"),
        (lambda c: c.chat.completions.create("m"), "chat.completions.create() takes 0 positional arguments"),
        (lambda c: c.audio.speech.create(model="m"), "audio.speech.create() missing 1 required keyword-only argument"),
    ],
)
def test_argument_errors_speak_of_the_client_method(call: Any, message: str) -> None:
    for client in (runcrate.Runcrate(api_key=KEY), AsyncRuncrate(api_key=KEY)):
        with pytest.raises(TypeError) as info:
            call(client)
        assert message in str(info.value)
        assert "_instance" not in str(info.value) and "session" not in str(info.value)


def test_an_error_inside_an_operation_is_not_relabelled() -> None:
    client = runcrate.Runcrate(api_key=KEY)
    with pytest.raises(TypeError, match="an id must be a string"):
        client.instances.get(42)


def test_models_go_to_json_and_back_with_iso_timestamps() -> None:
    instance = runcrate.decode(
        runcrate.Instance,
        {"id": "i", "name": "n", "status": "running", "createdAt": "2025-01-01T00:00:00Z", "newField": [1]},
    )
    as_dict = instance.to_dict()
    assert as_dict["created_at"] == "2025-01-01T00:00:00Z" and as_dict["newField"] == [1]
    assert json.loads(json.dumps(as_dict))["created_at"] == "2025-01-01T00:00:00Z"
    assert json.loads(instance.to_json())["created_at"] == "2025-01-01T00:00:00Z"
    assert instance.to_dict(encode_json=True)["created_at"] == "2025-01-01T00:00:00Z"
    for again in (runcrate.Instance.from_dict(as_dict), runcrate.Instance.from_json(instance.to_json())):
        assert again == instance and again.created_at == datetime(2025, 1, 1, tzinfo=timezone.utc)
    shifted = runcrate.decode(runcrate.Transaction, {"id": "t", "created_at": "2025-01-01T02:00:00+02:00"})
    assert shifted.to_dict()["created_at"] == "2025-01-01T02:00:00+02:00"


def test_repr_shortens_long_strings() -> None:
    image = runcrate.ImageData(b64_json="A" * 25_816)
    text = repr(image)
    assert len(text) < 200 and "25,816 characters" in text and text.startswith("ImageData(url=None, b64_json='AAAA")
    generation = runcrate.ImageGeneration(data=[image])
    assert len(repr(generation)) < 250
    assert (
        repr(runcrate.InstanceStatus(status="running", id="i")) == "InstanceStatus(status='running', id='i', ip=None)"
    )


IMPORT_WITHOUT_AIOHTTP = """
import sys
sys.modules["aiohttp"] = None  # as if aiohttp were not installed
import runcrate
try:
    from runcrate import AsyncRuncrate
except ModuleNotFoundError as error:
    print(error)
"""


def test_the_async_client_without_aiohttp_says_what_to_install() -> None:
    done = subprocess.run([sys.executable, "-c", IMPORT_WITHOUT_AIOHTTP], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'runcrate-sdk[async]'" in done.stdout
