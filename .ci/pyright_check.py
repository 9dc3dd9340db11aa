"""pyright, as a user runs it, on a script that touches every client method: no Unknown, no error.

Run with the Python of a virtualenv where the built wheel is installed:
``python .ci/pyright_check.py path/to/pyright``. The script is written from
the client's namespace table, so a new method is checked without a new line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, List

import runcrate


def methods(namespace: object, path: str) -> Iterator[str]:
    """``path.method`` for every method of a namespace and of the namespaces inside it."""
    for name, value in vars(type(namespace)).items():
        if isinstance(value, runcrate.bound):
            yield f"{path}.{name}"
    for name, value in vars(namespace).items():
        if isinstance(value, runcrate.Namespace):
            yield from methods(value, f"{path}.{name}")


def script() -> List[str]:
    client = runcrate.Runcrate(api_key="rc_live_pyright_000000000")
    exprs = [
        *(f"runcrate.{name}" for name in runcrate.OPERATIONS),
        *(f"runcrate_async.{name}" for name in runcrate.OPERATIONS),
        "runcrate.chat_completion",
        "runcrate_async.chat_completion",
    ]
    for name, _ in runcrate.Client.NAMESPACES:
        for method in methods(getattr(client, name), name):
            exprs += [f"client.{method}", f"client.with_raw_response.{method}"]
            exprs += [f"aclient.{method}", f"aclient.with_raw_response.{method}"]
    exprs += ["client.with_options(timeout=5)", "aclient.with_options(max_retries=0)"]
    lines = [
        "import runcrate",
        "import runcrate_async",
        "client = runcrate.Runcrate(api_key='rc_live_pyright_000000000')",
        "aclient = runcrate_async.AsyncRuncrate(api_key='rc_live_pyright_000000000')",
    ]
    return lines + [f"reveal_type({expr})" for expr in exprs]


def main(pyright: str) -> int:
    lines = script()
    expected = sum(line.startswith("reveal_type(") for line in lines)
    with tempfile.TemporaryDirectory() as workdir:  # away from the checkout: the installed wheel is what is checked
        user = Path(workdir) / "user.py"
        user.write_text("\n".join(lines) + "\n")
        done = subprocess.run(  # noqa: S603 - the pyright CI installed
            [pyright, "--pythonpath", sys.executable, str(user)],
            capture_output=True,
            text=True,
            cwd=workdir,
            check=False,
        )
    output = done.stdout + done.stderr
    revealed = re.findall(r'information: Type of "(.*)" is "(.*)"', output)
    unknown = [f"{expr}: {kind}" for expr, kind in revealed if "Unknown" in kind]
    errors = [line for line in output.splitlines() if " - error:" in line]
    print(f"pyright revealed {len(revealed)} of {expected} expressions; {len(unknown)} Unknown, {len(errors)} errors")
    for line in unknown + errors:
        print("  " + line)
    if len(revealed) != expected or unknown or errors:
        print(output[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
