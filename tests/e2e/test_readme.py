"""The README's walkthrough, run as written against the sample app.

The shell blocks of the README's "Walkthrough", "Look inside the task hub" and "Determinism"
sections are run in order, in one bash session, against a host serving a copy of the sample
(its own task hub and Bookings table) with `BASE` pointing at it. After every block that the
README follows with a `text` block (what it prints), each line of that text must appear in the
block's real output, in order, except lines with `...` (shortened) and lines with a
timestamp. The Python examples of "Testing your orchestrators" and "Determinism" are run with
pytest, as one file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, HostProcess
from tests.e2e.test_sample import copy_sample_app, unique_names

pytestmark = pytest.mark.azurite

README = ROOT / "README.md"
SHELL_SECTIONS = ("Walkthrough", "Look inside the task hub", "Determinism")
PYTHON_SECTIONS = ("Testing your orchestrators", "Determinism")
README_BASE = "http://localhost:7071"
README_HUB = "ConferenceBooking"
MARKER = "=====README-BLOCK-{}====="
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
SCRIPT_TIMEOUT = 300.0


@dataclass
class Block:
    code: str
    expected: str | None = None


def section(markdown: str, title: str) -> str:
    """The text of the `## {title}` section, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown,
                      re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def blocks(text: str, language: str) -> list[Block]:
    """The `language` code blocks, each with the `text` block that directly follows it."""
    found: list[Block] = []
    fences = list(FENCE.finditer(text))
    for i, fence in enumerate(fences):
        if fence.group(1) != language:
            continue
        block = Block(fence.group(2))
        following = fences[i + 1] if i + 1 < len(fences) else None
        if (
            following is not None
            and following.group(1) == "text"
            and not text[fence.end():following.start()].strip()
        ):
            block.expected = following.group(2)
        found.append(block)
    return found


def script(shell_blocks: list[Block]) -> str:
    parts = ["set -euo pipefail"]
    for n, block in enumerate(shell_blocks):
        parts.append(f"echo '{MARKER.format(n)}'")
        parts.append(block.code)
    return "\n".join(parts) + "\n"


def outputs(stdout: str, count: int) -> list[str]:
    pieces = re.split(r"^=====README-BLOCK-(\d+)=====\n", stdout, flags=re.MULTILINE)
    found = {int(pieces[i]): pieces[i + 1] for i in range(1, len(pieces) - 1, 2)}
    return [found.get(n, "") for n in range(count)]


def normalise(text: str, base: str, hub: str) -> list[str]:
    text = text.replace(base, README_BASE).replace(hub, README_HUB)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def missing_lines(expected: str, actual: str, base: str, hub: str) -> list[str]:
    """Lines of `expected` not found, in order, in `actual` (after normalising both)."""
    wanted = [
        line for line in normalise(expected, README_BASE, README_HUB)
        if "..." not in line and not TIMESTAMP.search(line)
    ]
    got = normalise(actual, base, hub)
    missing: list[str] = []
    position = 0
    for line in wanted:
        try:
            position = got.index(line, position) + 1
        except ValueError:
            missing.append(line)
    return missing


@pytest.fixture(scope="module")
def app_and_host(
    azurite: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, HostProcess, str]]:
    hub, table = unique_names()
    app = copy_sample_app(tmp_path_factory.mktemp("readme") / "app", hub)
    # The README runs `.venv/bin/python` from the repository root; here the copy is the root.
    (app / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    process = HostProcess(str(app), {"BOOKINGS_TABLE": table})
    try:
        process.wait_ready()
        yield app, process, hub
    finally:
        code = process.stop()
    assert code == 0, process.output


def test_readme_starts_with_the_two_quickstart_commands() -> None:
    text = README.read_text()
    assert text.startswith("# ")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[0] == "Quickstart", headings
    pitch = text[text.index("\n"):text.index("## Quickstart")].strip()
    assert pitch and "\n\n" not in pitch, "one paragraph between the title and Quickstart"
    commands = [b.code.strip() for b in blocks(section(text, "Quickstart"), "bash")]
    assert commands == ["python3 dev.py sample\npython3 dev.py test"]
    last = section(text, "Quickstart").strip().split("\n\n")[-1]
    assert last.startswith("While the sample runs, open the dashboard:")
    assert "<http://localhost:7071/runtime/webhooks/durabletask/dashboard/>" in last


def test_the_walkthrough_runs_and_prints_what_the_readme_says(
    app_and_host: tuple[Path, HostProcess, str],
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    app, host, hub = app_and_host
    text = README.read_text()
    shell_blocks = [b for title in SHELL_SECTIONS for b in blocks(section(text, title), "bash")]
    assert len(shell_blocks) >= 6
    base = f"http://localhost:{host.port}"
    env = {**os.environ, "BASE": base, "PYTHONPATH": str(ROOT)}
    env.pop("AzureWebJobsStorage", None)  # as on a developer's machine: local.settings.json
    done = subprocess.run(
        ["bash", "-c", script(shell_blocks)], cwd=app, env=env, capture_output=True,
        text=True, timeout=SCRIPT_TIMEOUT,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"

    printed = outputs(done.stdout, len(shell_blocks))
    for block, actual in zip(shell_blocks, printed, strict=True):
        if block.expected is None:
            continue
        missing = missing_lines(block.expected, actual, base, hub)
        assert not missing, (
            f"README block\n{block.code}\nprinted\n{actual}\nwithout these lines:\n"
            + "\n".join(missing)
        )


def test_the_testing_example_passes(tmp_path: Path) -> None:
    text = README.read_text()
    examples = [b for title in PYTHON_SECTIONS for b in blocks(section(text, title), "python")]
    assert examples, f"no python example in {PYTHON_SECTIONS}"
    test_file = tmp_path / "test_readme_example.py"
    test_file.write_text("\n\n".join(b.code for b in examples))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), str(test_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout), done.stdout
