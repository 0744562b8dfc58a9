"""The chart's decision-log objects: a signing key generated once, a ConfigMap the operator
may only get and patch by name, the settings the operator parses, and the optional PVC.

No cluster, only `helm template` (with the e2e tests, like test_chart_render.py, so that
`make unit` needs no binaries)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tools.helm import Helm, HelmError, by_kind, one

from aigov.decisionlog.settings import LogSettings


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm.find()


def _named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in by_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_signing_key_is_an_ed25519_secret_mounted_and_kept(helm: Helm) -> None:
    objects = helm.template({})
    secret = _named(objects, "Secret", "aigov-decision-log-key")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    key = serialization.load_pem_private_key(base64.b64decode(secret["data"]["key.pem"]), None)
    assert isinstance(key, Ed25519PrivateKey)
    container = _container(objects)
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "decision-log-key")
    assert env["AIGOV_DECISION_LOG_KEY_FILE"] == mount["mountPath"] + "/key.pem"
    volumes = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    volume = next(v for v in volumes if v["name"] == "decision-log-key")
    assert volume["secret"]["secretName"] == "aigov-decision-log-key"


def test_the_operator_may_only_get_and_patch_its_checkpoints_configmap(helm: Helm) -> None:
    objects = helm.template({})
    configmap = _named(objects, "ConfigMap", "aigov-checkpoints")
    assert configmap["metadata"]["namespace"] == "aigov-system"
    role = _named(objects, "Role", "aigov-decision-log")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["aigov-checkpoints"],
            "verbs": ["get", "patch"],
        }
    ]
    binding = _named(objects, "RoleBinding", "aigov-decision-log")
    assert binding["roleRef"]["name"] == "aigov-decision-log"
    (subject,) = binding["subjects"]
    assert subject["name"] == one(objects, "ServiceAccount")["metadata"]["name"]


def test_the_environment_is_what_the_operator_reads(helm: Helm) -> None:
    values = {
        "decisionLog": {
            "checkpointRecords": 500,
            "checkpointSeconds": 30,
            "retentionDays": 400,
            "stdout": False,
            "persistence": {"enabled": True, "size": "50Gi", "storageClassName": "fast"},
        }
    }
    objects = helm.template(values)
    env = {e["name"]: e["value"] for e in _container(objects)["env"] if "value" in e}
    settings = LogSettings.from_env({**env, "POD_NAME": "aigov-abc"})
    assert (settings.checkpoint_records, settings.checkpoint_seconds) == (500, 30)
    assert (settings.retention_days, settings.stdout) == (400, False)
    assert settings.max_file_bytes == 64 * 1024 * 1024
    assert settings.checkpoints_configmap == "aigov-checkpoints"
    claim = one(objects, "PersistentVolumeClaim")
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert claim["spec"]["storageClassName"] == "fast"
    mount = next(m for m in _container(objects)["volumeMounts"] if m["name"] == "decision-log")
    assert str(settings.directory) == mount["mountPath"]


def test_without_persistence_there_is_no_file_sink_and_no_claim(helm: Helm) -> None:
    objects = helm.template({})
    assert by_kind(objects, "PersistentVolumeClaim") == []
    names = {e["name"] for e in _container(objects)["env"]}
    assert "AIGOV_DECISION_LOG_DIR" not in names


def test_a_key_of_ones_own_replaces_the_generated_one(helm: Helm) -> None:
    objects = helm.template({"decisionLog": {"signingKey": {"secretName": "hsm-exported"}}})
    assert [s["metadata"]["name"] for s in by_kind(objects, "Secret")] == ["aigov-webhook-tls"]
    volumes = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    secret = next(v["secret"] for v in volumes if v["name"] == "decision-log-key")
    assert secret == {"secretName": "hsm-exported", "defaultMode": 0o440}


@pytest.mark.parametrize(
    "values",
    [
        {"decisionLog": {"retentionDays": 30}},
        {"decisionLog": {"persistence": {"accessModes": ["ReadOnlyMany"]}}},
        {"decisionLog": {"checkpointRecords": 0}},
        {"decisionLog": {"retention": 200}},
    ],
)
def test_values_the_schema_refuses(helm: Helm, values: dict[str, Any]) -> None:
    with pytest.raises(HelmError, match=r"values don't meet the specifications|schema"):
        helm.template(values)
