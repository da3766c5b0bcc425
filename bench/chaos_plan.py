"""What a chaos run starts, and what each instance must end with: a mix of orchestrator kinds
on `tests/apps/chaos_app`, their outputs, and the activity executions they need (duplicates
beyond these are the at-least-once retries a kill causes)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# (orchestrator, share of the instances, input)
MIX: tuple[tuple[str, float, Any], ...] = (
    ("chain", 0.20, None),
    ("fan", 0.10, 20),
    ("parent", 0.15, None),
    ("retrying", 0.15, None),
    ("timer", 0.15, 2),
    ("event", 0.15, None),
    ("counting", 0.10, 5),
)
EVENT_VALUE = "go"


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str
    payload: Any

    def expected_output(self) -> Any:
        return expected_output(self.name, self.instance_id, self.payload)

    def expected_executions(self) -> dict[str, int]:
        """Activity key -> executions without duplicates (flaky fails twice first)."""
        iid = self.instance_id
        if self.name == "chain":
            return {f"{iid}:{i}": 1 for i in range(3)}
        if self.name == "fan":
            return {f"{iid}:{i}": 1 for i in range(int(self.payload))}
        if self.name == "parent":
            return {
                **Instance(f"{iid}:0", "chain", None).expected_executions(),
                **Instance(f"{iid}:1", "fan", 5).expected_executions(),
            }
        if self.name == "retrying":
            return {f"{iid}:f": 3}
        if self.name == "timer":
            return {f"{iid}:0": 1, f"{iid}:1": 1}
        if self.name == "counting":
            return {}
        return {f"{iid}:{EVENT_VALUE}": 1}

    def all_ids(self) -> list[str]:
        """This instance and its sub-orchestrations."""
        if self.name == "parent":
            return [self.instance_id, f"{self.instance_id}:0", f"{self.instance_id}:1"]
        return [self.instance_id]


def expected_output(name: str, iid: str, payload: Any) -> Any:
    if name == "chain":
        return [f"{iid}:{i}!" for i in range(3)]
    if name == "fan":
        return int(payload)
    if name == "parent":
        return [expected_output("chain", f"{iid}:0", None), 5]
    if name == "retrying":
        return f"{iid}:f ok"
    if name == "timer":
        return [f"{iid}:0!", f"{iid}:1!"]
    if name == "event":
        return f"{iid}:{EVENT_VALUE}!"
    if name == "counting":
        return int(payload) + 1
    raise ValueError(f"unknown orchestrator {name!r}")


def plan_instances(count: int, rng: random.Random) -> list[Instance]:
    """`count` instances in MIX's proportions (largest remainders), shuffled."""
    quotas = [(count * share, name, payload) for name, share, payload in MIX]
    numbers = {name: int(q) for q, name, _ in quotas}
    by_remainder = sorted(quotas, key=lambda q: q[0] - int(q[0]), reverse=True)
    for _, name, _ in by_remainder[: count - sum(numbers.values())]:
        numbers[name] += 1
    names = [(name, payload) for _, name, payload in quotas for _ in range(numbers[name])]
    rng.shuffle(names)
    return [Instance(f"{name}-{i:04d}", name, payload) for i, (name, payload) in enumerate(names)]
