"""`OrchestrationRuntimeStatus` and `DurableOrchestrationStatus`, as the SDK names them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import StatusFormatError
from durable.storage.interface import InstanceRecord

__all__ = ["DurableOrchestrationStatus", "OrchestrationRuntimeStatus", "PurgeHistoryResult"]


def _iso(value: datetime | None) -> str | None:
    """Durable Functions' status timestamps: second precision, 'Z' suffix."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    """A status time given as a datetime or as ISO 8601 text ('Z' or an offset; none: UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise StatusFormatError(
            f"A status time must be a datetime or ISO 8601 text such as "
            f"'2024-05-01T10:00:00Z'; got {value!r}."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_json_text(text: str | None) -> Any:
    """Payloads are JSON text; a value that is not JSON (a terminate reason) stays a string."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


class DurableOrchestrationStatus:
    """The status of an instance, as the SDK's client and the status endpoint give it.

    It is falsy when the instance was not found (then `message` says so). It takes our
    keyword arguments or the SDK's (the status endpoint's camelCase names: `instanceId`,
    `createdTime`, `lastUpdatedTime`, `input`, `runtimeStatus`, `customStatus`); other
    keyword arguments become attributes, as in the SDK. The positions are the SDK's (`name`,
    instance id, created, last updated, input, output, runtime status, custom status,
    history), and however a value is given, times may be ISO text (read as datetimes, UTC
    when no offset is written) and the runtime status its name, as the SDK reads them.
    """

    def __init__(
        self,
        name: str | None = None,
        instance_id: str | None = None,
        created_time: datetime | str | None = None,
        last_updated_time: datetime | str | None = None,
        input_: Any = None,
        output: Any = None,
        runtime_status: OrchestrationRuntimeStatus | str | None = None,
        custom_status: Any = None,
        history: list[dict[str, Any]] | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        sdk = {
            ours: kwargs.pop(theirs) for theirs, ours in _SDK_ARGUMENTS.items() if theirs in kwargs
        }
        ours = {"instance_id": instance_id, "created_time": created_time,
                "last_updated_time": last_updated_time, "input_": input_,
                "runtime_status": runtime_status, "custom_status": custom_status}
        given = {k: v if v is not None else sdk.get(k) for k, v in ours.items()}
        self._name = name
        self._instance_id: str | None = given["instance_id"]
        self._created_time = _parse_time(given["created_time"])
        self._last_updated_time = _parse_time(given["last_updated_time"])
        self._input = given["input_"]
        self._output = output
        self._runtime_status = _status(given["runtime_status"])
        self._custom_status = given["custom_status"]
        self._history = history
        self._version = version
        for key, value in kwargs.items():
            setattr(self, key, value)

    @property
    def name(self) -> str | None:
        """The orchestrator function's name."""
        return self._name

    @property
    def instance_id(self) -> str | None:
        """The instance id."""
        return self._instance_id

    @property
    def created_time(self) -> datetime | None:
        """When the current execution was started (UTC)."""
        return self._created_time

    @property
    def last_updated_time(self) -> datetime | None:
        """When the instance last changed (UTC)."""
        return self._last_updated_time

    @property
    def input_(self) -> Any:
        """The input, when asked for (`show_input`)."""
        return self._input

    @property
    def output(self) -> Any:
        """The output: the result, the failure message, or the termination reason."""
        return self._output

    @property
    def runtime_status(self) -> OrchestrationRuntimeStatus | None:
        """Where the instance is in its life cycle."""
        return self._runtime_status

    @property
    def custom_status(self) -> Any:
        """What the orchestrator last set with `set_custom_status` (None if never)."""
        return self._custom_status

    @property
    def history(self) -> list[dict[str, Any]] | None:
        """The history events, when asked for (`show_history`)."""
        return self._history

    @property
    def version(self) -> str | None:
        """The orchestration version the instance was started with (None: unversioned).

        `start_new(version=...)` or host.json `defaultVersion` set it.
        """
        return self._version

    def __bool__(self) -> bool:
        return self._created_time is not None

    def to_json(self) -> dict[str, Any]:
        """The SDK's JSON of a status: the endpoint's names, with the history as `history`."""
        body = self.to_status_body()
        if "historyEvents" in body:
            body["history"] = body.pop("historyEvents")
        return body

    def to_status_body(self) -> dict[str, Any]:
        """The JSON shape of Durable Functions' status endpoint (`historyEvents`)."""
        body: dict[str, Any] = {
            "name": self._name,
            "instanceId": self._instance_id,
            "runtimeStatus": self._runtime_status.value if self._runtime_status else None,
            "input": self._input,
            "customStatus": self._custom_status,
            "output": self._output,
            "createdTime": _iso(self._created_time),
            "lastUpdatedTime": _iso(self._last_updated_time),
        }
        if self._version:
            body["version"] = self._version
        if self._history is not None:
            body["historyEvents"] = self._history
        return body

    @classmethod
    def from_json(cls, json_obj: Any) -> DurableOrchestrationStatus:
        """Read a status endpoint body (dict or JSON text), as the SDK does.

        Its keys are the SDK's constructor arguments (`historyEvents` is read as `history`);
        unknown keys become attributes.

        A body that is not an object (an error text) becomes a falsy status carrying it as
        `message`.
        """
        if isinstance(json_obj, str):
            try:
                json_obj = json.loads(json_obj)
            except ValueError:
                return cls(message=json_obj)
        if not isinstance(json_obj, dict):
            return cls(message=json_obj)
        data = {str(k): v for k, v in json_obj.items()}
        if "historyEvents" in data and "history" not in data:
            data["history"] = data.pop("historyEvents")
        return cls(**data)

    def __repr__(self) -> str:
        status = self._runtime_status.value if self._runtime_status else None
        return f"DurableOrchestrationStatus(instance_id={self._instance_id!r}, status={status})"


# The SDK's (camelCase) constructor arguments and ours.
_SDK_ARGUMENTS = {
    "instanceId": "instance_id",
    "createdTime": "created_time",
    "lastUpdatedTime": "last_updated_time",
    "input": "input_",
    "runtimeStatus": "runtime_status",
    "customStatus": "custom_status",
}


def _status(value: Any) -> OrchestrationRuntimeStatus | None:
    """A runtime status given as the enum or by its name ('Running', ...)."""
    if value is None or isinstance(value, OrchestrationRuntimeStatus):
        return value
    try:
        return OrchestrationRuntimeStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in OrchestrationRuntimeStatus)
        raise StatusFormatError(
            f"{value!r} is not a runtime status; use an OrchestrationRuntimeStatus or one of "
            f"its names: {names}."
        ) from None


class PurgeHistoryResult:
    """What a purge deleted, as the SDK reports it.

    Other keyword arguments (further members of a purge endpoint's body) become attributes,
    as in the SDK.
    """

    def __init__(self, instancesDeleted: int, **kwargs: Any) -> None:  # the SDK's name
        self._instances_deleted = instancesDeleted
        for key, value in kwargs.items():
            setattr(self, key, value)

    @classmethod
    def from_json(cls, json_obj: dict[str, Any]) -> PurgeHistoryResult:
        """Read a purge endpoint's JSON body (`{"instancesDeleted": n}`), as the SDK does."""
        return cls(**json_obj)

    @property
    def instances_deleted(self) -> int:
        """How many instances were purged."""
        return self._instances_deleted

    def to_json(self) -> dict[str, int]:
        """The JSON body of the purge endpoints."""
        return {"instancesDeleted": self._instances_deleted}

    def __repr__(self) -> str:
        return f"PurgeHistoryResult(instances_deleted={self._instances_deleted})"


def status_from_record(record: InstanceRecord, show_input: bool) -> DurableOrchestrationStatus:
    """The SDK's status object for an Instances row; payloads are parsed from JSON text."""
    return DurableOrchestrationStatus(
        name=record.name,
        instance_id=record.instance_id,
        created_time=record.created_time,
        last_updated_time=record.last_updated_time,
        input_=parse_json_text(record.input) if show_input else None,
        output=parse_json_text(record.output),
        runtime_status=record.runtime_status,
        custom_status=parse_json_text(record.custom_status),
        version=record.version,
    )
