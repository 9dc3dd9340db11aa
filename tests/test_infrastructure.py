"""Every infrastructure operation against the emulator: what it returns, and how it fails."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Dict, Tuple

import pytest

import runcrate

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop"


def make_instance(api: Any, **overrides: Any) -> runcrate.Instance:
    fields: Dict[str, Any] = {"name": "training-run", "ssh_key_id": "key_1", "gpu_type": "A100"}
    fields.update(overrides)
    return api("create_instance", **fields)


def test_instances_lifecycle(api: Any, emu: Any) -> None:
    emu.state.start_delay = (0.2, 0.2)
    inst = make_instance(api, gpu_count=2, startup_commands=["pip install torch"], max_runtime_minutes=120)
    assert isinstance(inst, runcrate.Instance)
    assert inst.status == "deploying" and inst.ip is None
    assert inst.gpu_type == "A100" and inst.gpu_count == 2
    assert isinstance(inst.cost_per_hour, float) and inst.cost_per_hour > 0
    assert isinstance(inst.created_at, datetime) and inst.created_at.tzinfo is not None
    assert inst.max_runtime_minutes == 120

    status = api("get_instance_status", inst.id)
    assert isinstance(status, runcrate.InstanceStatus) and status.status == "deploying"
    import time

    time.sleep(0.25)
    status = api("get_instance_status", inst.id)
    assert status.status == "running" and status.ip

    fetched = api("get_instance", inst.id)
    assert fetched.id == inst.id and fetched.status == "running"
    assert [i.id for i in api("list_instances")] == [inst.id]

    assert api("terminate_instance", inst.id) is None
    assert api("get_instance_status", inst.id).status == "terminated"
    assert api("list_instances") == []


def test_list_instances_search_is_a_name_substring(api: Any) -> None:
    make_instance(api, name="Training-A")
    make_instance(api, name="inference-b")
    page = api("list_instances", search="TRAIN")
    assert [i.name for i in page] == ["Training-A"]
    assert page.total == 1 and page.has_more is False


def test_instance_types_filter_and_shape(api: Any) -> None:
    types = api("list_instance_types", gpu_type="A100", gpu_count=2)
    assert len(types) > 0
    for t in types:
        assert isinstance(t, runcrate.InstanceType)
        assert "A100" in t.gpu_type and t.gpu_count == 2
        assert isinstance(t.hourly_rate, float) and isinstance(t.memory_gb, float)
    chosen = types[0]
    inst = make_instance(api, gpu_type=None, instance_type_id=chosen.id)
    assert inst.gpu_type == chosen.gpu_type and inst.cost_per_hour == chosen.hourly_rate


def test_update_instance_changes_only_what_is_given(api: Any) -> None:
    inst = make_instance(api, max_runtime_minutes=60, idle_shutdown_minutes=30)
    updated = api("update_instance", inst.id, max_runtime_minutes=90)
    assert updated.max_runtime_minutes == 90 and updated.idle_shutdown_minutes == 30
    assert updated.auto_stop_at is not None
    off = api("update_instance", inst.id, idle_shutdown_minutes=None)
    assert off.idle_shutdown_minutes is None and off.max_runtime_minutes == 90


def test_update_instance_without_limits_is_refused_before_sending(api: Any, emu: Any) -> None:
    with pytest.raises(ValueError, match="max_runtime_minutes or idle_shutdown_minutes"):
        api("update_instance", "inst_1")
    assert emu.count("PATCH /api/v1/instances/{id}") == 0


def test_update_terminated_instance_conflicts(api: Any) -> None:
    inst = make_instance(api)
    api("terminate_instance", inst.id)
    with pytest.raises(runcrate.ConflictError) as info:
        api("update_instance", inst.id, max_runtime_minutes=60)
    assert info.value.status_code == 409 and "terminated" in info.value.message


def test_ssh_keys(api: Any) -> None:
    key = api("create_ssh_key", name="my-laptop", public_key=KEY)
    assert isinstance(key, runcrate.SSHKey)
    assert key.name == "my-laptop" and key.fingerprint.startswith("SHA256:") and key.type == "ssh-ed25519"
    assert key.created_at is not None and key.project_id == "prj_emulator"
    assert [k.id for k in api("list_ssh_keys")] == [key.id]
    with pytest.raises(runcrate.ConflictError) as info:
        api("create_ssh_key", name="again", public_key=KEY)
    assert info.value.code == "conflict" and "already exists" in info.value.message
    assert api("delete_ssh_key", key.id) is None
    assert api("list_ssh_keys") == []
    with pytest.raises(runcrate.NotFoundError):
        api("delete_ssh_key", key.id)


def test_ssh_key_of_the_public_page_is_accepted(api: Any) -> None:
    key = api("create_ssh_key", name="my-laptop", public_key="ssh-ed25519 AAAA...")
    assert key.type == "ssh-ed25519"


def test_malformed_ssh_key_is_a_validation_error(api: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError) as info:
        api("create_ssh_key", name="bad", public_key="not-a-key")
    assert "public_key" in info.value.message


def test_storage_volume_lifecycle_and_billing(api: Any) -> None:
    regions = api("list_storage_regions")
    assert {r.name for r in regions} >= {"us-east-1"} and all(r.provider for r in regions)
    before = api("get_balance").credits_balance
    volume = api("create_storage", name="datasets", size_gb=100, region="us-east-1")
    assert isinstance(volume, runcrate.StorageVolume)
    assert volume.size_gb == 100 and volume.region == "us-east-1" and volume.provider_type == "aws-s3"
    charged = api("get_balance").credits_balance
    assert charged == pytest.approx(before - 100 * 0.03 * 7 / 30)
    assert api("get_storage", volume.id).name == "datasets"
    assert [v.id for v in api("list_storage", search="DATA")] == [volume.id]
    assert api("list_storage", search="nothing") == []

    grown = api("resize_storage", volume.id, size_gb=200)
    assert grown.size_gb == 200
    with pytest.raises(runcrate.UnprocessableEntityError) as info:
        api("resize_storage", volume.id, size_gb=150)
    assert "grow" in info.value.message

    result = api("delete_storage", volume.id)
    assert isinstance(result, runcrate.StorageDeleteResult)
    assert isinstance(result.refund_amount, float) and result.refund_amount > 0
    with pytest.raises(runcrate.NotFoundError):
        api("get_storage", volume.id)
    kinds = [t.type for t in api("list_transactions", limit=10)]
    assert kinds[:3] == ["refund", "usage", "usage"]


def test_unknown_storage_region_is_a_validation_error(api: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError) as info:
        api("create_storage", name="x", size_gb=10, region="mars-1")
    assert "mars-1" in info.value.message


def test_balance_falls_with_usage(api: Any, emu: Any) -> None:
    balance = api("get_balance")
    assert isinstance(balance, runcrate.Balance)
    assert balance.credits_balance == 100.0 and balance.active_usage_cost == 0.0 and balance.runway_hours is None
    inst = make_instance(api)
    import time

    time.sleep(0.05)
    running = api("get_balance")
    assert running.burn_usd_per_hour == inst.cost_per_hour
    assert running.active_usage_cost > 0 and running.floating_balance_usd < 100.0
    api("terminate_instance", inst.id)
    usage = api("list_transactions", type="usage")
    assert len(usage) == 1 and usage[0].amount < 0


def test_transactions_page(api: Any) -> None:
    for size in (10, 20, 30):
        api("create_storage", name=f"v{size}", size_gb=size, region="us-east-1")
    first = api("list_transactions", limit=2)
    assert len(first) == 2 and first.total == 4 and first.has_more is True
    rest = api("list_transactions", limit=2, offset=2)
    assert len(rest) == 2 and rest.has_more is False
    assert {t.id for t in first}.isdisjoint(t.id for t in rest)
    assert all(isinstance(t.amount, float) for t in [*first, *rest])


def test_usage_summary(api: Any) -> None:
    usage = api("get_usage", from_date="2025-01-01", to_date="2025-01-31")
    assert isinstance(usage, runcrate.UsageSummary)
    assert isinstance(usage.total_cost, float) and isinstance(usage.total_tokens, int)
    with pytest.raises(runcrate.BadRequestError):
        api("get_usage", from_date="January")


def test_templates_paginate_with_total(api: Any) -> None:
    found = api("list_templates", search="pytorch", category="ml")
    assert found.total == 3 and all("PyTorch" in t.name and t.category == "ml" for t in found)
    everything = api("list_templates", page_size=10)
    assert len(everything) == 10 and everything.total > 10 and everything.has_more
    last_page = (everything.total + 9) // 10
    tail = api("list_templates", page=last_page, page_size=10)
    assert tail.has_more is False and len(tail) == everything.total - 10 * (last_page - 1)
    ordered = api("list_templates", sort_by="name", sort_dir="desc", page_size=100)
    assert [t.name for t in ordered] == sorted((t.name for t in ordered), reverse=True)


def test_environments_separate_scoped_resources(connect: Callable[..., Any], emu: Any) -> None:
    staging = connect(emu.url, environment="staging")
    prod = connect(emu.url, environment="production")
    make_instance(staging, name="only-staging")
    staging("create_storage", name="stage-data", size_gb=10, region="us-east-1")
    assert [i.name for i in staging("list_instances")] == ["only-staging"]
    assert prod("list_instances") == [] and prod("list_storage") == []
    prod("create_ssh_key", name="shared", public_key=KEY)
    assert [k.name for k in staging("list_ssh_keys")] == ["shared"]  # workspace-wide


# --- every documented error status, through every operation ---------------

OPERATIONS: Dict[str, Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = {
    "list_instances": ("GET /api/v1/instances", (), {}),
    "list_instance_types": ("GET /api/v1/instances/types", (), {}),
    "create_instance": ("POST /api/v1/instances", (), {"name": "n", "ssh_key_id": "k", "gpu_type": "A100"}),
    "get_instance": ("GET /api/v1/instances/*", ("inst_1",), {}),
    "update_instance": ("PATCH /api/v1/instances/*", ("inst_1",), {"max_runtime_minutes": 60}),
    "get_instance_status": ("GET /api/v1/instances/*/status", ("inst_1",), {}),
    "terminate_instance": ("DELETE /api/v1/instances/*", ("inst_1",), {}),
    "list_ssh_keys": ("GET /api/v1/ssh-keys", (), {}),
    "create_ssh_key": ("POST /api/v1/ssh-keys", (), {"name": "n", "public_key": KEY}),
    "delete_ssh_key": ("DELETE /api/v1/ssh-keys/*", ("key_1",), {}),
    "list_storage_regions": ("GET /api/v1/storage/regions", (), {}),
    "list_storage": ("GET /api/v1/storage", (), {}),
    "get_storage": ("GET /api/v1/storage/*", ("vol_1",), {}),
    "create_storage": ("POST /api/v1/storage", (), {"name": "n", "size_gb": 1, "region": "us-east-1"}),
    "resize_storage": ("PATCH /api/v1/storage/*", ("vol_1",), {"size_gb": 2}),
    "delete_storage": ("DELETE /api/v1/storage/*", ("vol_1",), {}),
    "get_balance": ("GET /api/v1/billing/balance", (), {}),
    "list_transactions": ("GET /api/v1/billing/transactions", (), {}),
    "get_usage": ("GET /api/v1/billing/usage", (), {}),
    "list_templates": ("GET /api/v1/templates", (), {}),
}

STATUSES = {
    400: runcrate.BadRequestError,
    401: runcrate.AuthenticationError,
    402: runcrate.InsufficientCreditsError,
    403: runcrate.PermissionDeniedError,
    404: runcrate.NotFoundError,
    409: runcrate.ConflictError,
    422: runcrate.UnprocessableEntityError,
    429: runcrate.RateLimitError,
    500: runcrate.InternalServerError,
    502: runcrate.InternalServerError,
    503: runcrate.InternalServerError,
    504: runcrate.InternalServerError,
    418: runcrate.ApiError,
}


@pytest.mark.parametrize("op", sorted(OPERATIONS))
@pytest.mark.parametrize("status", sorted(STATUSES))
def test_error_status_becomes_its_exception(connect: Callable[..., Any], emu: Any, op: str, status: int) -> None:
    pattern, args, kwargs = OPERATIONS[op]
    method, path = pattern.split(" ")
    body = {"error": {"code": f"code_{status}", "message": f"server says {status}", "details": {"field": "x"}}}
    emu.fail(path, method=method, status=status, body=body)
    api = connect(emu.url, max_retries=0)
    with pytest.raises(STATUSES[status]) as info:
        api(op, *args, **kwargs)
    error = info.value
    assert type(error) is STATUSES[status]
    assert error.status_code == status and error.code == f"code_{status}"
    assert error.message == f"server says {status}" and error.details == {"field": "x"}
    assert error.request_id and error.request_id.startswith("req_")
    assert f"server says {status}" in str(error)
    route = next(r for r in emu.state.counts if r.startswith(method + " "))
    assert emu.state.counts[route] == 1


def test_missing_or_unknown_key_is_authentication_error(connect: Callable[..., Any], emu: Any) -> None:
    emu.state.api_keys = {"rc_live_only_this_key_0000"}
    try:
        with pytest.raises(runcrate.AuthenticationError) as info:
            connect(emu.url, api_key="rc_live_some_other_key_000")("list_instances")
        assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
        assert connect(emu.url, api_key="rc_live_only_this_key_0000")("list_instances") == []
    finally:
        emu.state.api_keys = None


def test_insufficient_credits_on_launch(api: Any, emu: Any) -> None:
    emu.set_credits(0.5)
    with pytest.raises(runcrate.InsufficientCreditsError) as info:
        make_instance(api)
    assert info.value.status_code == 402 and "credits" in info.value.message
    assert api("list_instances") == []


def test_server_validation_messages_reach_the_caller(api: Any, emu: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError) as info:
        make_instance(api, gpu_type="B9000")
    assert info.value.message == "Unknown gpu_type: B9000"
    with pytest.raises(runcrate.BadRequestError) as bad:
        api("create_instance", name="no-key", gpu_type="A100")
    assert "ssh_key_id" in bad.value.message


def test_unknown_fields_are_kept(api: Any, emu: Any) -> None:
    inst = make_instance(api, template="pytorch")
    assert inst.extra["template"] == "pytorch"
    assert inst.template == "pytorch"  # readable as an attribute too
    assert inst.to_dict()["template"] == "pytorch"
    assert json.loads(inst.to_json())["ssh_key_id"] == "key_1"
