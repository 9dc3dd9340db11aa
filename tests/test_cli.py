"""The ``runcrate`` command line, run as a subprocess against the emulator: every command, both output modes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop"


def environment(emu: Any) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCRATE_")}
    env.update(PYTHONPATH=str(ROOT), RUNCRATE_API_KEY=emu.api_key, RUNCRATE_BASE_URL=emu.url)
    env["RUNCRATE_INFERENCE_URL"] = emu.url
    return env


def cli(emu: Any, *args: str, code: int = 0, cwd: Any = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runcrate_cli", *args], capture_output=True, text=True, env=environment(emu),
        cwd=cwd or ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == code, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout if code == 0 else done.stderr


def parsed(text: str) -> Any:
    """One JSON document, or JSON lines."""
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def make(emu: Any, name: str, tmp_path: Path) -> str:
    """A resource of the kind a command names (``{job}``), made for it."""
    client = emu.client
    if name in ("key", "instance"):
        key = client.ssh_keys.create(name="laptop", public_key=KEY)
        return key.id if name == "key" else client.instances.create(name="box", ssh_key_id=key.id, gpu_type="A100").id
    if name == "volume":
        return client.storage.create(name="data", size_gb=10, region="us-east-1").id
    if name == "job":
        job = client.jobs.run(command="python train.py", gpu_type="H100", max_runtime_minutes=5)
        return client.jobs.wait(job.id, poll_interval=0.05).id
    if name == "group":
        return client.jobs.run_group(command="echo", gpu_type="A4000", max_runtime_minutes=5, count=2).id
    if name == "schedule":
        spec = {"command": "e", "gpu_type": "H100", "max_runtime_minutes": 5}
        return client.schedules.create(kind="job", spec=spec, cron="0 3 * * *").id
    if name == "environment":
        return client.environments.create(name="ci").id
    if name == "wav":
        audio = client.audio.speech.create(model="hexgrad/Kokoro-82M", input="hi", response_format="wav")
        (tmp_path / "speech.wav").write_bytes(audio)
        return str(tmp_path / "speech.wav")
    assert name == "tmp", name
    return str(tmp_path)


def filled(emu: Any, command: List[str], tmp_path: Path) -> List[str]:
    """The command with each ``{name}`` replaced by a resource made for it."""
    made: Dict[str, str] = {}
    args = []
    for part in command:
        for name in re.findall(r"\{(\w+)\}", part):
            if name not in made:
                made[name] = make(emu, name, tmp_path)
            part = part.replace(f"{{{name}}}", made[name])
        args.append(part)
    return args


COMMANDS: List[List[str]] = [
    ["instances", "list"], ["instances", "types", "--gpu", "A100"], ["instances", "get", "{instance}"],
    ["instances", "status", "{instance}"], ["instances", "update", "{instance}", "--max-runtime-minutes", "60"],
    ["instances", "create", "--name", "cli-box", "--ssh-key-id", "{key}", "--gpu-type", "A100"],
    ["instances", "terminate", "{instance}"],
    ["ssh-keys", "list"], ["ssh-keys", "create", "--name", "laptop", "--public-key", KEY],
    ["ssh-keys", "delete", "{key}"],
    ["storage", "list"], ["storage", "regions"], ["storage", "get", "{volume}"],
    ["storage", "create", "--name", "more", "--size-gb", "20", "--region", "us-east-1"],
    ["storage", "resize", "{volume}", "--size-gb", "50"], ["storage", "delete", "{volume}"],
    ["billing", "balance"], ["billing", "transactions", "--limit", "5"], ["billing", "usage"],
    ["billing", "top-up", "--amount-usd", "20"], ["billing", "auto-recharge"],
    ["billing", "auto-recharge", "--enabled", "--threshold-usd", "10", "--target-usd", "50"],
    ["billing", "payment-methods"], ["templates", "list", "--page-size", "5"],
    ["environments", "list"], ["environments", "create", "--name", "cli-env"], ["environments", "get", "{environment}"],
    ["environments", "update", "{environment}", "--name", "renamed"], ["environments", "delete", "{environment}"],
    ["secrets", "list"],
    ["schedules", "list"], ["schedules", "get", "{schedule}"], ["schedules", "update", "{schedule}", "--no-enabled"],
    ["schedules", "create", "--kind", "job", "--spec", '{"command": "e", "gpu_type": "H100", "max_runtime_minutes": 5}',
     "--run-at", "2030-01-01T00:00:00Z"],
    ["schedules", "run-now", "{schedule}"], ["schedules", "delete", "{schedule}"],
    ["jobs", "list", "--status", "succeeded"], ["jobs", "get", "{job}"], ["jobs", "logs", "{job}"],
    ["jobs", "logs", "-f", "{job}"], ["jobs", "wait", "{job}"], ["jobs", "events", "{job}"],
    ["jobs", "metrics", "{job}"],
    ["jobs", "artifacts", "{job}"], ["jobs", "artifacts", "download", "{job}", "result.txt", "-o", "{tmp}/result.txt"],
    ["jobs", "rerun", "{job}", "--tags", "try=2"], ["jobs", "cancel", "{job}", ], ["jobs", "delete", "{job}"],
    ["jobs", "run", "--gpu", "H100", "--max-runtime", "60", "--upload", str(ROOT / "examples"), "--", "python", "x.py"],
    ["job-groups", "get", "{group}"], ["job-groups", "cancel", "{group}"], ["models", "list"],
    ["chat", "hello"], ["chat", "hello", "--no-stream"], ["image", "a cat", "-o", "{tmp}/cat.png"],
    ["video", "a drone", "-o", "{tmp}/drone.mp4", "--poll-interval", "0"],
    ["speech", "hello", "-o", "{tmp}/hello.mp3"], ["transcribe", "{wav}", "--format", "srt"],
]  # fmt: skip
FAILS = {("jobs", "cancel")}  # the job had ended: 409


@pytest.mark.parametrize("as_json", [False, True], ids=["people", "json"])
@pytest.mark.parametrize(
    "command",
    COMMANDS,
    ids=[" ".join(c[:2]) + (f" {c[2]}" if c[2:3] and not c[2].startswith(("{", "-")) else "") for c in COMMANDS],
)
def test_every_command(emu: Any, tmp_path: Path, command: List[str], as_json: bool) -> None:
    args = filled(emu, command, tmp_path)
    failing = tuple(command[:2]) in FAILS
    output = cli(emu, *(["--json"] if as_json else []), *args, code=1 if failing else 0)
    if failing:
        assert output.startswith("runcrate: ConflictError: 409") and output.count("\n") == 1
    elif as_json:
        assert parsed(output) is not None or output.strip() == "null"
    else:
        lines = [
            line for line in output.splitlines() if str(tmp_path) not in line
        ]  # a saved file's path is as long as it is
        assert output.strip() and max(map(len, lines), default=0) <= 100


def test_help_lists_every_command_and_each_has_its_own(emu: Any) -> None:
    text = cli(emu, "--help")
    for group in ("instances", "ssh-keys", "storage", "billing", "templates", "environments", "secrets", "schedules",
                  "jobs", "job-groups", "chat", "image", "video", "speech", "transcribe", "emulator"):  # fmt: skip
        assert group in text
    assert "--max-runtime" in cli(emu, "jobs", "run", "--help") and "--size-gb" in cli(
        emu, "storage", "create", "--help"
    )
    assert "run, logs, wait, artifacts" in text


def test_a_job_run_and_its_log(emu: Any, tmp_path: Path) -> None:
    run = json.loads(
        cli(
            emu,
            "--json",
            "jobs",
            "run",
            "--gpu",
            "H100",
            "--max-runtime",
            "5",
            "--env",
            "A=1",
            "--",
            "python",
            "train.py",
            "--lr",
            "0.1",
        )
    )
    assert run["command"] == "python train.py --lr 0.1" and run["gpu_type"] == "H100" and "A" in run["env_keys"]
    assert cli(emu, "jobs", "logs", "-f", run["id"]).startswith("$ python train.py --lr 0.1\n")
    chunks = parsed(cli(emu, "--json", "jobs", "logs", run["id"]))
    assert chunks[0]["text"].startswith("$ ") and chunks[-1]["text"] == "exit code 0\n"
    assert json.loads(cli(emu, "--json", "jobs", "wait", run["id"]))["status"] == "succeeded"


def test_errors_are_one_line_with_their_exit_status(emu: Any, free_port: int) -> None:
    missing = cli(emu, "instances", "get", "inst_missing", code=1)
    assert missing.startswith("runcrate: NotFoundError: 404 not_found: Instance not found (request id req_")
    assert "jobs run needs the command" in cli(emu, "jobs", "run", "--gpu", "H100", "--max-runtime", "5", code=2)
    assert "required: --name" in cli(emu, "instances", "create", code=2)
    offline = cli(emu, "--base-url", f"http://127.0.0.1:{free_port}", "instances", "list", code=3)
    assert offline.startswith("runcrate: ConnectionError: connect_error")


def test_the_request_log_names_requests_and_never_the_key(emu: Any) -> None:
    done = subprocess.run([sys.executable, "-m", "runcrate_cli", "-v", "billing", "balance"], capture_output=True,
                          text=True, env=environment(emu), timeout=60)  # fmt: skip
    assert "GET http://" in done.stderr and "/billing/balance -> 200" in done.stderr and emu.api_key not in done.stderr


# A shell without job control starts background commands with SIGINT ignored, and Python then
# leaves it ignored: the child is given Python's own handler, as a command run in a terminal has.
WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = ['runcrate', *sys.argv[1:]]; runpy.run_module('runcrate_cli', run_name='__main__')"
)


def test_ctrl_c_while_following_a_log_closes_cleanly(emu: Any) -> None:
    emu.state.job_seconds, emu.state.log_hold = 60, 0.2
    job = emu.client.jobs.run(command="sleep", gpu_type="H100", max_runtime_minutes=5)
    process = subprocess.Popen(
        [sys.executable, "-c", WITH_CTRL_C, "jobs", "logs", "-f", job.id], env=environment(emu),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.5)  # the follow is under way: its reads are held
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err and out == ""


def test_python_dash_m_and_the_emulator_command(emu: Any, free_port: int) -> None:
    server = subprocess.Popen([sys.executable, "-m", "runcrate_cli", "emulator", "--port", str(free_port)],
                              env=environment(emu), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            url = f"http://127.0.0.1:{free_port}"
            done = subprocess.run(
                [sys.executable, "-m", "runcrate_cli", "--base-url", url, "secrets", "list"],
                capture_output=True, text=True, env=environment(emu), timeout=60,
            )  # fmt: skip
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert done.returncode == 0 and "EMULATOR_TOKEN" in done.stdout
    finally:
        server.terminate()
        server.wait(timeout=20)
