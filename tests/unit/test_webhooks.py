"""validating_configuration: what the API server sends aigov, and what it never sends."""

from __future__ import annotations

from typing import Any

import pytest

from aigov.conditions import workload_conditions
from aigov.webhooks import (
    AUDIT_MUTATION,
    GOVERNED_MUTATION,
    POD_SPEC_PATHS,
    VALIDATE_NAMESPACES,
    VALIDATE_WORKLOADS,
    match_conditions,
    mutating_configuration,
    mutation_conditions,
    validating_configuration,
)

URL_CLIENT: dict[str, Any] = {"url": "https://127.0.0.1:9443/", "caBundle": "Q0E="}
SERVICE_CLIENT: dict[str, Any] = {
    "service": {"namespace": "aigov-system", "name": "aigov-webhook", "port": 443},
    "caBundle": "Q0E=",
}
NEVER = ("kube-system", "aigov-system")


def config(client: dict[str, Any] = URL_CLIENT, failure_policy: str = "Fail") -> dict[str, Any]:
    return validating_configuration("aigov-local", client, NEVER, failure_policy)


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in body["webhooks"]}


def test_envelope() -> None:
    body = config()
    assert body["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert body["kind"] == "ValidatingWebhookConfiguration"
    assert body["metadata"]["name"] == "aigov-local"
    names = [w["name"] for w in body["webhooks"]]
    assert len(names) == len(set(names)), "webhook names must be unique"
    assert {"namespaces.aigov.io", "workloads.aigov.io"} <= set(names)


def _all_webhooks(failure_policy: str, client: dict[str, Any] = URL_CLIENT) -> list[Any]:
    validating = validating_configuration("aigov-local", client, NEVER, failure_policy)
    mutating = mutating_configuration("aigov-local", client, NEVER, failure_policy)
    assert mutating["kind"] == "MutatingWebhookConfiguration"
    return [*validating["webhooks"], *mutating["webhooks"]]


@pytest.mark.parametrize("failure_policy", ["Fail", "Ignore"])
def test_every_webhook_speaks_v1_and_is_safe(failure_policy: str) -> None:
    for webhook in _all_webhooks(failure_policy):
        assert webhook["admissionReviewVersions"] == ["v1"]
        assert webhook["matchPolicy"] == "Equivalent"
        assert webhook["sideEffects"] in {"None", "NoneOnDryRun"}
        assert webhook["failurePolicy"] == failure_policy
        assert isinstance(webhook["timeoutSeconds"], int)
        assert 1 <= webhook["timeoutSeconds"] <= 30


def test_only_the_namespace_guard_reaches_excluded_namespaces() -> None:
    for webhook in _all_webhooks("Fail"):
        if webhook["name"] == "namespaces.aigov.io":
            continue
        expressions = webhook["namespaceSelector"]["matchExpressions"]
        assert {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["kube-system", "aigov-system"],
        } in expressions, webhook["name"]


def test_every_webhook_path_is_one_of_ours() -> None:
    for webhook in _all_webhooks("Fail", SERVICE_CLIENT):
        path = webhook["clientConfig"]["service"]["path"]
        assert path.startswith("/validate-") or path.startswith("/mutate-"), webhook["name"]


def test_namespace_guard_has_no_side_effects_and_sees_every_namespace() -> None:
    guard = by_name(config())["namespaces.aigov.io"]
    assert guard["sideEffects"] == "None"
    # Whatever their labels: only the Namespace objects of kube-system and aigov's own are
    # left out, by name, which never changes.
    (expression,) = guard["namespaceSelector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name"
    assert expression["operator"] == "NotIn"
    assert "kube-system" in expression["values"]
    assert "objectSelector" not in guard
    assert guard["rules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            # status and finalize write labels too (issue 11): the guard sees them.
            "resources": ["namespaces", "namespaces/status", "namespaces/finalize"],
            "operations": ["CREATE", "UPDATE"],
            "scope": "*",
        }
    ]


def test_workloads_webhook_selects_governed_namespaces_only() -> None:
    selector = by_name(config())["workloads.aigov.io"]["namespaceSelector"]
    assert selector == {
        "matchExpressions": [
            {"key": "aigov.io/mode", "operator": "In", "values": ["enforce", "warn", "audit"]},
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", "aigov-system"],
            },
        ]
    }


def test_excluded_namespaces_come_from_the_argument() -> None:
    body = validating_configuration("x", URL_CLIENT, ("kube-system", "gov"), "Fail")
    (_, not_in) = by_name(body)["workloads.aigov.io"]["namespaceSelector"]["matchExpressions"]
    assert not_in == {
        "key": "kubernetes.io/metadata.name",
        "operator": "NotIn",
        "values": ["kube-system", "gov"],
    }


def test_workloads_webhook_rules_cover_every_workload_kind() -> None:
    rules = by_name(config())["workloads.aigov.io"]["rules"]
    for rule in rules:
        assert rule["operations"] == ["CREATE", "UPDATE"]
        assert rule["scope"] == "*"
        assert len(rule["apiGroups"]) == 1
        assert len(rule["apiVersions"]) == 1
    covered = {
        (rule["apiGroups"][0], rule["apiVersions"][0], resource)
        for rule in rules
        for resource in rule["resources"]
    }
    assert covered == {
        ("", "v1", "pods"),
        ("", "v1", "pods/ephemeralcontainers"),
        ("", "v1", "pods/status"),
        ("apps", "v1", "deployments"),
        ("apps", "v1", "deployments/scale"),
        ("apps", "v1", "statefulsets"),
        ("apps", "v1", "statefulsets/scale"),
        ("apps", "v1", "daemonsets"),
        ("apps", "v1", "replicasets"),
        ("apps", "v1", "replicasets/scale"),
        ("batch", "v1", "jobs"),
        ("batch", "v1", "cronjobs"),
        ("", "v1", "replicationcontrollers"),
        ("", "v1", "replicationcontrollers/scale"),
        ("serving.kserve.io", "v1beta1", "inferenceservices"),
        ("serving.kserve.io", "v1alpha1", "llminferenceservices"),
        ("leaderworkerset.x-k8s.io", "v1", "leaderworkersets"),
        ("jobset.x-k8s.io", "v1alpha2", "jobsets"),
        ("ray.io", "v1", "rayclusters"),
        ("ray.io", "v1", "rayservices"),
        ("ray.io", "v1", "rayjobs"),
        ("trainer.kubeflow.org", "v1alpha1", "trainjobs"),
        ("apps.nvidia.com", "v1alpha1", "nimservices"),
    }


@pytest.mark.parametrize(
    "base", ["https://127.0.0.1:9443", "https://127.0.0.1:9443/", "https://h.example:1/root/"]
)
def test_url_client_config_gets_the_path_appended(base: str) -> None:
    client = {"url": base, "caBundle": "Q0E="}
    hooks = by_name(config(client))
    root = base.rstrip("/")
    assert hooks["workloads.aigov.io"]["clientConfig"] == {
        "url": f"{root}/validate-workloads",
        "caBundle": "Q0E=",
    }
    assert hooks["namespaces.aigov.io"]["clientConfig"] == {
        "url": f"{root}/validate-namespaces",
        "caBundle": "Q0E=",
    }
    assert client == {"url": base, "caBundle": "Q0E="}  # the caller's dict is untouched


def test_service_client_config_gets_a_service_path() -> None:
    hooks = by_name(config(SERVICE_CLIENT))
    assert hooks["workloads.aigov.io"]["clientConfig"]["service"]["path"] == "/validate-workloads"
    for name, path in (
        ("workloads.aigov.io", "/validate-workloads"),
        ("namespaces.aigov.io", "/validate-namespaces"),
    ):
        assert hooks[name]["clientConfig"] == {
            "service": {
                "namespace": "aigov-system",
                "name": "aigov-webhook",
                "port": 443,
                "path": path,
            },
            "caBundle": "Q0E=",
        }
    assert "path" not in SERVICE_CLIENT["service"]  # the caller's dict is untouched


def test_path_constants() -> None:
    assert (VALIDATE_WORKLOADS, VALIDATE_NAMESPACES) == (
        "validate-workloads",
        "validate-namespaces",
    )


def test_reserved_pool_webhook_covers_every_namespace_the_workload_webhook_does_not() -> None:
    hooks = by_name(config())
    reserved, governed = hooks["reserved.aigov.io"], hooks["workloads.aigov.io"]
    (mode, name) = reserved["namespaceSelector"]["matchExpressions"]
    # NotIn also matches namespaces without the label: the complement of governed's In.
    assert mode == {**governed["namespaceSelector"]["matchExpressions"][0], "operator": "NotIn"}
    assert name == governed["namespaceSelector"]["matchExpressions"][1]
    assert reserved["sideEffects"] == "None"
    covered = {(r["apiGroups"][0], res) for r in reserved["rules"] for res in r["resources"]}
    assert ("", "pods") in covered
    assert ("", "pods/ephemeralcontainers") in covered
    assert ("apps", "deployments/scale") not in covered  # a Scale holds no pod spec
    assert {res.split("/")[0] for _, res in covered} == set(POD_SPEC_PATHS)
    assert all(r["operations"] == ["CREATE", "UPDATE"] for r in reserved["rules"])


def test_match_conditions_send_unknown_kinds_and_guard_every_access() -> None:
    changes, condition = match_conditions()
    assert changes["name"] == "changes-what-runs"
    assert condition["name"] == "could-reach-a-reserved-pool"
    expression = condition["expression"]
    known = ", ".join(f"'{p}'" for p in POD_SPEC_PATHS)
    assert expression.startswith(f"!(request.resource.resource in [{known}]) || ")
    for needle in (
        "k.contains('/')",  # every extended resource: nvidia.com/gpu, amd.com/gpu, DRA's
        "size(s.resourceClaims) > 0",
        "'NVIDIA_VISIBLE_DEVICES'",
        "has(s.runtimeClassName)",
        "s.nodeName != ''",
        "!t.key.startsWith('node.kubernetes.io/')",
        "'aigov.io/model' in object.metadata.labels",
        "template.spec) ? object.spec.jobTemplate.spec.template.spec : {}",
    ):
        assert needle in expression, needle
    # Totality: every dotted access below the bound variables' roots is preceded by its has().
    for path in ("s.containers", "s.tolerations", "c.resources.limits", "c.env", "m.labels"):
        assert f"has({path})" in expression, path
    assert expression.count("(") == expression.count(")")


def test_workload_webhooks_carry_the_generated_conditions() -> None:
    validating = by_name(config())["workloads.aigov.io"]
    assert validating["matchConditions"] == workload_conditions()
    extended = by_name(
        validating_configuration("aigov-local", URL_CLIENT, NEVER, "Fail", extra_engines=True)
    )["workloads.aigov.io"]
    assert [c["name"] for c in extended["matchConditions"]] == ["changes-what-runs"]


def test_the_mutating_workload_webhook_is_split_by_what_it_can_do() -> None:
    def mutating(inject: bool) -> dict[str, dict[str, Any]]:
        return by_name(
            mutating_configuration("aigov-local", URL_CLIENT, NEVER, "Fail", inject=inject)
        )

    hooks = mutating(inject=True)
    assert set(hooks) == {"stamps.aigov.io", AUDIT_MUTATION, GOVERNED_MUTATION}
    audit, governed = hooks[AUDIT_MUTATION], hooks[GOVERNED_MUTATION]
    modes = [
        e for e in audit["namespaceSelector"]["matchExpressions"] if e["key"] == "aigov.io/mode"
    ]
    assert modes == [{"key": "aigov.io/mode", "operator": "In", "values": ["audit"]}]
    modes = [
        e for e in governed["namespaceSelector"]["matchExpressions"] if e["key"] == "aigov.io/mode"
    ]
    assert modes == [{"key": "aigov.io/mode", "operator": "In", "values": ["enforce", "warn"]}]
    assert audit["matchConditions"] == workload_conditions()
    assert governed["matchConditions"] == mutation_conditions(inject=True)
    assert mutating(inject=False)[GOVERNED_MUTATION]["matchConditions"] == mutation_conditions(
        inject=False
    )
    for hook in (audit, governed):
        assert hook["clientConfig"]["url"].endswith("/mutate-workloads")
        assert hook["reinvocationPolicy"] == "IfNeeded"


def test_access_webhook_judges_connect_in_governed_namespaces() -> None:
    hooks = by_name(config())
    access = hooks["access.aigov.io"]
    assert access["namespaceSelector"] == hooks["workloads.aigov.io"]["namespaceSelector"]
    (rule,) = access["rules"]
    assert rule["operations"] == ["CONNECT"]
    assert {"pods/exec", "pods/attach", "pods/portforward"} <= set(rule["resources"])
    assert access["sideEffects"] == "None"
    assert "matchConditions" not in access
