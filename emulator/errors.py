"""Errors the host reports at start-up. Each one says what is wrong, where, and what to do.

The command line prints `HostError`s to stderr (without a Python traceback of the host
itself) and exits with a non-zero status.
"""

from __future__ import annotations


class HostError(Exception):
    """Base of every error the host raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class ConfigError(HostError):
    """host.json or local.settings.json is missing, malformed or has an invalid value."""


class AppLoadError(HostError):
    """function_app.py is missing, cannot be imported, or defines no (or several) apps."""


class IndexingError(HostError):
    """The app's functions cannot be served as declared (duplicate name, bad route, ...)."""


class PortInUseError(HostError):
    """The HTTP port is taken by another process."""


class StorageError(HostError):
    """A storage connection is missing, malformed or unreachable."""


class AzuriteError(StorageError):
    """Azurite was needed but could not be found or started."""
