"""Schedules: created once or on a cron, changed, paused, run now; times sent as UTC instants."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import runcrate

JOB_SPEC = {"command": "python nightly.py", "gpu_type": "A100", "max_runtime_minutes": 60}
INSTANCE_SPEC = {"name": "nightly-box", "ssh_key_id": "key_1", "gpu_type": "A100", "max_runtime_minutes": 60}


@pytest.mark.parametrize(
    "given,sent",
    [
        (datetime(2026, 12, 24, 20, 30, 1, 123456, tzinfo=timezone(timedelta(hours=2))), "2026-12-24T18:30:01.123Z"),
        ("2026-12-24T18:30:00Z", "2026-12-24T18:30:00.000Z"),
        ("2026-12-24T13:30:00-05:00", "2026-12-24T18:30:00.000Z"),
    ],
)
def test_run_at_is_sent_as_a_utc_instant(given: Any, sent: str) -> None:
    call = runcrate.create_schedule.call(kind="job", spec=JOB_SPEC, run_at=given)
    assert call.body["run_at"] == sent and "cron" not in call.body and "timezone" not in call.body
    assert runcrate.update_schedule.call("sch_1", run_at=given).body == {"run_at": sent}


@pytest.mark.parametrize("naive", [datetime(2026, 12, 24, 18, 30), "2026-12-24T18:30:00", "tomorrow"])
def test_a_time_without_an_offset_is_refused_before_sending(api: Any, emu: Any, naive: Any) -> None:
    with pytest.raises(ValueError):
        api("create_schedule", kind="job", spec=JOB_SPEC, run_at=naive)
    assert emu.count("POST /api/v1/schedules") == 0


def test_exactly_one_timing_and_a_known_kind(api: Any) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        api("create_schedule", kind="job", spec=JOB_SPEC)
    with pytest.raises(ValueError):
        api("create_schedule", kind="job", spec=JOB_SPEC, cron="0 3 * * *", run_at="2026-12-24T18:30:00Z")
    with pytest.raises(ValueError, match="kind"):
        api("create_schedule", kind="crate", spec=JOB_SPEC, cron="0 3 * * *")
    with pytest.raises(ValueError, match="at least one"):
        api("update_schedule", "sch_1")


def test_a_schedule_lifecycle(api: Any, emu: Any) -> None:
    nightly = api(
        "create_schedule", kind="job", spec=JOB_SPEC, cron="0 3 * * *", timezone="Europe/Paris", name="nightly"
    )
    assert isinstance(nightly, runcrate.Schedule) and nightly.cron == "0 3 * * *" and nightly.enabled
    assert nightly.timezone == "Europe/Paris" and nightly.overlap == "skip" and nightly.run_count == 0
    assert emu.idempotency_keys("POST /api/v1/schedules")  # keyed, though not resent
    once = api("create_schedule", kind="instance", spec=INSTANCE_SPEC, run_at="2030-01-01T00:00:00Z", enabled=False)
    assert once.run_at == datetime(2030, 1, 1, tzinfo=timezone.utc) and once.enabled is False
    assert [s.id for s in api("list_schedules")] == [once.id, nightly.id]
    paused = api("update_schedule", nightly.id, enabled=False, overlap="allow")
    assert paused.enabled is False and paused.overlap == "allow" and api("get_schedule", nightly.id).enabled is False
    switched = api("update_schedule", nightly.id, run_at=datetime(2031, 1, 1, tzinfo=timezone.utc))
    assert switched.cron is None and switched.run_at == datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert api("delete_schedule", nightly.id) is None
    with pytest.raises(runcrate.NotFoundError):
        api("get_schedule", nightly.id)


def test_run_now_launches_even_when_paused(api: Any) -> None:
    job_schedule = api("create_schedule", kind="job", spec=JOB_SPEC, cron="0 3 * * *", enabled=False)
    ran = api("run_schedule_now", job_schedule.id)
    assert isinstance(ran, runcrate.ScheduleRun) and isinstance(ran.job, runcrate.Job) and ran.instance is None
    assert ran.job["command"] == JOB_SPEC["command"] and ran.schedule.run_count == 1
    assert ran.schedule.last_job_id == ran.job.id and api("get_job", ran.job.id).id == ran.job.id
    box = api("create_schedule", kind="instance", spec=INSTANCE_SPEC, run_at="2030-01-01T00:00:00Z")
    launched = api("run_schedule_now", box.id)
    assert isinstance(launched.instance, runcrate.Instance) and launched.job is None


def test_run_now_is_never_resent_once_it_may_have_arrived(api: Any, emu: Any) -> None:
    schedule = api("create_schedule", kind="job", spec=JOB_SPEC, cron="0 3 * * *")
    emu.fail("/api/v1/schedules/*/run-now", status=500)
    with pytest.raises(runcrate.InternalServerError):
        api("run_schedule_now", schedule.id)
    assert emu.count("POST /api/v1/schedules/{id}/run-now") == 1
    assert runcrate.run_schedule_now.call("s").min_timeout >= 75


def test_the_server_checks_the_spec(api: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError, match="max_runtime_minutes"):
        api("create_schedule", kind="job", spec={"command": "x", "gpu_type": "A100"}, cron="0 3 * * *")
    with pytest.raises(runcrate.UnprocessableEntityError, match="5 fields"):
        api("create_schedule", kind="job", spec=JOB_SPEC, cron="every night")


def test_schedules_on_the_client_and_their_json(emu: Any) -> None:
    with emu.make_client() as client:
        made = client.schedules.create(kind="job", spec=JOB_SPEC, run_at="2030-06-01T12:00:00+00:00")
        assert client.schedules.get(made.id).spec == JOB_SPEC
        assert json.loads(made.to_json())["run_at"] == "2030-06-01T12:00:00Z"
        assert client.schedules.run_now(made.id).job is not None
