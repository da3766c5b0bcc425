"""JSON encoding of user payloads, compatible with the Durable Functions Python SDK.

Payloads are plain JSON. An object with a `to_json` method is written as
`{"__class__": <class name>, "__module__": <module>, "__data__": Class.to_json(obj)}` and read
back by importing the module and calling `Class.from_json(data)`, exactly the shape the SDK
writes, so payloads written by either side can be read by the other.

Encoding happens where the user hands a value over (the call to `call_activity`,
`set_custom_status`, the orchestrator's return), so a value that cannot be encoded fails at
that line with a `SerializationError` naming its type and the place it was passed, instead
of surfacing later in storage code.

The codec is pluggable: the app layer installs the one of `azure.functions`
(`df_dumps`/`df_loads`, with type validation against an `expected_type` and the strict mode
of `AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`), which is what the SDK uses, so encoding and
decoding are exactly the SDK's. The codec here is the fallback when the core runs alone; it
imports whatever module a payload names. Payloads come from this task hub only (written by
the app's own code), which is the same trust model as the SDK's.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Protocol

from durable.errors import SerializationError

__all__ = ["PayloadCodec", "SerializationError", "dumps", "loads", "use_codec"]


class PayloadCodec(Protocol):
    """Turns user values into JSON text and back; `expected_type` (may be None) is the type
    the caller wants back, for codecs that validate or reconstruct by it."""

    def dumps(self, value: Any) -> str:
        """JSON text for `value`; raises TypeError/ValueError when it cannot."""
        ...

    def loads(self, text: str, expected_type: type | None) -> Any:
        """The value `text` encodes; raises when it cannot."""
        ...

_CLASS_KEY = "__class__"
_MODULE_KEY = "__module__"
_DATA_KEY = "__data__"

_FIX = (
    "Pass JSON-compatible data (dict, list, str, int, float, bool, None), or give the class a "
    "`to_json(obj)` static method and a `from_json(data)` class/static method."
)


class _Unserializable(Exception):
    """Carries the offending object's type out of json's `default` hook."""

    def __init__(self, obj: object, reason: str) -> None:
        super().__init__(reason)
        self.obj = obj
        self.reason = reason


def _encode_custom(obj: object) -> dict[str, Any]:
    to_json = getattr(type(obj), "to_json", None)
    if to_json is None or not callable(to_json):
        raise _Unserializable(obj, "it is not JSON serializable and has no to_json method")
    try:
        data = to_json(obj)
    except Exception as exc:
        raise _Unserializable(obj, f"its to_json raised {_describe(exc)}") from exc
    return {_CLASS_KEY: type(obj).__name__, _MODULE_KEY: type(obj).__module__, _DATA_KEY: data}


def dumps(value: Any, where: str) -> str:
    """Encode `value` as JSON text; `where` says what the value is, for the error message."""
    try:
        return _codec.dumps(value)
    except _Unserializable as exc:
        raise SerializationError(
            f"Cannot serialize a value of type {_type_name(exc.obj)} passed as {where}: "
            f"{exc.reason}. {_FIX}"
        ) from exc
    except Exception as exc:  # the codec's own checks, or a class's to_json
        culprit, reason = value, _describe(exc)
        if _raised_in_to_json(exc):
            reason = f"its to_json raised {reason}"
        else:
            found = _unserializable_part(value)
            if found is not None:
                culprit, reason = found, "it is not JSON serializable and has no to_json method"
        raise SerializationError(
            f"Cannot serialize a value of type {_type_name(culprit)} passed as {where}: "
            f"{reason}. {_FIX}"
        ) from exc


_PLAIN = (str, int, float, bool, type(None))


def _unserializable_part(value: object, depth: int = 0) -> object | None:
    """The first value inside `value` that JSON cannot hold and that has no `to_json`, to
    name it in the message (the codec's own error names only the outer value)."""
    if depth > 50 or isinstance(value, _PLAIN):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, _PLAIN):
                culprit: object = key
                return culprit
            found = _unserializable_part(item, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for item in value:
            found = _unserializable_part(item, depth + 1)
            if found is not None:
                return found
        return None
    return None if callable(getattr(type(value), "to_json", None)) else value


def _raised_in_to_json(exc: BaseException) -> bool:
    """Whether a user's `to_json` is where `exc` was raised (for the message)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "to_json":
            return True
        tb = tb.tb_next
    return False


def _decode_custom(obj: dict[str, Any]) -> Any:
    if _CLASS_KEY not in obj or _MODULE_KEY not in obj or _DATA_KEY not in obj:
        return obj
    class_name, module_name = obj[_CLASS_KEY], obj[_MODULE_KEY]
    if not isinstance(class_name, str) or not isinstance(module_name, str):
        return obj
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SerializationError(
            f"Cannot deserialize a {class_name}: its module {module_name!r} cannot be "
            f"imported ({exc}). Make the class importable from the function app."
        ) from exc
    cls = getattr(module, class_name, None)
    from_json = getattr(cls, "from_json", None)
    if from_json is None or not callable(from_json):
        raise SerializationError(
            f"Cannot deserialize a {module_name}.{class_name}: the class is missing or has no "
            "from_json method."
        )
    return from_json(obj[_DATA_KEY])


def loads(text: str | None, expected_type: type | None = None) -> Any:
    """Decode JSON text written by `dumps` (or by the SDK); None and "" decode to None.

    `expected_type` is the type the caller expects (the SDK's `expected_type=`).
    """
    if text is None or text == "":
        return None
    try:
        return _codec.loads(text, expected_type)
    except SerializationError:
        raise
    except json.JSONDecodeError as exc:
        raise SerializationError(f"Payload is not valid JSON ({exc}): {text[:200]!r}") from exc
    except Exception as exc:  # the codec's checks, or a class's own from_json
        wanted = f" as {_type_name_of_class(expected_type)}" if expected_type else ""
        raise SerializationError(
            f"Cannot deserialize a payload{wanted}: {_describe(exc)}. Payload: {text[:200]!r}"
        ) from exc


class _LegacyCodec:
    """The SDK's classic format, with classes found by importing their module."""

    def dumps(self, value: Any) -> str:
        return json.dumps(value, default=_encode_custom)

    def loads(self, text: str, expected_type: type | None) -> Any:
        return json.loads(text, object_hook=_decode_custom)


_codec: PayloadCodec = _LegacyCodec()


def use_codec(codec: PayloadCodec) -> None:
    """Install the codec every payload goes through (the app layer installs the SDK's)."""
    global _codec
    _codec = codec


def _type_name_of_class(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(exc: Exception) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # the exception's own __str__ failed
        return type(exc).__name__


def _type_name(obj: object) -> str:
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"
