"""Helpers for tests of blob triggers and bindings: a mailbox over an output queue (so that a
test waiting for one function's report does not throw away another's), blob uploads, and
clean-up of containers and of this run's messages in the shared blob poison queue."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import QueueClient

from tests.e2e.conftest import queue

POISON_QUEUE = "webjobs-blobtrigger-poison"
Report = dict[str, Any]


class Mailbox:
    """Every JSON report a fixture app sent to its output queue, kept once received."""

    def __init__(self, connection: str, queue_name: str) -> None:
        self._client = queue(connection, queue_name)
        self.received: list[Report] = []

    def _fetch(self) -> None:
        for message in self._client.receive_messages(max_messages=32, visibility_timeout=30):
            self._client.delete_message(message)
            self.received.append(json.loads(base64.b64decode(str(message.content))))

    def wait(self, count: int, accept: Callable[[Report], bool], timeout: float = 30.0
             ) -> list[Report]:
        """The first `count` accepted reports; fails at the deadline with what arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.received if accept(r)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} report(s) within {timeout} s; "
                                     f"all received: {self.received}")
            self._fetch()
            time.sleep(0.1)  # polling an external queue, bounded by the deadline

    def of(self, function: str, **fields: Any) -> Callable[[Report], bool]:
        return lambda r: r.get("function") == function and all(
            r.get(k) == v for k, v in fields.items())

    def delete(self) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._client.delete_queue()


def container(connection: str, name: str) -> ContainerClient:
    client = BlobServiceClient.from_connection_string(connection).get_container_client(name)
    with contextlib.suppress(ResourceExistsError):
        client.create_container()
    return client


def delete_containers(connection: str, *names: str) -> None:
    service = BlobServiceClient.from_connection_string(connection)
    for name in names:
        with contextlib.suppress(ResourceNotFoundError):
            service.delete_container(name)


def poison_messages(connection: str, container_name: str, count: int,
                    timeout: float = 30.0) -> list[Report]:
    """Messages of this container on the shared blob poison queue (only those are taken)."""
    client = QueueClient.from_connection_string(connection, POISON_QUEUE)
    found: list[Report] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        with contextlib.suppress(ResourceNotFoundError):
            for message in client.receive_messages(max_messages=32, visibility_timeout=1):
                body = json.loads(base64.b64decode(str(message.content)))
                if body.get("ContainerName") == container_name:
                    client.delete_message(message)
                    found.append(body)
        if len(found) >= count:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} poison message(s) for "
                                 f"'{container_name}' within {timeout} s")
        time.sleep(0.2)  # polling an external queue, bounded by the deadline
    return found
