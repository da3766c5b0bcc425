"""Fixtures shared by the integration tests (each on Azurite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from durable.storage import TaskHub
from tests.support.hubs import provisioned_hub


@pytest.fixture
async def hub(connection_string: str, hub_name: str) -> AsyncIterator[TaskHub]:
    """A created task hub of this test's own, deleted afterwards."""
    async with provisioned_hub(connection_string, hub_name) as h:
        yield h
