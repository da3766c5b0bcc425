"""What `start` is asked to do, and binding its listening socket: kept free of the SDKs, so
that the reloader (emulator.reloader), which only holds the socket and watches files, starts
in a fraction of the host's time."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import ConfigError, PortInUseError

BIND_HOST = "127.0.0.1"
_HOST_HINT = "Pass --host an address of this machine (127.0.0.1, or 0.0.0.0 for all)."


@dataclass(frozen=True)
class StartOptions:
    script_root: Path | None = None
    port: int | None = None
    verbose: bool = False
    host: str = BIND_HOST  # the address HTTP listens on: loopback unless asked otherwise
    functions: tuple[str, ...] = ()  # --functions: only these (names or glob patterns)
    listen_fd: int | None = None  # set by the reloader: the listening socket
    control_fd: int | None = None  # set by the reloader: the link to it
    trace: str | None = None  # --trace: where spans go ("-": the console), None: nowhere


def port_in_use(port: int) -> PortInUseError:
    return PortInUseError(
        f"Port {port} is unavailable.",
        "Close the process using that port, or specify another port using --port.",
    )


def check_port_free(host: str, port: int) -> None:
    """Fail before starting Azurite if the HTTP port is taken or the address is not one of
    this machine's (the real bind re-checks)."""
    sock = bind_listener(host, port)
    sock.close()


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (not yet listening); errors say what to do."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"Cannot listen on '{host}': {exc}.", _HOST_HINT) from None
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise port_in_use(port) from None
        raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}.",
                          _HOST_HINT) from None
    return sock
