"""Every method of the official client (runcrate-sdk 0.5.0) exists on both clients and takes its arguments.

``official_surface.txt`` lists them as ``inspect.signature`` shows them on the
official client.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, List, NamedTuple, Optional, Tuple

import pytest

import runcrate
import runcrate_async

LINES = (Path(__file__).parent / "official_surface.txt").read_text(encoding="utf-8").splitlines()


class Parameter(NamedTuple):
    name: str
    positional: bool
    required: bool
    variadic: bool


def split_top_level(text: str) -> List[str]:
    """Comma-separated parts, ignoring commas inside quotes and brackets."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [p for p in [*parts, current.strip()] if p]


def parse(line: str) -> Tuple[str, List[Parameter]]:
    match = re.match(r"client\.([\w.]+)\((.*)\) -> ", line)
    assert match, line
    path, text = match.groups()
    parameters, positional = [], True
    for part in split_top_level(text):
        if part == "*":
            positional = False
            continue
        name = part.split(":")[0].split("=")[0].strip()
        if name.startswith("**"):
            parameters.append(Parameter(name[2:], False, False, True))
            continue
        parameters.append(Parameter(name, positional, "=" not in part, False))
    return path, parameters


SURFACE = [parse(line) for line in LINES]


def method_of(client: Any, path: str) -> Optional[Any]:
    target = client
    for name in path.split("."):
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


@pytest.mark.parametrize("path,official", SURFACE, ids=[path for path, _ in SURFACE])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_official_method_takes_its_arguments(path: str, official: List[Parameter], kind: str) -> None:
    make = runcrate.Runcrate if kind == "sync" else runcrate_async.AsyncRuncrate
    method = method_of(make(api_key="rc_live_surface_0000000000"), path)
    assert method is not None, f"{path} is missing"
    ours = list(inspect.signature(method).parameters.values())
    ours = [p for p in ours if p.name != "session"]
    # **options (the per-call options) takes only their names; **params passes anything on.
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD and p.name != "options" for p in ours)
    positional = [p.name for p in ours if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in ours if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
    official_names = {p.name for p in official}
    for index, parameter in enumerate(p for p in official if p.positional):
        assert positional[index : index + 1] == [parameter.name], f"{path}: positional {index} is not {parameter.name}"
    for parameter in official:
        if parameter.variadic:
            assert takes_any_keyword, f"{path} must take any keyword, as the official one does"
        elif not parameter.positional:
            assert parameter.name in by_name or takes_any_keyword, f"{path} does not take {parameter.name}="
    for parameter in ours:
        required = parameter.default is inspect.Parameter.empty and parameter.kind not in (
            parameter.VAR_KEYWORD,
            parameter.VAR_POSITIONAL,
        )
        if required:
            assert parameter.name in official_names, f"{path} requires {parameter.name}, which the official one lacks"


def test_the_surface_file_is_whole() -> None:
    assert len(SURFACE) == 73 and all(path for path, _ in SURFACE)
