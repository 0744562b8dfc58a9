"""Builders for the governed story in tests: a model by alice, assessed by bob, approved by
carol, each as an impersonated user bound to the persona ClusterRoles."""

from __future__ import annotations

import copy
from typing import Any

from tools.kubectl import Kube, User

from aigov.api.base import spec_hash
from aigov.api.kinds import workload_kinds

ALICE = User("alice", ("ml-engineers", "system:authenticated"))
BOB = User("bob", ("risk-officers", "system:authenticated"))
CAROL = User("carol", ("approvers", "system:authenticated"))
MALLORY = User("mallory", ("ml-engineers", "system:authenticated"))

IMAGE = "registry.example.com/risk/scorer@sha256:" + "ab" * 32
OTHER_IMAGE = "registry.example.com/risk/scorer@sha256:" + "cd" * 32
API = "aigov.io/v1alpha1"

_BINDINGS = {
    "alice": ["aigov-model-author", "edit", "e2e-ml-engineer"],
    # mallory holds every duty, so RBAC lets her try what only aigov's rules refuse.
    "mallory": [
        "aigov-model-author",
        "edit",
        "e2e-ml-engineer",
        "aigov-risk-assessor",
        "aigov-approver",
    ],
    "bob": ["aigov-risk-assessor", "aigov-approver"],
    "carol": ["aigov-approver"],
}


# What `edit` does not grant an ML engineer: the optional kinds (KServe, LeaderWorkerSet, Ray,
# ...) and `kubectl debug`.
_ML_ENGINEER = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "e2e-ml-engineer"},
    "rules": [
        {
            "apiGroups": ["serving.kserve.io"],
            "resources": ["inferenceservices"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
        *(
            {
                "apiGroups": [k.group],
                "resources": [k.plural],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
            }
            for k in workload_kinds().kinds
            if k.optional
        ),
    ],
}


def role_binding(namespace: str, user: str, role: str) -> dict[str, Any]:
    """A RoleBinding of ClusterRole `role` to `user` in `namespace`."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{user}-{role}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def bind_personas(kube: Kube, namespace: str) -> None:
    """RoleBindings giving alice, mallory, bob and carol their duties in `namespace`."""
    kube.apply(_ML_ENGINEER)
    for user, roles in _BINDINGS.items():
        for role in roles:
            kube.apply(role_binding(namespace, user, role))


def allow_namespace_labelling(kube: Kube) -> None:
    """RBAC lets mallory and the aigov-admins group label namespaces; only aigov's namespace
    guard tells them apart."""
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "e2e-namespace-labeller"},
            "rules": [
                {
                    "apiGroups": [""],
                    # status and finalize write labels too: RBAC lets mallory use them.
                    "resources": ["namespaces", "namespaces/status", "namespaces/finalize"],
                    "verbs": ["get", "list", "patch", "update"],
                }
            ],
        }
    )
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "e2e-namespace-labeller"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "e2e-namespace-labeller",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "mallory"},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "aigov-admins"},
            ],
        }
    )


def model_spec(**overrides: Any) -> dict[str, Any]:
    """A complete GovernedModel spec with every defaulted field explicit, so its hash is the
    hash of the stored spec."""
    spec: dict[str, Any] = {
        "modelName": "scorer",
        "version": "1.0.0",
        "purpose": "Testing",
        "owner": "team-test",
        "artifacts": [{"name": "server", "image": IMAGE}],
        "lineage": {
            "datasets": [
                {
                    "name": "train",
                    "uri": "s3://datasets/train",
                    "digest": "sha256:" + "11" * 32,
                    "role": "training",
                    "containsPersonalData": False,
                }
            ],
            "code": {"repository": "https://git.example.com/scorer", "commit": "a" * 40},
        },
        "riskClass": "limited",
        "lifecycle": "active",
    }
    spec.update(overrides)
    return spec


def model(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "GovernedModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": copy.deepcopy(spec),
    }


def assessment(
    name: str,
    namespace: str,
    model_name: str,
    spec: dict[str, Any],
    level: str = "medium",
    valid_until: str = "2030-01-01T00:00:00Z",
) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "RiskAssessment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "modelRef": {"name": model_name, "specHash": spec_hash(spec)},
            "riskLevel": level,
            "methodology": "ISO/IEC 23894",
            "validUntil": valid_until,
        },
    }


def approval(
    name: str,
    namespace: str,
    model_name: str,
    spec: dict[str, Any],
    decision: str = "approve",
    assessment_name: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "modelRef": {"name": model_name, "specHash": spec_hash(spec)},
        "decision": decision,
        "justification": f"{decision} in a test",
    }
    if assessment_name:
        body["riskAssessmentRef"] = assessment_name
    return {
        "apiVersion": API,
        "kind": "ModelApproval",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def govern(
    kube: Kube,
    namespace: str,
    name: str,
    spec: dict[str, Any] | None = None,
    level: str = "medium",
    valid_until: str = "2030-01-01T00:00:00Z",
    approve: bool = True,
) -> dict[str, Any]:
    """alice writes the model, bob assesses it, carol approves it; returns the spec."""
    spec = spec or model_spec()
    for manifest, user in (
        (model(name, namespace, spec), ALICE),
        (assessment(f"{name}-ra", namespace, name, spec, level, valid_until), BOB),
    ):
        result = kube.apply(manifest, user=user)
        assert result.ok, result.stderr
    if approve:
        approve_model(kube, namespace, name, spec)
    return spec


def approve_model(kube: Kube, namespace: str, name: str, spec: dict[str, Any]) -> None:
    """carol approves model `name` on the assessment govern() made for it."""
    result = kube.apply(
        approval(f"{name}-ok", namespace, name, spec, assessment_name=f"{name}-ra"), user=CAROL
    )
    assert result.ok, result.stderr
