"""Code written for the official client runs unchanged: its parameter names, its aliases, its page shape."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import pytest

import runcrate
import runcrate_async

KEY = "rc_live_dropin_00000000000000"


def test_ids_are_named_id_and_the_old_names_still_work(api: Any, emu: Any) -> None:
    created = api("create_instance", name="n", ssh_key_id="key_1", gpu_type="A100")
    for call in (lambda: api("get_instance", created.id), lambda: api("get_instance", id=created.id)):
        assert call().id == created.id
    assert api("get_instance", instance_id=created.id).id == created.id  # this SDK's earlier name
    volume = api("create_storage", name="v", size_gb=1, region="us-east-1")
    assert api("resize_storage", volume_id=volume.id, size_gb=2).size_gb == 2
    assert api("get_storage", id=volume.id).size_gb == 2
    with pytest.raises(TypeError, match=r"get_instance\(\) missing 1 required positional argument: 'id'"):
        api("get_instance", instance=created.id)


def test_client_methods_take_id_and_speak_of_themselves(emu: Any) -> None:
    with emu.make_client() as client:
        created = client.instances.create(name="n", ssh_key_id="key_1", gpu_type="A100")
        assert client.instances.get(id=created.id).id == created.id
        assert client.instances.get_status(instance_id=created.id).id == created.id
        with pytest.raises(TypeError, match=r"instances\.get\(\) missing 1 required positional argument: 'id'"):
            client.instances.get()
    assert list(inspect.signature(runcrate.Runcrate(api_key=KEY).instances.get).parameters)[:1] == ["id"]


def test_the_official_video_names(emu: Any, tmp_path: Any) -> None:
    with emu.make_client() as client:
        job = client.videos.generate(model="google/veo-3.0", prompt="waves")
        assert client.videos.get_status(job.id).id == job.id
        final = client.videos.generate_and_save(tmp_path / "v.mp4", model="google/veo-3.0", prompt="w", poll_interval=0)
        assert final.status == "completed" and (tmp_path / "v.mp4").stat().st_size > 0


def test_a_page_has_data_and_meta(api: Any) -> None:
    page = api("list_templates", page_size=2)
    assert isinstance(page, runcrate.PaginatedResponse) and page.data == list(page)
    assert page.meta.has_more is page.has_more and page.meta.total == page.total and page.meta.cursor is None


def test_a_multimodal_message_decodes() -> None:
    answer = {
        "id": "c",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "name": "bot", "content": [{"type": "text", "text": "hi"}]}}
        ],
    }
    message = runcrate.decode(runcrate.ChatCompletion, answer).choices[0].message
    assert message.content == [{"type": "text", "text": "hi"}] and message.name == "bot"


@pytest.mark.parametrize("make", [runcrate.Runcrate, runcrate_async.AsyncRuncrate, runcrate.Session])
def test_none_means_the_default(make: Callable[..., Any]) -> None:
    made = make(api_key=KEY, timeout=None, max_retries=None)
    session = getattr(made, "session", made)
    assert session.timeout == runcrate.DEFAULT_TIMEOUT and session.max_retries == runcrate.DEFAULT_MAX_RETRIES
    derived = session.with_options(timeout=None, max_retries=None)
    assert derived.timeout == runcrate.DEFAULT_TIMEOUT and derived.max_retries == runcrate.DEFAULT_MAX_RETRIES
