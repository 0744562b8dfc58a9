"""The Helm chart, rendered with several value sets: what it installs and what it never does.

No cluster, but the helm binary `make binaries` builds (.cache/bin): `helm lint --strict`
and `helm template`. It lives with the e2e tests, which run after the binaries are built, so
that `make unit` needs nothing beside the repository (tests/unit/test_chart_values.py has the
checks of the chart's files that need no helm).
The webhook configurations are compared with operator/aigov/webhooks.py, the RBAC with
config/rbac/, the CRDs with crds/, and the container environment is parsed by the
operator's own Settings: the chart cannot drift from the operator unnoticed.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from tools.controlplane import binaries
from tools.helm import CHART, Helm, HelmError, by_kind, one

from aigov import conditions, webhooks
from aigov.config import Settings
from aigov.election import Timing
from aigov.handlers.admission import ROUTES

ROOT = CHART.parents[1]
Render = Callable[..., list[dict[str, Any]]]

# Value sets every safety property must hold for.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "cert-manager": {"certManager": {"enabled": True}},
    "cert-manager-issuer": {
        "certManager": {
            "enabled": True,
            "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        }
    },
    "open-and-fast": {
        "webhooks": {
            "failurePolicy": "Ignore",
            "timeoutSeconds": 3,
            "excludedNamespaces": ["monitoring", "kube-public"],
        }
    },
    "no-kube-system-listed": {"webhooks": {"excludedNamespaces": []}},
    "single-replica": {"replicaCount": 1},
    "fast-election": {
        "leaderElection": {
            "leaseDurationSeconds": 6,
            "renewDeadlineSeconds": 4,
            "retryPeriodSeconds": 0.5,
        }
    },
    "url": {"webhooks": {"url": "https://127.0.0.1:9443/"}},
    "everything-on": {
        "replicaCount": 3,
        "networkPolicy": {
            "enabled": True,
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
        },
        "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
        "decisionLog": {"persistence": {"enabled": True, "accessModes": ["ReadWriteMany"]}},
        "image": {"digest": "sha256:" + "ab" * 32},
        "operator": {
            "logLevel": "DEBUG",
            "adminGroups": ["platform-admins"],
            "accessRestrictedFor": ["high", "limited"],
            "breakGlassGroups": ["sre-oncall"],
            "reports": "wgpolicy",
        },
        "recognition": {
            "engines": [
                {"name": "acme", "title": "ACME Serve", "images": ["acme-serve"],
                 "model": {"flags": ["--weights"]}, "default": "acme/base"}
            ],
            "generic": {"env": ["ACME_MODEL"]},
            "acceleratorResources": ["example.com/npu*"],
            "gpuRuntimeClasses": ["nvidia", "kata-gpu"],
        },
    },
}  # fmt: skip
NAMESPACE = "gov-system"
RELEASE = "aigov"
HANDLER_IDS = {
    webhooks.VALIDATE_WORKLOADS,
    webhooks.VALIDATE_GOVERNANCE,
    webhooks.VALIDATE_NAMESPACES,
    webhooks.MUTATE_GOVERNANCE,
    webhooks.MUTATE_WORKLOADS,
    webhooks.VALIDATE_RESERVED,
    webhooks.VALIDATE_ACCESS,
    webhooks.VALIDATE_BINDINGS,
}


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm.find()


@pytest.fixture(scope="module")
def render(helm: Helm) -> Render:
    """helm template, cached per value set (a render takes ~0.1 s)."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def rendered(values: dict[str, Any], namespace: str = NAMESPACE) -> list[dict[str, Any]]:
        key = json.dumps([values, namespace], sort_keys=True)
        if key not in cache:
            cache[key] = helm.template(values, release=RELEASE, namespace=namespace)
        return copy.deepcopy(cache[key])

    return rendered


@pytest.fixture(params=sorted(VALUE_SETS))
def case(request: pytest.FixtureRequest, render: Render) -> tuple[dict[str, Any], Any]:
    values = VALUE_SETS[request.param]
    return values, render(values)


def _merged(values: dict[str, Any], path: str, default: Any) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _webhooks(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        hook
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
        for hook in one(objects, kind)["webhooks"]
    ]


def _never(values: dict[str, Any], namespace: str = NAMESPACE) -> tuple[str, ...]:
    excluded = _merged(values, "webhooks.excludedNamespaces", ["kube-system"])
    return tuple(dict.fromkeys(("kube-system", *excluded, namespace)))


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _env(objects: list[dict[str, Any]]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in _container(objects)["env"] if "value" in e}


# ---- lint -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "cert-manager", "everything-on", "url"])
def test_helm_lint_strict_passes(helm: Helm, name: str) -> None:
    result = helm.lint(VALUE_SETS[name])
    assert result.ok, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhooks": {"failurPolicy": "Fail"}}, "additional properties 'failurPolicy'"),
        ({"webhooks": {"failurePolicy": "fail"}}, "/webhooks/failurePolicy"),
        ({"webhooks": {"timeoutSeconds": 31}}, "/webhooks/timeoutSeconds"),
        ({"webhooks": {"excludedNamespaces": ["Kube_System"]}}, "/webhooks/excludedNamespaces"),
        ({"webhooks": {"url": "http://insecure:80"}}, "/webhooks/url"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"operator": {"webhookPort": 443}}, "/operator/webhookPort"),
        ({"surprise": True}, "additional properties 'surprise'"),
        ({"peering": {"enabled": True}}, "additional properties 'peering'"),
        ({"leaderElection": {"retryPeriodSeconds": 0}}, "/leaderElection/retryPeriodSeconds"),
    ],
)
def test_bad_values_are_refused_before_anything_is_rendered(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmError) as info:
        helm.template(values)
    assert message in str(info.value)


# ---- CRDs -------------------------------------------------------------------------------


# ---- webhooks -----------------------------------------------------------------------------


def _expected(values: dict[str, Any], ca_bundle: str | None) -> dict[str, dict[str, Any]]:
    """What webhooks.py would write for this release, keyed by configuration kind."""
    url = _merged(values, "webhooks.url", "")
    client: dict[str, Any] = (
        {"url": url}
        if url
        else {"service": {"name": f"{RELEASE}-webhook", "namespace": NAMESPACE, "port": 443}}
    )
    if ca_bundle is not None:
        client["caBundle"] = ca_bundle
    failure_policy = _merged(values, "webhooks.failurePolicy", "Fail")
    timeout = _merged(values, "webhooks.timeoutSeconds", 10)
    expected = {}
    recognition = values.get("recognition") or {}
    extra = bool(recognition.get("engines") or recognition.get("generic"))
    for build in (webhooks.validating_configuration, webhooks.mutating_configuration):
        body = build(RELEASE, client, _never(values), failure_policy, extra_engines=extra)
        for hook in body["webhooks"]:
            hook["timeoutSeconds"] = timeout
        expected[body["kind"]] = body
    return expected


def test_webhook_configurations_are_those_of_the_operator(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    values, objects = case
    cert_manager = _merged(values, "certManager.enabled", False)
    ca_bundle = None if cert_manager else _tls_secret(objects)["data"]["ca.crt"]
    expected = _expected(values, ca_bundle)
    for kind, body in expected.items():
        rendered = one(objects, kind)
        assert rendered["metadata"]["name"] == body["metadata"]["name"]
        assert rendered["webhooks"] == body["webhooks"], kind


def test_webhook_configuration_safety(case: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    values, objects = case
    registered = set(ROUTES)
    never = _never(values)
    assert {"kube-system", NAMESPACE} <= set(never)
    for hook in _webhooks(objects):
        client = hook["clientConfig"]
        path = client["url"].rsplit("/", 1)[1] if "url" in client else client["service"]["path"]
        handler = path.lstrip("/")
        assert handler in HANDLER_IDS, hook["name"]
        assert handler in registered, f"{handler}: the admission server has no such route"
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["matchPolicy"] == "Equivalent"
        assert hook["sideEffects"] in {"None", "NoneOnDryRun"}
        assert hook["failurePolicy"] == _merged(values, "webhooks.failurePolicy", "Fail")
        assert hook["timeoutSeconds"] == _merged(values, "webhooks.timeoutSeconds", 10)
        if hook["name"] == "namespaces.aigov.io":
            # The guard judges Namespace objects themselves (only CREATE/UPDATE of them, and
            # of their status and finalize, which write labels too), never the objects in
            # any namespace.
            (rule,) = hook["rules"]
            assert rule["resources"] == ["namespaces", "namespaces/status", "namespaces/finalize"]
            assert rule["operations"] == ["CREATE", "UPDATE"]
            assert hook["sideEffects"] == "None"
            continue
        expressions = hook["namespaceSelector"]["matchExpressions"]
        assert {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": list(never),
        } in expressions, hook["name"]
        for expression in expressions:
            if expression["operator"] == "In":
                assert not {"kube-system", NAMESPACE} & set(expression["values"])


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_webhook_carries_the_operators_match_conditions(render: Render, name: str) -> None:
    values = VALUE_SETS[name]
    hooks = {h["name"]: h for h in _webhooks(render(values))}
    assert hooks.pop("reserved.aigov.io")["matchConditions"] == webhooks.match_conditions()
    recognition = values.get("recognition") or {}
    extra = bool(recognition.get("engines") or recognition.get("generic"))
    workloads = conditions.workload_conditions(extra_engines=extra)
    assert len(workloads) == (1 if extra else 2)
    assert hooks.pop("workloads.aigov.io")["matchConditions"] == workloads
    assert hooks.pop(webhooks.AUDIT_MUTATION)["matchConditions"] == workloads
    # Rendered with injection on: the operator narrows it while no policy injects.
    assert hooks.pop(webhooks.GOVERNED_MUTATION)["matchConditions"] == (
        webhooks.mutation_conditions(inject=True)
    )
    # Only the scheduler's own bindings skip the binding webhook.
    assert hooks.pop("bindings.aigov.io")["matchConditions"] == [
        {
            "name": "not-the-scheduler",
            "expression": "request.userInfo.username != 'system:kube-scheduler'",
        }
    ]
    # Elsewhere every request in scope reaches aigov: stamps, governance, access, namespaces.
    assert all("matchConditions" not in h for h in hooks.values())


def test_kube_system_is_excluded_even_when_the_list_omits_it(render: Render) -> None:
    for hook in _webhooks(render({"webhooks": {"excludedNamespaces": []}})):
        if "namespaceSelector" in hook:
            (not_in,) = [
                e
                for e in hook["namespaceSelector"]["matchExpressions"]
                if e["key"] == "kubernetes.io/metadata.name"
            ]
            assert not_in["values"] == ["kube-system", NAMESPACE]


def _tls_secret(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The webhook's serving certificate (the decision log's signing key is a Secret too)."""
    (secret,) = [s for s in by_kind(objects, "Secret") if s["type"] == "kubernetes.io/tls"]
    return secret


def test_cert_manager_injects_the_ca_and_the_chart_makes_none(render: Render) -> None:
    objects = render({"certManager": {"enabled": True}})
    assert [s for s in by_kind(objects, "Secret") if s["type"] == "kubernetes.io/tls"] == []
    certificates = {c["metadata"]["name"]: c["spec"] for c in by_kind(objects, "Certificate")}
    issuers = {i["metadata"]["name"]: i["spec"] for i in by_kind(objects, "Issuer")}
    # A private CA: self-signed root -> CA Issuer -> serving certificate, so renewals of the
    # serving certificate keep the CA that the webhook configurations trust.
    serving, ca = certificates[f"{RELEASE}-webhook"], certificates[f"{RELEASE}-webhook-ca"]
    assert issuers[ca["issuerRef"]["name"]] == {"selfSigned": {}}
    assert ca["isCA"] is True
    assert issuers[serving["issuerRef"]["name"]] == {"ca": {"secretName": ca["secretName"]}}
    assert "isCA" not in serving
    assert f"{RELEASE}-webhook.{NAMESPACE}.svc" in serving["dnsNames"]
    certificate = {"metadata": {"name": f"{RELEASE}-webhook"}, "spec": serving}
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        body = one(objects, kind)
        assert body["metadata"]["annotations"] == {
            "cert-manager.io/inject-ca-from": f"{NAMESPACE}/{certificate['metadata']['name']}"
        }
        assert all("caBundle" not in h["clientConfig"] for h in body["webhooks"])
    volumes = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    (tls,) = [v for v in volumes if v["name"] == "tls"]
    assert tls["secret"]["secretName"] == certificate["spec"]["secretName"]


def test_cert_manager_with_an_issuer_of_yours_makes_no_issuer(render: Render) -> None:
    objects = render(VALUE_SETS["cert-manager-issuer"])
    assert by_kind(objects, "Issuer") == []
    assert one(objects, "Certificate")["spec"]["issuerRef"] == {
        "name": "corp-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


@pytest.mark.parametrize("name", ["default", "url"])
def test_generated_certificate_is_signed_by_the_published_ca(render: Render, name: str) -> None:
    objects = render(VALUE_SETS[name])
    secret = _tls_secret(objects)
    assert secret["type"] == "kubernetes.io/tls"
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    leaf = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    leaf.verify_directly_issued_by(ca)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    assert f"{RELEASE}-webhook.{NAMESPACE}.svc" in names
    assert f"{RELEASE}-webhook.{NAMESPACE}.svc.cluster.local" in names
    if name == "url":
        assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert leaf.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=3000)
    assert base64.b64decode(secret["data"]["tls.key"]).startswith(b"-----BEGIN")


# ---- RBAC ----------------------------------------------------------------------------------


def _rules(path: Path) -> dict[str, list[dict[str, Any]]]:
    return {d["metadata"]["name"]: d["rules"] for d in yaml.safe_load_all(path.read_text()) if d}


def test_operator_roles_mirror_config_rbac(render: Render) -> None:
    """The ClusterRole equals config/rbac's; the leader-election Role too, with the
    release's Lease name in place of the local default (aigov)."""
    reference = _rules(ROOT / "config" / "rbac" / "operator.yaml")
    for values in ({}, VALUE_SETS["single-replica"]):
        objects = render(values)
        role = next(
            r for r in by_kind(objects, "ClusterRole") if r["metadata"]["name"] == "aigov-operator"
        )
        assert role["rules"] == reference["aigov-operator"]
        (election,) = [
            r for r in by_kind(objects, "Role") if r["metadata"]["name"] == "aigov-leader-election"
        ]
        assert election["metadata"] == {
            **election["metadata"],
            "name": "aigov-leader-election",
            "namespace": NAMESPACE,
        }
        assert election["rules"] == reference["aigov-leader-election"]
        (binding,) = [
            b
            for b in by_kind(objects, "RoleBinding")
            if b["roleRef"]["name"] == "aigov-leader-election"
        ]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "aigov", "namespace": NAMESPACE}
        ]


def test_rbac_has_no_wildcards_and_no_secrets(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, objects = case
    roles = by_kind(objects, "ClusterRole") + by_kind(objects, "Role")
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert not any("*" in item for item in rule.get(field, [])), role["metadata"]
            assert set(rule["verbs"]) <= {
                "get",
                "list",
                "watch",
                "create",
                "update",
                "patch",
                "delete",
            }
            if "secrets" in rule.get("resources", []):
                assert rule.get("resourceNames"), "Secrets only by name"
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_operator_binding_names_the_chart_service_account(render: Render) -> None:
    objects = render({})
    (binding,) = by_kind(objects, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "aigov-operator",
    }
    sa = one(objects, "ServiceAccount")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": NAMESPACE}
    ]
    spec = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == sa["metadata"]["name"]


@pytest.mark.parametrize("prefix", ["aigov", "team-a"])
def test_persona_roles_mirror_config_rbac(render: Render, prefix: str) -> None:
    reference = list(yaml.safe_load_all((ROOT / "config" / "rbac" / "personas.yaml").read_text()))
    rendered = {
        r["metadata"]["name"]: r
        for r in by_kind(render({"personas": {"namePrefix": prefix}}), "ClusterRole")
        if "aigov.io/persona" in r["metadata"]["labels"]
    }
    assert len(rendered) == len(reference) == 5
    for role in reference:
        name = prefix + role["metadata"]["name"].removeprefix("aigov")
        assert rendered[name]["rules"] == role["rules"], name
        for key, value in role["metadata"]["labels"].items():
            assert rendered[name]["metadata"]["labels"][key] == value, (name, key)


def test_personas_can_be_left_out(render: Render) -> None:
    roles = by_kind(render({"personas": {"create": False}}), "ClusterRole")
    assert [r["metadata"]["name"] for r in roles] == ["aigov-operator"]


# ---- the pods ------------------------------------------------------------------------------


def test_pods_meet_the_restricted_pod_security_standard(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, objects = case
    spec = one(objects, "Deployment")["spec"]["template"]["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] != 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(key)
    # What the restricted standard allows.
    volume_kinds = {"secret", "emptyDir", "configMap", "persistentVolumeClaim"}
    assert all(set(v) & volume_kinds for v in spec["volumes"]), "no hostPath"
    container = _container(objects)
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "limits" in container["resources"]
    assert "requests" in container["resources"]


def test_probes_and_ports_are_the_operators(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, objects = case
    container = _container(objects)
    env = _env(objects)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {
        "webhook": int(env["AIGOV_WEBHOOK_PORT"]),
        "health": int(env["AIGOV_HEALTH_PORT"]),
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    service = one(objects, "Service")
    assert {p["name"]: p["targetPort"] for p in service["spec"]["ports"]} == {
        "webhook": "webhook",
        "metrics": "health",
    }
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_environment_is_read_by_the_operator_as_intended(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    values, objects = case
    env = _env(objects)
    settings = Settings.from_env(env)  # every value the chart sets must parse
    assert settings.namespace == NAMESPACE
    assert settings.webhook_host == "0.0.0.0"
    assert settings.manage_webhooks is False
    assert settings.operator_users == (f"system:serviceaccount:{NAMESPACE}:{RELEASE}",)
    assert settings.admin_groups == tuple(
        _merged(values, "operator.adminGroups", ["system:masters", "aigov-admins"])
    )
    assert settings.log_level == _merged(values, "operator.logLevel", "INFO")
    assert settings.reports == _merged(values, "operator.reports", "openreports")
    assert settings.access_restricted_for == tuple(
        _merged(values, "operator.accessRestrictedFor", ["high"])
    )
    assert settings.break_glass_groups == tuple(
        _merged(values, "operator.breakGlassGroups", ["aigov-break-glass"])
    )
    # The operator's idea of "never intercepted" is the webhook selectors' NotIn list.
    assert settings.never_intercepted == _never(values)
    assert (settings.lease_name, settings.lease_namespace) == (RELEASE, NAMESPACE)
    assert settings.lease_timing == Timing(
        _merged(values, "leaderElection.leaseDurationSeconds", 15),
        _merged(values, "leaderElection.renewDeadlineSeconds", 10),
        _merged(values, "leaderElection.retryPeriodSeconds", 2),
    )
    container = _container(objects)
    (pod_name,) = [e for e in container["env"] if e["name"] == "POD_NAME"]
    assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert settings.cert_dir == Path(mounts["tls"]["mountPath"])
    assert mounts["tls"]["readOnly"] is True
    assert "subPath" not in mounts["tls"], "a subPath mount never sees renewed files"


def test_pod_disruption_budget_keeps_a_webhook_server(render: Render) -> None:
    objects = render({})
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert by_kind(render(VALUE_SETS["single-replica"]), "PodDisruptionBudget") == []


def test_optional_objects_are_off_by_default(render: Render) -> None:
    kinds = {o["kind"] for o in render({})}
    assert kinds == {
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }


def test_network_policy_and_service_monitor(render: Render) -> None:
    objects = render(VALUE_SETS["everything-on"])
    policy = one(objects, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    webhook_in, metrics_in = policy["spec"]["ingress"]
    assert "from" not in webhook_in  # the API server's address differs between clusters
    assert webhook_in["ports"] == [{"port": "webhook", "protocol": "TCP"}]
    assert metrics_in["from"] == VALUE_SETS["everything-on"]["networkPolicy"]["metricsFrom"]
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 443, 6443}
    monitor = one(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
    service = one(objects, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    image = _container(objects)["image"]
    assert image == "registry.example.com/platform/aigov@sha256:" + "ab" * 32


def test_names_fit_the_release(render: Render) -> None:
    objects = render({}, namespace="other")
    assert {o["metadata"]["name"] for o in by_kind(objects, "Service")} == {"aigov-webhook"}
    secret = _tls_secret(objects)
    assert secret["metadata"] == {
        **secret["metadata"],
        "name": "aigov-webhook-tls",
        "namespace": "other",
    }
    for hook in _webhooks(objects):
        assert hook["clientConfig"]["service"]["namespace"] == "other"


def test_a_stopping_replica_keeps_answering_while_it_leaves_the_service(render: Render) -> None:
    """No admission request already routed to a stopping pod goes unanswered in a rollout."""
    container = _container(render({}))
    assert container["lifecycle"] == {
        "preStop": {"httpGet": {"path": "/drain?seconds=5", "port": "health"}}
    }
    grace = one(render({}), "Deployment")["spec"]["template"]["spec"]
    assert grace["terminationGracePeriodSeconds"] > 5
    assert "lifecycle" not in _container(render({"operator": {"preStopSleepSeconds": 0}}))


def test_engine_table_extension_reaches_the_operator(render: Render, tmp_path: Path) -> None:
    """values recognition.* -> ConfigMap, mount and env that load_recognition reads."""
    from aigov.recognition import load_recognition

    engines = f"{RELEASE}-engines"
    assert [c for c in by_kind(render({}), "ConfigMap") if c["metadata"]["name"] == engines] == []
    default = Settings.from_env(_env(render({})))
    assert default.engines_file is None
    assert default.gpu_runtime_classes == ("nvidia", "nvidia-cdi", "nvidia-legacy")
    assert default.accelerator_resources == ()
    objects = render(VALUE_SETS["everything-on"])
    settings = Settings.from_env(_env(objects))
    assert settings.gpu_runtime_classes == ("nvidia", "kata-gpu")
    assert settings.accelerator_resources == ("example.com/npu*",)
    (configmap,) = [c for c in by_kind(objects, "ConfigMap") if c["metadata"]["name"] == engines]
    container = _container(objects)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "engines")
    assert settings.engines_file == Path(mount["mountPath"]) / "engines.yaml"
    volume = next(
        v
        for v in one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "engines"
    )
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    annotations = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/engines" in annotations
    file = tmp_path / "engines.yaml"
    file.write_text(configmap["data"]["engines.yaml"])
    found = load_recognition(dataclasses.replace(settings, engines_file=file))
    assert found.engines.engines[0].name == "acme"
    assert "ACME_MODEL" in found.engines.generic.env
    assert found.accelerators.is_accelerator("example.com/npu-2")
    assert "kata-gpu" in found.accelerators.runtime_classes


def test_helm_is_built_like_upstream_and_renders_without_kube_version(helm: Helm) -> None:
    """A user's `helm template charts/aigov` passes no --kube-version: the helm that
    tools/controlplane/build.sh builds must assume a Kubernetes version the chart accepts
    (upstream's ldflags; without them helm says v1.20 and refuses kubeVersion >=1.30)."""
    version = helm.run("version", "--template", "{{ .Version }}")
    assert version.ok, version.stderr
    assert version.stdout.strip() == binaries.versions()["HELM_VERSION"]
    rendered = helm.run("template", "aigov", str(helm.chart))
    assert rendered.ok, f"{rendered.stderr}\nrebuild helm: bash tools/controlplane/build.sh helm"
    assert "kind: Deployment" in rendered.stdout
