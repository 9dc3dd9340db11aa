"""A job's files: artifacts downloaded and checked, code packed and uploaded; nothing half-done left behind."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any, List, Tuple

import pytest

import runcrate

SPEC = {"command": "python train.py", "gpu_type": "H100", "max_runtime_minutes": 30}


def finished_job(api: Any) -> runcrate.Job:
    job = api("run_job", **SPEC)
    return api("wait_for_job", job.id, poll_interval=0.05, max_poll_interval=0.1)


def stored_artifact(emu: Any, job: runcrate.Job, path: str) -> Any:
    return emu.state.scopes["main"].jobs[job.id]["_artifacts"][path]


def test_an_artifact_comes_as_bytes_or_as_a_file(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.state.artifact_bytes = 3 * 1024 * 1024 + 17
    job = finished_job(api)
    listed = {a.path: a for a in api("list_job_artifacts", job.id)}
    assert set(listed) == {"model.bin", "result.txt"} and listed["model.bin"].bytes == 3 * 1024 * 1024 + 17
    assert api("download_job_artifact", job.id, "result.txt") == f"{job.id} succeeded\n".encode()
    progress: List[Tuple[int, Any]] = []
    saved = api(
        "download_job_artifact",
        job.id,
        "model.bin",
        to=tmp_path / "model.bin",
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert isinstance(saved, Path) and saved == tmp_path / "model.bin"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == listed["model.bin"].sha256
    assert progress[-1] == (listed["model.bin"].bytes, listed["model.bin"].bytes) and len(progress) >= 3
    assert os.listdir(tmp_path) == ["model.bin"]


def test_the_artifact_url_is_absolute_and_needs_no_key(api: Any, emu: Any) -> None:
    job = finished_job(api)
    url = api("get_job_artifact_url", job.id, "result.txt")
    assert url.startswith(f"{emu.url}/storage/") and "rc_live" not in url
    assert runcrate.fetch_public_url(url) == f"{job.id} succeeded\n".encode()
    with pytest.raises(runcrate.NotFoundError):
        api("get_job_artifact_url", job.id, "missing.txt")


def test_a_download_whose_bytes_are_not_the_listed_ones_leaves_nothing(api: Any, emu: Any, tmp_path: Path) -> None:
    job = finished_job(api)
    stored_artifact(emu, job, "result.txt")["sha256"] = "0" * 64
    target = tmp_path / "result.txt"
    with pytest.raises(runcrate.ApiError) as info:
        api("download_job_artifact", job.id, "result.txt", to=target)
    assert info.value.code == "download_failed" and "sha256" in info.value.message
    assert os.listdir(tmp_path) == []
    with pytest.raises(runcrate.ApiError, match="sha256"):
        api("download_job_artifact", job.id, "result.txt")


def test_an_interrupted_download_leaves_nothing_and_keeps_an_old_file(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.state.artifact_bytes = 2 * 1024 * 1024
    job = finished_job(api)
    target = tmp_path / "model.bin"
    target.write_bytes(b"the previous model")
    emu.fail("/storage/artifacts/*", cut_after_bytes=1024 * 1024)
    with pytest.raises(runcrate.ConnectionError):
        api("download_job_artifact", job.id, "model.bin", to=target)
    assert os.listdir(tmp_path) == ["model.bin"] and target.read_bytes() == b"the previous model"


def test_a_storage_refusal_is_download_failed_with_its_status(api: Any, emu: Any, tmp_path: Path) -> None:
    job = finished_job(api)
    emu.fail(
        "/storage/artifacts/*",
        status=403,
        body="<Error><Code>AccessDenied</Code></Error>",
        content_type="application/xml",
    )
    with pytest.raises(runcrate.PermissionDeniedError) as info:
        api("download_job_artifact", job.id, "result.txt", to=tmp_path / "r.txt")
    assert info.value.code == "download_failed" and info.value.status_code == 403 and os.listdir(tmp_path) == []


def test_a_destination_that_cannot_be_written_fails_before_any_request(api: Any, emu: Any, tmp_path: Path) -> None:
    job = finished_job(api)
    before = emu.count("GET /api/v1/jobs/{id}/artifacts")
    with pytest.raises(FileNotFoundError):
        api("download_job_artifact", job.id, "result.txt", to=tmp_path / "missing-dir" / "r.txt")
    assert emu.count("GET /api/v1/jobs/{id}/artifacts") == before


def make_tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('train')\n")
    (root / "pkg" / "model.py").write_text("W = 1\n")
    for skipped in (".git", "__pycache__", "node_modules", "pkg/__pycache__"):
        (root / skipped).mkdir(parents=True, exist_ok=True)
        (root / skipped / "junk").write_text("never packed")
    return root


def test_packing_is_deterministic_and_skips_what_is_not_code(tmp_path: Path) -> None:
    first, second = make_tree(tmp_path / "a"), make_tree(tmp_path / "b")
    os.utime(second / "train.py", (1, 1))
    one, two = io.BytesIO(), io.BytesIO()
    assert runcrate.pack_directory(first, one) == runcrate.pack_directory(second, two)
    assert one.getvalue() == two.getvalue() and one.getvalue()[4:8] == b"\0\0\0\0"  # the gzip header time
    with tarfile.open(fileobj=io.BytesIO(one.getvalue())) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["train.py", "pkg/model.py"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}


def test_a_directory_upload_is_sent_once_and_deduped(api: Any, emu: Any, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "code")
    progress: List[Tuple[int, Any]] = []
    upload = api("upload_job_code", tree, on_progress=lambda sent, total: progress.append((sent, total)))
    assert isinstance(upload, runcrate.JobUpload) and upload.url and upload.max_bytes == 1024**3
    assert progress and progress[-1][0] == progress[-1][1]
    again = api("upload_job_code", str(tree))
    assert again.upload_id == upload.upload_id and again.url is None
    assert emu.count("PUT /storage/uploads/{id}") == 1
    job = api("run_job", **SPEC, code={"upload_id": upload.upload_id})
    assert (
        job.code
        and job.code["source"] == "upload"
        and job.code["sha256"] == emu.state.uploads[upload.upload_id]["_sha256"]
    )


def test_bytes_and_a_tar_gz_upload_as_they_are(api: Any, emu: Any, tmp_path: Path) -> None:
    archive = tmp_path / "code.tar.gz"
    with archive.open("wb") as out:
        runcrate.pack_directory(make_tree(tmp_path / "code"), out)
    from_file = api("upload_job_code", archive)
    from_bytes = api("upload_job_code", archive.read_bytes())
    assert from_bytes.upload_id == from_file.upload_id and from_bytes.url is None
    assert emu.state.uploads[from_file.upload_id]["_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="neither a directory nor a file"):
        api("upload_job_code", tmp_path / "nothing-here")


def test_a_dropped_put_is_retried_and_a_refused_one_is_upload_failed(api: Any, emu: Any) -> None:
    emu.fail("/storage/uploads/*", method="PUT", drop="before_body")
    upload = api("upload_job_code", os.urandom(200_000))
    assert emu.state.uploads[upload.upload_id]["_received"] and emu.count("PUT /storage/uploads/{id}") == 2
    emu.fail("/storage/uploads/*", method="PUT", status=403, body="<Error/>", content_type="application/xml")
    with pytest.raises(runcrate.PermissionDeniedError) as info:
        api("upload_job_code", os.urandom(1000))
    assert info.value.code == "upload_failed"


def test_an_upload_without_its_sha256_is_not_resent(api: Any, emu: Any) -> None:
    emu.fail("/api/v1/jobs/uploads", status=500)
    with pytest.raises(runcrate.InternalServerError):
        api("create_job_upload", bytes=10)
    assert emu.count("POST /api/v1/jobs/uploads") == 1
    emu.fail("/api/v1/jobs/uploads", status=500)
    assert api("create_job_upload", bytes=10, sha256="a" * 64).url
    assert emu.count("POST /api/v1/jobs/uploads") == 3
    with pytest.raises(ValueError):
        api("create_job_upload", bytes=2 * 1024**3)
    with pytest.raises(ValueError):
        api("create_job_upload", bytes=10, sha256="XYZ")


def test_the_temporary_archive_is_gone_after_a_failed_upload(
    api: Any, emu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    import tempfile

    made: List[Any] = []
    real = tempfile.TemporaryFile

    def tracked(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", tracked)
    emu.fail("/api/v1/jobs/uploads", status=400)
    with pytest.raises(runcrate.BadRequestError):
        api("upload_job_code", make_tree(tmp_path / "code"))
    assert made and all(f.closed for f in made)


def artifact_server(serve: Any, listed: int, content: bytes, announced: int) -> Any:
    """A server listing one artifact of ``listed`` bytes whose storage sends ``content`` under a Content-Length."""
    from tinyserver import json_reply, reply

    digest = hashlib.sha256(content).hexdigest()

    def respond(request: Any, sock: Any) -> None:
        if request.target.startswith("/api/v1/jobs/j/artifacts/"):
            reply(sock, 302, headers={"Location": "/blob?sig=s3cr3t"})  # relative: made absolute
        elif request.target.startswith("/api/v1/jobs/j/artifacts"):
            listing = {"data": [{"path": "out.bin", "bytes": listed, "sha256": digest}]}
            json_reply(sock, 200, __import__("json").dumps(listing))
        else:
            assert "authorization" not in {k.lower() for k in request.headers}
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
            sock.sendall(head.encode() + content)

    return serve(respond)


def test_a_download_shorter_than_listed_is_download_failed(connect: Any, serve: Any, tmp_path: Path) -> None:
    server = artifact_server(serve, listed=10, content=b"12345", announced=5)
    with pytest.raises(runcrate.ApiError, match="listing") as info:
        connect(server.url)("download_job_artifact", "j", "out.bin", to=tmp_path / "out.bin")
    assert info.value.code == "download_failed" and os.listdir(tmp_path) == []


def test_a_download_cut_before_its_content_length_leaves_nothing(connect: Any, serve: Any, tmp_path: Path) -> None:
    server = artifact_server(serve, listed=10, content=b"12345", announced=10)
    with pytest.raises(runcrate.ConnectionError):
        connect(server.url)("download_job_artifact", "j", "out.bin", to=tmp_path / "out.bin")
    assert os.listdir(tmp_path) == []


def test_a_relative_location_is_made_absolute_and_fetched_without_the_key(connect: Any, serve: Any) -> None:
    server = artifact_server(serve, listed=5, content=b"12345", announced=5)
    api = connect(server.url)
    assert api("get_job_artifact_url", "j", "out.bin") == f"{server.url}/blob?sig=s3cr3t"
    assert api("download_job_artifact", "j", "out.bin") == b"12345"
