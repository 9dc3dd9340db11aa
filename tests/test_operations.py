"""The operation registry: every endpoint has a test row, an async twin, a client method and a README row."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import pytest
from test_infrastructure import OPERATIONS as INFRASTRUCTURE

import runcrate
import runcrate_async

INFERENCE: Dict[str, Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = {
    "generate_image": ("POST /v1/images/generations", (), {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "p"}),
    "generate_video": ("POST /v1/videos", (), {"model": "google/veo-3.0", "prompt": "p"}),
    "get_video_status": ("GET /v1/videos/*", ("vid_1",), {}),
    "download_video": ("GET /v1/videos/*/download", ("vid_1",), {}),
    "text_to_speech": ("POST /v1/audio/speech", (), {"model": "hexgrad/Kokoro-82M", "input": "hi"}),
    "transcribe": ("POST /v1/audio/transcriptions", (), {"model": "openai/whisper-1", "file": b"RIFF...."}),
    "list_models": ("GET /v1/models", (), {}),
}
WORKSPACE: Dict[str, Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = {
    "list_environments": ("GET /api/v1/environments", (), {}),
    "create_environment": ("POST /api/v1/environments", (), {"name": "staging"}),
    "get_environment": ("GET /api/v1/environments/*", ("env_1",), {}),
    "update_environment": ("PATCH /api/v1/environments/*", ("env_1",), {"name": "prod"}),
    "delete_environment": ("DELETE /api/v1/environments/*", ("env_1",), {}),
    "list_secrets": ("GET /api/v1/secrets", (), {}),
    "list_crates": ("GET /api/v1/crates", (), {}),
    "create_crate": ("POST /api/v1/crates", (), {"name": "c"}),
    "get_crate": ("GET /api/v1/crates/*", ("crate_1",), {}),
    "delete_crate": ("DELETE /api/v1/crates/*", ("crate_1",), {}),
    "top_up": ("POST /api/v1/billing/topups", (), {"amount_usd": 20}),
    "get_auto_recharge": ("GET /api/v1/billing/auto-recharge", (), {}),
    "set_auto_recharge": (
        "PUT /api/v1/billing/auto-recharge",
        (),
        {"enabled": True, "threshold_usd": 1, "target_usd": 2},
    ),
    "list_payment_methods": ("GET /api/v1/billing/payment-methods", (), {}),
}
SPEC = {"command": "echo", "gpu_type": "H100", "max_runtime_minutes": 5}
JOBS: Dict[str, Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = {
    "create_schedule": ("POST /api/v1/schedules", (), {"kind": "job", "spec": SPEC, "cron": "0 3 * * *"}),
    "list_schedules": ("GET /api/v1/schedules", (), {}),
    "get_schedule": ("GET /api/v1/schedules/*", ("sch_1",), {}),
    "update_schedule": ("PATCH /api/v1/schedules/*", ("sch_1",), {"enabled": False}),
    "delete_schedule": ("DELETE /api/v1/schedules/*", ("sch_1",), {}),
    "run_schedule_now": ("POST /api/v1/schedules/*/run-now", ("sch_1",), {}),
    "run_job": ("POST /api/v1/jobs", (), SPEC),
    "run_job_group": ("POST /api/v1/jobs", (), {**SPEC, "count": 2}),
    "rerun_job": ("POST /api/v1/jobs/*/rerun", ("job_1",), {}),
    "list_jobs": ("GET /api/v1/jobs", (), {}),
    "get_job": ("GET /api/v1/jobs/*", ("job_1",), {}),
    "cancel_job": ("POST /api/v1/jobs/*/cancel", ("job_1",), {}),
    "delete_job": ("DELETE /api/v1/jobs/*", ("job_1",), {}),
    "get_job_logs": ("GET /api/v1/jobs/*/logs", ("job_1",), {}),
    "list_job_events": ("GET /api/v1/jobs/*/events", ("job_1",), {}),
    "get_job_metrics": ("GET /api/v1/jobs/*/metrics", ("job_1",), {}),
    "list_job_artifacts": ("GET /api/v1/jobs/*/artifacts", ("job_1",), {}),
    "get_job_artifact_url": ("GET /api/v1/jobs/*/artifacts/*", ("job_1", "out/model.bin"), {}),
    "create_job_upload": ("POST /api/v1/jobs/uploads", (), {"bytes": 10, "sha256": "a" * 64}),
    "get_job_group": ("GET /api/v1/job-groups/*", ("grp_1",), {}),
    "cancel_job_group": ("POST /api/v1/job-groups/*/cancel", ("grp_1",), {}),
}
ERRORS = {**INFERENCE, **WORKSPACE, **JOBS}
ROWS = {**INFRASTRUCTURE, **ERRORS}
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def client_methods() -> Dict[str, str]:
    """operation name -> the client method that sends it (``instances.get``), read off the namespace table."""
    found: Dict[str, str] = {}
    kinds = [v for v in vars(runcrate).values() if isinstance(v, type) and issubclass(v, runcrate.Namespace)]
    for namespace in kinds:
        for attribute, value in vars(namespace).items():
            if isinstance(value, runcrate.bound) and isinstance(value.fn, runcrate.Operation):
                found.setdefault(value.fn.__name__, f"{namespace.path}.{attribute}")
    return found


def test_every_operation_has_a_test_row() -> None:
    assert set(ROWS) == set(runcrate.OPERATIONS)


@pytest.mark.parametrize("name", sorted(runcrate.OPERATIONS))
def test_every_operation_has_an_async_twin_and_a_client_method(name: str) -> None:
    operation = runcrate.OPERATIONS[name]
    twin = getattr(runcrate_async, name)
    assert isinstance(twin, runcrate_async.AsyncOperation) and twin.build is operation.build
    assert inspect.signature(twin) == inspect.signature(operation)
    assert name in client_methods(), f"{name} is in no namespace of the client"


@pytest.mark.parametrize("name", sorted(runcrate.OPERATIONS))
def test_every_operation_has_a_readme_row(name: str) -> None:
    assert re.search(rf"^\|.*`{name}`", README, re.MULTILINE), f"README's table lacks {name}"


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_operation_raises_the_typed_error_once(connect: Callable[..., Any], emu: Any, name: str) -> None:
    pattern, args, kwargs = ERRORS[name]
    method, path = pattern.split(" ")
    body = {"error": {"code": "nope", "message": "not here", "type": "invalid_request_error"}}
    emu.fail(path, method=method, status=404, body=body)
    with pytest.raises(runcrate.NotFoundError) as info:
        connect(emu.url)(name, *args, **kwargs)
    assert info.value.message == "not here" and info.value.request_id
    assert sum(count for route, count in emu.state.counts.items() if route.startswith(f"{method} {path[:7]}")) == 1


def test_the_models_list_names_every_kind(api: Any) -> None:
    models = api("list_models")
    assert isinstance(models, runcrate.ListPage) and models._request_id
    assert {"chat", "image", "video", "speech", "transcription"} <= {m.type for m in models}
    assert all(isinstance(m, runcrate.InferenceModel) and m.id for m in models)


def test_the_models_list_on_the_clients(emu: Any) -> None:
    import asyncio

    with emu.make_client() as client:
        assert [m.id for m in client.models.list()] == [m.id for m in runcrate.list_models(client.session)]

    async def main() -> int:
        async with runcrate_async.AsyncRuncrate(
            api_key=emu.api_key, base_url=emu.url, inference_url=emu.url
        ) as aclient:
            return len(await aclient.models.list())

    assert asyncio.run(main()) > 0
