"""The determinism lint over whole apps: the fixture app reports exactly the lines marked
`# finding: DFnnn`, and every other app of the repository (the sample, the test apps, the
orchestrators of the integration tests) is silent. Sources are read, never imported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from durable.app.lint import findings_of, lint_app
from durable.core.lint import Finding, lint_source
from durable.errors import LintError

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"
LINT_APP = APPS / "lint_app"
MARKER = re.compile(r"# finding( \(registry\))?: (DF\d{3})$")


def marked(registry: bool) -> set[tuple[str, int, str]]:
    """(file, line, code) of the lines the fixture app marks as findings."""
    found = set()
    for path in sorted(LINT_APP.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = MARKER.search(line)
            if match and (registry or not match.group(1)):
                found.add((path.name, number, match.group(2)))
    return found


def reported(findings: list[Finding]) -> set[tuple[str, int, str]]:
    return {(Path(f.file).name, f.line, f.code) for f in findings}


def test_the_fixture_app_reports_every_marked_line_and_nothing_else() -> None:
    results = lint_app(LINT_APP / "function_app.py")
    expected = marked(registry=False)
    assert {code for _, _, code in expected} == {f"DF10{i}" for i in range(1, 7)}
    assert reported(findings_of(results)) == expected
    assert [Path(r.file).name for r in results] == ["function_app.py", "flows.py"]
    assert results[1].orchestrators == ("blueprint_flow",)


def test_orchestrators_from_a_registry_are_checked_too() -> None:
    script = LINT_APP / "function_app.py"
    # What a registry holds: the function object, defined in the app's file.
    namespace: dict[str, object] = {}
    exec(compile("def registered_in_a_loop(context): pass", str(script), "exec"), namespace)
    results = lint_app(script, [namespace["registered_in_a_loop"]])  # type: ignore[list-item]
    assert reported(findings_of(results)) == marked(registry=True)
    assert "registered_in_a_loop" in results[0].orchestrators


def test_paths_are_shown_relative_to_the_working_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(LINT_APP)
    finding = findings_of(lint_app(Path("function_app.py")))[0]
    assert finding.format().startswith("function_app.py:")


def test_the_sample_app_is_silent_and_only_its_own_modules_are_read() -> None:
    results = lint_app(ROOT / "function_app.py")
    assert findings_of(results) == []
    assert len(results[0].orchestrators) == 7
    files = {Path(r.file).resolve().relative_to(ROOT).parts[0] for r in results}
    assert files == {"function_app.py", "sample"}  # not the library's own package


@pytest.mark.parametrize(
    "app", sorted(p.name for p in APPS.iterdir()
                  if (p / "function_app.py").is_file()
                  and p.name not in ("lint_app", "broken_syntax")),
)
def test_every_test_app_is_silent(app: str) -> None:
    assert findings_of(lint_app(APPS / app / "function_app.py")) == []


@pytest.mark.parametrize(
    "module", ["determinism_functions.py", "orchestrations.py", "entity_functions.py",
               "test_client_apps.py", "test_bad_input_functions.py"],
)
def test_the_orchestrators_of_the_integration_tests_are_silent(module: str) -> None:
    path = ROOT / "tests" / "integration" / module
    result = lint_source(path.read_text(encoding="utf-8"), str(path))
    assert result.orchestrators and result.findings == ()


def test_an_app_module_that_does_not_parse_is_a_lint_error() -> None:
    with pytest.raises(LintError, match="line 9: cannot check the orchestrators"):
        lint_app(APPS / "broken_syntax" / "function_app.py")
