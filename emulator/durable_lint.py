"""The determinism lint in the host: a warning per finding when the host starts, and
`python -m emulator durable lint` for CI.

Both read the app's sources (never run them beyond what the host already imported) and
report each replay-unsafe call in orchestrator code as one line, `file:line:column: DFnnn
... ; <the replay-safe alternative>`. At start-up the findings are warnings and never stop
the host; the command exits with 1 when there is any (0 when clean, 2 when the app cannot
be read), so a CI step fails on them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.indexer import DEFAULT_SCRIPT, IndexedApp
from emulator.logs import host_logger

if TYPE_CHECKING:  # imported when used: the durable library loads in about a second
    from durable.core.lint import LintResult

COMMAND = "lint"
HELP = "check orchestrator code for calls that are not replay-safe (exit 1 on findings)"
EXIT_FINDINGS = 1
EXIT_ERROR = 2
_log = host_logger()


def warn_at_startup(indexed: IndexedApp) -> None:
    """Log one warning per finding in the app the host just indexed; never raises.

    Only an app that imported this library has durable functions to check here: another app
    does not pay for loading it.
    """
    if "durable" not in sys.modules:
        return
    from durable.app.lint import findings_of, lint_app
    from durable.core.lint.findings import SILENCE_HINT
    from durable.errors import LintError

    try:
        results = lint_app(indexed.script, _registered())
    except LintError as exc:
        _log.warning("Determinism lint skipped: %s", exc)
        return
    except Exception as exc:  # a bug in the lint must not keep the app from starting
        _log.warning("Determinism lint skipped: it failed on this app (%s: %s).",
                     type(exc).__name__, exc)
        return
    findings = findings_of(results)
    for finding in findings:
        _log.warning("%s", finding.format())
    if findings:
        _log.warning("Determinism lint: %s. %s", _count(len(findings)), SILENCE_HINT)


def _registered() -> list[Callable[..., Any]]:
    """The imported app's orchestrators, when it uses this library (nothing is imported
    for an app that does not)."""
    if "durable.app.root" not in sys.modules:
        return []
    from durable.app.lint import registered_orchestrators

    return registered_orchestrators()


def add_command(commands: Any) -> None:
    """Add `lint` to the `durable` sub-commands (`commands`: their sub-parsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        COMMAND, help=HELP, description=HELP + "; see docs/api.md, Determinism lint")
    parser.add_argument("--script-root", type=Path, default=None, metavar="DIR",
                        help="the function app folder (default: the current folder)")
    parser.set_defaults(durable_run=run)


def run(args: argparse.Namespace) -> int:
    """`durable lint`: print the findings; the exit status says whether there were any."""
    from durable.app.lint import findings_of, lint_app
    from durable.errors import LintError

    root = (args.script_root or Path.cwd()).resolve()
    script = root / (os.environ.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT)
    if not script.is_file():
        print(f"Error: No {script.name} in {root}. Run the command in a function app folder, "
              "or pass --script-root DIR.", file=sys.stderr, flush=True)
        return EXIT_ERROR
    try:
        results = lint_app(script)
    except LintError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    findings = findings_of(results)
    for finding in findings:
        print(finding.format())
    print(_summary(results, len(findings)), flush=True)
    return EXIT_FINDINGS if findings else 0


def _summary(results: list[LintResult], findings: int) -> str:
    from durable.core.lint.findings import SILENCE_HINT

    orchestrators = sum(len(r.orchestrators) for r in results)
    modules = sum(1 for r in results if r.orchestrators)
    checked = (f"{orchestrators} orchestrator{'s' if orchestrators != 1 else ''} in "
               f"{modules} module{'s' if modules != 1 else ''}")
    if not findings:
        return f"Checked {checked}: no replay-unsafe calls."
    return f"Checked {checked}: {_count(findings)}. {SILENCE_HINT}"


def _count(findings: int) -> str:
    return f"{findings} replay-unsafe call{'s' if findings != 1 else ''} in orchestrator code"
