"""The determinism lint over one module's source (pure: `ast`, nothing is run)."""

from __future__ import annotations

import textwrap

import pytest

from durable.core.lint import RULES, Finding, lint_source, rule_for
from durable.core.lint.rules import rule_by_code
from durable.errors import LintError

HEADER = """\
import azure.functions as func
import durable as df
app = df.DFApp()
bp = df.Blueprint()
"""


def lint(body: str, orchestrators: tuple[str, ...] = ()) -> list[Finding]:
    source = HEADER + textwrap.dedent(body)
    return list(lint_source(source, "function_app.py", orchestrators).findings)


def calls(body: str, orchestrators: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(f.code, f.call) for f in lint(body, orchestrators)]


def orchestrator(*lines: str, imports: str = "") -> str:
    """An orchestrator whose body is `lines`, after `imports`."""
    body = "\n".join(f"    {line}" for line in lines)
    return (f"{imports}\n@app.orchestration_trigger(context_name='context')\n"
            f"def orch(context):\n{body}\n    yield context.call_activity('a', None)\n")


@pytest.mark.parametrize(
    ("imports", "line", "code", "call"),
    [
        ("import datetime", "x = datetime.datetime.now()", "DF101", "datetime.datetime.now()"),
        ("from datetime import datetime", "x = datetime.utcnow()", "DF101", "datetime.utcnow()"),
        ("from datetime import datetime", "x = datetime.today()", "DF101", "datetime.today()"),
        ("from datetime import date", "x = date.today()", "DF101", "date.today()"),
        ("import time", "x = time.time()", "DF101", "time.time()"),
        ("import time", "x = time.monotonic()", "DF101", "time.monotonic()"),
        ("from time import perf_counter", "x = perf_counter()", "DF101", "perf_counter()"),
        ("import random", "x = random.randint(1, 6)", "DF102", "random.randint()"),
        ("import random", "x = random.Random()", "DF102", "random.Random()"),
        ("import uuid", "x = uuid.uuid4()", "DF102", "uuid.uuid4()"),
        ("import uuid", "x = uuid.uuid1()", "DF102", "uuid.uuid1()"),
        ("import os", "x = os.urandom(8)", "DF102", "os.urandom()"),
        ("import secrets", "x = secrets.token_hex()", "DF102", "secrets.token_hex()"),
        ("", "x = open('f').read()", "DF103", "open()"),
        ("import requests", "x = requests.get('u')", "DF103", "requests.get()"),
        ("import httpx", "x = httpx.Client()", "DF103", "httpx.Client()"),
        ("import aiohttp", "x = aiohttp.ClientSession()", "DF103", "aiohttp.ClientSession()"),
        ("import urllib.request", "x = urllib.request.urlopen('u')", "DF103",
         "urllib.request.urlopen()"),
        ("import socket", "x = socket.socket()", "DF103", "socket.socket()"),
        ("from azure.storage.blob import BlobServiceClient",
         "x = BlobServiceClient.from_connection_string('c')", "DF103",
         "BlobServiceClient.from_connection_string()"),
        ("from azure.data.tables import TableClient", "x = TableClient('e', 't')", "DF103",
         "TableClient()"),
        ("import time", "time.sleep(1)", "DF104", "time.sleep()"),
        ("import asyncio", "x = asyncio.sleep(1)", "DF104", "asyncio.sleep()"),
        ("import threading", "x = threading.Thread(target=print)", "DF105",
         "threading.Thread()"),
        ("from concurrent.futures import ThreadPoolExecutor", "x = ThreadPoolExecutor()",
         "DF105", "ThreadPoolExecutor()"),
        ("import os", "x = os.environ['HOME']", "DF106", "os.environ"),
        ("import os", "x = os.environ.get('HOME')", "DF106", "os.environ.get()"),
        ("import os", "x = os.getenv('HOME')", "DF106", "os.getenv()"),
        ("from os import environ", "x = environ['HOME']", "DF106", "environ"),
    ],
)
def test_each_kind_of_call_is_found(imports: str, line: str, code: str, call: str) -> None:
    assert calls(orchestrator(line, imports=imports)) == [(code, call)]


def test_a_finding_names_place_rule_and_replay_safe_alternative() -> None:
    [finding] = lint(orchestrator("x = 1", "stamp = datetime.now()",
                                  imports="from datetime import datetime"))
    assert (finding.file, finding.line, finding.column) == ("function_app.py", 9, 13)
    assert finding.qualified == "datetime.datetime.now"
    assert finding.orchestrator == finding.function == "orch"
    line = finding.format()
    assert line.startswith("function_app.py:9:13: DF101 datetime.now() in orchestrator 'orch'")
    assert "context.current_utc_datetime" in line


@pytest.mark.parametrize(
    ("code", "advice"),
    [("DF101", "context.current_utc_datetime"), ("DF102", "context.new_uuid()"),
     ("DF103", "activity"), ("DF104", "context.create_timer"), ("DF105", "task_all"),
     ("DF106", "input")],
)
def test_every_rule_names_the_replay_safe_way(code: str, advice: str) -> None:
    rule = rule_by_code(code)
    assert rule is not None and advice in rule.advice


def test_import_aliases_are_resolved() -> None:
    source = orchestrator(
        "a = dt.now()", "b = r.choice([1, 2])", "c = u4()", "d = environ_of.getenv('X')",
        "e = pause(1)",
        imports="from datetime import datetime as dt\nimport random as r\n"
        "from uuid import uuid4 as u4\nimport os as environ_of\nfrom time import sleep as pause",
    )
    assert calls(source) == [("DF101", "dt.now()"), ("DF102", "r.choice()"),
                             ("DF102", "u4()"), ("DF106", "environ_of.getenv()"),
                             ("DF104", "pause()")]


def test_imports_inside_the_orchestrator_count() -> None:
    assert calls(orchestrator("import uuid as ids", "x = ids.uuid4()")) == [
        ("DF102", "ids.uuid4()")]


def test_context_calls_and_replay_safe_code_are_not_flagged() -> None:
    source = orchestrator(
        "now = context.current_utc_datetime", "guid = context.new_uuid()",
        "later = now + datetime.timedelta(minutes=5)", "yield context.create_timer(later)",
        "when = datetime.datetime(2024, 1, 1).isoformat()",
        "parsed = datetime.datetime.fromisoformat('2024-01-01')",
        "ident = uuid.uuid5(uuid.NAMESPACE_URL, context.instance_id)",
        "seeded = random.Random(context.instance_id).random()",
        "path = os.path.join('a', 'b')",
        imports="import datetime\nimport os\nimport random\nimport uuid",
    )
    assert calls(source) == []


def test_a_local_name_is_not_taken_for_the_module() -> None:
    source = orchestrator("random = context.get_input()", "x = random.choice",
                          "time = {'sleep': 1}", "y = time.sleep",
                          imports="import random\nimport time")
    assert calls(source) == []
    shadowed = "def open(name):\n    return name\n" + orchestrator("x = open('f')")
    assert calls(shadowed) == []


def test_parameters_shadow_modules() -> None:
    source = ("import random\n@app.orchestration_trigger(context_name='random')\n"
              "def orch(random):\n    x = random.get_input()\n"
              "    yield random.call_activity('a')\n")
    assert calls(source) == []


def test_annotations_and_except_clauses_are_not_calls() -> None:
    source = ("import requests\n@app.orchestration_trigger(context_name='context')\n"
              "def orch(context: df.DurableOrchestrationContext) -> requests.Response:\n"
              "    page: requests.Response | None = None\n"
              "    try:\n        yield context.call_activity('a')\n"
              "    except requests.RequestException:\n        pass\n    return page\n")
    assert calls(source) == []


def test_helpers_in_the_module_are_followed_transitively() -> None:
    source = """\
        import os
        import random
        import time

        def roll():
            return random.randint(1, 6)

        def step(context):
            value = yield context.call_activity("a", roll())
            return value + int(os.environ["BASE"])

        def never_called():
            return time.time()

        @app.orchestration_trigger(context_name="context")
        def orch(context):
            result = yield from step(context)
            return result
        """
    findings = lint(source)
    assert [(f.code, f.function, f.orchestrator) for f in findings] == [
        ("DF102", "roll", "orch"), ("DF106", "step", "orch")]
    assert "in 'roll' (called from orchestrator 'orch')" in findings[0].format()


def test_helpers_passed_by_reference_are_followed() -> None:
    source = """\
        import uuid

        def label(item):
            return f"{item}-{uuid.uuid4()}"

        @app.orchestration_trigger(context_name="context")
        def orch(context):
            names = list(map(label, context.get_input()))
            yield context.task_all([context.call_activity("a", n) for n in names])
        """
    assert calls(source) == [("DF102", "uuid.uuid4()")]


def test_nested_functions_and_lambdas_are_checked() -> None:
    source = orchestrator(
        "stamp = lambda: time.time()",
        "def inner():",
        "        return os.getenv('X')",
        "values = [random.random() for _ in range(3)]",
        imports="import os\nimport random\nimport time",
    )
    assert calls(source) == [("DF101", "time.time()"), ("DF106", "os.getenv()"),
                             ("DF102", "random.random()")]


def test_activities_entities_and_clients_are_not_checked() -> None:
    source = """\
        import os
        import random
        import requests

        @app.activity_trigger(input_name="name")
        def fetch(name):
            return requests.get(os.environ["URL"] + name).text

        @app.entity_trigger(context_name="context")
        def counter(context):
            context.set_state(random.random())

        @app.route(route="start")
        @app.durable_client_input(client_name="client")
        async def start(req, client):
            return await client.start_new("orch", None, os.getenv("X"))

        @app.orchestration_trigger(context_name="context")
        def orch(context):
            value = yield context.call_activity(fetch, "x")
            yield context.call_entity(df.EntityId("counter", "k"), "add")
            return value
        """
    assert calls(source) == []


def test_an_activity_called_directly_is_not_a_helper() -> None:
    source = """\
        import random

        @app.activity_trigger(input_name="n")
        def draw(n):
            return random.random()

        @app.orchestration_trigger(context_name="context")
        def orch(context):
            yield context.call_activity("draw", draw)
        """
    assert calls(source) == []


def test_blueprints_and_function_name_stacking_are_orchestrators() -> None:
    source = """\
        import time

        @app.function_name(name="renamed")
        @app.orchestration_trigger(context_name="context")
        def first(context):
            time.sleep(1)
            yield context.call_activity("a")

        @bp.orchestration_trigger(context_name="context")
        @app.function_name("also_renamed")
        def second(context):
            time.sleep(2)
            yield context.call_activity("a")
        """
    result = lint_source(HEADER + textwrap.dedent(source), "function_app.py")
    assert result.orchestrators == ("first", "second")
    assert [f.orchestrator for f in result.findings] == ["first", "second"]


def test_orchestrators_made_by_a_call_are_found() -> None:
    source = """\
        import time

        def v1_style(context):
            yield context.call_activity("a", time.time())

        def by_hand(context):
            yield context.call_activity("a", time.time_ns())

        main = df.Orchestrator.create(v1_style)
        app.orchestration_trigger(context_name="context")(by_hand)
        """
    result = lint_source(HEADER + textwrap.dedent(source), "function_app.py")
    assert set(result.orchestrators) == {"v1_style", "by_hand"}
    assert len(result.findings) == 2


def test_orchestrators_named_by_the_caller_are_checked() -> None:
    source = """\
        import time

        def registered_elsewhere(context):
            yield context.call_activity("a", time.time())

        class Flows:
            def method(self, context):
                yield context.call_activity("a", time.time())
        """
    assert calls(source) == []
    assert len(lint(source, ("registered_elsewhere", "Flows.method", "missing"))) == 2


def test_a_shared_helper_is_reported_once() -> None:
    source = """\
        import uuid

        def new_id():
            return uuid.uuid4().hex

        @app.orchestration_trigger(context_name="context")
        def one(context):
            yield context.call_activity("a", new_id())

        @app.orchestration_trigger(context_name="context")
        def two(context):
            yield context.call_activity("a", new_id())
        """
    [finding] = lint(source)
    assert (finding.function, finding.orchestrator) == ("new_id", "one")


def test_a_comment_silences_a_line() -> None:
    source = orchestrator(
        "a = os.environ['A']  # durable: allow",
        "b = time.time()  # durable: allow DF101",
        "c = time.time()  # durable: allow DF106",
        "d = (os.getenv('D'), uuid.uuid4())  # durable: allow DF106, DF102",
        "e = '# durable: allow'; f = uuid.uuid4()",
        imports="import os\nimport time\nimport uuid",
    )
    assert calls(source) == [("DF101", "time.time()"), ("DF102", "uuid.uuid4()")]


def test_a_multi_line_call_is_silenced_on_its_first_line() -> None:
    source = orchestrator("x = requests.get(  # durable: allow", "        'u')",
                          "y = requests.post(", "        'u')  # durable: allow",
                          imports="import requests")
    assert [f.line for f in lint(source)] == [10]  # `y = requests.post(`


def test_a_syntax_error_is_a_lint_error_naming_the_line() -> None:
    with pytest.raises(LintError, match=r"broken\.py, line 2: .*does not parse"):
        lint_source("x = 1\ndef f(:\n", "broken.py")


def test_rules_match_names_and_prefixes() -> None:
    assert rule_for("random.shuffle").code == "DF102"  # type: ignore[union-attr]
    assert rule_for("os.environ.copy").code == "DF106"  # type: ignore[union-attr]
    assert rule_for("urllib.parse.quote") is None
    assert rule_for("datetime.datetime.fromtimestamp") is None
    assert len({r.code for r in RULES}) == len(RULES)
