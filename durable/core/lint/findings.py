"""What the determinism lint reports: one `Finding` per replay-unsafe reference, with the
place, the rule's code and the replay-safe way to write it."""

from __future__ import annotations

from dataclasses import dataclass

# Printed once after the findings: how to keep one that is deliberate.
SILENCE_HINT = ("A finding that is deliberate is silenced by a `# durable: allow` comment on "
                "its line (or `# durable: allow DF101` for that code only).")


@dataclass(frozen=True)
class Finding:
    """A replay-unsafe call inside orchestrator code.

    `line` and `column` are 1-based, as editors and other linters print them. `function` is
    the function the call is written in; `orchestrator` the orchestrator that reaches it
    (the same name when the call is in the orchestrator's own body).
    """

    file: str
    line: int
    column: int
    code: str
    call: str
    qualified: str
    function: str
    orchestrator: str
    problem: str
    advice: str

    def where(self) -> str:
        """`file:line:column`, the form editors and CI annotations link to."""
        return f"{self.file}:{self.line}:{self.column}"

    def message(self) -> str:
        """What is wrong and what to write instead, in one sentence."""
        inside = f"orchestrator '{self.orchestrator}'"
        if self.function != self.orchestrator:
            inside = f"'{self.function}' (called from {inside})"
        return f"{self.code} {self.call} in {inside} {self.problem}; {self.advice}."

    def format(self) -> str:
        """The one line the host logs and `durable lint` prints for this finding."""
        return f"{self.where()}: {self.message()}"


@dataclass(frozen=True)
class LintResult:
    """The findings of one module and the orchestrators that were checked in it."""

    file: str
    orchestrators: tuple[str, ...]
    findings: tuple[Finding, ...]
