"""Bearer tokens for `call_http(..., token_source=df.ManagedIdentityTokenSource(resource))`.

Deployed on Azure Functions (App Service sets IDENTITY_ENDPOINT, older hosts MSI_ENDPOINT)
the token comes from the app's managed identity (`ManagedIdentityCredential`; a
user-assigned identity through AZURE_CLIENT_ID). Anywhere else, from azure-identity's
`DefaultAzureCredential` chain (environment variables, workload identity, `az login`,
azd, PowerShell) with its managed-identity step left out: off Azure there is no identity
endpoint, and probing for one only delays the error. Durable Functions uses
`DefaultAzureCredential` in both places.

Every acquisition is bounded (TOKEN_TIMEOUT): when no credential answers in time, or none is
available, the request fails with `TokenAcquisitionError` instead of hanging. Tokens are
kept until five minutes before they expire.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from durable.core.http import ManagedIdentityTokenSource, TokenSource
from durable.errors import TokenAcquisitionError

TOKEN_TIMEOUT = 30.0
_REFRESH_MARGIN_S = 300
_DEPLOYED_MARKERS = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")


def scope_of(resource: str) -> str:
    """The OAuth scope of a resource: `{resource}/.default`, unless it is one already.

    Durable Functions maps the management and Graph resources this way; the rule holds for
    every Azure AD resource.
    """
    if resource.endswith("/.default"):
        return resource
    return resource.rstrip("/") + "/.default"


class TokenProvider:
    """Gets (and keeps, while valid) the tokens of token sources (see the module docstring)."""

    def __init__(
        self, timeout: float = TOKEN_TIMEOUT, clock: Callable[[], float] = time.time
    ) -> None:
        # The environment is always the process's: azure-identity reads it too, and the
        # two must agree (a managed identity credential without IDENTITY_ENDPOINT would
        # probe the VM metadata endpoint instead).
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    @property
    def deployed(self) -> bool:
        """Whether a managed identity endpoint is configured (the app runs on Azure)."""
        return any(os.environ.get(name) for name in _DEPLOYED_MARKERS)

    async def get_token(self, source: TokenSource) -> str:
        """The bearer token for `source`, or TokenAcquisitionError."""
        if not isinstance(source, ManagedIdentityTokenSource):
            raise TokenAcquisitionError(
                f"The token source {source!r} is not supported; use "
                "df.ManagedIdentityTokenSource(resource)."
            )
        scope = scope_of(source.resource)
        cached = self._cache.get(scope)
        if cached is not None and cached[1] - _REFRESH_MARGIN_S > self._clock():
            return cached[0]
        token, expires_on = await self._acquire(scope)
        self._cache[scope] = (token, expires_on)
        return token

    async def _acquire(self, scope: str) -> tuple[str, float]:
        from azure.core.exceptions import AzureError

        where = "the app's managed identity" if self.deployed else "azure-identity's " \
            "DefaultAzureCredential chain"
        credential = self._credential()
        try:
            async with credential:
                token = await asyncio.wait_for(credential.get_token(scope), self._timeout)
        except TimeoutError:
            raise TokenAcquisitionError(
                f"No token for '{scope}' from {where} within {self._timeout:g} seconds. "
                f"{self._fix()}"
            ) from None
        except AzureError as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TokenAcquisitionError(
                f"No token for '{scope}' from {where}: {message}. {self._fix()}"
            ) from None
        return token.token, float(token.expires_on)

    def _credential(self) -> Any:
        from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

        if self.deployed:
            client_id = os.environ.get("AZURE_CLIENT_ID") or None
            return ManagedIdentityCredential(client_id=client_id)
        return DefaultAzureCredential(exclude_managed_identity_credential=True)

    def _fix(self) -> str:
        if self.deployed:
            return ("Check that the function app has a managed identity and that it may "
                    "access the resource (a role assignment).")
        return ("Locally, sign in with `az login` (or `azd auth login`), or set "
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service "
                "principal.")
