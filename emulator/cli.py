"""The command line: `python -m emulator <command> ...`.

Each sub-command is a `Command` in COMMANDS: a name, a one-line help, a function that adds
its arguments to its sub-parser, and a function that runs it and returns the exit status.
Adding one (e.g. `durable`) is one more entry in COMMANDS.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from emulator import durable_cli
from emulator.errors import HostError


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (1-65535)")
    return int(text)


def _start_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", "-p", type=_port, default=None,
                        help="HTTP port (default: Host.LocalHttpPort in local.settings.json, "
                        "else 7071)")
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                        help="the address to listen on (default: 127.0.0.1, this machine "
                        "only; 0.0.0.0 for every interface)")
    parser.add_argument("--verbose", action="store_true",
                        help="also log polling, Azurite and HTTP access details")
    parser.add_argument("--script-root", type=Path, default=None, metavar="DIR",
                        help="the function app folder (default: the current folder)")
    parser.add_argument("--functions", nargs="+", default=[], metavar="NAME",
                        help="run only these functions (names, or patterns such as 'durable_*')")
    parser.add_argument("--no-reload", action="store_true",
                        help="do not restart the app when its .py files, host.json or "
                        "local.settings.json change")
    parser.add_argument("--trace", nargs="?", const="-", default=None, metavar="FILE",
                        help="export OpenTelemetry spans as they end: to the console, or "
                        "as JSON lines to FILE (needs the otel extra)")
    # Set by the reloader for the host process it runs; not for people.
    parser.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--control-fd", type=int, default=None, help=argparse.SUPPRESS)


def _run_start(args: argparse.Namespace) -> int:
    from emulator.logs import quiet_after_shutdown, setup_logging
    from emulator.options import StartOptions

    setup_logging(args.verbose)
    options = StartOptions(args.script_root, args.port, args.verbose, args.host,
                           tuple(args.functions), args.listen_fd, args.control_fd, args.trace)
    if not args.no_reload and os.name == "posix":
        from emulator import reloader

        return reloader.run(options)
    from emulator.host import run

    try:
        code, stuck = run(options)
    finally:
        quiet_after_shutdown()
    if stuck:
        # Sync functions still running in pool threads would block interpreter exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


START = Command(
    name="start",
    help="run the function app in this folder, like `func start`",
    description="Serve a Python v2-programming-model function app (function_app.py) "
    "locally: HTTP, queue, timer and blob triggers, blob and table bindings, against Azurite "
    "or a storage account; the app reloads when its files change.",
    add_arguments=_start_arguments,
    run=_run_start,
)

COMMANDS: list[Command] = [START, Command("durable", durable_cli.HELP, durable_cli.add_arguments,
                                          durable_cli.run, durable_cli.DESCRIPTION)]


def _prog() -> str:
    """`dfunc` when run as the installed command, else `python -m emulator`."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name and name not in ("__main__.py", "-m", "-c") else "python -m emulator"


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="A local stand-in for Azure Functions Core Tools (`func`).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for command in commands:
        sub = subparsers.add_parser(command.name, help=command.help,
                                    description=command.description or command.help)
        command.add_arguments(sub)
        sub.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except HostError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
