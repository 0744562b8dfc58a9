"""The fake GPU node pools: Node manifests that kwok keeps Ready.

Labels follow NVIDIA GPU Feature Discovery (GFD) so placement rules written against a real
GPU cluster work here unchanged. The H200 values come from a real `nvidia-smi -q` (copied into
tests/fixtures/gpu); a unit test keeps them in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


@dataclass(frozen=True)
class GPU:
    """One GPU model as GFD describes it."""

    product: str
    memory_mib: int
    family: str
    compute_major: int
    compute_minor: int
    driver: str = "580.159.04"
    cuda: str = "13.0"


@dataclass(frozen=True)
class Pool:
    """A node pool: `count` identical nodes named `<name>-<i>`."""

    name: str
    count: int
    region: str
    gpu: GPU | None = None
    gpus_per_node: int = 0
    sharing: str = "none"
    replicas: int = 1
    cc_capable: bool = False
    extra_labels: dict[str, str] = field(default_factory=dict)


H100 = GPU("NVIDIA-H100-80GB-HBM3", 81559, "hopper", 9, 0)
H200 = GPU("NVIDIA-H200", 143771, "hopper", 9, 0)
A100 = GPU("NVIDIA-A100-SXM4-80GB", 81920, "ampere", 8, 0)

POOLS: tuple[Pool, ...] = (
    Pool("h100-eu", 2, "eu-central-1", H100, 8, cc_capable=True),
    Pool("h200-eu", 1, "eu-central-1", H200, 8, cc_capable=True),
    Pool("a100-shared-us", 2, "us-east-1", A100, 8, sharing="time-slicing", replicas=4),
    Pool("cpu", 2, "eu-central-1"),
)


def _gpu_labels(pool: Pool, gpu: GPU) -> dict[str, str]:
    driver = gpu.driver.split(".")
    cuda = gpu.cuda.split(".")
    return {
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": gpu.product,
        "nvidia.com/gpu.memory": str(gpu.memory_mib),
        "nvidia.com/gpu.count": str(pool.gpus_per_node),
        "nvidia.com/gpu.family": gpu.family,
        "nvidia.com/gpu.compute.major": str(gpu.compute_major),
        "nvidia.com/gpu.compute.minor": str(gpu.compute_minor),
        "nvidia.com/gpu.sharing-strategy": pool.sharing,
        "nvidia.com/gpu.replicas": str(pool.replicas),
        "nvidia.com/cuda.driver.major": driver[0],
        "nvidia.com/cuda.driver.minor": driver[1],
        "nvidia.com/cuda.driver.rev": driver[2],
        "nvidia.com/cuda.runtime.major": cuda[0],
        "nvidia.com/cuda.runtime.minor": cuda[1],
        "nvidia.com/mig.capable": "false" if pool.sharing != "none" else "true",
        "nvidia.com/cc.capable": "true" if pool.cc_capable else "false",
    }


def node_manifest(pool: Pool, index: int) -> dict[str, Any]:
    """The Node object for node `index` of `pool`."""
    name = f"{pool.name}-{index}"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
        "pool": pool.name,
        "topology.kubernetes.io/region": pool.region,
        "topology.kubernetes.io/zone": f"{pool.region}a",
        **pool.extra_labels,
    }
    capacity: dict[str, str] = {"cpu": "96", "memory": "1Ti", "pods": "110"}
    taints: list[dict[str, str]] = []
    if pool.gpu is not None:
        labels.update(_gpu_labels(pool, pool.gpu))
        # Time-slicing advertises each physical GPU `replicas` times.
        capacity["nvidia.com/gpu"] = str(pool.gpus_per_node * pool.replicas)
        taints.append(dict(GPU_TAINT))
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {KWOK_ANNOTATION: "fake"}},
        "spec": {"taints": taints},
        "status": {"capacity": capacity, "allocatable": dict(capacity)},
    }


def all_nodes() -> list[dict[str, Any]]:
    """Every Node of every pool."""
    return [node_manifest(pool, i) for pool in POOLS for i in range(pool.count)]
