"""Decoding wire objects into models, and the models' dataclasses-json side."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timezone

import pytest

import runcrate


def test_wire_spellings_both_read() -> None:
    camel = runcrate.decode(
        runcrate.StorageVolume, {"id": "v", "name": "n", "sizeGb": 100, "createdAt": "2025-01-01T00:00:00Z"}
    )
    snake = runcrate.decode(
        runcrate.StorageVolume, {"id": "v", "name": "n", "size_gb": 100, "created_at": "2025-01-01T00:00:00Z"}
    )
    assert camel == snake and camel.size_gb == 100 and camel.extra == {}
    txn = runcrate.decode(runcrate.Transaction, {"id": "t", "projectId": "p", "createdAt": "2025-01-01T00:00:00+02:00"})
    assert txn.project_id == "p" and txn.created_at.utcoffset().total_seconds() == 7200


def test_numbers_take_the_types_of_the_api() -> None:
    balance = runcrate.decode(runcrate.Balance, {"creditsBalance": 20, "activeUsageCost": 0})
    assert balance.credits_balance == 20.0 and isinstance(balance.credits_balance, float)
    assert f"${balance.credits_balance}" == "$20.0"
    inst = runcrate.decode(
        runcrate.Instance, {"id": "i", "name": "n", "status": "s", "gpu_count": 8.0, "memory": 128.0}
    )
    assert inst.gpu_count == 8 and isinstance(inst.gpu_count, int) and isinstance(inst.memory, int)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-31T10:20:30Z",
        "2025-01-31T10:20:30.1Z",
        "2025-01-31T10:20:30.123456789Z",
        "2025-01-31T10:20:30+00:00",
        "2025-01-31T10:20:30",
    ],
)
def test_timestamps_become_aware_datetimes(text: str) -> None:
    inst = runcrate.decode(runcrate.Instance, {"id": "i", "name": "n", "status": "s", "created_at": text})
    assert inst.created_at is not None and inst.created_at.tzinfo is not None
    assert inst.created_at.replace(microsecond=0) == datetime(2025, 1, 31, 10, 20, 30, tzinfo=timezone.utc)


def test_missing_optional_fields_are_none_and_unknown_fields_kept() -> None:
    inst = runcrate.decode(runcrate.Instance, {"id": "i", "name": "n", "status": "running", "new_thing": {"a": 1}})
    assert inst.ip is None and inst.created_at is None
    assert inst.extra == {"new_thing": {"a": 1}} and inst.new_thing == {"a": 1}
    with pytest.raises(AttributeError):
        inst.not_there  # noqa: B018


@pytest.mark.parametrize(
    "wire",
    [
        {"name": "n", "status": "s"},
        {"id": None, "name": "n", "status": "s"},
        {"id": "i", "name": "n", "status": "s", "gpu_count": "many"},
        {"id": "i", "name": "n", "status": "s", "gpu_count": 1.5},
        {"id": "i", "name": "n", "status": "s", "created_at": "yesterday"},
        {"id": "i", "name": "n", "status": "s", "cost_per_hour": True},
        {"id": ["i"], "name": "n", "status": "s"},
        ["not", "an", "object"],
        None,
    ],
)
def test_wrong_shapes_are_invalid_response(wire: object) -> None:
    with pytest.raises(runcrate.ApiError) as info:
        runcrate.decode(runcrate.Instance, wire)
    assert info.value.code == "invalid_response"


def test_round_trip_through_dataclasses_json() -> None:
    wire = {"id": "v", "name": "n", "sizeGb": 5, "createdAt": "2025-01-01T00:00:00Z", "mystery": [1, 2]}
    volume = runcrate.decode(runcrate.StorageVolume, wire)
    as_dict = volume.to_dict()
    assert as_dict["size_gb"] == 5 and as_dict["mystery"] == [1, 2] and "extra" not in as_dict
    assert runcrate.StorageVolume.from_dict(as_dict) == volume
    again = runcrate.StorageVolume.from_json(volume.to_json())
    assert again.mystery == [1, 2] and again.size_gb == 5


def test_list_page_behaves_like_a_list() -> None:
    page = runcrate.ListPage([1, 2, 3], total=10, has_more=True, cursor="c")
    assert len(page) == 3 and page[1] == 2 and list(page) == [1, 2, 3] and page == [1, 2, 3]
    assert page.total == 10 and page.has_more and page.cursor == "c"
    assert "total=10" in repr(page)


def test_errors_pickle_with_their_attributes() -> None:
    error = runcrate.NotFoundError("Gone", status_code=404, code="not_found", details={"a": 1}, request_id="req_1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is runcrate.NotFoundError and copy.code == "not_found" and copy.request_id == "req_1"
    assert copy.details == {"a": 1} and str(copy) == str(error)


def test_error_hierarchy_of_the_public_page() -> None:
    for cls in (
        runcrate.BadRequestError,
        runcrate.AuthenticationError,
        runcrate.InsufficientCreditsError,
        runcrate.PermissionDeniedError,
        runcrate.NotFoundError,
        runcrate.ConflictError,
        runcrate.UnprocessableEntityError,
        runcrate.RateLimitError,
        runcrate.InternalServerError,
    ):
        assert issubclass(cls, runcrate.ApiError) and issubclass(cls, runcrate.RuncrateError)
    assert issubclass(runcrate.ConnectionError, ConnectionError)
    assert issubclass(runcrate.TimeoutError, TimeoutError)
    assert issubclass(runcrate.ConnectionError, runcrate.RuncrateError)
    error = runcrate.TimeoutError("slow", code="read_timeout")
    assert str(error) == "read_timeout: slow" and error.status_code is None


def test_importing_runcrate_loads_neither_aiohttp_nor_dataclasses_json() -> None:
    import subprocess
    import sys

    names = "'aiohttp', 'dataclasses_json', 'marshmallow', 'dataclasses'"  # the models are made on first use
    code = f"import sys, runcrate; print(*(m in sys.modules for m in ({names})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"] * 4


def test_a_model_becomes_a_dataclass_on_its_first_use_as_one() -> None:
    import dataclasses
    import subprocess
    import sys

    code = (
        "import runcrate as rc\n"
        "t = rc.Transcription(text='hi')\n"  # made by being constructed
        "assert t == rc.Transcription(text='hi') and t != rc.Transcription(text='no')\n"
        "g = rc.SubmittedJobGroup(id='g', count=1, created_at=None)\n"  # a subclass makes its base too
        "assert g.jobs == [] and rc.JobGroup(id='g', count=1, created_at=None) != g\n"
        "print(sorted(f.name for f in __import__('dataclasses').fields(rc.JobLogs)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(["job_id", "chunks", "cursor", "status", "truncated", "done", "extra"]))
    assert dataclasses.is_dataclass(runcrate.Schedule) and runcrate.Schedule.__hash__ is None
    with pytest.raises(TypeError):
        runcrate.Job(id="j")  # type: ignore[call-arg]


def test_absent_fields_take_their_declared_defaults() -> None:
    assert runcrate.decode(runcrate.Secret, {"key": "A"}).sensitive is False
    assert runcrate.decode(runcrate.InferenceModel, {"id": "m"}).object == "model"
    wire = {"id": "g", "count": 1, "created_at": "2026-01-01T00:00:00Z"}
    group, other = runcrate.decode(runcrate.SubmittedJobGroup, wire), runcrate.decode(runcrate.SubmittedJobGroup, wire)
    assert group.jobs == [] and group.jobs is not other.jobs  # a new list each


def test_objects_of_one_shape_still_have_each_value_checked() -> None:
    # The second object has the first one's keys and value types, so it takes the shape seen first.
    decode = runcrate.decode_page(runcrate.Instance)
    base = {"id": "i", "name": "n", "status": "s"}
    for good, bad in [
        ({"gpu_count": 8.0}, {"gpu_count": 1.5}),
        ({"created_at": "2025-01-01T00:00:00Z"}, {"created_at": "yesterday"}),
    ]:
        with pytest.raises((TypeError, ValueError)):
            decode({"data": [{**base, **good}, {**base, **bad}]})
        with pytest.raises(runcrate.ApiError):
            runcrate.decode(runcrate.Instance, {**base, **bad})
    page = decode({"data": [{**base, "gpu_count": 8.0}, {**base, "gpu_count": 2.0, "ip": None}]})
    assert [i.gpu_count for i in page] == [8, 2] and all(type(i.gpu_count) is int for i in page)


def test_nested_lists_of_one_answer_are_checked_object_by_object() -> None:
    decode = runcrate.decode_page(runcrate.Job)
    attempt = {
        "attempt": 1,
        "status": "failed",
        "gpu_type": "A100",
        "gpu_count": 1,
        "started_at": "2026-01-01T00:00:00",
    }
    job = {"id": "j", "name": "a", "status": "queued", "command": "ls", "gpu_type": "A100", "gpu_count": 1}
    job.update(max_runtime_minutes=60, created_at="2026-01-01T00:00:00Z")
    jobs = [{**job, "env_keys": ["A", 2], "attempts": [{**attempt}, {**attempt, "attempt": 2}]} for _ in range(3)]
    page = decode({"data": copy.deepcopy(jobs)})
    assert [a.attempt for a in page[2].attempts] == [1, 2] and page[0].env_keys == ["A", "2"]
    assert page[1].attempts[1].started_at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    for bad in [{"started_at": "later"}, {"gpu_count": 1.5}]:
        wrong = copy.deepcopy(jobs)
        wrong[2]["attempts"][1].update(bad)  # the shape of the attempts before it: still checked
        with pytest.raises((TypeError, ValueError)):
            decode({"data": wrong})
    for bad_list in [["A", {"k": 1}], "A"]:
        with pytest.raises(TypeError):
            decode({"data": [*copy.deepcopy(jobs[:2]), {**job, "env_keys": bad_list}]})


def test_decoding_leaves_the_given_object_as_it_was() -> None:
    job = {"id": "j", "name": "a", "status": "queued", "command": "ls", "gpu_type": "A100", "gpu_count": 1}
    job.update(
        max_runtime_minutes=60,
        created_at="2026-01-01T00:00:00Z",
        attempts=[{"attempt": 1, "status": "queued", "gpu_type": "A100", "gpu_count": 1}],
    )
    wire = {"id": "g", "count": 1, "created_at": "2026-01-01T00:00:00Z", "jobs": [job]}
    snapshot = copy.deepcopy(wire)
    group = runcrate.decode(runcrate.SubmittedJobGroup, wire)
    assert wire == snapshot and group.created_at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert runcrate.decode(runcrate.SubmittedJobGroup, wire) == group


def test_when_both_spellings_come_the_snake_case_one_wins_unless_null() -> None:
    wire = {"id": "v", "name": "n", "size_gb": 3, "sizeGb": 5}
    assert runcrate.decode(runcrate.StorageVolume, wire).size_gb == 3
    volume = runcrate.decode(runcrate.StorageVolume, {**wire, "size_gb": None})
    assert volume.size_gb == 5 and volume.extra == {} and "sizeGb" not in vars(volume)


def test_unknown_keys_are_kept_or_dropped_whatever_the_number_of_shapes() -> None:
    wires = [{"id": "i", "name": "n", "status": "s", f"new_{n}": n} for n in range(runcrate._Plan.MAX_SHAPES + 50)]
    page = runcrate.decode_page(runcrate.Instance)({"data": wires})
    assert [i.extra for i in page] == [{f"new_{n}": n} for n in range(len(wires))]
    assert len(runcrate._plan_of(runcrate.Instance).shapes) <= runcrate._Plan.MAX_SHAPES
    secret = runcrate.decode(runcrate.Secret, {"key": "A", "value": "never kept", "sensitive": None})
    assert vars(secret) == {"key": "A", "sensitive": None, "updated_at": None}


def test_extra_of_a_model_without_unknown_fields_is_made_when_first_read() -> None:
    import gc

    page = runcrate.decode_page(runcrate.Instance)({"data": [{"id": "i", "name": "n", "status": "s"}]})
    inst = page[0]
    assert not gc.is_tracked(vars(inst))  # no dict inside: thousands of these cost the collector nothing
    assert inst.extra == {} and inst.extra is inst.extra
    inst.extra["note"] = "kept"
    assert inst.note == "kept" and inst.to_dict()["note"] == "kept"
    assert inst == runcrate.decode(runcrate.Instance, {"id": "i", "name": "n", "status": "s", "note": "kept"})
    assert pickle.loads(pickle.dumps(inst)).extra == {"note": "kept"}
    with pytest.raises(AttributeError):
        runcrate.decode(runcrate.Secret, {"key": "A"}).extra  # noqa: B018 - a Secret keeps nothing unknown


def test_a_model_reads_as_a_dict_too() -> None:
    job = runcrate.decode(runcrate.InferenceModel, {"id": "m", "new_field": 3})
    assert job["id"] == "m" and job["new_field"] == 3 and job.get("nothing", 7) == 7
    with pytest.raises(KeyError):
        job["nothing"]


def test_models_are_made_once_when_threads_race_to_them() -> None:
    import subprocess
    import sys

    code = (
        "import runcrate as rc\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "kinds = [rc.Transcription, rc.JobGroup, rc.SubmittedJobGroup, rc.Secret] * 25\n"
        "make = lambda kind: kind.__dataclass_fields__\n"
        "with ThreadPoolExecutor(16) as pool:\n"
        "    found = list(pool.map(make, kinds))\n"
        "assert all(f is rc.SubmittedJobGroup.__dataclass_fields__ for f in found[2::4])\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ok"
