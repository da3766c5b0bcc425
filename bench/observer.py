"""The bench's own view of a task hub: it starts instances through the host's HTTP starters,
learns of completions from the bench app's long-polls, and reads the Instances table with a
separate storage client in the bench process, so that none of its reads count against the
host."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import aiohttp

from bench.host import BenchHost
from durable.core.history import OrchestrationStatus
from durable.storage.interface import InstanceRecord
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub

UNFINISHED = (OrchestrationStatus.Pending, OrchestrationStatus.Running)


class TimedOut(Exception):
    pass


def epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class Observer:
    def __init__(self, host: BenchHost, connection_string: str,
                 session: aiohttp.ClientSession) -> None:
        self.host = host
        self.session = session
        self.hub = TaskHub(TaskHubSettings(hub_name=host.hub,
                                           connection_string=connection_string))

    async def close(self) -> None:
        await self.hub.close()

    async def start(self, name: str, payload: Any = None) -> str:
        """Start one instance through the app's HTTP starter; its id."""
        async with self.session.post(self.host.url(f"api/start/{name}"),
                                     json=payload) as resp:
            text = await resp.text()
            if resp.status != 202:
                raise RuntimeError(f"starting {name} failed: {resp.status} {text}")
            return text

    async def start_many(self, name: str, count: int, prefix: str,
                         payload: Any = None) -> dict[str, Any]:
        """Start `count` instances at once inside the host (ids `{prefix}{i:06d}`)."""
        body = {"count": count, "prefix": prefix, "input": payload}
        timeout = aiohttp.ClientTimeout(total=600)
        async with self.session.post(self.host.url(f"api/_bench/start_many/{name}"),
                                     json=body, timeout=timeout) as resp:
            text = await resp.text()
            if resp.status != 202:
                raise RuntimeError(f"starting {count} {name} failed: {resp.status} {text}")
            result: dict[str, Any] = json.loads(text)
            return result

    async def finished(self, instance_id: str, timeout: float) -> tuple[InstanceRecord, float]:
        """Wait for the host to write the instance's terminal Instances row (the bench app's
        long-poll, no storage polling); the row, and the wall time that write returned."""
        got = await self._long_poll(f"api/_bench/finished/{instance_id}", {}, timeout)
        record = await self.hub.instances.get(instance_id, include_input=False)
        if record is None:
            raise RuntimeError(f"instance {instance_id} finished but has no Instances row")
        return record, float(got["last_at"])

    async def finished_many(self, prefix: str, count: int, timeout: float) -> dict[str, Any]:
        """Wait until `count` instances with the id prefix have their terminal row written:
        {"finished", "first_at", "last_at"} (wall times the writes returned)."""
        return await self._long_poll("api/_bench/finished",
                                     {"prefix": prefix, "count": str(count)}, timeout)

    async def _long_poll(self, path: str, params: dict[str, str],
                         timeout: float) -> dict[str, Any]:
        query = {**params, "timeout": str(timeout)}
        limit = aiohttp.ClientTimeout(total=timeout + 30)
        async with self.session.get(self.host.url(path), params=query, timeout=limit) as resp:
            body: dict[str, Any] = await resp.json()
            if resp.status == 408:
                raise TimedOut(f"{path} {params}: {body['finished']} of {body['count']} "
                               f"finished after {timeout:.0f} s")
            resp.raise_for_status()
            return body

    async def any_in(self, prefix: str, statuses: tuple[OrchestrationStatus, ...]) -> bool:
        """Whether any instance with the id prefix is in one of `statuses` (one-row pages)."""
        token = None
        while True:
            rows, token = await self.hub.instances.query(
                instance_id_prefix=prefix, statuses=statuses, top=1,
                continuation_token=token, include_input=False,
            )
            if rows:
                return True
            if token is None:
                return False

    async def wait_prefix(self, prefix: str, poll: float, timeout: float,
                          statuses: tuple[OrchestrationStatus, ...] = UNFINISHED) -> float:
        """Poll until no instance with the prefix is in `statuses`; the wall time seen."""
        deadline = time.monotonic() + timeout
        while await self.any_in(prefix, statuses):
            if time.monotonic() > deadline:
                raise TimedOut(f"instances '{prefix}*' still {[s.name for s in statuses]} "
                               f"after {timeout:.0f} s")
            await asyncio.sleep(poll)
        return time.time()

    async def records(self, prefix: str) -> list[InstanceRecord]:
        out: list[InstanceRecord] = []
        token = None
        while True:
            rows, token = await self.hub.instances.query(
                instance_id_prefix=prefix, top=1000, continuation_token=token,
                include_input=False,
            )
            out.extend(rows)
            if token is None:
                return out
