"""`python -m emulator durable replay-check`: would the app's current code break the
instances in the task hub? Run it before deploying a change to an orchestrator.

It loads the app (`function_app.py` in the script root, imported as `emulator start`
indexes it), lists the task hub's orchestration instances (by default those not finished:
Pending, Running, Suspended, ContinuedAsNew; `--all` adds finished ones; `--name`,
`--status`, `--created-from`/`--created-to` and `--prefix` narrow the list), reads each
one's history and replays it with the pure replay engine against the current code, as a
host that picks the instance up after the deployment would. Per instance it prints OK or
the `NonDeterminismError` a host would fail the instance with (expected and found action,
the orchestrator's source line). Instances whose version a host with the app's host.json
would not run (`defaultVersion`, `versionMatchStrategy`, decided by the host's own
`VersionGate`), and instances whose orchestrator no longer exists in the code, are reported
separately. The exit status is 1 when any instance would fail or would not run.

It only reads: a query of the Instances table and one history read per instance. It never
writes a row, sends or receives a message or runs an activity, so it is safe to point at a
production storage account (`--connection-string`, `--task-hub-name`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durable.core.versioning import VersionFailureStrategy

if TYPE_CHECKING:
    from durable.core.registry import DurableFunction
    from durable.runtime.version_gate import VersionGate
    from durable.storage.interface import InstanceRecord
    from durable.storage.taskhub import TaskHub
    from emulator.durable_cli import Context

HELP = "replay the instances in the task hub against the app's current code (read-only)"
# History reads in flight at once.
CONCURRENCY = 16


class Verdict(Enum):
    """What the current code would do with an instance."""

    OK = "OK"
    NOT_STARTED = "NOT-STARTED"
    NON_DETERMINISTIC = "NON-DETERMINISTIC"
    MISSING_ORCHESTRATOR = "MISSING-ORCHESTRATOR"
    VERSION_REJECTED = "VERSION-REJECTED"
    UNREADABLE = "UNREADABLE"

    @property
    def fails(self) -> bool:
        """Whether the instance would fail (or not run) under the current code."""
        return self not in (Verdict.OK, Verdict.NOT_STARTED)


@dataclass(frozen=True)
class InstanceCheck:
    """The verdict on one instance, with what a user needs to act on it."""

    instance_id: str
    name: str
    runtime_status: str
    verdict: Verdict
    message: str = ""
    version: str | None = None


@dataclass(frozen=True)
class CommandReport:
    """Output a command formats itself, and the exit status it ends with."""

    text: str
    exit_status: int


# --- arguments -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Filters of `replay-check` (the common hub and connection options come from durable_cli)."""
    from emulator.durable_cli import utc_time

    parser.add_argument("--name", nargs="+", default=None, metavar="ORCHESTRATOR",
                        help="only instances of these orchestrators")
    parser.add_argument("--status", nargs="+", default=None, metavar="STATUS",
                        help="only instances with one of these runtime statuses "
                        "(default: the unfinished ones)")
    parser.add_argument("--created-from", type=utc_time, default=None, metavar="TIME",
                        help="only instances created at or after this UTC time")
    parser.add_argument("--created-to", type=utc_time, default=None, metavar="TIME",
                        help="only instances created at or before this UTC time")
    parser.add_argument("--prefix", default=None, metavar="TEXT",
                        help="only instances whose id starts with this")
    parser.add_argument("--all", action="store_true",
                        help="include finished instances (Completed, Failed, Terminated)")
    parser.add_argument("--json", action="store_true",
                        help="print the verdicts as JSON instead of text")


# --- the command ---------------------------------------------------------------------------


async def replay_check(ctx: Context, args: argparse.Namespace) -> CommandReport:
    """The `replay-check` command: load the app, check every matching instance, report.

    The version rules are the host's: the gate of a host whose settings are the app's
    host.json (with its app-setting overrides), which `ctx.settings` already holds."""
    from durable.runtime.version_gate import VersionGate

    root = (args.script_root or Path.cwd()).resolve()
    gate = VersionGate.from_settings(ctx.settings)
    script, orchestrators = load_orchestrators(root)
    records = await _matching(ctx.hub, args)
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(record: InstanceRecord) -> InstanceCheck:
        async with semaphore:
            loaded = await ctx.hub.history.load_history(record.instance_id)
        return check_instance(record, loaded.events, orchestrators, gate)

    checks = list(await asyncio.gather(*(one(r) for r in records)))
    checks.sort(key=lambda c: c.instance_id)
    failing = any(c.verdict.fails for c in checks)
    text = _as_json(checks) if args.json else format_report(checks, script, ctx.hub.hub_name)
    return CommandReport(text, 1 if failing else 0)


def load_orchestrators(root: Path) -> tuple[Path, dict[str, DurableFunction]]:
    """Import the app as `emulator start` does; its orchestrators by lower-cased name (the
    host matches function names case-insensitively)."""
    from durable.app.root import process
    from durable.core.registry import DurableKind
    from emulator.indexer import DURABLE_KINDS, index_app

    indexed = index_app(root)
    trigger = DURABLE_KINDS[DurableKind.ORCHESTRATOR.value]
    found: dict[str, DurableFunction] = {}
    for kind, name in indexed.durable:
        fn = process.registry.get(DurableKind.ORCHESTRATOR, name) if kind == trigger else None
        if fn is not None:
            found[name.lower()] = fn
    return indexed.script, found


async def _matching(hub: TaskHub, args: argparse.Namespace) -> list[InstanceRecord]:
    """Every orchestration instance the filters select (all pages; entities left out)."""
    from durable.core.status import RUNNING_STATUSES
    from durable.storage.instance_store import MAX_PAGE_SIZE
    from emulator.durable_cli import parse_statuses

    statuses = parse_statuses(args.status) or (None if args.all else sorted(
        RUNNING_STATUSES, key=lambda s: s.value))
    names = {n.lower() for n in args.name or ()}
    found: list[InstanceRecord] = []
    token: str | None = None
    while True:
        page, token = await hub.instances.query(
            created_from=args.created_from, created_to=args.created_to, statuses=statuses,
            instance_id_prefix=args.prefix, exclude_entities=True, top=MAX_PAGE_SIZE,
            continuation_token=token, include_input=False,
        )
        found += [r for r in page if not names or (r.name or "").lower() in names]
        if token is None:
            return found


# --- one instance --------------------------------------------------------------------------


def check_instance(
    record: InstanceRecord,
    events: Sequence[Any],
    orchestrators: dict[str, DurableFunction],
    gate: VersionGate,
) -> InstanceCheck:
    """The verdict on one instance, in the host's order: its version (the gate acts before
    any code is looked up), its orchestrator, then a replay."""
    from durable.errors import DurableError, NonDeterminismError
    from durable.runtime.summary import summarize
    from durable.testing.replay import replay

    history = summarize(events)
    started = history.started
    name = record.name or (started.name if started else None) or ""
    # The version the gate compares: the history's start, else the start still queued
    # (the client writes the same version to it and to the Instances row).
    version = started.version if started is not None else record.version

    def verdict(kind: Verdict, message: str) -> InstanceCheck:
        return InstanceCheck(record.instance_id, name, record.runtime_status.value, kind,
                             message, version)

    rejected = _version_rejection(gate, version) if not history.is_terminal else None
    if rejected is not None:
        return verdict(Verdict.VERSION_REJECTED, rejected)
    fn = orchestrators.get(name.lower())
    if fn is None:
        known = ", ".join(sorted(f.name for f in orchestrators.values())) or "none"
        return verdict(Verdict.MISSING_ORCHESTRATOR,
                       f"the app has no orchestrator '{name}' (orchestrators: {known})")
    if started is None:
        return verdict(Verdict.NOT_STARTED, "no history yet: it will start with this code")
    try:
        outcome = replay(events, fn.call, instance_id=record.instance_id,
                         input_type=fn.input_type)
    except NonDeterminismError as exc:
        return verdict(Verdict.NON_DETERMINISTIC, str(exc))
    except (DurableError, ValueError) as exc:
        return verdict(Verdict.UNREADABLE, f"the history cannot be replayed: {exc}")
    return verdict(Verdict.OK, f"replays to {outcome.status.value}")


def _version_rejection(gate: VersionGate, version: str | None) -> str | None:
    """The gate's reason not to run an instance of `version`, and what the host does then
    (None: the gate lets it run). A finished instance is never gated: a host runs it again
    only on a new start, which brings its own version."""
    why = gate.mismatch_of(version)
    if why is None:
        return None
    return f"{why} {_HOST_DOES[gate.failure]}"


# What a host does with an instance its gate does not run, by versionFailureStrategy.
_HOST_DOES: dict[VersionFailureStrategy, str] = {
    VersionFailureStrategy.REJECT: (
        "A host with this host.json would not run it (versionFailureStrategy Reject): its "
        "messages stay queued for a host that can take them."),
    VersionFailureStrategy.FAIL: (
        "A host with this host.json would fail it with VersionMismatchError "
        "(versionFailureStrategy Fail)."),
}


# --- output --------------------------------------------------------------------------------


def format_report(checks: Sequence[InstanceCheck], script: Path, hub_name: str) -> str:
    """Per instance its verdict, then the missing orchestrators, the versions not taken and
    a summary line."""
    lines = [f"Replaying {len(checks)} instance(s) of task hub '{hub_name}' against {script}"]
    replayed = [c for c in checks if c.verdict not in _SEPARATE]
    lines += [_line(c) for c in replayed]
    missing = [c for c in checks if c.verdict is Verdict.MISSING_ORCHESTRATOR]
    if missing:
        lines += ["", "Orchestrators that no longer exist in the code:"]
        for name, ids in _by_name(missing).items():
            lines.append(f"  '{name}': {len(ids)} instance(s): {', '.join(ids)}")
    rejected = [c for c in checks if c.verdict is Verdict.VERSION_REJECTED]
    if rejected:
        lines += ["", "Instances whose version this deployment would not take:"]
        lines += [f"  {c.instance_id} ({c.name}): {c.message}" for c in rejected]
    lines += ["", summary(checks)]
    return "\n".join(lines)


_SEPARATE = (Verdict.MISSING_ORCHESTRATOR, Verdict.VERSION_REJECTED)


def _line(check: InstanceCheck) -> str:
    head = f"{check.verdict.value:<18} {check.instance_id} ({check.name}, {check.runtime_status})"
    if check.verdict in (Verdict.OK, Verdict.NOT_STARTED):
        return f"{head}: {check.message}"
    body = "\n".join("    " + line for line in check.message.splitlines())
    return f"{head}\n{body}"


def _by_name(checks: Iterable[InstanceCheck]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for c in checks:
        grouped.setdefault(c.name, []).append(c.instance_id)
    return grouped


def summary(checks: Sequence[InstanceCheck]) -> str:
    """Counts per verdict, then whether the code is safe to deploy for these instances."""
    counts = {v: sum(1 for c in checks if c.verdict is v) for v in Verdict}
    counted = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n) or "nothing"
    bad = sum(n for v, n in counts.items() if v.fails)
    verdict = (f"{bad} instance(s) would fail or not run under this code." if bad
               else "The current code replays every instance checked.")
    return f"Summary: {len(checks)} checked: {counted}.\n{verdict}"


def _as_json(checks: Sequence[InstanceCheck]) -> str:
    def row(c: InstanceCheck) -> dict[str, Any]:
        data = asdict(c)
        data["verdict"] = c.verdict.value
        return data

    body = {"instances": [row(c) for c in checks], "summary": summary(checks),
            "failing": sum(1 for c in checks if c.verdict.fails)}
    return json.dumps(body, indent=2, ensure_ascii=False)


REPLAY_COMMANDS: dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None],
          Callable[[Context, argparse.Namespace], Awaitable[CommandReport]]],
] = {
    "replay-check": (HELP, add_arguments, replay_check),
}
