"""Names, key escaping, partition mapping and host.json settings (no storage calls)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from durable.runtime.verification import sampler
from durable.storage import names
from durable.storage.partitions import fnv1a_32, partition_index
from durable.storage.settings import DEV_CONNECTION_STRING, LiveSessionCheck, TaskHubSettings

CS = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0x811C9DC5),
        ("a", 0xE40C292C),
        ("foobar", 0xBF9CF968),
        ("34ce9a28a6834d8492ce6a295f1a80e2", 0x959CA5F1),
        ("@counter@myKey", 0x69DFC660),
    ],
)
def test_fnv1a_vectors(text: str, expected: int) -> None:
    assert fnv1a_32(text) == expected


def test_partition_mapping_matches_durable_functions() -> None:
    assert partition_index("34ce9a28a6834d8492ce6a295f1a80e2", 4) == 1
    assert partition_index("@counter@myKey", 4) == 0
    assert partition_index("anything", 1) == 0
    with pytest.raises(ValueError, match="partition_count"):
        partition_index("x", 17)


def test_resource_names() -> None:
    assert names.control_queue_name("MyHub", 0) == "myhub-control-00"
    assert names.control_queue_name("MyHub", 15) == "myhub-control-15"
    assert names.work_item_queue_name("MyHub") == "myhub-workitems"
    assert names.history_table_name("MyHub") == "MyHubHistory"
    assert names.instances_table_name("MyHub") == "MyHubInstances"
    assert names.large_message_container_name("MyHub") == "myhub-largemessages"


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("ab", "3 to 45"),
        ("a" * 46, "3 to 45"),
        ("my-hub", "letters and digits"),
        ("1hub", "start with a letter"),
        ("hub_name", "letters and digits"),
    ],
)
def test_hub_name_validation(bad: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        names.validate_hub_name(bad)


def test_sanitize_default_hub_name() -> None:
    assert names.sanitize_hub_name("my-func-app") == "myfuncapp"
    assert names.sanitize_hub_name("1app") == "t1app"
    assert names.sanitize_hub_name("a") == "aHub"
    assert names.sanitize_hub_name("---") == "DefaultTaskHub"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain-id", "plain-id"),
        ("a^b", "a^^b"),
        ("a/b\\c#d?e", "a^0b^1c^2d^3e"),
        ("tab\there", "tab^\u00c9here"),
        ("del\x7f", "del^\u013f"),
        ("@counter@key", "@counter@key"),
    ],
)
def test_key_escaping_round_trips(raw: str, escaped: str) -> None:
    assert names.escape_key(raw) == escaped
    assert names.unescape_key(escaped) == raw


def test_unescape_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="lone"):
        names.unescape_key("abc^")
    with pytest.raises(ValueError, match="unknown escape"):
        names.unescape_key("a^z")


def test_settings_defaults_from_empty_host_json() -> None:
    s = TaskHubSettings.from_host_json({"version": "2.0"}, {"AzureWebJobsStorage": CS})
    assert s.hub_name == "TestHubName"
    assert s.partition_count == 4
    assert s.connection_string == CS
    # On by default (DF turns it off for Python; our replay runs in-process, so it works).
    assert s.extended_sessions_enabled is True
    assert s.max_chain_delay == timedelta(days=6)
    assert s.work_item_visibility == timedelta(minutes=5)


def test_settings_read_durable_task_section() -> None:
    host = {
        "extensions": {
            "durableTask": {
                "hubName": "%HUB%",
                "storageProvider": {"partitionCount": 8, "connectionName": "MyStorage"},
                "maxConcurrentActivityFunctions": 3,
                "maxConcurrentOrchestratorFunctions": "5",
                "extendedSessionsEnabled": False,
                "extendedSessionIdleTimeoutInSeconds": 12,
            }
        }
    }
    env = {"HUB": "OrdersHub", "MyStorage": "UseDevelopmentStorage=true"}
    s = TaskHubSettings.from_host_json(host, env)
    assert s.hub_name == "OrdersHub"
    assert s.partition_count == 8
    assert s.connection_name == "MyStorage"
    assert s.connection_string == DEV_CONNECTION_STRING.format(host="127.0.0.1")
    assert (s.max_concurrent_activity_functions, s.max_concurrent_orchestrator_functions) == (3, 5)
    assert s.extended_sessions_enabled is False
    assert s.extended_session_idle_timeout == timedelta(seconds=12)


def test_settings_keys_are_case_insensitive_and_legacy_connection_key_works() -> None:
    host = {"Extensions": {"DurableTask": {"storageProvider": {"connectionStringName": "X"}}}}
    s = TaskHubSettings.from_host_json(host, {"X": CS, "WEBSITE_SITE_NAME": "my-app"})
    assert s.connection_string == CS
    assert s.hub_name == "myapp"


@pytest.mark.parametrize(
    ("durable_task", "env", "message"),
    [
        ({"storageProvider": {"partitionCount": 17}}, {}, r"storageProvider\.partitionCount"),
        ({"storageProvider": {"partitionCount": "x"}}, {}, r"storageProvider\.partitionCount"),
        ({"hubName": "bad-name"}, {}, r"hubName.*letters and digits"),
        ({"hubName": "%MISSING%"}, {}, r"hubName refers to app setting 'MISSING'"),
        ({"maxConcurrentActivityFunctions": 0}, {}, "maxConcurrentActivityFunctions"),
        ({"extendedSessionsEnabled": "maybe"}, {}, "extendedSessionsEnabled"),
        ({"storageProvider": []}, {}, "storageProvider must be an object"),
        ({"verifyLiveSessions": "sometimes"}, {}, "verifyLiveSessions must be one of always"),
        ({"verifyLiveSessionsSampleRate": 2}, {}, "between 0 and 1"),
        ({"verifyLiveSessionsSampleRate": "x"}, {}, "verifyLiveSessionsSampleRate must be"),
    ],
)
def test_settings_errors_name_the_host_json_key(
    durable_task: dict[str, object], env: dict[str, str], message: str
) -> None:
    host = {"extensions": {"durableTask": durable_task}}
    with pytest.raises(ValueError, match=message):
        TaskHubSettings.from_host_json(host, {"AzureWebJobsStorage": CS, **env})


def test_settings_missing_connection_setting_is_explained() -> None:
    with pytest.raises(ValueError, match="'AzureWebJobsStorage'.*UseDevelopmentStorage"):
        TaskHubSettings.from_host_json({}, {})


def test_settings_validate_directly() -> None:
    with pytest.raises(ValueError, match="partition_count"):
        TaskHubSettings(hub_name="Hub1", connection_string=CS, partition_count=0)
    with pytest.raises(ValueError, match="max_chain_delay"):
        TaskHubSettings(hub_name="Hub1", connection_string=CS, max_chain_delay=timedelta(days=8))


def test_live_session_check_is_on_under_a_local_host_and_off_deployed() -> None:
    deployed = TaskHubSettings.from_host_json({}, {"AzureWebJobsStorage": CS})
    assert deployed.verify_live_sessions is LiveSessionCheck.OFF
    local = TaskHubSettings.from_host_json(
        {}, {"AzureWebJobsStorage": CS, "FUNCTIONS_CORETOOLS_ENVIRONMENT": "true"}
    )
    assert local.verify_live_sessions is LiveSessionCheck.ALWAYS
    host = {"extensions": {"durableTask": {"verifyLiveSessions": "Sampled",
                                           "verifyLiveSessionsSampleRate": 0.25}}}
    sampled = TaskHubSettings.from_host_json(host, {"AzureWebJobsStorage": CS})
    assert sampled.verify_live_sessions is LiveSessionCheck.SAMPLED
    assert sampled.verify_live_sessions_sample_rate == 0.25


def test_app_settings_override_host_json_as_the_functions_host_does() -> None:
    host = {"extensions": {"durableTask": {"hubName": "FromFile", "verifyLiveSessions": "off"}}}
    env = {
        "AzureWebJobsStorage": CS,
        "AzureFunctionsJobHost__extensions__durableTask__hubName": "FromSetting",
        "AZUREFUNCTIONSJOBHOST__EXTENSIONS__DURABLETASK__VERIFYLIVESESSIONS": "always",
        "AzureFunctionsJobHost__extensions__durableTask__storageProvider__partitionCount": "6",
    }
    s = TaskHubSettings.from_host_json(host, env)
    assert (s.hub_name, s.verify_live_sessions, s.partition_count) == (
        "FromSetting", LiveSessionCheck.ALWAYS, 6
    )
    assert host["extensions"]["durableTask"]["hubName"] == "FromFile"  # not changed in place


def test_the_sampler_checks_the_share_it_is_told() -> None:
    assert sampler(LiveSessionCheck.OFF, 1.0) is None
    assert sampler(LiveSessionCheck.SAMPLED, 0.0) is None
    always = sampler(LiveSessionCheck.ALWAYS, 0.0)
    assert always is not None and always()
    draws = iter([0.05, 0.5, 0.09, 0.1])
    some = sampler(LiveSessionCheck.SAMPLED, 0.1, lambda: next(draws))
    assert some is not None and [some() for _ in range(4)] == [True, False, True, False]
