"""Which API requests aigov's webhooks receive, and the configurations that route them.

One description serves both the handler registration (handlers/) and the webhook
configurations the operator writes for local runs; the Helm chart renders the same rules and
a test compares them. The configurations exclude kube-system and the operator's namespace, so
a broken aigov can never stop the cluster from repairing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aigov.api.constants import MODE_LABEL, Mode
from aigov.api.kinds import workload_kinds


@dataclass(frozen=True)
class Resource:
    """An API resource aigov judges, with the subresources it also judges."""

    group: str
    version: str
    plural: str
    subresources: tuple[str, ...] = ()

    @property
    def rule_resources(self) -> list[str]:
        return [self.plural, *(f"{self.plural}/{s}" for s in self.subresources)]


WORKLOAD_RESOURCES: tuple[Resource, ...] = tuple(
    Resource(k.group, k.version, k.plural, tuple(k.subresources)) for k in workload_kinds().kinds
)
"""Every workload kind of the kinds table (aigov/data/kinds.yaml), with its subresources."""

VALIDATE_WORKLOADS = "validate-workloads"
MUTATE_WORKLOADS = "mutate-workloads"
VALIDATE_NAMESPACES = "validate-namespaces"
MUTATE_GOVERNANCE = "mutate-governance"
VALIDATE_GOVERNANCE = "validate-governance"

STAMPED_RESOURCES: tuple[Resource, ...] = tuple(
    Resource("aigov.io", "v1alpha1", plural)
    for plural in ("governedmodels", "riskassessments", "modelapprovals")
)
"""aigov's kinds that carry identity stamps (who authored, assessed, approved)."""
GOVERNANCE_RESOURCES: tuple[Resource, ...] = (
    *STAMPED_RESOURCES,
    Resource("aigov.io", "v1alpha1", "trustedsigners"),
)
"""aigov's kinds the validating webhook reads: what it admits, the operator can parse."""


def _not_excluded(never: tuple[str, ...]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(never)},
        ]
    }


def _governed_namespaces(never: tuple[str, ...]) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": MODE_LABEL, "operator": "In", "values": [m.value for m in Mode]},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(never)},
        ]
    }


def _rules(resources: tuple[Resource, ...], operations: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [r.group],
            "apiVersions": [r.version],
            "resources": r.rule_resources,
            "operations": operations,
            "scope": "*",
        }
        for r in resources
    ]


def _webhook(
    name: str, path: str, client: dict[str, Any], failure_policy: str, **extra: Any
) -> dict[str, Any]:
    config = dict(client)
    if "url" in config:
        config["url"] = config["url"].rstrip("/") + "/" + path
    else:
        config["service"] = {**config["service"], "path": "/" + path}
    return {
        "name": name,
        "clientConfig": config,
        "admissionReviewVersions": ["v1"],
        "sideEffects": "NoneOnDryRun",
        "matchPolicy": "Equivalent",
        "failurePolicy": failure_policy,
        "timeoutSeconds": 10,
        **extra,
    }


def validating_configuration(
    name: str, client: dict[str, Any], never: tuple[str, ...], failure_policy: str
) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration: workloads in governed namespaces, namespaces."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                "workloads.aigov.io",
                VALIDATE_WORKLOADS,
                client,
                failure_policy,
                namespaceSelector=_governed_namespaces(never),
                rules=_rules(WORKLOAD_RESOURCES, ["CREATE", "UPDATE"]),
            ),
            _webhook(
                "governance.aigov.io",
                VALIDATE_GOVERNANCE,
                client,
                failure_policy,
                # Stamps and duties hold in every namespace, governed or not.
                namespaceSelector=_not_excluded(never),
                rules=_rules(GOVERNANCE_RESOURCES, ["CREATE", "UPDATE"]),
                sideEffects="None",
            ),
            _webhook(
                "namespaces.aigov.io",
                VALIDATE_NAMESPACES,
                client,
                failure_policy,
                # The guard sees every namespace whatever its labels (removing the label must
                # not first take the namespace out of its sight), but not the Namespace objects
                # of kube-system and aigov's own: a name never changes, workloads there are
                # never judged anyway, and a down webhook must not block their repair.
                namespaceSelector=_not_excluded(never),
                rules=_rules((Resource("", "v1", "namespaces"),), ["CREATE", "UPDATE"]),
                sideEffects="None",
            ),
        ],
    }


def mutating_configuration(
    name: str, client: dict[str, Any], never: tuple[str, ...], failure_policy: str
) -> dict[str, Any]:
    """The MutatingWebhookConfiguration: identity stamps, audit annotations on workloads."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "aigov"}},
        "webhooks": [
            _webhook(
                "stamps.aigov.io",
                MUTATE_GOVERNANCE,
                client,
                failure_policy,
                namespaceSelector=_not_excluded(never),
                # UPDATE too: every spec change of a GovernedModel records its editor.
                rules=_rules(STAMPED_RESOURCES, ["CREATE", "UPDATE"]),
                sideEffects="None",
                reinvocationPolicy="Never",
            ),
            _webhook(
                "workloads.aigov.io",
                MUTATE_WORKLOADS,
                client,
                failure_policy,
                namespaceSelector=_governed_namespaces(never),
                # Not the subresources: a Scale or an ephemeral-container update carries
                # no annotations of the object to write to.
                rules=_rules(
                    tuple(Resource(r.group, r.version, r.plural) for r in WORKLOAD_RESOURCES),
                    ["CREATE", "UPDATE"],
                ),
                sideEffects="None",
                # Other mutating webhooks may change the pod spec after us: judge again.
                reinvocationPolicy="IfNeeded",
            ),
        ],
    }
