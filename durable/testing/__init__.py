"""In-memory runners for users' unit tests of orchestrators and entities.

`run_orchestrator` and `run_entity` use the real replay engine and entity decider, with no
storage and no waiting; `replay` checks a recorded history against the code.

See `durable.testing.orchestrations` and `durable.testing.entities` for the details.
"""

from durable.testing.entities import EntityRun, run_entity
from durable.testing.orchestrations import (
    DEFAULT_START,
    ActivityCall,
    ExternalEvent,
    OrchestrationRun,
    Terminate,
    run_orchestrator,
)
from durable.testing.replay import ReplayOutcome, replay

__all__ = [
    "DEFAULT_START",
    "ActivityCall",
    "EntityRun",
    "ExternalEvent",
    "OrchestrationRun",
    "ReplayOutcome",
    "Terminate",
    "run_entity",
    "replay",
    "run_orchestrator",
]
