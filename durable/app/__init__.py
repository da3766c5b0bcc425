"""The app glue: `DFApp` / `Blueprint`, the dispatcher Functions they register, the
management API's Function, and the composition root (`root.process`) that holds what a
process shares."""

from durable.app import payloads  # noqa: F401 (installs the SDK's payload codec)
from durable.app.decorators import Blueprint, DFApp

__all__ = ["Blueprint", "DFApp"]
