"""`python -m emulator durable <command>`: Core Tools' `func durable` commands.

Like Core Tools, the commands talk to the task hub in storage directly, not to a running
host: they work while the app is stopped, and `start-new` starts orchestrators this process
never loaded (it does not import the app). The hub and connection come from the app folder
(`--script-root`, default the current folder) as the host reads them: host.json
`extensions.durableTask` and the app setting it names (default `AzureWebJobsStorage`), taken
from the environment first, then local.settings.json `Values`; `--task-hub-name`,
`--connection-string-setting` and `--connection-string` override them.

Output is JSON, or a table with `--table`. A failure (unknown id, bad input, storage that
cannot be reached) prints `Error: ...` on stderr and exits with 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import durable_lint
from emulator.durable_entities_cli import ENTITY_COMMANDS, EntityCliError
from emulator.replay_check import REPLAY_COMMANDS, CommandReport

if TYPE_CHECKING:
    from durable.client import DurableOrchestrationClient
    from durable.storage.settings import TaskHubSettings
    from durable.storage.taskhub import TaskHub

HELP = "manage durable orchestration instances, like `func durable`"
DESCRIPTION = (
    "Query and manage the orchestration instances of the app's task hub in storage "
    "(Core Tools' `func durable` commands)."
)
DEFAULT_TOP = 10
Handler = Callable[["Context", argparse.Namespace], Awaitable[Any]]


class CliError(Exception):
    """A request the command cannot carry out; printed as `Error: ...`, exit status 1."""


class Context:
    """The task hub and client one command works with."""

    def __init__(self, settings: TaskHubSettings, hub: TaskHub) -> None:
        from durable.client import DurableOrchestrationClient

        self.settings = settings
        self.hub = hub
        self.client: DurableOrchestrationClient = DurableOrchestrationClient(
            settings, hub, check_function_names=False
        )


# --- arguments ---------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--script-root", type=Path, default=None, metavar="DIR",
                        help="the function app folder (default: the current folder)")
    parser.add_argument("--task-hub-name", default=None, metavar="NAME",
                        help="the task hub (default: host.json durableTask.hubName)")
    parser.add_argument("--connection-string-setting", default=None, metavar="SETTING",
                        help="the app setting holding the storage connection string "
                        "(default: as host.json says, else AzureWebJobsStorage)")
    parser.add_argument("--connection-string", "--connection", default=None,
                        metavar="CONNECTION_STRING",
                        help="the storage connection string itself (overrides the setting)")
    parser.add_argument("--table", action="store_true", help="print a table instead of JSON")


def _common_only(parser: argparse.ArgumentParser) -> None:
    """A command with no options beyond the common ones."""


def _with_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, help="the instance id")


def _with_reason(parser: argparse.ArgumentParser) -> None:
    _with_id(parser)
    parser.add_argument("--reason", default=None, help="why (recorded with the request)")


def _instance_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--created-after", type=_utc_time, default=None, metavar="TIME",
                        help="only instances created at or after this UTC time")
    parser.add_argument("--created-before", type=_utc_time, default=None, metavar="TIME",
                        help="only instances created at or before this UTC time")
    parser.add_argument("--runtime-status", nargs="+", default=None, metavar="STATUS",
                        help="only instances with one of these statuses")


def _utc_time(text: str) -> Any:
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date and time (ISO 8601, e.g. 2024-01-31T12:00:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


utc_time = _utc_time  # shared with the replay-check command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `durable` sub-commands, added to the `durable` parser of the emulator's CLI."""
    commands = parser.add_subparsers(dest="durable_command", metavar="<command>", required=True)
    for name, (help_text, add, handler) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub)
        add(sub)
        sub.set_defaults(durable_handler=handler)
    durable_lint.add_command(commands)  # reads the app's sources, not the task hub


# --- commands ----------------------------------------------------------------------------------


async def _get_instances(ctx: Context, args: argparse.Namespace) -> Any:
    statuses = _statuses(args.runtime_status)
    page, token = await ctx.client.get_status_page(
        created_time_from=args.created_after,
        created_time_to=args.created_before,
        runtime_status=statuses or None,
        page_size=args.top,
        continuation_token=args.continuation_token,
        version=args.version,
    )
    return {"instances": [s.to_json() for s in page], "continuationToken": token}


def _statuses(names: list[str] | None) -> Any:
    from durable.core.status import OrchestrationRuntimeStatus as Status

    by_name = {s.value.lower(): s for s in Status}
    for text in names or ():
        if text.lower() not in by_name:
            known = ", ".join(s.value for s in Status)
            raise CliError(f"Unknown runtime status '{text}' (known: {known}).")
    return [by_name[t.lower()] for t in names or ()]


parse_statuses = _statuses  # shared with the replay-check command


async def _get_runtime_status(ctx: Context, args: argparse.Namespace) -> Any:
    status = await ctx.client.get_status(args.id, show_input=args.show_input)
    if not status:
        raise _not_found(ctx, args.id)
    body = status.to_json()
    if not args.show_input:
        body.pop("input")
    if not args.show_output:
        body.pop("output")
    return body


async def _get_history(ctx: Context, args: argparse.Namespace) -> Any:
    from durable.client.history_view import event_to_dict

    if args.json:  # Durable Functions' shape, which durable.testing.replay reads back
        return await ctx.client.get_history_json(args.id)
    loaded = await ctx.hub.history.load_history(args.id)
    if not loaded.events:
        await _require(ctx, args.id)
    return [event_to_dict(e) for e in loaded.events]


async def _start_new(ctx: Context, args: argparse.Namespace) -> Any:
    value = _json_argument(args.input, "--input")
    await ctx.hub.create_if_not_exists()
    iid = await ctx.client.start_new(args.function_name, args.id, value, args.version)
    status = await ctx.client.get_status(iid)
    version = f" (version '{status.version}')" if status.version else ""
    return {"id": iid, "version": status.version,
            "message": f"Started {args.function_name} as instance '{iid}'{version}."}


async def _raise_event(ctx: Context, args: argparse.Namespace) -> Any:
    name = args.event_name or f"Event_{uuid.uuid4().hex}"
    data = _json_argument(args.event_data, "--event-data")
    await ctx.client.raise_event(args.id, name, data)
    return {"id": args.id, "message": f"Raised event '{name}' to instance '{args.id}'."}


async def _terminate(ctx: Context, args: argparse.Namespace) -> Any:
    status = await _require(ctx, args.id)
    if status not in ("Pending", "Running", "Suspended", "ContinuedAsNew"):
        raise CliError(f"Instance '{args.id}' is {status}; there is nothing to terminate.")
    await ctx.client.terminate(args.id, args.reason)
    return {"id": args.id, "message": f"Requested termination of instance '{args.id}'."}


def _state_change(method: str, what: str) -> Handler:
    """suspend / resume / rewind: the client checks the state and sends the request."""

    async def handler(ctx: Context, args: argparse.Namespace) -> Any:
        await getattr(ctx.client, method)(args.id, args.reason)
        return {"id": args.id, "message": f"Requested {what} of instance '{args.id}'."}

    return handler


async def _purge_history(ctx: Context, args: argparse.Namespace) -> Any:
    if args.id:
        if args.created_after or args.created_before or args.runtime_status:
            raise CliError("Give either --id or the filters, not both.")
        result = await ctx.client.purge_instance_history(args.id)
        if not result.instances_deleted:
            raise _not_found(ctx, args.id)
        return result.to_json()
    statuses = _statuses(args.runtime_status)
    result = await ctx.client.purge_instance_history_by(
        args.created_after, args.created_before, statuses or None
    )
    return result.to_json()


async def _delete_task_hub(ctx: Context, args: argparse.Namespace) -> Any:
    await ctx.hub.delete()
    name = ctx.settings.hub_name
    return {"taskHub": name, "message": f"Deleted the queues, tables and blobs of '{name}'."}


async def _require(ctx: Context, instance_id: str) -> str:
    record = await ctx.hub.instances.get(instance_id, include_input=False)
    if record is None:
        raise _not_found(ctx, instance_id)
    return record.runtime_status.name


def _not_found(ctx: Context, instance_id: str) -> CliError:
    return CliError(f"No instance with id '{instance_id}' in task hub '{ctx.settings.hub_name}'.")


def _json_argument(text: str | None, option: str) -> Any:
    """Inline JSON, or `@path` to a JSON file (Core Tools' convention)."""
    if text is None:
        return None
    where = option
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CliError(f"{option}: cannot read {path}: {exc.strerror}.") from None
        where = f"{option} file {path}"
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(
            f"{where} is not valid JSON ({exc}). Quote a text value as JSON, e.g. "
            "'\"hello\"'."
        ) from None


def _history_args(parser: argparse.ArgumentParser) -> None:
    _with_id(parser)
    parser.add_argument("--json", action="store_true",
                        help="Durable Functions' JSON history format (EventType numbers, "
                        "payloads as JSON text), for golden-history tests")


def _get_instances_args(parser: argparse.ArgumentParser) -> None:
    _instance_filters(parser)
    parser.add_argument("--top", type=_positive, default=DEFAULT_TOP,
                        help=f"page size (default {DEFAULT_TOP})")
    parser.add_argument("--continuation-token", default=None, metavar="TOKEN",
                        help="the token a previous page printed, for the next page")
    parser.add_argument("--version", default=None, metavar="VERSION",
                        help="only instances of this orchestration version")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return int(text)


def _status_args(parser: argparse.ArgumentParser) -> None:
    _with_id(parser)
    parser.add_argument("--show-input", action="store_true", help="include the input")
    parser.add_argument("--show-output", action="store_true", help="include the output")


def _start_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function-name", required=True, help="the orchestrator to start")
    parser.add_argument("--input", default=None,
                        help="the input: inline JSON, or @path/to/file.json")
    parser.add_argument("--id", default=None, help="the instance id (default: a new GUID)")
    parser.add_argument("--version", default=None, metavar="VERSION",
                        help="the orchestration version (default: host.json defaultVersion)")


def _event_args(parser: argparse.ArgumentParser) -> None:
    _with_id(parser)
    parser.add_argument("--event-name", default=None,
                        help="the event name (default: Event_<guid>)")
    parser.add_argument("--event-data", default=None,
                        help="the event data: inline JSON, or @path/to/file.json")


def _purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", default=None, help="purge this instance only")
    _instance_filters(parser)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "get-instances": ("list instances, a page at a time", _get_instances_args, _get_instances),
    "get-runtime-status": ("show the status of an instance", _status_args, _get_runtime_status),
    "get-history": ("show the history of an instance", _history_args, _get_history),
    "start-new": ("start an orchestration instance", _start_args, _start_new),
    "raise-event": ("raise an event to an instance", _event_args, _raise_event),
    "terminate": ("terminate a running instance", _with_reason, _terminate),
    "suspend": ("suspend a running instance", _with_reason, _state_change("suspend",
                                                                         "suspension")),
    "resume": ("resume a suspended instance", _with_reason, _state_change("resume",
                                                                          "resumption")),
    "rewind": ("re-run the failed work of a Failed instance", _with_reason,
               _state_change("rewind", "a rewind")),
    "purge-history": ("delete the history of an instance, or of instances matching filters",
                      _purge_args, _purge_history),
    "delete-task-hub": ("delete the task hub's queues, tables and blobs", _common_only,
                        _delete_task_hub),
    **ENTITY_COMMANDS,
    **REPLAY_COMMANDS,
}


# --- settings, running, output -----------------------------------------------------------------


def settings_for(args: argparse.Namespace) -> TaskHubSettings:
    """The hub the host would use for the app folder, with the command line's overrides."""
    from durable.storage.settings import DEFAULT_CONNECTION_NAME, TaskHubSettings, read_host_json
    from emulator.settings import load_local_settings

    root = (args.script_root or Path.cwd()).resolve()
    host = json.loads(json.dumps(read_host_json(root)))
    durable = host.setdefault("extensions", {}).setdefault("durableTask", {})
    provider = durable.setdefault("storageProvider", {})
    if args.task_hub_name:
        durable["hubName"] = args.task_hub_name
    if args.connection_string_setting:
        provider["connectionName"] = args.connection_string_setting
    setting = (provider.get("connectionName") or provider.get("connectionStringName")
               or DEFAULT_CONNECTION_NAME)
    env = {**load_local_settings(root).values, **os.environ}
    if args.connection_string:
        env[setting] = args.connection_string
    return TaskHubSettings.from_host_json(host, env)


async def run_async(args: argparse.Namespace) -> int:
    """Run one parsed `durable` command; the exit status."""
    from durable.errors import DurableError
    from durable.storage.taskhub import TaskHub
    from emulator.errors import HostError

    try:
        settings = settings_for(args)
        async with TaskHub(settings) as hub:
            result = await args.durable_handler(Context(settings, hub), args)
    except (CliError, EntityCliError, DurableError, ValueError, HostError) as exc:
        return _fail(str(exc))
    except Exception as exc:
        raw = getattr(exc, "error_code", None)
        code = str(getattr(raw, "value", raw) or "")
        if code not in _MISSING_HUB_CODES:
            raise
        return _fail(f"Task hub '{settings.hub_name}' does not exist in this storage account "
                     f"({code}). Check --task-hub-name and the connection.")
    if isinstance(result, CommandReport):
        print(result.text, flush=True)
        return result.exit_status
    _print(result, args.table)
    return 0


_MISSING_HUB_CODES = {"TableNotFound", "QueueNotFound", "ContainerNotFound"}


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr, flush=True)
    return 1


def run(args: argparse.Namespace) -> int:
    standalone = getattr(args, "durable_run", None)
    if standalone is not None:
        code: int = standalone(args)
        return code
    return asyncio.run(run_async(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator durable", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `durable` command line on its own (what `python -m emulator durable` runs)."""
    return run(build_parser().parse_args(argv))


def _print(result: Any, table: bool) -> None:
    text = format_table(result) if table else json.dumps(result, indent=2, ensure_ascii=False)
    print(text, flush=True)


def format_table(result: Any) -> str:
    """Rows of dicts as aligned columns; a single dict as `key: value` lines."""
    rows = result
    footer = ""
    if isinstance(result, dict) and ("instances" in result or "entities" in result):
        rows = result.get("instances", result.get("entities"))
        token = result.get("continuationToken")
        footer = f"\nContinuation token: {token}" if token else "\n(no more pages)"
    if isinstance(rows, dict):
        return "\n".join(f"{k}: {_cell(v)}" for k, v in rows.items())
    if not rows:
        return "(none)" + footer
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines) + footer


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
