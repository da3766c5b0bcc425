"""Chaos: three hosts serve one task hub while one of them is SIGKILLed every two seconds and
replaced; every instance must still complete exactly once (the driver is bench/chaos.py,
which runs the full 300 instances; CI runs 200, two to five minutes here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bench.azurite import PrivateAzurite
from bench.chaos import ChaosConfig, run_chaos
from bench.chaos_report import TRANSIENT_FAILURES
from tests.conftest import DEV_CONNECTION_STRING

pytestmark = pytest.mark.slow

ACCOUNT_KEY = DEV_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]


@pytest.fixture
def own_azurite() -> Iterator[str]:
    """An Azurite of the test's own, on fresh data. Azurite 3.37's queue operations cost
    grows with every message the account holds, in any queue: on the suite's shared
    Azurite, what earlier tests left behind made this run several times slower, so slow
    that hosts could not reach storage at start-up."""
    with PrivateAzurite() as azurite:
        yield azurite.connection_string


def _progress(lines: list[str]) -> Callable[[str], None]:
    """Keep each progress line and print it at once: a run cut short by the timeout still
    shows, in its captured output, how far it got."""
    def log(line: str) -> None:
        lines.append(line)
        print(line, flush=True)
    return log


# Budgets for a slow machine: the run ends by itself (every instance finished, the deadline,
# or stuck instances with nothing queued) well before pytest's timeout, so that a failure
# reports what was wrong rather than where the clock stopped.
@pytest.mark.timeout(900)
async def test_hosts_killed_every_two_seconds_lose_nothing(own_azurite: str) -> None:
    config = ChaosConfig(
        instances=200, hosts=3, kill_every=2.0, start_over=30.0, seed=7,
        connection_string=own_azurite, timeout=540.0,
        # Kills stop after this long, and the survivors finish what is left: on a slow
        # machine, kills every two seconds until the end would each bring back dozens of
        # messages to handle again, and the run would take as long as the machine is slow.
        max_chaos_seconds=150.0,
    )
    lines: list[str] = []
    report, outputs = await run_chaos(config, log=_progress(lines))
    print("\n".join(report.lines()))
    assert report.completed == report.instances == 200, report.lines()
    assert report.wrong == []
    assert report.history_problems == []
    assert report.queue_counts == {}, "control and work-item queues must be empty"
    # A copy may be poisoned after another copy of it was applied (its holders each died
    # before sending it again); one that nothing made up for is a lost message.
    assert report.poison_unapplied == [], report.poison_counts
    assert report.host_problems == []
    assert report.kills >= 5, f"too few kills to mean anything: {report.kills}\n{lines}"
    # Every activity ran at least once; re-runs after a kill are allowed and counted.
    assert report.activity_executions >= report.expected_executions
    assert report.activity_executions == report.expected_executions + (
        report.duplicate_executions
    )
    # An invocation may fail on a transient storage error (a connection reset under load)
    # and be retried; any other failure is a bug.
    assert set(report.failed_invocations) <= TRANSIENT_FAILURES, report.failed_invocations
    # Entities: every counter is exact (the counting instances' outputs above, and one
    # counter every start signalled from the client while hosts died).
    assert report.signals_sent == 200 and report.shared_counter == 200
    for output in outputs:
        assert ACCOUNT_KEY not in output
