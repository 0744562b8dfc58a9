"""The objects the benchmark creates (pure builders, no I/O).

A governed GPU Pod of an approved high-risk model (its placement policy checked on every
request), a plain CPU web Deployment, and the fleet: N models, each with an assessment by one
person, an approval by another, and a Deployment whose pod kwok runs on a large fake node.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tools.controlplane import nodes

from aigov.api.base import spec_hash

NS_GOVERNED, NS_BASELINE, NS_FLEET = "bench-governed", "bench-baseline", "bench-fleet"
MODEL = "scorer"
IMAGE = "registry.example.com/risk/fraud-scorer@sha256:" + "ab" * 32
POLICY = "bench-eu"
AUTHOR, ASSESSOR, APPROVER, CLIENT = "bench-alice", "bench-bob", "bench-carol", "bench-alice"
FLEET_POOL = "bench-fleet"
PODS_PER_FLEET_NODE = 2000
GROUP_PATH = "/apis/aigov.io/v1alpha1"
TOLERATE_GPU = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def namespace(name: str, governed: bool) -> dict[str, Any]:
    labels = {"aigov.io/mode": "enforce"} if governed else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def role_binding(ns: str, user: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{user}-{role}", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def policy() -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": POLICY},
        "spec": {
            "mode": "validate",
            "maxGPUsPerPod": 8,
            "nodePools": [
                {"name": p, "nodeSelector": {"pool": p}, "tolerations": TOLERATE_GPU}
                for p in ("h100-eu", "h200-eu")
            ],
        },
    }


def model_spec(
    name: str, image: str, risk: str = "high", placement: str | None = POLICY
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "modelName": name,
        "version": "1.0.0",
        "purpose": "bench",
        "owner": "bench",
        "artifacts": [{"name": "server", "image": image}],
        "lineage": {
            "datasets": [
                {"name": "d", "uri": "s3://d", "role": "training", "containsPersonalData": False}
            ],
            "code": {"repository": "https://git.example.com/x", "commit": "a" * 40},
        },
        "riskClass": risk,
        "lifecycle": "active",
    }
    if placement:
        spec["placementPolicy"] = placement
    return spec


def _object(kind: str, name: str, ns: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def governance(ns: str, name: str, spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(API path, object, user) for a model, its assessment and its approval, in order:
    three distinct people, as separation of duties requires."""
    h = spec_hash(spec)
    base = f"{GROUP_PATH}/namespaces/{ns}"
    return [
        (f"{base}/governedmodels", _object("GovernedModel", name, ns, spec), AUTHOR),
        (
            f"{base}/riskassessments",
            _object(
                "RiskAssessment",
                f"{name}-ra",
                ns,
                {
                    "modelRef": {"name": name, "specHash": h},
                    "riskLevel": "medium",
                    "methodology": "bench",
                    "validUntil": "2030-01-01T00:00:00Z",
                },
            ),
            ASSESSOR,
        ),
        (
            f"{base}/modelapprovals",
            _object(
                "ModelApproval",
                f"{name}-ok",
                ns,
                {
                    "modelRef": {"name": name, "specHash": h},
                    "decision": "approve",
                    "riskAssessmentRef": f"{name}-ra",
                    "justification": "bench",
                },
            ),
            APPROVER,
        ),
    ]


def gpu_pod(ns: str, model: str | None) -> dict[str, Any]:
    """One H100 GPU for the scorer: the request aigov judges in full (lineage, assessment,
    approval, placement) in a governed namespace."""
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "bench-", "namespace": ns, "labels": labels},
        "spec": {
            "nodeSelector": {"pool": "h100-eu"},
            "tolerations": TOLERATE_GPU,
            "containers": [
                {"name": "server", "image": IMAGE, "resources": {"limits": {"nvidia.com/gpu": "1"}}}
            ],
        },
    }


def web_deployment(ns: str) -> dict[str, Any]:
    """A CPU web server: nothing aigov judges, whatever the namespace."""
    labels = {"app": "bench-web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench-web", "namespace": ns, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def fleet_name(i: int) -> str:
    return f"m{i:05d}"


def fleet_image(i: int) -> str:
    digest = hashlib.sha256(f"fleet-{i}".encode()).hexdigest()
    return f"registry.example.com/fleet/{fleet_name(i)}@sha256:{digest}"


def fleet_model(i: int) -> dict[str, Any]:
    """Model i of the fleet: limited risk, no GPU, no placement policy."""
    return model_spec(fleet_name(i), fleet_image(i), risk="limited", placement=None)


def fleet_deployment(i: int) -> dict[str, Any]:
    name = fleet_name(i)
    labels = {"app": name, "aigov.io/model": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS_FLEET, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"pool": FLEET_POOL},
                    "containers": [{"name": "server", "image": fleet_image(i)}],
                },
            },
        },
    }


def fleet_nodes(models: int) -> list[dict[str, Any]]:
    """Enough big CPU nodes (kwok) for one pod per model."""
    count = models // PODS_PER_FLEET_NODE + 1
    pool = nodes.Pool(FLEET_POOL, count, "eu-central-1")
    out = []
    for i in range(count):
        node = nodes.node_manifest(pool, i)
        capacity = {"cpu": "1000", "memory": "8Ti", "pods": str(PODS_PER_FLEET_NODE + 100)}
        node["status"] = {"capacity": capacity, "allocatable": dict(capacity)}
        out.append(node)
    return out
