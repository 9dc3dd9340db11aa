"""The emulator as a product: its CLI, control routes, validation and pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import requests

import runcrate

ROOT = Path(__file__).resolve().parent.parent


def raw(
    emu: Any, method: str, path: str, body: Optional[Dict[str, Any]] = None, key: Optional[str] = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or emu.api_key}"}
    with requests.Session() as http:
        return http.request(method, emu.url + path, json=body, headers=headers, timeout=10)


def test_unauthenticated_requests_get_the_error_envelope(emu: Any) -> None:
    for key in ("", "sk-not-runcrate"):
        answer = raw(emu, "GET", "/api/v1/instances", key=key or "x")
        assert answer.status_code == 401
        assert answer.json() == {"error": {"code": "invalid_api_key", "message": "Invalid or missing API key"}}


def test_numbers_may_arrive_as_floats_and_unknown_fields_are_accepted(emu: Any) -> None:
    body = {"name": "n", "ssh_key_id": "k", "gpu_type": "A100", "gpu_count": 2.0, "memory": 64.0, "future": True}
    answer = raw(emu, "POST", "/api/v1/instances", body)
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data["gpu_count"] == 2 and data["memory"] == 64 and data["status"] == "deploying"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"ssh_key_id": "k", "gpu_type": "A100"}, 400, "name"),
        ({"name": "n", "ssh_key_id": "k"}, 400, "gpu_type"),
        ({"name": "n", "ssh_key_id": "k", "gpu_type": "A100", "gpu_count": 1.5}, 422, "whole number"),
        ({"name": "n", "ssh_key_id": "k", "gpu_type": "A100", "max_runtime_minutes": 1}, 422, "between 5 and 10080"),
        ({"name": "n", "ssh_key_id": "k", "gpu_type": "A100", "startup_commands": "ls"}, 422, "startup_commands"),
    ],
)
def test_bad_bodies_get_clear_messages(emu: Any, body: Dict[str, Any], status: int, fragment: str) -> None:
    answer = raw(emu, "POST", "/api/v1/instances", body)
    assert answer.status_code == status and fragment in answer.json()["error"]["message"]


def test_invalid_json_body_is_400(emu: Any) -> None:
    with requests.Session() as http:
        answer = http.post(
            emu.url + "/api/v1/ssh-keys", data=b"{oops", headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10
        )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_wire_spelling_per_resource(emu: Any) -> None:
    volume = raw(emu, "POST", "/api/v1/storage", {"name": "v", "size_gb": 10, "region": "us-east-1"}).json()["data"]
    assert "sizeGb" in volume and "providerType" in volume and "createdAt" in volume
    key = raw(emu, "POST", "/api/v1/ssh-keys", {"name": "k", "public_key": "ssh-rsa AAAAB3 me"}).json()["data"]
    assert "createdAt" in key and "projectId" in key
    balance = raw(emu, "GET", "/api/v1/billing/balance").json()["data"]
    assert "creditsBalance" in balance and "activeUsageCost" in balance
    txns = raw(emu, "GET", "/api/v1/billing/transactions").json()
    assert "created_at" in txns["data"][0] and txns["meta"]["hasMore"] is False
    deleted = raw(emu, "DELETE", f"/api/v1/storage/{volume['id']}")
    assert deleted.status_code == 200 and "refund_amount" in deleted.json()["data"]


def test_control_routes_drive_faults_and_report_counts(emu: Any) -> None:
    with requests.Session() as http:
        fault = {"path": "/api/v1/templates", "status": 429, "retry_after": "7", "count": 1}
        assert http.post(emu.url + "/_emulator/faults", json=fault, timeout=10).ok
        first = raw(emu, "GET", "/api/v1/templates")
        assert first.status_code == 429 and first.headers["Retry-After"] == "7"
        assert raw(emu, "GET", "/api/v1/templates").status_code == 200
        report = http.get(emu.url + "/_emulator/requests", timeout=10).json()
        assert report["counts"]["GET /api/v1/templates"] == 2
        http.post(emu.url + "/_emulator/credits", json={"credits": 3.5}, timeout=10)
        assert raw(emu, "GET", "/api/v1/billing/balance").json()["data"]["creditsBalance"] == 3.5
        http.post(emu.url + "/_emulator/reset", timeout=10)
        assert http.get(emu.url + "/_emulator/requests", timeout=10).json()["counts"] == {}


def test_the_plugin_fixture_gives_a_bound_client(runcrate_emulator: Any) -> None:
    client = runcrate_emulator.client
    assert isinstance(client, runcrate.Runcrate) and client.session.base_url == runcrate_emulator.url
    assert client.billing.get_balance().credits_balance == 100.0


def test_command_line_serves_until_interrupted(free_port: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "runcrate_emulator", "--port", str(free_port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "Runcrate emulator on" in process.stdout.readline()
        url = f"http://127.0.0.1:{free_port}"
        assert f"RUNCRATE_BASE_URL={url} RUNCRATE_INFERENCE_URL={url}" in process.stdout.readline()
        session = runcrate.Session("rc_live_cli_test_0000000", base_url=f"http://127.0.0.1:{free_port}")
        deadline = time.monotonic() + 10
        while True:
            try:
                assert runcrate.get_balance(session).credits_balance == 100.0
                break
            except runcrate.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        session.close()
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_plugin_costs_nothing_until_the_fixture_is_used(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n"
        "def test_nothing_heavy_loaded():\n"
        "    assert 'aiohttp' not in sys.modules and 'runcrate_emulator' not in sys.modules\n"
    )
    (tmp_path / "test_uses.py").write_text(
        "def test_uses(runcrate_emulator):\n    assert runcrate_emulator.client.instances.list() == []\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_plain.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    uses = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_uses.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert uses.returncode == 0 and "1 passed" in uses.stdout, uses.stdout + uses.stderr


EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_run_against_the_emulator_without_a_key(example: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCRATE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "examples")])
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / example)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "RUNCRATE_API_KEY is not set: using a local emulator" in done.stdout
    assert "Traceback" not in done.stderr
