"""Jobs: run, follow, wait, list, cancel, rerun, groups, and what each does when the server or the network fails."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

import runcrate

SPEC = {"command": "python train.py --epochs 3", "gpu_type": "H100", "max_runtime_minutes": 30}


def run(api: Any, **overrides: Any) -> runcrate.Job:
    return api("run_job", **{**SPEC, **overrides})


def wait(api: Any, job: runcrate.Job) -> runcrate.Job:
    return api("wait_for_job", job.id, poll_interval=0.05, max_poll_interval=0.1)


def test_a_job_runs_to_its_end_and_tells_what_it_did(api: Any) -> None:
    job = run(api, env={"SEED": "1"}, tags={"team": "vision"}, gpu_count=2)
    assert isinstance(job, runcrate.Job) and job.status == "queued" and not job.is_final
    assert job.env_keys == ["EMULATOR_TOKEN", "SEED"] and job.tags == {"team": "vision"} and job["id"] == job.id
    seen: List[str] = []
    final = api(
        "wait_for_job", job.id, poll_interval=0.05, max_poll_interval=0.1, on_status=lambda j: seen.append(j.status)
    )
    assert final.status == "succeeded" and final.exit_code == 0 and final.is_final
    assert seen[-1] == "succeeded" and seen.index("queued") < seen.index("running")
    assert final.started_at and final.ended_at and final.ended_at >= final.started_at
    assert final.attempts and final.attempts[0].status == "succeeded" and final.attempts[0].gpu_count == 2
    logs = api("get_job_logs", job.id)
    assert logs.done and logs.chunks[0].text == f"$ {SPEC['command']}\n" and logs.cursor == logs.chunks[-1].seq
    assert api("get_job_logs", job.id, after=logs.cursor).chunks == []
    events = api("list_job_events", job.id)
    assert events[0].kind == "created" and events[-1].kind == "exited" and isinstance(events[0].at, datetime)
    (point, *_) = api("get_job_metrics", job.id, step=60)
    assert len(point.gpus) == 2 and all(g.mem_used_mb <= g.mem_total_mb and 0 <= g.util <= 100 for g in point.gpus)
    assert [a.path for a in api("list_job_artifacts", job.id)] == ["result.txt"]


def test_a_command_that_exits_nonzero_fails_with_its_code(api: Any) -> None:
    final = wait(api, run(api, command="python train.py; exit 3", gpu_type=["A100", "H100:2"]))
    assert final.status == "failed" and final.exit_code == 3 and final.error
    assert [(c.gpu_type, c.gpu_count) for c in final.gpu_candidates or []] == [("A100", 1), ("H100", 2)]


@pytest.mark.parametrize(
    "overrides,error",
    [
        ({"command": None}, TypeError),
        ({"gpus": 1}, TypeError),
        ({"max_runtime_minutes": 0}, ValueError),
        ({"gpu_type": 4}, TypeError),
        ({"retry_on": "nonzero_exit"}, TypeError),
        ({"max_retries": 11}, ValueError),
    ],
)
def test_a_wrong_spec_is_refused_before_anything_is_sent(api: Any, emu: Any, overrides: Any, error: Any) -> None:
    with pytest.raises(error):
        run(api, **overrides)
    assert emu.count("POST /api/v1/jobs") == 0


def test_the_server_refuses_an_unknown_gpu(api: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError, match="Unknown GPU"):
        run(api, gpu_type="TPU")


def test_a_run_whose_answer_was_lost_is_resent_with_its_key_and_makes_one_job(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/jobs", method="POST", drop="after_body")
    job = run(api, idempotency_key="run-once-1")
    assert emu.idempotency_keys("POST /api/v1/jobs") == ["run-once-1", "run-once-1"]
    assert [j.id for j in api("list_jobs")] == [job.id]


def test_a_run_is_retried_on_server_errors_with_the_same_key(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/jobs", method="POST", status=502, count=2)
    run(api)
    keys = emu.idempotency_keys("POST /api/v1/jobs")
    assert len(keys) == 3 and len(set(keys)) == 1


def test_the_job_max_retries_is_the_jobs_own_not_the_sdks(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/jobs", method="POST", status=503, count=1)
    job = run(api, max_retries=0)
    assert job.max_retries == 0 and emu.count("POST /api/v1/jobs") == 2


def test_a_budget_reached_is_a_402_carrying_the_key(api: Any, emu: Any) -> None:
    emu.set_budget(50.0, spent=50.0)
    with pytest.raises(runcrate.InsufficientCreditsError) as info:
        run(api, idempotency_key="k-budget")
    assert info.value.code == "BUDGET_REACHED" and info.value.idempotency_key == "k-budget"
    with pytest.raises(runcrate.InsufficientCreditsError, match="budget"):
        api("create_instance", name="x", ssh_key_id="key_1", gpu_type="A100")
    emu.set_credits(0.0)
    emu.set_budget(None)
    with pytest.raises(runcrate.InsufficientCreditsError) as low:
        run(api)
    assert low.value.code == "insufficient_credits"


def test_a_rerun_overrides_merges_env_and_clears_with_none(api: Any) -> None:
    old = wait(api, run(api, env={"A": "1"}, webhook_url="https://hooks.example.com/runcrate/done"))
    again = api("rerun_job", old.id, env={"B": "2"}, webhook_url=None, idempotency_key="rerun-1")
    assert again.rerun_of == old.id and again.env_keys == ["A", "B", "EMULATOR_TOKEN"] and again.webhook_url is None
    assert api("rerun_job", old.id, idempotency_key="rerun-1").id == again.id  # the same key answers the same job


def test_rerun_sends_none_as_null() -> None:
    call = runcrate.rerun_job.call("job_1", webhook_url=None, max_runtime_minutes=5)
    assert call.body == {"webhook_url": None, "max_runtime_minutes": 5} and call.keyed and call.repeatable


def test_listing_filters_and_pages(api: Any, emu: Any) -> None:
    first = run(api, tags={"team": "a"}, name="alpha")
    second = run(api, tags={"team": "b"}, command="exit 2")
    third = run(api, tags={"team": "a", "size": "xl"})
    assert [j.id for j in api("list_jobs")] == [third.id, second.id, first.id]
    assert [j.id for j in api("list_jobs", tags={"team": "a", "size": "xl"})] == [third.id]
    assert [j.id for j in api("list_jobs", q="alpha")] == [first.id]
    wait(api, second)
    assert [j.id for j in api("list_jobs", status=["failed", "cancelled"])] == [second.id]
    page = api("list_jobs", limit=2)
    assert len(page) == 2 and page.has_more and page.meta.cursor
    rest = api("list_jobs", limit=2, cursor=page.cursor)
    assert [j.id for j in rest] == [first.id] and not rest.has_more
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert api("list_jobs", created_after=future) == []
    with pytest.raises(ValueError, match="offset"):
        api("list_jobs", created_after=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        api("list_jobs", status="sleeping")


def test_list_all_follows_the_cursor_and_stops_at_the_end(connect: Any, emu: Any) -> None:
    api = connect(emu.url)
    made = [run(api, name=f"j{i}").id for i in range(5)]
    before = emu.count("GET /api/v1/jobs")
    assert [j.id for j in api.items("list_all_jobs", page_size=2)] == made[::-1]
    assert emu.count("GET /api/v1/jobs") - before == 3


def test_cancel_and_delete_follow_the_job_state(api: Any, emu: Any) -> None:
    emu.state.job_seconds = 30
    live = run(api)
    with pytest.raises(runcrate.ConflictError, match="cancel it first"):
        api("delete_job", live.id)
    cancelled = api("cancel_job", live.id)
    assert cancelled.status == "cancelled" and api("cancel_job", live.id).status == "cancelled"
    assert api("delete_job", live.id) is None
    with pytest.raises(runcrate.NotFoundError):
        api("get_job", live.id)
    emu.state.job_seconds = 0.1
    done = wait(api, run(api))
    with pytest.raises(runcrate.ConflictError, match="already ended"):
        api("cancel_job", done.id)


def test_cancel_is_retried_as_harmless(api: Any, emu: Any) -> None:
    emu.state.job_seconds = 30
    job = run(api)
    emu.fail("/api/v1/jobs/*/cancel", status=500)
    assert api("cancel_job", job.id).status == "cancelled" and emu.count("POST /api/v1/jobs/{id}/cancel") == 2


def test_a_group_by_count_or_params(api: Any, emu: Any) -> None:
    group = api("run_job_group", **SPEC, count=3, max_parallel=2)
    assert isinstance(group, runcrate.SubmittedJobGroup) and group.count == 3 and len(group.jobs) == 3
    assert [j.job_index for j in group.jobs] == [0, 1, 2] and {j.group_id for j in group.jobs} == {group.id}
    swept = api("run_job_group", **SPEC, params=[{"LR": "0.1"}, {"LR": "0.01"}], env={"SEED": "1"})
    assert [j.env_keys for j in swept.jobs] == [["EMULATOR_TOKEN", "LR", "SEED"]] * 2
    assert len(api("list_jobs", group_id=swept.id)) == 2
    fetched = api("get_job_group", group.id)
    assert isinstance(fetched, runcrate.JobGroup) and sum((fetched.status_counts or {}).values()) == 3
    with pytest.raises(ValueError, match="exactly one of count and params"):
        api("run_job_group", **SPEC)
    with pytest.raises(runcrate.NotFoundError):
        api("get_job_group", "grp_missing")


def test_cancelling_a_group_leaves_no_live_job(api: Any, emu: Any) -> None:
    emu.state.job_seconds = 30
    group = api("run_job_group", **SPEC, count=2)
    counts = api("cancel_job_group", group.id).status_counts or {}
    assert counts == {"cancelled": 2}
    assert all(j.status == "cancelled" for j in api("list_jobs", group_id=group.id))


def test_follow_logs_reads_every_chunk_until_done(api: Any, emu: Any) -> None:
    emu.state.log_lines = 50
    job = run(api)
    chunks = api.items("follow_job_logs", job.id)
    assert chunks[0].text.startswith("$ ") and chunks[-1].text == "exit code 0\n"
    assert [c.seq for c in chunks] == list(range(1, 53))
    assert [c.seq for c in api.items("follow_job_logs", job.id, after=50)] == [51, 52]


def test_follow_logs_gives_up_after_its_timeout(api: Any, emu: Any) -> None:
    emu.state.job_seconds, emu.state.log_hold = 60, 0.1
    job = run(api)
    started = time.monotonic()
    with pytest.raises(runcrate.TimeoutError) as info:
        api.items("follow_job_logs", job.id, timeout=0.5)
    assert info.value.code == "follow_timeout" and time.monotonic() - started < 5


def test_wait_with_no_time_polls_once_and_hands_back_the_job(api: Any, emu: Any) -> None:
    emu.state.job_seconds = 60
    job = run(api)
    with pytest.raises(runcrate.JobWaitTimeoutError) as info:
        api("wait_for_job", job.id, timeout=0)
    assert isinstance(info.value, TimeoutError) and info.value.job.id == job.id and info.value.job.status == "queued"
    assert emu.count("GET /api/v1/jobs/{id}") == 1
    assert api("get_job", job.id).status in ("queued", "starting", "running")


def test_wait_for_a_missing_job_raises_not_found(api: Any) -> None:
    with pytest.raises(runcrate.NotFoundError):
        api("wait_for_job", "job_missing", poll_interval=0.01)


def test_a_job_in_another_environment_is_not_seen(connect: Any, emu: Any) -> None:
    main, staging = connect(emu.url), connect(emu.url, environment="staging")
    job = run(main)
    assert staging("list_jobs") == []
    with pytest.raises(runcrate.NotFoundError):
        staging("get_job", job.id)


def test_job_calls_on_the_clients(emu: Any) -> None:
    import asyncio

    import runcrate_async

    with emu.make_client() as client:
        job = client.jobs.run(**SPEC)
        assert client.jobs.wait(job.id, poll_interval=0.05).status == "succeeded"
        assert [c.text for c in client.jobs.follow_logs(job.id)][-1] == "exit code 0\n"
        assert client.jobs.artifacts.url(job.id, "result.txt").startswith(emu.url)
        with pytest.raises(TypeError, match="unexpected keyword argument 'gpus'"):
            client.jobs.run(**SPEC, gpus=2)

    async def main() -> List[str]:
        async with runcrate_async.AsyncRuncrate(api_key=emu.api_key, base_url=emu.url) as aclient:
            job = await aclient.jobs.run(**SPEC)
            statuses: List[str] = []

            async def record(polled: runcrate.Job) -> None:
                statuses.append(polled.status)

            await aclient.jobs.wait(job.id, poll_interval=0.05, on_status=record)
            newest_first = [j.id async for j in aclient.jobs.list_all()]
            assert newest_first[0] == job.id and len(newest_first) == 2
            return statuses

    assert asyncio.run(main())[-1] == "succeeded"
