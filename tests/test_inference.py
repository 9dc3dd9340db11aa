"""Inference operations against the emulator, and what they put on the wire."""

from __future__ import annotations

import base64
import json
import os
import struct
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
from tinyserver import TinyServer, reply

import runcrate

CHAT_MODEL = "deepseek-ai/DeepSeek-V3"
IMAGE_MODEL = "black-forest-labs/FLUX.1-schnell"
VIDEO_MODEL = "google/veo-3.0"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def capture() -> Iterator[Callable[..., TinyServer]]:
    """A server that answers every request with one canned answer and records it."""
    servers: List[TinyServer] = []

    def start(status: int = 200, body: str = "{}", content_type: str = "application/json") -> TinyServer:
        servers.append(TinyServer(lambda r, s: reply(s, status, body.encode(), {"Content-Type": content_type})))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def sent_json(server: TinyServer) -> Any:
    return json.loads(server.requests[-1].body)


# --- chat -----------------------------------------------------------------------


def test_chat_completion(api: Any) -> None:
    answer = api("chat_completion", model=CHAT_MODEL, messages=[{"role": "user", "content": "Hello!"}], max_tokens=500)
    assert isinstance(answer, runcrate.ChatCompletion)
    assert answer.choices[0].message.content == "You said: Hello!. This reply comes from the Runcrate emulator."
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.role == "assistant"
    assert (
        answer.usage is not None
        and answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    )


def test_chat_stops_at_max_tokens(api: Any) -> None:
    answer = api("chat_completion", model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2)
    assert answer.choices[0].message.content == "You said:" and answer.choices[0].finish_reason == "length"


def test_chat_stream_from_the_emulator(api: Any, emu: Any) -> None:
    emu.state.stream_delay = 0.0
    stream = api(
        "chat_completion", model=CHAT_MODEL, messages=[{"role": "user", "content": "Tell me a story"}], stream=True
    )
    chunks = api.chunks(stream)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "You said: Tell me a story. This reply comes from the Runcrate emulator."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_chat_body_sends_what_was_given_and_passes_the_rest(
    capture: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    server = capture(body=json.dumps({"choices": [{"message": {"role": "assistant", "content": "ok"}}]}))
    api = connect(server.url)
    messages = [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t1"}]},
        {"role": "tool", "tool_call_id": "t1", "content": "42"},
    ]
    api("chat_completion", model=CHAT_MODEL, messages=messages, temperature=0.7, seed=3, tools=[{"type": "function"}])
    body = sent_json(server)
    assert body == {
        "model": CHAT_MODEL,
        "messages": messages,
        "stream": False,
        "temperature": 0.7,
        "seed": 3,
        "tools": [{"type": "function"}],
    }
    request = server.requests[-1]
    assert request.target == "/v1/chat/completions" and "idempotency-key" not in request.headers


def test_inference_never_carries_the_environment(
    capture: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    server = capture(body='{"id": "vid_1", "status": "queued"}')
    api = connect(server.url, environment="staging")
    api("get_video_status", "vid_1")
    assert server.requests[-1].target == "/v1/videos/vid_1"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"messages": []}, ValueError),
        ({"messages": "hi"}, TypeError),
        ({"messages": [{"content": "no role"}]}, TypeError),
        ({"messages": [{"role": "user", "content": "x"}], "temperature": 3}, ValueError),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, ValueError),
        ({"messages": [{"role": "user", "content": "x"}], "model": ""}, ValueError),
    ],
)
def test_bad_chat_arguments_are_refused_before_sending(api: Any, emu: Any, kwargs: Any, error: type) -> None:
    with pytest.raises(error):
        api("chat_completion", **{"model": CHAT_MODEL, **kwargs})
    assert emu.count("POST /v1/chat/completions") == 0


def test_unknown_model_is_not_found(api: Any) -> None:
    with pytest.raises(runcrate.NotFoundError) as info:
        api("chat_completion", model="nobody/nothing", messages=[{"role": "user", "content": "x"}])
    assert "nobody/nothing" in info.value.message and info.value.code == "model_not_found"


def test_inference_posts_are_retried_only_when_nothing_was_done(api: Any, emu: Any) -> None:
    emu.fail("/v1/chat/completions", status=429, retry_after="0")
    api("chat_completion", model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert emu.count("POST /v1/chat/completions") == 2
    emu.fail("/v1/chat/completions", status=502)
    with pytest.raises(runcrate.InternalServerError):
        api("chat_completion", model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert emu.count("POST /v1/chat/completions") == 3


# --- images -------------------------------------------------------------------------


def png_size(content: bytes) -> tuple:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", content[16:24])


def test_generate_image_returns_a_real_png(api: Any, tmp_path: Path) -> None:
    image = api("generate_image", model=IMAGE_MODEL, prompt="A futuristic cityscape", width=1024, height=768)
    assert isinstance(image, runcrate.ImageGeneration) and image.data[0].b64_json
    target = tmp_path / "output.png"
    image.data[0].save(str(target))
    assert png_size(target.read_bytes()) == (1024, 768)
    default = api("generate_image", model=IMAGE_MODEL, prompt="A cat", aspect_ratio="16:9")
    assert png_size(default.data[0].to_bytes()) == (1024, 576)


def test_image_urls_are_fetched_without_the_key(api: Any, emu: Any) -> None:
    image = api("generate_image", model=IMAGE_MODEL, prompt="A cat", response_format="url")
    assert image.data[0].b64_json is None and image.data[0].url.startswith(emu.url)
    assert png_size(image.data[0].to_bytes()) == (1024, 1024)
    assert emu.state.file_requests == [None]


def test_image_validation_errors_come_from_the_server(api: Any) -> None:
    with pytest.raises(runcrate.UnprocessableEntityError) as info:
        api("generate_image", model=IMAGE_MODEL, prompt="x", width=4096)
    assert "width" in info.value.message
    with pytest.raises(ValueError):
        api("generate_image", model=IMAGE_MODEL, prompt="x", response_format="gif")


def test_image_inputs_in_every_form(
    capture: Callable[..., TinyServer], connect: Callable[..., Any], tmp_path: Path
) -> None:
    server = capture(body='{"data": [{"b64_json": "AAAA"}]}')
    api = connect(server.url)
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    jpeg = tmp_path / "edges.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff" + b"\x00" * 20)
    as_png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    raw_base64 = base64.b64encode(b"some image bytes here").decode()
    cases = [
        ({"image": str(photo)}, {"image": as_png}),
        ({"image": photo}, {"image": as_png}),
        (
            {"control_image": str(jpeg), "strength": 0.8},
            {
                "control_image": "data:image/jpeg;base64," + base64.b64encode(jpeg.read_bytes()).decode(),
                "strength": 0.8,
            },
        ),
        ({"mask": PNG}, {"mask": as_png}),
        ({"image": "https://example.com/photo.png"}, {"image": "https://example.com/photo.png"}),
        ({"start_image": as_png}, {"start_image": as_png}),
        ({"image": raw_base64}, {"image": raw_base64}),
    ]
    for given, expected in cases:
        api("generate_image", model=IMAGE_MODEL, prompt="p", **given)
        body = sent_json(server)
        assert {k: body[k] for k in expected} == expected


@pytest.mark.parametrize("value", ["/etc/passwd", "./missing.png", "not an image at all", "short", "ab/cd"])
def test_strings_that_are_no_image_are_refused(api: Any, emu: Any, value: str) -> None:
    with pytest.raises(ValueError):
        api("generate_image", model=IMAGE_MODEL, prompt="p", image=value)
    assert emu.count("POST /v1/images/generations") == 0


# --- video ---------------------------------------------------------------------------


def test_video_lifecycle_by_hand(api: Any) -> None:
    job = api("generate_video", model=VIDEO_MODEL, prompt="Ocean waves at sunset", duration=8)
    assert isinstance(job, runcrate.VideoJob) and job.status == "queued" and job.id.startswith("vid_")
    with pytest.raises(runcrate.NotFoundError):
        api("download_video", job.id)
    seen = []
    while job.status not in ("completed", "failed"):
        job = api("get_video_status", job.id)
        seen.append(job.status)
    assert seen == ["processing", "completed"]
    video = api("download_video", job.id)
    assert video[4:8] == b"ftyp" and len(video) == 256 * 1024


def test_generate_video_and_save_reports_the_submitted_then_each_polled_status(api: Any, tmp_path: Path) -> None:
    statuses: List[str] = []
    target = tmp_path / "output.mp4"
    job = api(
        "generate_video_and_save", str(target), model=VIDEO_MODEL, prompt="A drone", duration=8, poll_interval=0.01,
        on_status=lambda j: statuses.append(j.status),
    )  # fmt: skip
    assert job.status == "completed" and statuses == ["queued", "processing", "completed"]
    assert target.read_bytes()[4:8] == b"ftyp"
    assert [p.name for p in tmp_path.iterdir()] == ["output.mp4"]


def test_a_failed_video_raises_with_the_job(api: Any, tmp_path: Path) -> None:
    with pytest.raises(runcrate.VideoGenerationError) as info:
        api(
            "generate_video_and_save",
            str(tmp_path / "x.mp4"),
            model=VIDEO_MODEL,
            prompt="[fail] please",
            poll_interval=0.01,
        )
    error = info.value
    assert isinstance(error, RuntimeError) and isinstance(error, runcrate.RuncrateError)
    assert error.job is not None and error.job.status == "failed" and error.code == "video_failed"
    assert "rejected" in error.message and list(tmp_path.iterdir()) == []


def test_a_video_that_takes_too_long_raises_a_timeout(api: Any, tmp_path: Path) -> None:
    with pytest.raises(runcrate.VideoGenerationError) as info:
        api(
            "generate_video_and_save",
            str(tmp_path / "x.mp4"),
            model=VIDEO_MODEL,
            prompt="p",
            poll_interval=0.05,
            timeout=0.0,
        )
    assert info.value.code == "video_timeout" and info.value.job.status == "queued"


def test_download_to_file_reports_progress(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.state.video_size = 3 * 1024 * 1024 + 5
    job = api("generate_video", model=VIDEO_MODEL, prompt="p")
    api("get_video_status", job.id)
    api("get_video_status", job.id)
    progress: List[tuple] = []
    path = api("download_video_to_file", job.id, tmp_path / "v.mp4", on_progress=lambda d, t: progress.append((d, t)))
    assert os.path.getsize(path) == emu.state.video_size
    assert progress[-1] == (emu.state.video_size, emu.state.video_size) and len(progress) >= 3


def test_an_interrupted_download_leaves_no_file(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.state.video_size = 2 * 1024 * 1024
    job = api("generate_video", model=VIDEO_MODEL, prompt="p")
    api("get_video_status", job.id)
    api("get_video_status", job.id)
    emu.fail(f"/v1/videos/{job.id}/download", cut_after_bytes=1024 * 1024)
    with pytest.raises(runcrate.ConnectionError):
        api("download_video_to_file", job.id, tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_download_refused_by_the_server_leaves_no_file(api: Any, tmp_path: Path) -> None:
    job = api("generate_video", model=VIDEO_MODEL, prompt="p")
    with pytest.raises(runcrate.NotFoundError):
        api("download_video_to_file", job.id, tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_video_inputs_are_encoded_and_extras_pass_through(
    capture: Callable[..., TinyServer], connect: Callable[..., Any], tmp_path: Path
) -> None:
    server = capture(body='{"id": "vid_1", "status": "queued"}')
    frame = tmp_path / "first_frame.png"
    frame.write_bytes(PNG)
    connect(server.url)(
        "generate_video",
        model="some-img2vid-model",
        prompt="Animate",
        image=str(frame),
        seed=42,
        negative_prompt="blurry",
        duration=8.0,
    )
    body = sent_json(server)
    assert body["image"].startswith("data:image/png;base64,") and body["seed"] == 42 and body["duration"] == 8.0


# --- speech and transcription ------------------------------------------------------------


def test_text_to_speech_formats(api: Any) -> None:
    mp3 = api("text_to_speech", model="hexgrad/Kokoro-82M", input="Hello from Runcrate!", voice="af_heart")
    assert isinstance(mp3, bytes) and mp3[:2] == b"\xff\xfb" and len(mp3) > 1000
    wav = api(
        "text_to_speech",
        model="hexgrad/Kokoro-82M",
        input="Hello!",
        voice="af_heart",
        response_format="wav",
        speed=1.5,
        language="en",
    )
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    pcm = api("text_to_speech", model="hexgrad/Kokoro-82M", input="Hello!", response_format="pcm")
    assert len(pcm) % 2 == 0 and len(pcm) > 0
    with pytest.raises(runcrate.UnprocessableEntityError):
        api("text_to_speech", model="hexgrad/Kokoro-82M", input="x", speed=10)


@pytest.mark.parametrize("response_format", [None, "json", "text", "srt", "vtt"])
def test_transcription_formats(api: Any, tmp_path: Path, response_format: Any) -> None:
    audio = tmp_path / "recording.wav"
    audio.write_bytes(b"RIFF" + bytes(32000))
    with open(audio, "rb") as f:
        result = api(
            "transcribe",
            model="openai/whisper-1",
            file=f,
            filename="recording.wav",
            language="en",
            response_format=response_format,
        )
    assert isinstance(result, runcrate.Transcription)
    assert "Transcript of recording.wav: 32004 bytes of audio." in result.text
    if response_format == "srt":
        assert result.text.startswith("1\n00:00:00,000 --> 00:00:01,000\n")
    if response_format == "vtt":
        assert result.text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n")
    if response_format in (None, "json"):
        assert result.duration == 1.0 and result.language == "en"


def test_transcription_from_path_bytes_and_pipe(api: Any, tmp_path: Path) -> None:
    audio = tmp_path / "clip.mp3"
    audio.write_bytes(b"\xff\xfb" * 500)
    assert "clip.mp3: 1000 bytes" in api("transcribe", model="openai/whisper-1", file=str(audio)).text
    assert "audio.wav: 7 bytes" in api("transcribe", model="openai/whisper-1", file=b"1234567").text
    read_end, write_end = os.pipe()
    os.write(write_end, b"x" * 5000)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert "5000 bytes" in api("transcribe", model="openai/whisper-1", file=pipe, filename="live.wav").text


def test_transcription_reads_the_answer_by_its_content_type(
    capture: Callable[..., TinyServer], connect: Callable[..., Any]
) -> None:
    wrapped = capture(body=json.dumps({"text": "1\n00:00:00,000 --> 00:00:01,000\nhi\n"}))
    result = connect(wrapped.url)("transcribe", model="openai/whisper-1", file=b"abc", response_format="srt")
    assert result.text == "1\n00:00:00,000 --> 00:00:01,000\nhi\n"
    upload = wrapped.requests[-1]
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="response_format"\r\n\r\nsrt\r\n' in upload.body and b'filename="audio.wav"' in upload.body
    plain = capture(body="WEBVTT\n\nhello", content_type="text/plain; charset=utf-8")
    assert (
        connect(plain.url)("transcribe", model="openai/whisper-1", file=b"abc", response_format="vtt").text
        == "WEBVTT\n\nhello"
    )


def test_bad_transcription_arguments_are_refused(api: Any) -> None:
    with pytest.raises(ValueError):
        api("transcribe", model="openai/whisper-1", file="/no/such/file.wav")
    with pytest.raises(ValueError):
        api("transcribe", model="openai/whisper-1", file=b"x", response_format="docx")
    with pytest.raises(TypeError):
        api("transcribe", model="openai/whisper-1", file=12)


# --- constant memory for big media ----------------------------------------------------------

BIG = 200 * 1024 * 1024


def test_saving_a_200_mb_video_keeps_memory_flat(api: Any, emu: Any, tmp_path: Path) -> None:
    emu.state.video_size = BIG
    tracemalloc.start()
    try:
        api("generate_video_and_save", str(tmp_path / "big.mp4"), model=VIDEO_MODEL, prompt="p", poll_interval=0.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert os.path.getsize(tmp_path / "big.mp4") == BIG
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_transcribing_a_200_mb_file_keeps_memory_flat(api: Any, tmp_path: Path) -> None:
    audio = tmp_path / "long.wav"
    with open(audio, "wb") as out:
        out.truncate(BIG)
    tracemalloc.start()
    try:
        result = api("transcribe", model="openai/whisper-1", file=str(audio))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{BIG} bytes" in result.text
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
