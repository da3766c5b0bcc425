"""Tracing costs nothing when it is off: without the OpenTelemetry API nothing imports it,
and with the API but no tracer provider no span is made and no message carries a trace
context. Each case runs in a fresh interpreter, because a tracer provider, once set (as the
tracing tests do), stays set for the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A sequence orchestration run through the in-memory runner and the runtime's outbox.
_WORKLOAD = """
from datetime import UTC, datetime
import durable as df
from durable.core import events as ev
from durable.runtime import tracing
from durable.runtime.outbox import derive_outbound

started = ev.execution_started(datetime.now(UTC), name="o", instance_id="i", execution_id="e")
scheduled = ev.task_scheduled(datetime.now(UTC), event_id=0, name="a")
out = derive_outbound("i", "e", started, [scheduled], datetime.now(UTC))
assert out and out[0].message.event.trace_context is None, out
assert not tracing.active()
import emulator.listeners.http, emulator.tracing
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_without_the_api_nothing_imports_it() -> None:
    blocker = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
    """)
    check = "\nassert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
    done = _run(blocker + _WORKLOAD + check)
    assert done.returncode == 0, done.stderr


def test_with_the_api_and_no_provider_nothing_is_traced() -> None:
    check = "\nimport opentelemetry.trace\nassert tracing.current() is None\n"
    done = _run(_WORKLOAD + check)
    assert done.returncode == 0, done.stderr


def test_trace_without_the_sdk_says_what_to_install() -> None:
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.startswith("opentelemetry.sdk"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from emulator import tracing
        from emulator.errors import ConfigError
        try:
            tracing.setup("-", "app")
        except ConfigError as exc:
            print(exc, exc.args)
        else:
            raise SystemExit("no error")
    """)
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert "durable-azure-storage[otel]" in done.stdout
