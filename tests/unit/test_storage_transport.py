"""Which accounts are Azurite (a short keep-alive, one quick connect retry) and which are
Azure (aiohttp's keep-alive, patient retries)."""

from __future__ import annotations

import pytest

from durable.storage.settings import DEV_CONNECTION_STRING
from durable.storage.transport import AZURITE_KEEPALIVE_S, is_emulator, keepalive_for

AZURE = (
    "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=a2V5;"
    "EndpointSuffix=core.windows.net"
)


@pytest.mark.parametrize("text", [
    DEV_CONNECTION_STRING.format(host="127.0.0.1"),
    DEV_CONNECTION_STRING.format(host="azurite"),  # a compose service name, same account
    "UseDevelopmentStorage=true",
    "AccountName=other;AccountKey=a2V5;QueueEndpoint=http://localhost:10001/other;"
    "TableEndpoint=http://[::1]:10002/other",
])
def test_azurite_accounts_get_a_keepalive_below_azurites(text: str) -> None:
    assert is_emulator(text)
    # Azurite closes a connection idle for 5 s.
    assert keepalive_for(text) == AZURITE_KEEPALIVE_S < 5


@pytest.mark.parametrize("text", [
    AZURE,
    "AccountName=contoso;AccountKey=a2V5;QueueEndpoint=https://contoso.queue.core.windows.net;"
    "TableEndpoint=http://127.0.0.1:10002/contoso",  # one endpoint remote: not Azurite
])
def test_azure_accounts_keep_aiohttps_keepalive(text: str) -> None:
    assert not is_emulator(text)
    assert keepalive_for(text) == 15.0
