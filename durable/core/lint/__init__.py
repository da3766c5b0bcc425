"""The determinism lint: a static check (`ast`, no user code runs) of orchestrator code
for calls that are not replay-safe. `lint_source` checks one module; the app layer finds
the modules of an app and the host and `durable lint` report the findings."""

from durable.core.lint.analyser import lint_source
from durable.core.lint.findings import Finding, LintResult
from durable.core.lint.rules import RULES, Rule, rule_for

__all__ = ["RULES", "Finding", "LintResult", "Rule", "lint_source", "rule_for"]
