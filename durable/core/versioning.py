"""Orchestration versions: how two compare, and whether a host may run an instance of one.

Pure. Durable Functions' rules (Durable Task's `VersioningSettings`):
- an empty or missing version is older than any other, and two empty ones are equal;
- when both parse as a .NET `System.Version` (two to four dot-separated non-negative
  integers, such as "1.0" or "2.1.0.7"), they compare part by part, a missing part being
  older than a present one ("1.0" < "1.0.0");
- otherwise they compare as strings, ignoring case ("1" and "2" do not parse, so they
  compare as text, and "10" is older than "9").

A host's version is host.json `defaultVersion`. `versionMatchStrategy` says which instances
it may run: any (`None`), only its own version (`Strict`), or its own and older ones
(`CurrentOrOlder`, the default). `versionFailureStrategy` says what happens to the others:
`Reject` (the default) leaves the work for a host that can take it, `Fail` fails the
instance with a message naming both versions.
"""

from __future__ import annotations

import re
from enum import StrEnum

_SYSTEM_VERSION = re.compile(r"^\s*\d+(\.\d+){1,3}\s*$")
# System.Version parts are Int32.
_MAX_PART = 2**31 - 1


class VersionMatchStrategy(StrEnum):
    """Which orchestration versions a host runs (host.json `versionMatchStrategy`)."""

    NONE = "None"
    STRICT = "Strict"
    CURRENT_OR_OLDER = "CurrentOrOlder"


class VersionFailureStrategy(StrEnum):
    """What a host does with an instance of a version it does not run (host.json
    `versionFailureStrategy`)."""

    REJECT = "Reject"
    FAIL = "Fail"


def _parts(version: str) -> tuple[int, ...] | None:
    """The parts of a `System.Version`, -1 for the missing ones (None: it does not parse)."""
    if not _SYSTEM_VERSION.match(version):
        return None
    parts = [int(p) for p in version.strip().split(".")]
    if any(p > _MAX_PART for p in parts):
        return None
    return tuple(parts + [-1] * (4 - len(parts)))


def compare_versions(a: str | None, b: str | None) -> int:
    """Negative when `a` is older than `b`, 0 when they are the same version, positive when
    `a` is newer (see the module docstring for the rules)."""
    if not a and not b:
        return 0
    if not a:
        return -1
    if not b:
        return 1
    pa, pb = _parts(a), _parts(b)
    if pa is not None and pb is not None:
        return (pa > pb) - (pa < pb)
    # .NET's OrdinalIgnoreCase compares the upper-cased texts code point by code point.
    ua, ub = a.upper(), b.upper()
    return (ua > ub) - (ua < ub)


def version_mismatch(
    instance_version: str | None,
    host_version: str | None,
    strategy: VersionMatchStrategy,
) -> str | None:
    """Why a host of `host_version` may not run an instance of `instance_version` under
    `strategy` (None: it may)."""
    if strategy is VersionMatchStrategy.NONE:
        return None
    order = compare_versions(instance_version, host_version)
    shown_instance, shown_host = _shown(instance_version), _shown(host_version)
    if strategy is VersionMatchStrategy.STRICT and order != 0:
        return (
            f"The orchestration version {shown_instance} does not match this host's version "
            f"{shown_host} (host.json defaultVersion, versionMatchStrategy Strict). Run it on "
            "a host whose defaultVersion is the same, or use versionMatchStrategy "
            "CurrentOrOlder or None."
        )
    if strategy is VersionMatchStrategy.CURRENT_OR_OLDER and order > 0:
        return (
            f"The orchestration version {shown_instance} is newer than this host's version "
            f"{shown_host} (host.json defaultVersion, versionMatchStrategy CurrentOrOlder). "
            "Run it on a host whose defaultVersion is at least as new."
        )
    return None


def _shown(version: str | None) -> str:
    return f"'{version}'" if version else "(none)"
