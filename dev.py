#!/usr/bin/env python3
"""Set up and run the project: `python3 dev.py sample` or `python3 dev.py test`.

Works on a fresh machine with Python 3.11+ and Node 20+: it creates `.venv`, installs the
package with its dev extra, installs Azurite from npm into `node_modules`, and then runs the
sample app (the emulator starts Azurite by itself) or the test suite (against an Azurite it
starts when none is listening). `python3 dev.py test --quick` runs only the pure tier
(tests/unit: no Azurite, no subprocesses) and says how many tests ran in how long.
`python3 dev.py test --python 3.13 [pytest args]` runs tests (by default the pure and
Azurite tiers and the sample's end-to-end test) in a second venv on that Python, found on
PATH or in pyenv, where pip picks the azure-functions release made for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
AZURITE_PORTS = (10000, 10001, 10002)
# What `test --python X` runs when no pytest arguments are given.
OTHER_PYTHON_TESTS = ["tests/unit", "tests/integration", "tests/e2e/test_sample.py"]


def run(cmd: list[str], **kw: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def setup(base: str = sys.executable, venv: Path = VENV) -> Path:
    """Create `venv` with `base` and install the package (dev extra) and Azurite into it,
    when anything they come from is newer than the last install; its Python."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this script must run on old Pythons to say so)
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = venv / ".installed"
    if not py.exists():
        run([base, "-m", "venv", str(venv)])
    inputs = [ROOT / "pyproject.toml", ROOT / "package.json", ROOT / "package-lock.json"]
    newest = max(p.stat().st_mtime for p in inputs if p.exists())
    if not stamp.exists() or stamp.stat().st_mtime < newest:
        run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(py), "-m", "pip", "install", "--quiet", "-e", ".[dev]"])
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm (Node 20+) is needed to install Azurite")
        lock = (ROOT / "package-lock.json").exists()
        run([npm, "ci" if lock else "install", "--no-audit", "--no-fund", "--loglevel=error"])
        stamp.touch()
    return py


def find_python(version: str) -> str:
    """An interpreter for `version` (e.g. 3.13) that runs: on PATH, else among pyenv's
    versions (a pyenv shim on PATH fails when that version is not selected)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")]
    for folder in sorted((pyenv_root / "versions").glob(f"{version}*"), reverse=True):
        candidates.append(str(folder / "bin" / f"python{version}"))
    for exe in candidates:
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
            return exe
    sys.exit(f"Python {version} was not found on PATH or in pyenv ({pyenv_root}/versions)")


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_azurite() -> subprocess.Popen[bytes] | None:
    """An Azurite for the test run, unless one already listens."""
    if all(listening(p) for p in AZURITE_PORTS):
        return None
    data = tempfile.mkdtemp(prefix="azurite-tests-")
    exe = ROOT / "node_modules" / ".bin" / "azurite"
    proc = subprocess.Popen(
        [str(exe), "--silent", "--skipApiVersionCheck", "--loose", "--location", data],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not all(listening(p) for p in AZURITE_PORTS):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("Azurite did not start listening on 10000-10002")
        time.sleep(0.2)
    return proc


def quick(args: list[str]) -> int:
    """The pure tier alone: seconds, and nothing to start."""
    began = time.monotonic()
    report = Path(tempfile.mkdtemp(prefix="quick-")) / "junit.xml"
    code = subprocess.call(
        [str(PY), "-m", "pytest", "tests/unit", "-q", "-m", "not azurite and not slow",
         f"--junitxml={report}", *args],
        cwd=ROOT,
    )
    elapsed = time.monotonic() - began
    counts = _junit_counts(report)
    print(f"quick tier (tests/unit, pure): {counts} in {elapsed:.1f} s; "
          "`python3 dev.py test` runs every tier", flush=True)
    return code


def _junit_counts(report: Path) -> str:
    import xml.etree.ElementTree as ET

    try:
        suite = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return "no report"
    node = suite if suite.tag == "testsuite" else suite.find("testsuite")
    if node is None:
        return "no report"
    total = int(node.get("tests", 0))
    failed = int(node.get("failures", 0)) + int(node.get("errors", 0))
    return f"{total} tests, {failed} failed"


def test(args: list[str]) -> int:
    if "--python" in args:
        at = args.index("--python")
        version, rest = args[at + 1], args[:at] + args[at + 2:]
        py = setup(find_python(version), ROOT / f".venv-{version}")
        named = any((ROOT / a.split("::")[0]).exists() for a in rest if not a.startswith("-"))
        chosen = rest if named else [*rest, *OTHER_PYTHON_TESTS]
        return with_azurite(
            lambda: subprocess.call([str(py), "-m", "pytest", *chosen], cwd=ROOT)
        )
    setup()
    if "--quick" in args:
        return quick([a for a in args if a != "--quick"])
    run([str(PY), "-m", "ruff", "check", "."])
    run([str(PY), "-m", "mypy"])
    return with_azurite(lambda: subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT))


def with_azurite(tests: Callable[[], int]) -> int:
    azurite = start_azurite()
    try:
        return tests()
    finally:
        if azurite is not None:
            stop_azurite(azurite)


def stop_azurite(azurite: subprocess.Popen[bytes]) -> None:
    """Stop the run's Azurite; one slow to flush its data is killed, never left to fail the run."""
    try:
        os.killpg(azurite.pid, signal.SIGTERM)
        azurite.wait(20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(azurite.pid, signal.SIGKILL)
        azurite.wait()


def sample(args: list[str]) -> int:
    setup()
    return subprocess.call([str(PY), "-m", "emulator", "start", *args], cwd=ROOT)


def main() -> int:
    commands = {"sample": sample, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        print("usage: python3 dev.py sample [--port N] | "
              "test [--quick | --python 3.13] [pytest args]")
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
