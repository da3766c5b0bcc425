"""The entity commands of `python -m emulator durable`: list, show, signal, clean up.

Like the instance commands they talk to the task hub in storage directly, so they work
while the app is stopped. Entities are named `--name` and `--key` (`$` is the empty key).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.durable_cli import Context

Handler = Callable[["Context", argparse.Namespace], Awaitable[Any]]


class EntityCliError(Exception):
    """An entity request the command cannot carry out."""


def _entity(args: argparse.Namespace) -> Any:
    from durable.core.entities import EMPTY_KEY_SYMBOL, EntityId

    key = "" if args.key == EMPTY_KEY_SYMBOL else args.key
    try:
        return EntityId(args.name, key)
    except ValueError as exc:
        raise EntityCliError(str(exc)) from None


async def _list_entities(ctx: Context, args: argparse.Namespace) -> Any:
    page, token = await ctx.client.list_entities(
        args.name,
        last_operation_time_from=args.since,
        last_operation_time_to=args.until,
        fetch_state=args.fetch_state,
        page_size=args.top,
        continuation_token=args.continuation_token,
    )
    return {"entities": [e.to_json() for e in page], "continuationToken": token}


async def _get_entity(ctx: Context, args: argparse.Namespace) -> Any:
    entity = _entity(args)
    found = await ctx.client.read_entity_state(entity)
    if not found.entity_exists:
        raise EntityCliError(f"Entity {entity} does not exist in task hub "
                             f"'{ctx.settings.hub_name}'.")
    return {"entityId": entity.to_json(), "state": found.entity_state}


async def _signal_entity(ctx: Context, args: argparse.Namespace) -> Any:
    from emulator.durable_cli import _json_argument

    entity = _entity(args)
    await ctx.hub.create_if_not_exists()
    await ctx.client.signal_entity(entity, args.op, _json_argument(args.input, "--input"))
    return {"entityId": entity.to_json(), "message": f"Signalled '{args.op}' to {entity}."}


async def _clean_entity_storage(ctx: Context, args: argparse.Namespace) -> Any:
    result = await ctx.client.clean_entity_storage(
        remove_empty_entities=not args.keep_empty,
        release_orphaned_locks=not args.keep_orphaned_locks,
    )
    return result.to_json()


def _list_args(parser: argparse.ArgumentParser) -> None:
    from emulator.durable_cli import DEFAULT_TOP, _positive, _utc_time

    parser.add_argument("--name", default=None, help="only entities of this name")
    parser.add_argument("--fetch-state", action="store_true", help="include each state")
    parser.add_argument("--since", type=_utc_time, default=None, metavar="TIME",
                        help="only entities last operated on at or after this UTC time")
    parser.add_argument("--until", type=_utc_time, default=None, metavar="TIME",
                        help="only entities last operated on at or before this UTC time")
    parser.add_argument("--top", type=_positive, default=DEFAULT_TOP,
                        help=f"page size (default {DEFAULT_TOP})")
    parser.add_argument("--continuation-token", default=None, metavar="TOKEN",
                        help="the token a previous page printed, for the next page")


def _entity_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="the entity name")
    parser.add_argument("--key", required=True, help="the entity key ($ for the empty key)")


def _signal_args(parser: argparse.ArgumentParser) -> None:
    _entity_args(parser)
    parser.add_argument("--op", required=True, help="the operation")
    parser.add_argument("--input", default=None,
                        help="the operation's input: inline JSON, or @path/to/file.json")


def _clean_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep-empty", action="store_true",
                        help="do not remove entities that have no state")
    parser.add_argument("--keep-orphaned-locks", action="store_true",
                        help="do not release locks held by orchestrations that ended")


ENTITY_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "list-entities": ("list entities, a page at a time", _list_args, _list_entities),
    "get-entity": ("show the state of an entity", _entity_args, _get_entity),
    "signal-entity": ("signal an operation to an entity", _signal_args, _signal_entity),
    "clean-entity-storage": ("remove empty entities and release orphaned locks",
                             _clean_args, _clean_entity_storage),
}
