"""The local control plane is real: fake GPU pools, scheduling, pods Running on kwok nodes."""

from __future__ import annotations

from tools.controlplane import nodes
from tools.kubectl import Kube

from tests.e2e import manifests

GPU_POOLS = {"h100-eu", "h200-eu", "a100-shared-us"}


def test_node_pools_carry_gpu_feature_discovery_labels(kube: Kube) -> None:
    items = kube.run("get", "nodes", "-o", "json", check=True)
    import json

    by_pool: dict[str, list[dict]] = {}
    for node in json.loads(items.stdout)["items"]:
        by_pool.setdefault(node["metadata"]["labels"].get("pool", ""), []).append(node)
    assert {p: len(v) for p, v in by_pool.items() if p} == {
        "h100-eu": 2,
        "h200-eu": 1,
        "a100-shared-us": 2,
        "cpu": 2,
    }
    h200 = by_pool["h200-eu"][0]
    labels = h200["metadata"]["labels"]
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-H200"
    assert labels["nvidia.com/gpu.memory"] == "143771"
    assert labels["nvidia.com/gpu.family"] == "hopper"
    assert labels["topology.kubernetes.io/region"] == "eu-central-1"
    assert h200["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    a100 = by_pool["a100-shared-us"][0]["metadata"]["labels"]
    assert a100["nvidia.com/gpu.sharing-strategy"] == "time-slicing"
    assert a100["nvidia.com/gpu.replicas"] == "4"
    assert a100["topology.kubernetes.io/region"] == "us-east-1"
    for node in by_pool["h100-eu"]:
        assert node["metadata"]["labels"]["nvidia.com/cc.capable"] == "true"
        assert node["metadata"]["labels"]["nvidia.com/gpu.sharing-strategy"] == "none"
        assert node["spec"]["taints"] == [nodes.GPU_TAINT]
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready[0]["status"] == "True"
    for node in by_pool["cpu"]:
        assert "nvidia.com/gpu" not in node["status"]["allocatable"]
        assert not node["spec"].get("taints")


def _running_pods(kube: Kube, namespace: str, app: str, count: int) -> list[dict]:
    def running() -> bool:
        pods = kube.list("pods", namespace, f"app={app}")
        return len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods)

    kube.wait_for(running, f"{count} Running pods of {app}", seconds=90)
    return kube.list("pods", namespace, f"app={app}")


def _pool_of(kube: Kube, node: str) -> str:
    return str(kube.get("node", node)["metadata"]["labels"]["pool"])


def test_gpu_deployment_is_scheduled_onto_a_gpu_node_and_runs(kube: Kube, unique: str) -> None:
    ns = kube.namespace(f"plain-{unique}")
    result = kube.apply(manifests.deployment("trainer", ns, gpus=8, replicas=2))
    assert result.ok, result.stderr
    pods = _running_pods(kube, ns, "trainer", 2)
    for pod in pods:
        assert _pool_of(kube, pod["spec"]["nodeName"]) in GPU_POOLS
    # 8 GPUs each: two pods cannot share one 8-GPU node.
    assert len({p["spec"]["nodeName"] for p in pods}) == 2
    # Give the 16 GPUs back: later tests schedule onto the same fake pools.
    kube.run("delete", "namespace", ns, "--wait=false")


def test_cpu_deployment_lands_on_a_cpu_node(kube: Kube, unique: str) -> None:
    ns = kube.namespace(f"plain-{unique}")
    assert kube.apply(manifests.deployment("web", ns)).ok
    (pod,) = _running_pods(kube, ns, "web", 1)
    # GPU nodes are tainted: a pod without the toleration never lands there.
    assert _pool_of(kube, pod["spec"]["nodeName"]) == "cpu"
