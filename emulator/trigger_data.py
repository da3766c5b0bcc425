"""The binding data each trigger offers to binding expressions, with the host's names.

- HTTP: route parameters, query parameters (also as `Query`), `Headers`, and the top-level
  properties of a JSON object body.
- Queue: `QueueTrigger` (the message text), `DequeueCount`, `ExpirationTime`, `Id`,
  `InsertionTime`, `NextVisibleTime`, `PopReceipt`, and the top-level properties of a JSON
  object message.
- Blob: the path pattern's expressions, `BlobTrigger` ("container/blob"), `Uri`,
  `Properties`, `Metadata`.

Lookups are case-insensitive (see emulator.expressions). Where a name appears twice, the
trigger's own values win over properties of the payload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from azure.storage.queue import QueueMessage as StorageMessage

BindingData = dict[str, Any]


def json_properties(body: bytes | str) -> BindingData:
    """Top-level properties of a JSON object payload; nothing for anything else."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON, or nested too deep
        return {}
    return dict(value) if isinstance(value, dict) else {}


def _merge(payload: BindingData, own: Mapping[str, Any]) -> BindingData:
    result = {k: v for k, v in payload.items()
              if k.lower() not in {o.lower() for o in own}}
    result.update(own)
    return result


def http_data(route_params: Mapping[str, str], query: Mapping[str, str],
              headers: Mapping[str, str], body: bytes) -> BindingData:
    own: BindingData = {**dict(query), "Query": dict(query), "Headers": dict(headers)}
    own.update(route_params)
    return _merge(json_properties(body), own)


def queue_data(message: StorageMessage, body: bytes) -> BindingData:
    text = body.decode("utf-8", errors="replace")
    own: BindingData = {
        "QueueTrigger": text,
        "DequeueCount": message.dequeue_count,
        "ExpirationTime": message.expires_on,
        "Id": message.id,
        "InsertionTime": message.inserted_on,
        "NextVisibleTime": message.next_visible_on,
        "PopReceipt": message.pop_receipt,
    }
    return _merge(json_properties(body), own)


def blob_data(captured: Mapping[str, str], path: str, uri: str, properties: Mapping[str, Any],
              metadata: Mapping[str, str]) -> BindingData:
    own: BindingData = {"BlobTrigger": path, "Uri": uri, "Properties": dict(properties),
                        "Metadata": dict(metadata)}
    return _merge(dict(captured), own)
