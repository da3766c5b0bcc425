"""Task hub resource names and table keys, spelled exactly as Durable Functions spells them.

Tools that inspect a task hub (Storage Explorer, `func durable`, dashboards) find our
queues, tables and containers only if the names match Durable Task's Azure Storage provider.
"""

from __future__ import annotations

import re

MIN_HUB_NAME_LENGTH = 3
MAX_HUB_NAME_LENGTH = 45
_HUB_NAME_CHARS = re.compile(r"^[A-Za-z0-9]+$")

SENTINEL_ROW_KEY = "sentinel"

# Durable Task's KeySanitation: '^' is the escape character; these characters are not
# allowed (or are troublesome) in PartitionKey/RowKey values.
_ESCAPE = "^"
_ESCAPES = {"^": "^^", "/": "^0", "\\": "^1", "#": "^2", "?": "^3"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_CONTROL_OFFSET = 0xC0


def validate_hub_name(hub_name: str) -> str:
    """Reject a hub name Azure would reject later with a less helpful message."""
    if not isinstance(hub_name, str):
        raise ValueError(f"hub_name must be a string, got {type(hub_name).__name__}")
    if not MIN_HUB_NAME_LENGTH <= len(hub_name) <= MAX_HUB_NAME_LENGTH:
        raise ValueError(
            f"hub_name {hub_name!r} must be {MIN_HUB_NAME_LENGTH} to {MAX_HUB_NAME_LENGTH} "
            f"characters long, it has {len(hub_name)}"
        )
    if not _HUB_NAME_CHARS.match(hub_name):
        raise ValueError(
            f"hub_name {hub_name!r} may contain only letters and digits (it names queues, "
            "tables and a blob container)"
        )
    if not hub_name[0].isalpha():
        raise ValueError(f"hub_name {hub_name!r} must start with a letter")
    return hub_name


def sanitize_hub_name(name: str) -> str:
    """Turn an arbitrary default (e.g. a site name) into a valid hub name, as DF does."""
    cleaned = "".join(c for c in name if c.isascii() and c.isalnum())
    if not cleaned:
        return "DefaultTaskHub"
    if cleaned[0].isdigit():
        cleaned = "t" + cleaned
    cleaned = cleaned[:MAX_HUB_NAME_LENGTH]
    if len(cleaned) < MIN_HUB_NAME_LENGTH:
        cleaned += "Hub"
    return cleaned


def control_queue_name(hub_name: str, partition: int) -> str:
    return f"{hub_name.lower()}-control-{partition:02d}"


def work_item_queue_name(hub_name: str) -> str:
    return f"{hub_name.lower()}-workitems"


def history_table_name(hub_name: str) -> str:
    return f"{hub_name}History"


def instances_table_name(hub_name: str) -> str:
    return f"{hub_name}Instances"


def large_message_container_name(hub_name: str) -> str:
    return f"{hub_name.lower()}-largemessages"


def escape_key(value: str) -> str:
    """Escape an instance id for use as a PartitionKey (Durable Task's KeySanitation)."""
    out: list[str] = []
    for ch in value:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code <= 0x1F or 0x7F <= code <= 0x9F:
            out.append(_ESCAPE + chr(_CONTROL_OFFSET + code))
        else:
            out.append(ch)
    return "".join(out)


def unescape_key(value: str) -> str:
    """Invert `escape_key`; a dangling or unknown escape is an error, not silently kept."""
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch != _ESCAPE:
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(value):
            raise ValueError(f"escaped key {value!r} ends with a lone '^'")
        nxt = value[i + 1]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
        else:
            code = ord(nxt) - _CONTROL_OFFSET
            if not (0 <= code <= 0x1F or 0x7F <= code <= 0x9F):
                raise ValueError(f"escaped key {value!r} has an unknown escape '^{nxt}'")
            out.append(chr(code))
        i += 2
    return "".join(out)


def blob_safe(value: str) -> str:
    """An injective spelling of `value` with only letters, digits, '-' and '.'.

    Blob names with ':' and similar characters are signed differently by the SDK and checked
    differently by Azurite (AuthorizationFailure), and instance and message ids may hold them.
    """
    return "".join(
        ch if (ch.isascii() and ch.isalnum()) or ch in "-." else f"_{ord(ch):x}_" for ch in value
    )


def blob_prefix(instance_id: str) -> str:
    """Every large-payload blob of an instance lives under this prefix, so purge is one listing.

    The trailing slash keeps instance 'a' from matching the blobs of instance 'ab'.
    """
    return blob_safe(instance_id) + "/"
