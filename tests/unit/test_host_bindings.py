"""The host's pure binding pieces: binding expressions, trigger binding data, table entity
conversion and batching, retry delays, blob options, the host ID and the reload filter."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from watchfiles import Change

from emulator import expressions, tables, trigger_data
from emulator.errors import IndexingError
from emulator.expressions import ExpressionError
from emulator.listeners.blob_receipts import host_id
from emulator.retry import EXPONENTIAL, FIXED, RetryPolicy, format_delay, parse_policy
from emulator.settings import BlobOptions
from emulator.watch import AppFilter


def test_template_resolves_names_case_insensitively_and_dotted() -> None:
    template = expressions.parse("orders/{Customer.Name}/{id}-{{x}}.json")
    data = {"customer": {"name": "ada"}, "ID": 17}
    assert template.resolve(data) == "orders/ada/17-{x}.json"
    assert template.names == ("Customer", "id")


def test_missing_value_and_bad_templates_say_what() -> None:
    with pytest.raises(ExpressionError, match="No value for named parameter 'file'"):
        expressions.parse("{file}").resolve({})
    with pytest.raises(ExpressionError, match="unbalanced"):
        expressions.parse("a/{b")
    with pytest.raises(ExpressionError, match="not a simple value"):
        expressions.parse("{obj}").resolve({"obj": {"a": 1}})


def test_builtins_rand_guid_and_datetime_with_formats() -> None:
    guid = expressions.parse("{rand-guid}").resolve({})
    assert str(uuid.UUID(guid)) == guid
    assert re.fullmatch(r"[0-9a-f]{32}", expressions.parse("{rand-guid:N}").resolve({}))
    year = str(datetime.now(UTC).year)
    assert expressions.parse("{DateTime:yyyy}").resolve({}) == year
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert expressions.format_datetime(moment, None) == "2026-03-04T05-06-07Z"
    assert expressions.format_datetime(moment, "yyyy/MM/dd 'at' HH") == "2026/03/04 at 05"
    # Binding data named like a built-in wins, as in the host.
    assert expressions.parse("{DateTime}").resolve({"datetime": "mine"}) == "mine"


def test_capture_matches_greedily_and_returns_the_values() -> None:
    pattern = expressions.parse("{folder}/{file}.bin")
    assert pattern.capture("a/b/c.bin") == {"folder": "a/b", "file": "c"}
    assert pattern.capture("c.txt") is None


def test_trigger_data_payload_properties_never_hide_the_triggers_own() -> None:
    data = trigger_data.http_data({"id": "7"}, {"q": "1"}, {"X-A": "b"},
                                  json.dumps({"id": "body", "name": "n"}).encode())
    assert (data["id"], data["name"], data["Query"], data["q"]) == ("7", "n", {"q": "1"}, "1")
    assert trigger_data.json_properties(b"[1, 2]") == {}


def test_table_output_entities_take_keys_from_the_entity_first() -> None:
    rows = tables.entities('[{"rowKey": "r1", "V": 1}, {"RowKey": "r2", "PartitionKey": "p2"}]',
                           "p", None)
    assert rows == [{"V": 1, "PartitionKey": "p", "RowKey": "r1"},
                    {"PartitionKey": "p2", "RowKey": "r2"}]
    with pytest.raises(ValueError, match="no RowKey"):
        tables.entities({"V": 1}, "p", None)
    with pytest.raises(ValueError, match="object or list"):
        tables.entities({"RowKey": "r", "V": {"a": 1}}, "p", None)


def test_table_batches_split_per_partition_size_and_repeated_keys() -> None:
    rows: list[dict[str, Any]] = [{"PartitionKey": "a", "RowKey": str(i)} for i in range(150)]
    rows += [{"PartitionKey": "b", "RowKey": "x"}, {"PartitionKey": "b", "RowKey": "x"}]
    sizes = [len(batch) for batch in tables._batches(rows)]
    assert sizes == [100, 50, 1, 1]
    assert tables.quote("o'brien") == "'o''brien'"


def test_retry_policies_parse_and_back_off() -> None:
    fixed = parse_policy("f", {"strategy": "fixed_delay", "max_retry_count": "2",
                               "delay_interval": "00:00:03"})
    assert fixed == RetryPolicy(FIXED, 2, delay=3.0)
    assert [fixed.allows(n) for n in (0, 1, 2)] == [True, True, False]
    exp = parse_policy("f", {"strategy": "exponential_backoff", "max_retry_count": "-1",
                             "minimum_interval": "00:00:01", "maximum_interval": "00:00:10"})
    assert exp.strategy == EXPONENTIAL and exp.allows(10_000)
    delays = exp.delays()
    seen = [delays.next() for _ in range(6)]
    assert seen[0] == 1.0 and 1.8 <= seen[1] <= 2.2 and seen[-1] == 10.0
    assert seen == sorted(seen)
    assert format_delay(2.5) == "00:00:02.5000000"
    with pytest.raises(IndexingError, match="max_retry_count"):
        parse_policy("f", {"strategy": "fixed_delay", "max_retry_count": "x",
                           "delay_interval": "00:00:01"})


def test_blob_options_become_the_trigger_queues_options() -> None:
    assert BlobOptions(16, 3).as_queue_options().batch_size == 9
    options = BlobOptions(1, 2).as_queue_options()
    assert (options.batch_size, options.new_batch_threshold, options.max_dequeue_count) == (1, 0, 2)
    assert BlobOptions(100, 5).as_queue_options().batch_size == 32


def test_host_id_is_stable_per_folder_and_can_be_set(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.delenv("AzureFunctionsWebHost__hostid", raising=False)
    first = host_id(tmp_path)
    assert first == host_id(tmp_path) != host_id(tmp_path / "other")
    assert re.fullmatch(r"[a-z0-9-]{1,32}", first) and not first.endswith("-")
    monkeypatch.setenv("AzureFunctionsWebHost__hostid", "my-app")
    assert host_id(tmp_path) == "my-app"


def test_reload_filter_takes_python_and_settings_files_only(tmp_path: Path) -> None:
    accept = AppFilter(tmp_path)
    assert accept(Change.modified, str(tmp_path / "function_app.py"))
    assert accept(Change.modified, str(tmp_path / "lib" / "helpers.py"))
    assert accept(Change.modified, str(tmp_path / "local.settings.json"))
    assert not accept(Change.modified, str(tmp_path / "lib" / "host.json"))
    assert not accept(Change.modified, str(tmp_path / "notes.txt"))
    assert not accept(Change.modified, str(tmp_path / ".venv" / "lib" / "x.py"))
    assert not accept(Change.modified, str(tmp_path / "__azurite__" / "x.py"))


def test_console_command_runs_the_command_line() -> None:
    command = Path(sys.executable).parent / "dfunc"
    assert command.exists(), "pip install -e . installs the dfunc command"
    result = subprocess.run([str(command), "start", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: dfunc start")
    assert "--no-reload" in result.stdout and "--functions" in result.stdout
