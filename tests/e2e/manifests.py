"""Builders for the workload manifests the tests apply."""

from __future__ import annotations

from typing import Any

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
IMAGE = "registry.example.com/serving/vllm:0.9"


def container(gpus: int = 0, image: str = IMAGE, name: str = "server") -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": {"cpu": "100m", "memory": "128Mi"}}
    if gpus:
        resources["limits"] = {"nvidia.com/gpu": str(gpus)}
    return {"name": name, "image": image, "resources": resources}


def pod_spec(gpus: int = 0, image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container(gpus, image)], **extra}
    if gpus:
        spec.setdefault("tolerations", [GPU_TOLERATION])
    return spec


def deployment(
    name: str,
    namespace: str,
    gpus: int = 0,
    model: str | None = None,
    replicas: int = 1,
    image: str = IMAGE,
    **spec_extra: Any,
) -> dict[str, Any]:
    labels = {"app": name}
    if model:
        labels["aigov.io/model"] = model
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": pod_spec(gpus, image, **spec_extra),
            },
        },
    }


def pod(
    name: str, namespace: str, gpus: int = 0, model: str | None = None, **spec_extra: Any
) -> dict[str, Any]:
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": pod_spec(gpus, **spec_extra),
    }
