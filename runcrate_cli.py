"""The ``runcrate`` command line: the whole API from a terminal, built on the SDK's own client.

    runcrate billing balance
    runcrate jobs run --upload ./project --gpu H100 --max-runtime 60 -- python train.py
    runcrate jobs logs -f JOB_ID

Every command is a client method: ids are positional, every other parameter
is a flag named after the method's keyword argument (``--size-gb``), read
off its signature. ``--json`` prints the models' ``to_dict()`` (JSON lines
for streams and follows). Exit status: 1 for API errors, 2 for usage
errors, 3 for connection errors and timeouts, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import shlex
import sys
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import runcrate

# namespace -> {command: client method}; each method's own parameters become its arguments.
COMMANDS: Dict[str, Dict[str, str]] = {
    "instances": {
        "list": "list", "types": "list_types", "create": "create", "get": "get", "status": "get_status",
        "update": "update", "terminate": "terminate",
    },
    "ssh-keys": {"list": "list", "create": "create", "delete": "delete"},
    "storage": {
        "list": "list", "regions": "list_regions", "get": "get", "create": "create", "resize": "resize",
        "delete": "delete",
    },
    "billing": {
        "balance": "get_balance", "transactions": "list_transactions", "usage": "usage", "top-up": "top_up",
        "payment-methods": "list_payment_methods",
    },
    "templates": {"list": "list"},
    "environments": {"list": "list", "create": "create", "get": "get", "update": "update", "delete": "delete"},
    "secrets": {"list": "list"},
    "schedules": {
        "list": "list", "create": "create", "get": "get", "update": "update", "delete": "delete",
        "run-now": "run_now",
    },
    "jobs": {
        "list": "list", "get": "get", "cancel": "cancel", "rerun": "rerun", "delete": "delete", "events": "events",
        "metrics": "metrics",
    },
    "job-groups": {"get": "get", "cancel": "cancel"},
    "models": {"list": "list"},
}  # fmt: skip
SPECIAL_COMMANDS = {"jobs": ("run", "logs", "wait", "artifacts"), "billing": ("auto-recharge",)}  # beyond one call
SHORT_FLAGS = {"gpu_type": ["--gpu"], "max_runtime_minutes": ["--max-runtime"]}
SKIPPED = {"session", "on_status", "on_progress", "idempotency_key"}
DEFAULT_MODELS = {
    "chat": "deepseek-ai/DeepSeek-V3",
    "image": "black-forest-labs/FLUX.1-schnell",
    "video": "google/veo-3.0",
    "speech": "hexgrad/Kokoro-82M",
    "transcribe": "openai/whisper-1",
}
WIDTH = 100  # tables fit this many columns
COLUMNS = (
    "id", "key", "path", "name", "kind", "type", "status", "gpu_type", "gpu_count", "region", "size_gb",
    "bytes", "amount", "hourly_rate", "cost_per_hour", "cron", "created_at", "at",
)  # fmt: skip
EXIT_API, EXIT_USAGE, EXIT_CONNECTION, EXIT_INTERRUPTED = 1, 2, 3, 130


class UsageError(Exception):
    """A command line that cannot be run as given."""


# --- arguments read off the client's signatures --------------------------------------


def parameters_of(method: Callable[..., Any]) -> List[inspect.Parameter]:
    """The parameters a command exposes: the method's own, a ``**spec`` TypedDict's fields, no per-call options."""
    found = []
    for parameter in inspect.signature(method).parameters.values():
        if parameter.name in SKIPPED:
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            found += _typed_dict_fields(str(parameter.annotation))
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            found.append(parameter)
    return found


def _typed_dict_fields(annotation: str) -> List[inspect.Parameter]:
    if not annotation.startswith("Unpack[") or annotation == "Unpack[CallOptions]":  # not the per-call options
        return []
    fields = getattr(runcrate, annotation[len("Unpack[") : -1]).__annotations__
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in fields.items()
        if name not in runcrate.SPEC_OPTION_NAMES
    ]


def add_parameter(parser: argparse.ArgumentParser, parameter: inspect.Parameter) -> None:
    """A positional argument for an id, a ``--flag`` named after any other parameter, typed by its annotation."""
    kind = str(parameter.annotation)
    if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and parameter.default is parameter.empty:
        parser.add_argument(parameter.name, metavar=parameter.name.upper())
        return
    flags = [f"--{parameter.name.replace('_', '-')}", *SHORT_FLAGS.get(parameter.name, [])]
    required = parameter.default is parameter.empty or "Required[" in kind
    options: Dict[str, Any] = {"dest": parameter.name, "required": required}
    if "Mapping" in kind or "Dict" in kind:
        options.update(action="append", type=_mapping_part, metavar="KEY=VALUE|JSON", default=None)
    elif "Sequence" in kind or "List" in kind:
        options.update(action="append", default=None, type=int if "int]" in kind else str)
    elif "bool" in kind:
        options.update(action=argparse.BooleanOptionalAction, default=None)
    elif "float" in kind:
        options.update(type=float, default=None)
    elif "int" in kind:
        options.update(type=int, default=None)
    else:
        options.update(default=None)
    parser.add_argument(*flags, **options)


def _mapping_part(text: str) -> Dict[str, Any]:
    """``KEY=VALUE`` (a string value), or a whole JSON object."""
    if text.lstrip().startswith("{"):
        try:
            found = json.loads(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}") from None
        if not isinstance(found, dict):
            raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
        return found
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE or a JSON object, got {text!r}")
    return {key: value}


def call_arguments(
    args: argparse.Namespace, parameters: Sequence[inspect.Parameter]
) -> Tuple[List[Any], Dict[str, Any]]:
    """The positional and keyword arguments of the method, from what the command line gave."""
    positional: List[Any] = []
    keywords: Dict[str, Any] = {}
    for parameter in parameters:
        value = getattr(args, parameter.name, None)
        if value is None:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = {key: item for part in value for key, item in part.items()}
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and parameter.default is parameter.empty:
            positional.append(value)
        else:
            keywords[parameter.name] = value
    return positional, keywords


# --- output ------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A result as JSON-ready data: models through ``to_dict``, timestamps as ISO strings."""
    if isinstance(value, runcrate.Model):
        return value.to_dict(encode_json=True)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    return value


class Output:
    """Where results go: tables and ``key: value`` lines for people, JSON with ``--json``."""

    def __init__(self, as_json: bool, stream: Any = None) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout

    def result(self, value: Any) -> None:
        """Print a call's result."""
        if self.as_json:
            self.line(json.dumps(plain(value)))
        elif value is None:
            self.line("done")
        elif isinstance(value, list):
            self.line(table(value) if value else "(none)")
        elif isinstance(value, runcrate.Model):
            self.line(fields_text(value))
        else:
            self.line(str(value))

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def human(name: str, value: Any) -> str:
    """A value as a person reads it: sizes in KB/MB/GB, times to the minute, numbers trimmed."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if name == "bytes" and isinstance(value, int):
        return human_size(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(human(name, item) for item in value)
    if isinstance(value, runcrate.Model):  # a nested one: its values, in order
        shown = (human(k, v) for k, v in vars(value).items() if k not in ("extra", "_request_id") and v is not None)
        return " ".join(shown)
    return str(value)


def human_size(size: float) -> str:
    """``1536`` as ``1.5 KB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # pragma: no cover - the loop always returns


def fields_text(model: runcrate.Model) -> str:
    shown = {k: v for k, v in vars(model).items() if k not in ("extra", "_request_id") and v not in (None, [], {})}
    width = max((len(k) for k in shown), default=0)
    return "\n".join(f"{k.ljust(width)}  {_cell(human(k, v), WIDTH - width - 2)}" for k, v in shown.items())


def table(items: Sequence[Any]) -> str:
    """Aligned columns (the first few of ``COLUMNS`` the items have), cut to fit ``WIDTH``."""
    first = items[0]
    if not isinstance(first, runcrate.Model):
        return "\n".join(str(item) for item in items)
    names = [c for c in COLUMNS if c in vars(first)][:7]
    rows = [[human(n, getattr(item, n, None)) for n in names] for item in items]
    widths = [max(len(n), *(len(r[i]) for r in rows)) for i, n in enumerate(names)]
    while sum(widths) + 2 * (len(widths) - 1) > WIDTH:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    lines = ["  ".join(_cell(n.upper(), w).ljust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(_cell(c, w).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


class ProgressLine:
    """One line on stderr, redrawn in place, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()

    def show(self, text: str) -> None:
        if self.shown:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()

    def bytes(self, done: int, total: Optional[int]) -> None:
        of = f" of {human_size(total)}" if total else ""
        self.show(f"{human_size(done)}{of}")

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# --- commands beyond one call ------------------------------------------------------------------


def run_job(client: runcrate.Runcrate, args: argparse.Namespace, out: Output, parameters: Any) -> None:
    """``jobs run [flags] [--upload DIR] -- COMMAND...``."""
    if not args.command_line:
        raise UsageError("jobs run needs the command after --: runcrate jobs run --gpu H100 -- python train.py")
    _, spec = call_arguments(args, parameters)
    spec["command"] = shlex.join(args.command_line) if len(args.command_line) > 1 else args.command_line[0]
    if args.upload:
        progress = ProgressLine()
        upload = client.jobs.uploads.upload(args.upload, on_progress=progress.bytes)
        progress.end()
        spec["code"] = {"upload_id": upload.upload_id}
    out.result(client.jobs.run(**spec))


def job_logs(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    """``jobs logs ID [-f]``: the log as it is, or followed until the job ends."""
    chunks: Iterable[runcrate.JobLogChunk]
    chunks = client.jobs.follow_logs(args.id) if args.follow else _all_chunks(client, args.id)
    for chunk in chunks:
        if out.as_json:
            out.line(json.dumps(plain(chunk)))
        else:
            out.stream.write(chunk.text)
            out.stream.flush()


def _all_chunks(client: runcrate.Runcrate, job_id: str) -> Iterable[runcrate.JobLogChunk]:
    after = 0
    while True:
        logs = client.jobs.logs(job_id, after=after)
        yield from logs.chunks
        if not logs.chunks or logs.done or logs.cursor <= after:
            return
        after = logs.cursor


def job_wait(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    progress = ProgressLine()
    job = client.jobs.wait(args.id, timeout=args.wait_timeout, on_status=lambda j: progress.show(f"{j.id}: {j.status}"))
    progress.end()
    out.result(job)


def job_artifacts(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    """``jobs artifacts ID`` lists; ``jobs artifacts download ID PATH [-o FILE]`` saves one."""
    if args.words[0] != "download":
        if len(args.words) != 1:
            raise UsageError("jobs artifacts takes a job id, or: download JOB_ID PATH [-o FILE]")
        out.result(client.jobs.artifacts.list(args.words[0]))
        return
    if len(args.words) != 3:
        raise UsageError("usage: runcrate jobs artifacts download JOB_ID PATH [-o FILE]")
    _, job_id, path = args.words
    progress = ProgressLine()
    saved = client.jobs.artifacts.download(
        job_id, path, to=args.output or os.path.basename(path), on_progress=progress.bytes
    )
    progress.end()
    where = os.fspath(saved) if not isinstance(saved, bytes) else path
    out.result({"path": path, "saved_to": where} if out.as_json else f"saved {where}")


def auto_recharge(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    """``billing auto-recharge``: shown; with ``--enabled``/``--no-enabled`` and amounts, set."""
    if args.enabled is None:
        out.result(client.billing.get_auto_recharge())
        return
    if args.threshold_usd is None or args.target_usd is None:
        raise UsageError("billing auto-recharge --enabled needs --threshold-usd and --target-usd")
    out.result(
        client.billing.set_auto_recharge(
            enabled=args.enabled, threshold_usd=args.threshold_usd, target_usd=args.target_usd
        )
    )


def chat(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.prompt}
    ]
    if args.no_stream:
        answer = client.models.chat_completion(model=args.model, messages=messages)
        out.result(answer if out.as_json else answer.choices[0].message.content)
        return
    with client.models.chat_completion(model=args.model, messages=messages, stream=True) as stream:
        for chunk in stream:
            if out.as_json:
                out.line(json.dumps(chunk))
                continue
            for choice in chunk.get("choices") or []:
                out.stream.write((choice.get("delta") or {}).get("content") or "")
                out.stream.flush()
    if not out.as_json:
        out.line("")


def image(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    sizes = {k: v for k, v in (("width", args.width), ("height", args.height)) if v is not None}
    result = client.images.generate(model=args.model, prompt=args.prompt, **sizes)
    result.data[0].save(args.output)
    out.result({"saved_to": args.output} if out.as_json else f"saved {args.output}")


def video(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    progress = ProgressLine()
    extra = {"duration": args.duration} if args.duration is not None else {}
    job = client.videos.generate_and_save(
        args.output, model=args.model, prompt=args.prompt, poll_interval=args.poll_interval,
        on_status=lambda j: progress.show(f"{j.id}: {j.status}"), **extra,
    )  # fmt: skip
    progress.end()
    out.result(job if out.as_json else f"saved {args.output} (video {job.id})")


def speech(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    extra = {k: v for k, v in (("voice", args.voice), ("response_format", args.format)) if v is not None}
    audio = client.audio.speech.create(model=args.model, input=args.text, **extra)
    runcrate.save_atomically(args.output, audio)
    out.result({"saved_to": args.output, "bytes": len(audio)} if out.as_json else f"saved {args.output}")


def transcribe(client: runcrate.Runcrate, args: argparse.Namespace, out: Output) -> None:
    extra = {"response_format": args.format} if args.format else {}
    result = client.audio.transcriptions.create(model=args.model, file=args.file, **extra)
    out.result(result if out.as_json else result.text)


# --- the parser ---------------------------------------------------------------------------------


def global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", help="the API key (default: RUNCRATE_API_KEY)")
    parser.add_argument("--base-url", help="the infrastructure API (default: RUNCRATE_BASE_URL, or the public host)")
    parser.add_argument("--inference-url", help="the inference API (default: RUNCRATE_INFERENCE_URL)")
    parser.add_argument("--environment", help="the environment scoped resources live in (default: the workspace's)")
    parser.add_argument("--timeout", type=float, help="seconds per read (default 30)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON, or JSON lines)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the request log to stderr")


def build_parser(client: runcrate.Runcrate) -> argparse.ArgumentParser:
    """The whole command tree, its arguments read off ``client``'s methods."""
    parser = argparse.ArgumentParser(prog="runcrate", description="The Runcrate API from a terminal.")
    global_options(parser)
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    for group, commands in COMMANDS.items():
        namespace = getattr(client, group.replace("-", "_"))
        names = [*commands, *SPECIAL_COMMANDS.get(group, ())]
        sub = groups.add_parser(group, help=f"{group}: {', '.join(names)}").add_subparsers(
            dest="command", metavar="COMMAND", required=True
        )
        for command, name in commands.items():
            method = getattr(namespace, name)
            doc = (method.__doc__ or "").strip().split("\n")[0].replace("``", "")
            one = sub.add_parser(command, help=doc, description=doc)
            parameters = parameters_of(method)
            for parameter in parameters:
                add_parameter(one, parameter)
            one.set_defaults(method=(group.replace("-", "_"), name), parameters=parameters)
        _special_commands(group, sub, client)
    _media_commands(groups)
    emulator = groups.add_parser("emulator", help="start the local emulator (--port, --job-seconds ...)")
    emulator.add_argument("emulator_args", nargs=argparse.REMAINDER)
    emulator.set_defaults(special="emulator")
    return parser


def _special_commands(group: str, sub: Any, client: runcrate.Runcrate) -> None:
    if group == "jobs":
        run = sub.add_parser("run", help="run a command on a fresh GPU machine: jobs run [flags] -- COMMAND")
        parameters = [p for p in parameters_of(client.jobs.run) if p.name not in ("command", "code")]
        for parameter in parameters:
            add_parameter(run, parameter)
        run.add_argument("--upload", metavar="DIR", help="upload this directory (or .tar.gz) as the job's code")
        run.set_defaults(special="run", parameters=parameters, command_line=[])
        logs = sub.add_parser("logs", help="print a job's log; -f follows it until the job ends")
        logs.add_argument("id", metavar="ID")
        logs.add_argument("-f", "--follow", action="store_true")
        logs.set_defaults(special="logs")
        wait = sub.add_parser("wait", help="wait until a job ends and print it")
        wait.add_argument("id", metavar="ID")
        wait.add_argument("--wait-timeout", type=float, help="give up after this many seconds (the job keeps running)")
        wait.set_defaults(special="wait")
        artifacts = sub.add_parser("artifacts", help="list a job's artifacts, or: download JOB_ID PATH [-o FILE]")
        artifacts.add_argument("words", nargs="+", metavar="ID | download JOB_ID PATH")
        artifacts.add_argument("-o", "--output", help="where to save the download (default: its file name)")
        artifacts.set_defaults(special="artifacts")
    if group == "billing":
        recharge = sub.add_parser(
            "auto-recharge", help="show auto-recharge; --enabled/--no-enabled with amounts sets it"
        )
        recharge.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)
        recharge.add_argument("--threshold-usd", type=float)
        recharge.add_argument("--target-usd", type=float)
        recharge.set_defaults(special="auto-recharge")


def _media_commands(groups: Any) -> None:
    chat_parser = groups.add_parser("chat", help="chat with a model, streaming its tokens as they arrive")
    chat_parser.add_argument("prompt")
    chat_parser.add_argument("--system", help="a system message")
    chat_parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    image_parser = groups.add_parser("image", help="generate an image: image PROMPT -o out.png")
    image_parser.add_argument("prompt")
    image_parser.add_argument("-o", "--output", required=True)
    image_parser.add_argument("--width", type=int)
    image_parser.add_argument("--height", type=int)
    video_parser = groups.add_parser("video", help="generate a video and save it: video PROMPT -o out.mp4")
    video_parser.add_argument("prompt")
    video_parser.add_argument("-o", "--output", required=True)
    video_parser.add_argument("--duration", type=float)
    video_parser.add_argument("--poll-interval", type=float, default=5.0)
    speech_parser = groups.add_parser("speech", help="text to speech: speech TEXT -o out.mp3")
    speech_parser.add_argument("text")
    speech_parser.add_argument("-o", "--output", required=True)
    speech_parser.add_argument("--voice")
    speech_parser.add_argument("--format", help="mp3, wav, pcm, opus, aac or flac")
    transcribe_parser = groups.add_parser("transcribe", help="transcribe an audio file: transcribe FILE [--format srt]")
    transcribe_parser.add_argument("file")
    transcribe_parser.add_argument("--format", help="json, text, srt, vtt or verbose_json")
    for name, one in (("chat", chat_parser), ("image", image_parser), ("video", video_parser),
                      ("speech", speech_parser), ("transcribe", transcribe_parser)):  # fmt: skip
        one.add_argument("--model", default=DEFAULT_MODELS[name], help=f"default: {DEFAULT_MODELS[name]}")
        one.set_defaults(special=name)


SPECIAL: Dict[str, Callable[..., None]] = {
    "logs": job_logs, "wait": job_wait, "artifacts": job_artifacts, "auto-recharge": auto_recharge,
    "chat": chat, "image": image, "video": video, "speech": speech, "transcribe": transcribe,
}  # fmt: skip


# --- running ---------------------------------------------------------------------------------------


def split_command(argv: Sequence[str]) -> Tuple[List[str], List[str]]:
    """The CLI's own words, and the job's command line after the first ``--``."""
    if "--" in argv:
        at = list(argv).index("--")
        return list(argv[:at]), list(argv[at + 1 :])
    return list(argv), []


def make_client(args: argparse.Namespace) -> runcrate.Runcrate:
    return runcrate.Runcrate(
        api_key=args.api_key, base_url=args.base_url, inference_url=args.inference_url,
        environment=args.environment, timeout=args.timeout,
    )  # fmt: skip


def execute(args: argparse.Namespace, client: runcrate.Runcrate, out: Output) -> None:
    special = getattr(args, "special", None)
    if special == "run":
        run_job(client, args, out, args.parameters)
    elif special is not None:
        SPECIAL[special](client, args, out)
    else:
        positional, keywords = call_arguments(args, args.parameters)
        namespace, name = args.method  # read off the parser's client: called on this one
        out.result(getattr(getattr(client, namespace), name)(*positional, **keywords))


def report(error: BaseException) -> int:
    """Say what went wrong in one line on stderr; answer the exit status."""
    if isinstance(error, runcrate.RuncrateError):
        parts = [str(p) for p in (error.status_code, error.code) if p is not None]
        request = f" (request id {error.request_id})" if error.request_id else ""
        print(f"runcrate: {type(error).__name__}: {' '.join(parts)}: {error.message}{request}", file=sys.stderr)
        if isinstance(error, (runcrate.ConnectionError, runcrate.TimeoutError)) and not isinstance(
            error, runcrate.JobWaitTimeoutError
        ):
            return EXIT_CONNECTION
        return EXIT_USAGE if error.code == "missing_api_key" else EXIT_API
    print(f"runcrate: {error}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``runcrate ...``: run one command; answers the exit status."""
    words, command_line = split_command(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["emulator"]:
        try:
            import runcrate_emulator
        except ModuleNotFoundError as missing:
            print(f"runcrate: the emulator needs {missing.name}: pip install 'runcrate-sdk[emulator]'", file=sys.stderr)
            return EXIT_USAGE
        runcrate_emulator.main(words[1:])
        return 0
    offline = runcrate.Runcrate(  # only to read the methods' signatures: it sends nothing
        api_key="rc_live_" + "0" * 24, base_url=runcrate.DEFAULT_BASE_URL, inference_url=runcrate.DEFAULT_INFERENCE_URL
    )
    parser = build_parser(offline)
    args = parser.parse_args(words)
    args.command_line = command_line or getattr(args, "command_line", [])
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
        logging.getLogger("runcrate").addHandler(handler)
        logging.getLogger("runcrate").setLevel(logging.DEBUG)
    out = Output(args.json)
    try:
        with make_client(args) as client:
            execute(args, client, out)
    except KeyboardInterrupt:
        print("runcrate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader left (`runcrate jobs list | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (runcrate.RuncrateError, UsageError, ValueError, TypeError, OSError) as error:
        return report(error)
    return 0


def entry() -> None:
    """The console script."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
