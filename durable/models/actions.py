"""The SDK's action classes (`azure.durable_functions.models.actions`), with its JSON."""

from durable.core.sdk_actions import (
    Action,
    ActionType,
    CallActivityAction,
    CallActivityWithRetryAction,
    CallEntityAction,
    CallHttpAction,
    CallSubOrchestratorAction,
    CallSubOrchestratorWithRetryAction,
    CompoundAction,
    ContinueAsNewAction,
    CreateTimerAction,
    SignalEntityAction,
    WaitForExternalEventAction,
    WhenAllAction,
    WhenAnyAction,
)

__all__ = [
    "Action",
    "ActionType",
    "CallActivityAction",
    "CallActivityWithRetryAction",
    "CallEntityAction",
    "CallHttpAction",
    "CallSubOrchestratorAction",
    "CallSubOrchestratorWithRetryAction",
    "CompoundAction",
    "ContinueAsNewAction",
    "CreateTimerAction",
    "SignalEntityAction",
    "WaitForExternalEventAction",
    "WhenAllAction",
    "WhenAnyAction",
]
