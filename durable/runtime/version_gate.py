"""The version gate: whether this host runs an episode of an instance of another version.

Its version is host.json `defaultVersion` (none: the oldest), compared with the instance's
(the version of its ExecutionStarted, the start being planned or the one in history) under
`versionMatchStrategy` (see core/versioning.py). An instance it may not run is, by
`versionFailureStrategy`:

- `Reject` (default): not run. Its messages are sent again, hidden for a while (same ids,
  so nothing is applied twice), and the ones received are then deleted: the work stays
  queued for a host that can take it, is never lost, never counts towards the poison queue,
  and a host that keeps getting it waits longer each time (doubling, capped), so it is no
  hot loop. Nothing is committed, so history does not grow while an instance waits.
- `Fail`: run with an orchestrator that raises `VersionMismatchError`, whose message names
  both versions, so the instance fails as for any orchestrator error.

The gate decides on the plan (pure except for the rejection counts, which only set delays).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import timedelta

from durable.core.versioning import VersionFailureStrategy, VersionMatchStrategy, version_mismatch
from durable.runtime.planning import Plan
from durable.runtime.summary import HistorySummary
from durable.storage.settings import TaskHubSettings

log = logging.getLogger("durable.orchestration")

# The first rejection hides the messages this long; each further one of the same instance
# doubles it, up to the cap.
FIRST_REJECT_DELAY = timedelta(seconds=1)
MAX_REJECT_DELAY = timedelta(seconds=60)
# Rejection counts of this many instances are kept (the oldest are forgotten first).
_TRACKED = 10_000


class VersionGate:
    """This host's versioning settings and what they make of a planned episode."""

    def __init__(
        self,
        host_version: str | None,
        match: VersionMatchStrategy = VersionMatchStrategy.CURRENT_OR_OLDER,
        failure: VersionFailureStrategy = VersionFailureStrategy.REJECT,
    ) -> None:
        self.host_version = host_version
        self.match = match
        self.failure = failure
        self._rejections: OrderedDict[str, int] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: TaskHubSettings) -> VersionGate:
        """The gate host.json describes."""
        return cls(
            settings.default_version,
            settings.version_match_strategy,
            settings.version_failure_strategy,
        )

    def mismatch(self, summary: HistorySummary, plan: Plan) -> str | None:
        """Why this host may not run the planned episode (None: it may)."""
        if not plan.runs:
            return None
        if plan.start is not None:
            version = plan.start.event.version
        elif summary.started is not None:
            version = summary.started.version
        else:
            return None
        return self.mismatch_of(version)

    def mismatch_of(self, version: str | None) -> str | None:
        """Why this host may not run an instance of `version` (None: it may): the one rule
        for every episode, and for `replay-check` judging a stored instance."""
        return version_mismatch(version, self.host_version, self.match)

    def fault(self, summary: HistorySummary, plan: Plan) -> str | None:
        """The message to fail the instance with (None: run the orchestrator)."""
        if self.failure is not VersionFailureStrategy.FAIL:
            return None
        return self.mismatch(summary, plan)

    def gate(
        self, instance_id: str, summary: HistorySummary, plan: Plan, *, verified: bool = True
    ) -> Plan:
        """`plan`, or under `Reject` a plan that sends its messages back for later.

        Only a plan made on freshly read history (`verified`) counts (and logs) as a
        rejection: the pipeline plans again on read history before it acts on one made on
        assumed state.
        """
        why = self.mismatch(summary, plan)
        if why is None or self.failure is VersionFailureStrategy.FAIL:
            if verified:
                self._rejections.pop(instance_id, None)
            return plan
        count = self._rejections.get(instance_id, 0) + 1
        if verified:
            self._rejections.pop(instance_id, None)
            self._rejections[instance_id] = count
            while len(self._rejections) > _TRACKED:
                self._rejections.popitem(last=False)
        delay = reject_delay(count)
        rejected = ([plan.start] if plan.start is not None else []) + plan.apply
        note = (
            f"Not running '{instance_id}' on this host: {why} Its {len(rejected)} message(s) "
            f"stay queued for a host that can take them (again in {delay.total_seconds():g} "
            "s; versionFailureStrategy Reject)."
        )
        return replace(
            plan,
            start=None,
            apply=[],
            defer=[*plan.defer, *rejected],
            defer_delay=delay,
            notes=[*plan.notes, ("warning", note)] if verified else plan.notes,
        )


def reject_delay(count: int) -> timedelta:
    """How long the `count`-th rejection of an instance hides its messages."""
    seconds = FIRST_REJECT_DELAY.total_seconds() * 2 ** min(count - 1, 30)
    return min(timedelta(seconds=seconds), MAX_REJECT_DELAY)
