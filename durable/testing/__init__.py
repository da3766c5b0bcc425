"""In-memory runners for users' unit tests of orchestrators and entities.

`run_orchestrator` and `run_entity` use the real replay engine and entity decider, with no
storage and no waiting; `replay` checks a recorded history (events, or a JSON file that
`history_to_json` or `durable get-history --json` wrote) against the code.
`orchestrator_generator_wrapper` is the SDK's helper for stepping an orchestrator generator
by hand with a mocked context.

See `durable.testing.orchestrations` and `durable.testing.entities` for the details.
"""

from durable.testing.entities import EntityRun, run_entity
from durable.testing.generator_wrapper import orchestrator_generator_wrapper
from durable.testing.orchestrations import (
    DEFAULT_START,
    ActivityCall,
    ExternalEvent,
    OrchestrationRun,
    Terminate,
    run_orchestrator,
)
from durable.testing.replay import ReplayOutcome, history_to_json, load_history, replay

__all__ = [
    "DEFAULT_START",
    "ActivityCall",
    "EntityRun",
    "ExternalEvent",
    "OrchestrationRun",
    "ReplayOutcome",
    "Terminate",
    "history_to_json",
    "load_history",
    "orchestrator_generator_wrapper",
    "run_entity",
    "replay",
    "run_orchestrator",
]
