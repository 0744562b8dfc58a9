"""Settings.from_env: defaults, every variable, and clear errors for values aigov cannot use."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from aigov.config import ConfigError, Settings
from aigov.election import Timing

FULL_ENV: dict[str, str] = {
    "AIGOV_NAMESPACE": "gov",
    "AIGOV_WEBHOOK_HOST": "0.0.0.0",
    "AIGOV_WEBHOOK_PORT": "10443",
    "AIGOV_CERT_DIR": "/etc/aigov/tls",
    "AIGOV_MANAGE_WEBHOOKS": "true",
    "AIGOV_WEBHOOK_CONFIG_NAME": "aigov-test",
    "AIGOV_FAILURE_POLICY": "Ignore",
    "AIGOV_ADMIN_GROUPS": " platform-admins , ,security ",
    "AIGOV_OPERATOR_USERS": "system:serviceaccount:gov:aigov,robot",
    "AIGOV_HEALTH_PORT": "0",
    "AIGOV_LOG_LEVEL": "debug",
    "AIGOV_EXCLUDED_NAMESPACES": "monitoring,kube-public",
}


def test_defaults_from_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.namespace == "aigov-system"
    assert s.webhook_host == "127.0.0.1"
    assert s.webhook_port == 9443
    assert s.cert_dir is None
    assert s.manage_webhooks is False
    assert s.webhook_config_name == "aigov-local"
    assert s.failure_policy == "Fail"
    assert s.admin_groups == ("system:masters", "aigov-admins")
    assert s.operator_users == ()
    assert s.health_port == 8080
    assert s.log_level == "INFO"
    assert s.excluded_namespaces == ("kube-system",)
    assert s.never_intercepted == ("kube-system", "aigov-system")


def test_reads_os_environ_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGOV_NAMESPACE", "from-os-environ")
    monkeypatch.setenv("AIGOV_WEBHOOK_PORT", "8443")
    s = Settings.from_env()
    assert s.namespace == "from-os-environ"
    assert s.webhook_port == 8443


def test_every_variable_is_parsed() -> None:
    s = Settings.from_env(FULL_ENV)
    assert s == Settings(
        namespace="gov",
        webhook_host="0.0.0.0",
        webhook_port=10443,
        cert_dir=Path("/etc/aigov/tls"),
        manage_webhooks=True,
        webhook_config_name="aigov-test",
        failure_policy="Ignore",
        admin_groups=("platform-admins", "security"),
        operator_users=("system:serviceaccount:gov:aigov", "robot"),
        health_port=0,
        log_level="DEBUG",
        excluded_namespaces=("monitoring", "kube-public"),
    )


def test_empty_cert_dir_means_unset() -> None:
    assert Settings.from_env({"AIGOV_CERT_DIR": ""}).cert_dir is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_booleans(value: str, expected: bool) -> None:
    assert Settings.from_env({"AIGOV_MANAGE_WEBHOOKS": value}).manage_webhooks is expected


@pytest.mark.parametrize("port", ["1", "65535"])
def test_webhook_port_bounds_are_accepted(port: str) -> None:
    assert Settings.from_env({"AIGOV_WEBHOOK_PORT": port}).webhook_port == int(port)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AIGOV_WEBHOOK_PORT": "https"}, "AIGOV_WEBHOOK_PORT='https': expected an integer"),
        ({"AIGOV_WEBHOOK_PORT": "94.43"}, "AIGOV_WEBHOOK_PORT='94.43': expected an integer"),
        ({"AIGOV_WEBHOOK_PORT": ""}, "AIGOV_WEBHOOK_PORT='': expected an integer"),
        ({"AIGOV_WEBHOOK_PORT": "0"}, "AIGOV_WEBHOOK_PORT=0: expected 1..65535"),
        ({"AIGOV_WEBHOOK_PORT": "65536"}, "AIGOV_WEBHOOK_PORT=65536: expected 1..65535"),
        ({"AIGOV_WEBHOOK_PORT": "-1"}, "AIGOV_WEBHOOK_PORT=-1: expected 1..65535"),
        ({"AIGOV_HEALTH_PORT": "x"}, "AIGOV_HEALTH_PORT='x': expected an integer"),
        ({"AIGOV_HEALTH_PORT": "70000"}, "AIGOV_HEALTH_PORT=70000: expected 0..65535"),
        ({"AIGOV_HEALTH_PORT": "-1"}, "AIGOV_HEALTH_PORT=-1: expected 0..65535"),
        (
            {"AIGOV_MANAGE_WEBHOOKS": "maybe"},
            "AIGOV_MANAGE_WEBHOOKS='maybe': expected true or false",
        ),
        ({"AIGOV_MANAGE_WEBHOOKS": "2"}, "AIGOV_MANAGE_WEBHOOKS='2': expected true or false"),
        ({"AIGOV_FAILURE_POLICY": "fail"}, "AIGOV_FAILURE_POLICY='fail': expected Fail or Ignore"),
        ({"AIGOV_FAILURE_POLICY": ""}, "AIGOV_FAILURE_POLICY='': expected Fail or Ignore"),
        ({"AIGOV_FAILURE_POLICY": "Open"}, "AIGOV_FAILURE_POLICY='Open': expected Fail or Ignore"),
        ({"AIGOV_RESYNC_SECONDS": "4"}, "AIGOV_RESYNC_SECONDS=4: expected 5..86400"),
        ({"AIGOV_RESYNC_SECONDS": "1m"}, "AIGOV_RESYNC_SECONDS='1m': expected an integer"),
        ({"AIGOV_RECONCILE_CONCURRENCY": "0"}, "AIGOV_RECONCILE_CONCURRENCY=0: expected 1..64"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_never_intercepted_has_kube_system_and_own_namespace_once() -> None:
    s = Settings.from_env(
        {"AIGOV_NAMESPACE": "kube-system", "AIGOV_EXCLUDED_NAMESPACES": "kube-system,kube-system"}
    )
    assert s.never_intercepted == ("kube-system",)


def test_never_intercepted_keeps_kube_system_when_other_namespaces_are_excluded() -> None:
    s = Settings.from_env({"AIGOV_NAMESPACE": "gov", "AIGOV_EXCLUDED_NAMESPACES": "monitoring,gov"})
    assert s.never_intercepted == ("kube-system", "monitoring", "gov")


def test_never_intercepted_with_nothing_else_excluded() -> None:
    s = Settings.from_env({"AIGOV_NAMESPACE": "gov", "AIGOV_EXCLUDED_NAMESPACES": ""})
    assert s.excluded_namespaces == ()
    assert s.never_intercepted == ("kube-system", "gov")


def test_the_lease_defaults_to_controller_runtime_timings_in_default() -> None:
    s = Settings.from_env({"POD_NAME": "aigov-7d9f-x2v"})
    assert (s.lease_name, s.lease_namespace, s.pod_name) == ("aigov", "default", "aigov-7d9f-x2v")
    assert s.lease_timing == Timing(15.0, 10.0, 2.0)


def test_the_lease_is_named_and_timed_by_the_environment() -> None:
    s = Settings.from_env(
        {
            "AIGOV_LEASE_NAME": " aigov-prod ",
            "AIGOV_LEASE_NAMESPACE": "aigov-system",
            "AIGOV_LEASE_DURATION_SECONDS": "6",
            "AIGOV_LEASE_RENEW_DEADLINE_SECONDS": "4",
            "AIGOV_LEASE_RETRY_PERIOD_SECONDS": "0.5",
        }
    )
    assert (s.lease_name, s.lease_namespace) == ("aigov-prod", "aigov-system")
    assert s.lease_timing == Timing(6.0, 4.0, 0.5)


def test_the_pod_name_falls_back_to_the_host_name() -> None:
    assert Settings.from_env({}).pod_name == socket.gethostname()


@pytest.mark.parametrize("value", ["Aigov", "aigov_1", "-aigov", "aigov-", "a..b", "x" * 254])
def test_the_lease_name_must_be_an_object_name(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"AIGOV_LEASE_NAME": value})
    assert str(info.value) == (
        f"AIGOV_LEASE_NAME={value!r}: expected a lowercase DNS name such as aigov"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"AIGOV_LEASE_DURATION_SECONDS": "soon"},
            "AIGOV_LEASE_DURATION_SECONDS='soon': expected a number of seconds",
        ),
        (
            {"AIGOV_LEASE_RETRY_PERIOD_SECONDS": "0"},
            "AIGOV_LEASE_RETRY_PERIOD_SECONDS='0': expected more than 0 and at most 3600 seconds",
        ),
        (
            {"AIGOV_LEASE_DURATION_SECONDS": "10"},
            "lease timings: lease duration (10 s) must exceed the renew deadline (10 s): a "
            "holder must stop before another may take over",
        ),
        (
            {"AIGOV_LEASE_RETRY_PERIOD_SECONDS": "9"},
            "lease timings: renew deadline (10 s) must exceed 1.2 x the retry period (9 s)",
        ),
    ],
)
def test_lease_timings_that_cannot_give_one_leader_are_refused(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert str(info.value) == message


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("", False)])
def test_stop_workloads(value: str, expected: bool) -> None:
    assert Settings.from_env({"AIGOV_STOP_WORKLOADS": value}).stop_workloads is expected


def test_recognition_settings() -> None:
    s = Settings.from_env(
        {
            "AIGOV_ENGINES_FILE": "/etc/aigov/engines.yaml",
            "AIGOV_ACCELERATOR_RESOURCES": "example.com/npu*, acme.io/tpu",
            "AIGOV_GPU_RUNTIME_CLASSES": "nvidia,kata-gpu",
        }
    )
    assert s.engines_file == Path("/etc/aigov/engines.yaml")
    assert s.accelerator_resources == ("example.com/npu*", "acme.io/tpu")
    assert s.gpu_runtime_classes == ("nvidia", "kata-gpu")
    assert Settings().gpu_runtime_classes == ("nvidia", "nvidia-cdi", "nvidia-legacy")
    assert Settings().engines_file is None


def test_load_recognition_reads_the_engines_file(tmp_path: Path) -> None:
    from aigov.recognition import load_recognition

    file = tmp_path / "engines.yaml"
    file.write_text("engines: [{name: acme, title: ACME, images: [acme]}]\n")
    found = load_recognition(
        Settings(engines_file=file, accelerator_resources=("example.com/npu*",))
    )
    assert found.engines.engines[0].name == "acme"
    assert "vllm" in {e.name for e in found.engines.engines}
    assert found.accelerators.is_accelerator("example.com/npu-1")
    assert found.accelerators.is_accelerator("nvidia.com/gpu")
    file.write_text("engines: [{title: no name}]\n")
    with pytest.raises(ConfigError, match="AIGOV_ENGINES_FILE="):
        load_recognition(Settings(engines_file=file))
    with pytest.raises(ConfigError, match="AIGOV_ENGINES_FILE="):
        load_recognition(Settings(engines_file=tmp_path / "missing.yaml"))


def test_access_settings() -> None:
    assert Settings().access_restricted_for == ("high",)
    assert Settings().break_glass_groups == ("aigov-break-glass",)
    s = Settings.from_env(
        {"AIGOV_ACCESS_RESTRICTED_FOR": "high, limited", "AIGOV_BREAK_GLASS_GROUPS": "sre,oncall"}
    )
    assert s.access_restricted_for == ("high", "limited")
    assert s.break_glass_groups == ("sre", "oncall")
    assert Settings.from_env({"AIGOV_ACCESS_RESTRICTED_FOR": ""}).access_restricted_for == ()
    with pytest.raises(ConfigError, match="AIGOV_ACCESS_RESTRICTED_FOR='hgh': hgh not among"):
        Settings.from_env({"AIGOV_ACCESS_RESTRICTED_FOR": "hgh"})


def test_reconcile_pacing() -> None:
    assert (Settings().resync_seconds, Settings().reconcile_concurrency) == (300, 4)
    s = Settings.from_env({"AIGOV_RESYNC_SECONDS": "30", "AIGOV_RECONCILE_CONCURRENCY": "16"})
    assert (s.resync_seconds, s.reconcile_concurrency) == (30, 16)
