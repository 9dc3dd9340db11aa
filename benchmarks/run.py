"""Run the benchmark suite and write RESULTS.md.

    python benchmarks/run.py [--quick] [--official PYTHON]

Every figure is a ratio measured side by side in this run: this SDK against
raw requests/aiohttp doing the same HTTP work, and against the official
runcrate-sdk when --official names a Python that has it installed. Each
measurement is a fresh process (benchmarks/cases.py) talking to a local
server with pre-serialized bodies (benchmarks/server.py). Tables show
medians with min-max, client CPU time beside wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MB = 1024 * 1024

# case, repetitions (full, quick), sides
PLAN: List[Tuple[str, Tuple[int, int], Tuple[str, ...]]] = [
    ("import", (15, 5), ("sdk", "raw", "official")),
    ("cold_start", (10, 4), ("sdk", "raw", "official")),
    ("small_call", (5, 3), ("sdk", "raw", "official")),
    ("large_list", (5, 3), ("sdk", "raw", "official")),
    ("jobs_list", (5, 3), ("sdk", "raw", "official")),
    ("follow_logs", (3, 2), ("sdk", "raw", "official")),
    ("async_fanout", (5, 3), ("sdk", "raw", "official")),
    ("streaming", (3, 2), ("sdk", "raw", "official")),
    ("streaming_async", (3, 2), ("sdk", "official")),
    ("video_download", (2, 1), ("sdk", "official")),
    ("transcription_upload", (2, 1), ("sdk", "official")),
    ("artifact_download", (2, 1), ("sdk", "official")),
    ("code_upload", (2, 1), ("sdk", "official")),
]

Samples = Dict[str, List[float]]


def start_server() -> Tuple[subprocess.Popen[bytes], str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    server = subprocess.Popen([sys.executable, str(HERE / "server.py"), str(port_file)])
    deadline = time.monotonic() + 20
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            server.kill()
            raise SystemExit("the benchmark server did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port_file.read_text()}"


def measure(case: str, side: str, url: str, quick: bool, official: Optional[str]) -> Dict[str, float]:
    """One fresh process; the same bytecode-cache settings for every side (caches written by the warm-up, then read)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    if side == "official":
        python, role = official or "", "sdk"
    else:
        python, role = sys.executable, side
        env["PYTHONPATH"] = str(ROOT)  # this checkout's runcrate
    cmd = [python, str(HERE / "cases.py"), case, role, url] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{case}/{side} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def collect(url: str, quick: bool, official: Optional[str]) -> Dict[str, Dict[str, Samples]]:
    results: Dict[str, Dict[str, Samples]] = {}
    for case, (full, short), sides in PLAN:
        sides = tuple(s for s in sides if s != "official" or official)
        results[case] = {side: {} for side in sides}
        for side in sides:
            measure(case, side, url, quick, official)  # warm-up: bytecode caches, page cache
        for _ in range(short if quick else full):
            for side in sides:  # interleaved, so that a noisy moment hits every side
                for key, value in measure(case, side, url, quick, official).items():
                    results[case][side].setdefault(key, []).append(value)
        print(f"  measured {case}", file=sys.stderr, flush=True)
    return results


def median(samples: Samples, key: str) -> float:
    return statistics.median(samples[key])


def show(samples: Optional[Samples], key: str, scale: float = 1.0, unit: str = "") -> str:
    if not samples or key not in samples:
        return "—"
    values = [v * scale for v in samples[key]]
    return f"{statistics.median(values):.3g}{unit} ({min(values):.3g}–{max(values):.3g})"


def ratio(results: Dict[str, Samples], key: str, other: str, higher_is_better: bool = False) -> str:
    if other not in results or key not in results[other]:
        return "—"
    ours, theirs = median(results["sdk"], key), median(results[other], key)
    if not theirs:
        return "—"
    return f"{(ours / theirs):.2f}x"


ROWS = [
    # figure, case, key, scale, unit, what the target is
    ("cold import (wall)", "import", "wall", 1000, " ms", "≤ 1.2x requests; ≤ 0.55x official"),
    ("cold import (CPU)", "import", "cpu", 1000, " ms", ""),
    ("import memory (RSS growth)", "import", "rss_growth", 1 / MB, " MB", "≤ requests + 3 MB"),
    ("cold start to first response (wall)", "cold_start", "wall", 1000, " ms", "≤ 0.6x official"),
    ("small call, 2,000 × list of 50 (CPU)", "small_call", "cpu", 1, " s", "≤ 1.05x raw"),
    ("small call (wall)", "small_call", "wall", 1, " s", ""),
    ("large list, list of 5,000 (CPU per object)", "large_list", "per_object_us", 1, " µs", "≤ 1.3x raw; ≤ 2 µs"),
    ("large list (wall)", "large_list", "wall", 1, " s", ""),
    ("jobs list, 1,000 jobs with attempts (CPU per job)", "jobs_list", "per_object_us", 1, " µs", ""),
    ("follow logs, 100,000 chunks (chunks/s)", "follow_logs", "chunks_per_s", 1, "", ""),
    ("follow logs (CPU per chunk)", "follow_logs", "per_chunk_us", 1, " µs", ""),
    ("async fan-out, 2,000 concurrent (req/s)", "async_fanout", "requests_per_s", 1, "", "≥ 0.85x raw"),
    ("async fan-out (CPU)", "async_fanout", "cpu", 1, " s", ""),
    ("streaming, 100,000 events (events/s)", "streaming", "events_per_s", 1, "", "≥ 1.0x raw"),
    ("streaming (CPU)", "streaming", "cpu", 1, " s", ""),
    ("first event latency, sync", "streaming", "first_event_ms", 1, " ms", "≤ 50 ms"),
    ("streaming async (events/s)", "streaming_async", "events_per_s", 1, "", ""),
    ("first event latency, async", "streaming_async", "first_event_ms", 1, " ms", "≤ 50 ms"),
    ("video 512 MB to disk (peak RSS growth)", "video_download", "peak_rss_growth", 1 / MB, " MB", "≤ 32 MB"),
    (
        "transcription upload 256 MB (peak RSS growth)",
        "transcription_upload",
        "peak_rss_growth",
        1 / MB,
        " MB",
        "≤ 32 MB",
    ),
    ("job artifact 512 MB to disk (peak RSS growth)", "artifact_download", "peak_rss_growth", 1 / MB, " MB", "≤ 32 MB"),
    ("job artifact download (wall)", "artifact_download", "wall", 1, " s", ""),
    ("code upload, 256 MB directory (peak RSS growth)", "code_upload", "peak_rss_growth", 1 / MB, " MB", "≤ 32 MB"),
    ("code upload (wall)", "code_upload", "wall", 1, " s", ""),
]


def table(results: Dict[str, Dict[str, Samples]]) -> str:
    lines = [
        "| figure | this SDK | raw | official | SDK / raw | SDK / official | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure, case, key, scale, unit, target in ROWS:
        sides = results.get(case, {})
        if "sdk" not in sides:
            continue
        lines.append(
            f"| {figure} | {show(sides.get('sdk'), key, scale, unit)} | {show(sides.get('raw'), key, scale, unit)} "
            f"| {show(sides.get('official'), key, scale, unit)} | {ratio(sides, key, 'raw')} "
            f"| {ratio(sides, key, 'official')} | {target} |"
        )
    imports = results.get("import", {})
    if "raw" in imports:
        extra = (median(imports["sdk"], "rss_growth") - median(imports["raw"], "rss_growth")) / MB
        lines.append(f"\nImport memory beyond `import requests`: {extra:+.1f} MB.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and smaller bodies (under a minute)")
    parser.add_argument("--official", metavar="PYTHON", help="a Python with the official runcrate-sdk installed")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    server, url = start_server()
    started = time.monotonic()
    try:
        results = collect(url, args.quick, args.official)
    finally:
        server.kill()
        server.wait()
    body = table(results)
    print(body)
    mode = "quick" if args.quick else "full"
    header = (
        f"# Benchmark results\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {mode} run in "
        f"{time.monotonic() - started:.0f} s. Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.platform()}.\n"
        f"Official SDK: {'measured with ' + args.official if args.official else 'not measured'}.\n\n"
        "Medians with min–max over fresh processes; ratios are medians of this SDK over the other side "
        "(for req/s and events/s higher is better, for time and memory lower is better).\n\n"
    )
    Path(args.output).write_text(header + body + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
