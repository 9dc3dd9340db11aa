"""The distribution as users get it: a vendored single file, and a typed wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def make_venv(where: Path, *packages: str) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    python = where / "bin" / "python"
    pip(python, "install", "-q", "--disable-pip-version-check", *packages)
    return python


def pip(python: Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def run(cmd: List[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_runcrate_py_alone_works_with_only_its_three_dependencies(tmp_path: Path, emu: Any) -> None:
    python = make_venv(tmp_path / "venv", "requests", "urllib3", "dataclasses-json")
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "runcrate.py", app / "runcrate.py")
    (app / "main.py").write_text(
        "import sys, runcrate\n"
        f"client = runcrate.Runcrate(api_key='rc_live_vendored_0000000', base_url='{emu.url}')\n"
        "balance = client.billing.get_balance()\n"
        "print(balance.credits_balance, balance.to_dict()['credits_balance'])\n"
        "print('aiohttp' in sys.modules)\n"
        "client.close()\n"
    )
    done = run([str(python), "-E", "-s", "main.py"], app)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["100.0", "100.0", "False"]
    listed = run([str(python), "-m", "pip", "list", "--format=freeze"], app).stdout.lower()
    assert "aiohttp" not in listed and "runcrate" not in listed


USER_SCRIPT = """\
from runcrate import AsyncRuncrate, Runcrate

client = Runcrate(api_key="rc_live_typed_000000000")
balance = client.billing.get_balance()
reveal_type(balance)
reveal_type(client.instances.list())
wrong: str = balance.credits_balance
reveal_type(client.models.chat_completion(model="m", messages=[], stream=True))


async def main() -> None:
    async with AsyncRuncrate(api_key="rc_live_typed_000000000") as aclient:
        reveal_type(await aclient.instances.list())
        stream = await aclient.models.chat_completion(model="m", messages=[], stream=True)
        reveal_type(stream)
"""


def test_wheel_carries_stubs_that_type_the_client(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("runcrate_sdk-*.whl")
    python = make_venv(tmp_path / "venv", str(wheel), "mypy")
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path
    ).stdout.strip()
    stub = Path(site) / "runcrate-stubs" / "__init__.pyi"
    assert stub.exists() and "def get_balance(**options: Unpack[CallOptions]) -> Call[Balance]:" in stub.read_text()
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    checked = run([str(python), "-m", "mypy", "--strict", "--no-incremental", "user.py"], tmp_path)
    output = checked.stdout
    assert 'Revealed type is "runcrate.Balance"' in output, output
    assert output.count('Revealed type is "runcrate.ListPage[runcrate.Instance]"') == 2, output
    assert 'Revealed type is "runcrate.ChatStream"' in output, output
    assert 'Revealed type is "runcrate_async.AsyncChatStream"' in output, output
    assert (Path(site) / "runcrate_async-stubs" / "__init__.pyi").exists()
    assert 'Incompatible types in assignment (expression has type "float", variable has type "str")' in output
    assert "missing library stubs or py.typed" not in output


VENDORED_USER = """\
from runcrate import AsyncRuncrate, Runcrate

client = Runcrate(api_key="rc_live_vendored_0000000")
print(client.billing.get_balance().credits_balance)
AsyncRuncrate
"""


def test_a_vendored_runcrate_py_alone_type_checks(tmp_path: Path) -> None:
    """runcrate.py copied alone into a project, checked by the project's mypy --strict: no runcrate_async beside it."""
    python = make_venv(tmp_path / "venv", "requests", "urllib3", "dataclasses-json", "mypy", "types-requests")
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(ROOT / "runcrate.py", app / "runcrate.py")
    (app / "user.py").write_text(VENDORED_USER)
    checked = run([str(python), "-m", "mypy", "--strict", "--no-incremental", "user.py"], app)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_licence_ships_in_the_wheel_and_the_sdist(tmp_path: Path) -> None:
    import tarfile
    import zipfile

    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("runcrate_sdk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith("LICENSE") and ".dist-info/" in name for name in archive.namelist())
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".ci-venv*", ".venv*", "*.egg-info"))
    builder = make_venv(tmp_path / "builder", "setuptools>=61", "wheel")
    made = run([str(builder), "-c", "from setuptools import build_meta; build_meta.build_sdist('sdist')"], source)
    assert made.returncode == 0, made.stderr
    (sdist,) = (source / "sdist").glob("runcrate*sdk-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("/LICENSE") for name in names) and any(name.endswith("/CHANGELOG.md") for name in names)
