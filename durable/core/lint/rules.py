"""What the determinism lint looks for: one table row per kind of call that is not
replay-safe, and the fully qualified names that belong to it.

An orchestrator runs again from the top on every replay (a host that restarts, an instance
that moves to another host, a live session that expired), and its actions must come out the
same each time. A value read from the clock, a random source, the network, a file or the
environment can differ between runs; sleeping or starting threads blocks or escapes the
replay. Each rule says why a call is unsafe and what to write instead, in Durable
Functions' terms.

A name matches a rule when it is one of the rule's names or lies below one of its prefixes
(`random` covers `random.randint` and `random.Random`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """A kind of replay-unsafe call: its code, what is wrong and the replay-safe way."""

    code: str
    kind: str
    # Exact qualified names (functions, attributes) this rule covers.
    names: frozenset[str]
    # Modules or attributes every name below which this rule covers.
    prefixes: frozenset[str]
    problem: str
    advice: str


RULES: tuple[Rule, ...] = (
    Rule(
        code="DF101",
        kind="wall-clock time",
        names=frozenset({
            "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today",
            "datetime.date.today", "time.time", "time.time_ns", "time.monotonic",
            "time.monotonic_ns", "time.perf_counter", "time.perf_counter_ns",
            "time.process_time", "time.process_time_ns",
        }),
        prefixes=frozenset(),
        problem="reads the wall clock, which gives another value when the orchestrator "
        "replays",
        advice="use context.current_utc_datetime (the time of the current replayed event)",
    ),
    Rule(
        code="DF102",
        kind="randomness",
        names=frozenset({"uuid.uuid1", "uuid.uuid4", "os.urandom", "os.getrandom"}),
        prefixes=frozenset({"random", "secrets", "numpy.random"}),
        problem="draws a random value, which differs when the orchestrator replays",
        advice="use context.new_uuid() for an id, or draw the value in an activity and "
        "yield context.call_activity(...)",
    ),
    Rule(
        code="DF103",
        kind="I/O",
        names=frozenset({"builtins.open", "builtins.input", "io.open", "os.open",
                         "os.listdir", "os.scandir", "os.walk", "subprocess.run",
                         "subprocess.Popen", "subprocess.call", "subprocess.check_call",
                         "subprocess.check_output", "os.system", "os.path.exists",
                         "os.path.isfile", "os.path.isdir", "os.path.getmtime",
                         "os.path.getsize"}),
        prefixes=frozenset({"requests", "httpx", "aiohttp", "urllib.request", "urllib3",
                            "http.client", "socket", "smtplib", "ftplib", "shutil",
                            "azure.storage", "azure.data.tables", "azure.cosmos",
                            "azure.servicebus", "azure.eventhub", "pyodbc", "psycopg",
                            "psycopg2", "sqlite3", "pymongo", "redis", "boto3"}),
        problem="does I/O (files, network, databases), whose result can change between "
        "replays and which runs again on every replay",
        advice="move it into an activity and yield context.call_activity(...) (or "
        "context.call_http(...) for an HTTP request)",
    ),
    Rule(
        code="DF104",
        kind="sleep",
        names=frozenset({"time.sleep", "asyncio.sleep"}),
        prefixes=frozenset(),
        problem="blocks the orchestrator, and sleeps again on every replay",
        advice="yield context.create_timer(context.current_utc_datetime + timedelta(...)), "
        "a durable timer",
    ),
    Rule(
        code="DF105",
        kind="threads",
        names=frozenset({"asyncio.create_task", "asyncio.run", "asyncio.gather",
                         "asyncio.to_thread", "asyncio.get_event_loop"}),
        prefixes=frozenset({"threading", "_thread", "concurrent.futures", "multiprocessing"}),
        problem="starts work outside the orchestrator's single replayed thread, whose "
        "timing and results are not recorded in the history",
        advice="fan out with context.task_all([...]) over activities",
    ),
    Rule(
        code="DF106",
        kind="environment read",
        names=frozenset({"os.getenv", "os.getenvb", "os.putenv", "os.unsetenv"}),
        prefixes=frozenset({"os.environ", "os.environb"}),
        problem="reads the environment, which can differ on the host that replays the "
        "orchestrator (app settings change, another instance)",
        advice="pass the value in the orchestrator's input, or read it in an activity",
    ),
)

# Constructors that are deterministic when given a seed: `random.Random(context.instance_id)`
# draws the same values on every replay, so only a call without arguments is reported.
SEEDED_CONSTRUCTORS = frozenset({"random.Random", "numpy.random.default_rng",
                                 "numpy.random.RandomState"})

_BY_NAME: dict[str, Rule] = {name: rule for rule in RULES for name in rule.names}
_BY_PREFIX: dict[str, Rule] = {prefix: rule for rule in RULES for prefix in rule.prefixes}


def rule_for(qualified: str) -> Rule | None:
    """The rule `qualified` (a dotted name such as `datetime.datetime.now`) falls under."""
    rule = _BY_NAME.get(qualified)
    if rule is not None:
        return rule
    parts = qualified.split(".")
    for end in range(len(parts), 0, -1):
        rule = _BY_PREFIX.get(".".join(parts[:end]))
        if rule is not None:
            return rule
    return None


def rule_by_code(code: str) -> Rule | None:
    """The rule with that code (for the documentation and tests)."""
    return next((r for r in RULES if r.code == code), None)
