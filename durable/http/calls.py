"""What every management endpoint works with: the request, the client of the task hub it
names (`taskHub`, `connection`), and the links to hand out for an instance."""

from __future__ import annotations

import os
from dataclasses import dataclass

import azure.functions as func

from durable.client import DurableOrchestrationClient, links
from durable.client.orchestration_client import ClientSource
from durable.client.status import DurableOrchestrationStatus
from durable.core.status import TERMINAL_STATUSES, OrchestrationRuntimeStatus
from durable.errors import ManagementApiError
from durable.http.request import ApiRequest

STATUS_RETRY_AFTER = "5"


@dataclass
class Call:
    req: ApiRequest
    client: DurableOrchestrationClient
    connection: str
    code: str | None

    @staticmethod
    def of(raw: func.HttpRequest, req: ApiRequest, clients: ClientSource) -> Call:
        """The call for a request; `clients` gives the client of the hub it names."""
        connection = req.text("connection") or links.DEFAULT_CONNECTION_PARAM
        client = clients(req.text("taskHub"), _connection_setting(connection))
        return Call(req, client, connection, links.function_key(raw))

    def management_urls(self, instance_id: str) -> dict[str, str]:
        base = self.req.base_url
        if not base.lower().endswith(links.AZURE_ROUTE.removesuffix("/{*path}")):
            base = links.origin_of(self.req.url) + links.webhook_path()
        query = links.query_suffix(self.client.task_hub_name, self.connection, self.code)
        return links.management_urls(base, instance_id, query)

    def check_status(self, instance_id: str) -> func.HttpResponse:
        return links.check_status_response(self.management_urls(instance_id))

    async def started(self, instance_id: str) -> func.HttpResponse:
        """The answer to a start or restart: wait for the instance when the request asks to
        (`timeout` and `pollingInterval`, in seconds, both given), else check-status 202."""
        timeout = self.req.number("timeout")
        interval = self.req.number("pollingInterval")
        if timeout is None or interval is None:
            return self.check_status(instance_id)
        status = await self.client.wait_for_final_status(instance_id, timeout, interval)
        done = links.final_status_response(status, failed_code=200)
        return done or self.check_status(instance_id)

    async def existing(self, instance_id: str) -> DurableOrchestrationStatus:
        status = await self.client.get_status(instance_id)
        if not status:
            raise ManagementApiError(404, f"No instance with id '{instance_id}' was found.")
        return status

    async def running(
        self, instance_id: str, gone: frozenset[OrchestrationRuntimeStatus] = TERMINAL_STATUSES
    ) -> DurableOrchestrationStatus:
        """The status, after answering 404 for an unknown instance and 410 for one whose
        status is in `gone` (by default: finished), as Durable Functions does."""
        status = await self.existing(instance_id)
        if status.runtime_status in gone:
            state = status.runtime_status.value if status.runtime_status else "finished"
            raise ManagementApiError(
                410,
                f"Instance '{instance_id}' is {state}; the operation no longer applies to it.",
            )
        return status


def _connection_setting(connection: str) -> str | None:
    """The app setting a `connection` value names: DF's `Storage` is the default account;
    the Functions host also tries the `AzureWebJobs` prefix."""
    if connection in (links.DEFAULT_CONNECTION_PARAM, links.DEFAULT_CONNECTION_NAME):
        return None
    if not os.environ.get(connection) and os.environ.get(f"AzureWebJobs{connection}"):
        return f"AzureWebJobs{connection}"
    return connection
