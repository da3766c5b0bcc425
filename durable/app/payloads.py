"""The payload codec of `azure.functions`, installed for every payload this package writes
or reads.

`azure.functions` (1.26+ on Python 3.10-3.12, 2.2+ on 3.13) has `df_dumps`/`df_loads`: the
SDK's encoding, type validation against an `expected_type`, and the strict mode switched on
by `AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`. Older releases have only the custom-object hooks
of the classic format; then those are used, without validation, as the SDK does.
"""

from __future__ import annotations

import json
from typing import Any

from azure.functions import _durable_functions as functions_codec

from durable.core.serialization import use_codec


class FunctionsCodec:
    """`df_dumps`/`df_loads` where `azure.functions` has them, else its classic hooks."""

    def __init__(self) -> None:
        self._dumps = getattr(functions_codec, "df_dumps", None)
        self._loads = getattr(functions_codec, "df_loads", None)

    @property
    def validates(self) -> bool:
        """Whether `expected_type` is checked (the installed azure.functions has df_loads)."""
        return self._loads is not None

    def dumps(self, value: Any) -> str:
        """The SDK's encoding of `value`."""
        if self._dumps is not None:
            return str(self._dumps(value))
        return json.dumps(value, default=functions_codec._serialize_custom_object)

    def loads(self, text: str, expected_type: type | None) -> Any:
        """The SDK's decoding of `text`, validated against `expected_type` when given."""
        if self._loads is not None:
            return self._loads(text, expected_type=expected_type)
        return json.loads(text, object_hook=functions_codec._deserialize_custom_object)


CODEC = FunctionsCodec()
use_codec(CODEC)

__all__ = ["CODEC", "FunctionsCodec"]
