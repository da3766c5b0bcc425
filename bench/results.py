"""What a scenario reports: metrics (value, unit, target) and free-form details for the JSON."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    op: str  # "<=" or ">="
    bound: float
    # False when the run's size differs from the size the target is stated for.
    applies: bool = True

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass
class Metric:
    key: str
    label: str
    value: float | None
    unit: str
    # A duration to express in floor units (one storage round trip): latency, or 1/rate.
    floor_seconds: float | None = None
    target: Target | None = None
    floor_x: float | None = None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if not self.target.applies:
            return "n/a"
        if self.value is None or math.isnan(self.value):
            return "FAIL"
        return "PASS" if self.target.met(self.value) else "FAIL"


@dataclass
class Section:
    name: str
    title: str
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def add(self, key: str, label: str, value: float | None, unit: str,
            floor_seconds: float | None = None, target: Target | None = None) -> Metric:
        metric = Metric(f"{self.name}.{key}", label, value, unit, floor_seconds, target)
        self.metrics.append(metric)
        return metric

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for m, metric in zip(out["metrics"], self.metrics, strict=True):
            m["verdict"] = metric.verdict
        return out


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def total(counts: dict[str, int], *, skip: tuple[str, ...] = ()) -> int:
    return sum(v for k, v in counts.items() if k not in skip)
