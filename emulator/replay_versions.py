"""Would the current deployment take an instance of this version? Durable Functions' rule.

Durable Functions' orchestration versioning reads host.json `extensions.durableTask`:
`defaultVersion` is the version of the code being deployed, `versionMatchStrategy` says
which instances a worker of that version runs (`None`: any; `Strict`: only the same
version; `CurrentOrOlder`, the default: the same or an older one), and
`versionFailureStrategy` what becomes of the others (`Reject`, the default: left for a
worker that takes them; `Fail`: the instance fails). Versions compare as Durable Task
compares them: two empty versions are equal, an empty one is older than any other, two
that parse as .NET `System.Version` (2 to 4 dot-separated numbers) compare by number, and
other text compares ordinally, ignoring case.

`replay-check` asks this before replaying, so that an instance the new code would not run
is reported as such rather than as non-determinism. With no `defaultVersion` the check is
off, as versioning is in Durable Functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


class VersionMatchStrategy(Enum):
    """Which instance versions a worker runs (host.json `versionMatchStrategy`)."""

    NONE = "None"
    STRICT = "Strict"
    CURRENT_OR_OLDER = "CurrentOrOlder"


class VersionFailureStrategy(Enum):
    """What becomes of an instance a worker does not run (`versionFailureStrategy`)."""

    REJECT = "Reject"
    FAIL = "Fail"


@dataclass(frozen=True)
class VersionRule:
    """The deployment's version and the strategies of its host.json."""

    current: str = ""
    match: VersionMatchStrategy = VersionMatchStrategy.CURRENT_OR_OLDER
    failure: VersionFailureStrategy = VersionFailureStrategy.REJECT

    @staticmethod
    def from_host_json(host_json: Mapping[str, Any]) -> VersionRule:
        """Read `extensions.durableTask` (keys and values case-insensitively); ValueError
        naming the setting for a strategy Durable Functions does not know."""
        durable = _key(_key(host_json, "extensions"), "durableTask")
        return VersionRule(
            current=str(durable.get(_name(durable, "defaultVersion")) or ""),
            match=_enum(durable, "versionMatchStrategy", VersionMatchStrategy.CURRENT_OR_OLDER),
            failure=_enum(durable, "versionFailureStrategy", VersionFailureStrategy.REJECT),
        )

    def rejection(self, version: str | None) -> str | None:
        """Why an instance of `version` would not run under this deployment (None: it would)."""
        if not self.current or self.match is VersionMatchStrategy.NONE:
            return None
        order = compare_versions(version or "", self.current)
        if self.match is VersionMatchStrategy.STRICT and order != 0:
            why = "is not"
        elif self.match is VersionMatchStrategy.CURRENT_OR_OLDER and order > 0:
            why = "is newer than"
        else:
            return None
        fate = ("it would fail" if self.failure is VersionFailureStrategy.FAIL
                else "it would wait for a worker that takes it")
        return (f"version '{version or ''}' {why} the deployment's defaultVersion "
                f"'{self.current}' (versionMatchStrategy {self.match.value}); {fate}")


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as Durable Task orders two orchestration versions."""
    if not a or not b:
        return (a > b) - (a < b)  # "" sorts first
    numbers_a, numbers_b = _dotnet_version(a), _dotnet_version(b)
    if numbers_a is not None and numbers_b is not None:
        return (numbers_a > numbers_b) - (numbers_a < numbers_b)
    folded_a, folded_b = a.upper(), b.upper()
    return (folded_a > folded_b) - (folded_a < folded_b)


def _dotnet_version(text: str) -> tuple[int, ...] | None:
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _name(section: Mapping[str, Any], key: str) -> str:
    return next((k for k in section if k.lower() == key.lower()), key)


def _key(section: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = section.get(_name(section, key))
    return value if isinstance(value, Mapping) else {}


def _enum(section: Mapping[str, Any], key: str, default: E) -> E:
    raw = section.get(_name(section, key))
    if raw is None or raw == "":
        return default
    for member in type(default):
        if str(raw).lower() == str(member.value).lower():
            return member
    known = ", ".join(str(m.value) for m in type(default))
    raise ValueError(f"host.json extensions.durableTask.{key} is {raw!r}; use one of {known}.")
