"""Issue 4 end to end: placement validated or injected, proven by the real scheduler."""

from __future__ import annotations

from typing import Any

import pytest
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE

EU_POOLS = {"h100-eu", "h200-eu"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _pool(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "nodeSelector": selector, "tolerations": [GPU_TOLERATION]}


def _policy(name: str, mode: str, pools: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": name},
        "spec": {
            "mode": mode,
            "nodePools": [_pool(p, {"pool": p}) for p in pools],
            **extra,
        },
    }


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> str:
    name = kube.namespace(f"place-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _govern(kube: Kube, ns: str, name: str, policy: str) -> None:
    spec = governed.model_spec(riskClass="high", placementPolicy=policy)
    governed.govern(kube, ns, name, spec)


def _deployment(ns: str, name: str, gpus: int = 1, replicas: int = 1, **spec: Any) -> Any:
    manifest = manifests.deployment(
        name, ns, gpus=gpus, model=name, replicas=replicas, image=IMAGE, **spec
    )
    if "tolerations" not in spec:
        manifest["spec"]["template"]["spec"].pop("tolerations", None)  # inject adds them
    return manifest


def _pools_of_pods(kube: Kube, ns: str, app: str, count: int) -> set[str]:
    def running() -> bool:
        pods = kube.list("pods", ns, f"app={app}")
        return len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods)

    kube.wait_for(running, f"{count} Running pods of {app}", 90)
    nodes = {p["spec"]["nodeName"] for p in kube.list("pods", ns, f"app={app}")}
    return {kube.get("node", n)["metadata"]["labels"]["pool"] for n in nodes}


def test_inject_mode_pins_every_pod_to_the_allowed_pools(kube: Kube, ns: str, unique: str) -> None:
    policy = f"inject-{unique}"
    assert kube.apply(_policy(policy, "inject", sorted(EU_POOLS))).ok
    _govern(kube, ns, "pinned", policy)
    result = kube.apply(_deployment(ns, "pinned", replicas=4), user=ALICE)
    assert result.ok, result.stderr
    template = kube.get("deployment", "pinned", ns)["spec"]["template"]["spec"]
    terms = template["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert sorted(t["matchExpressions"][0]["values"][0] for t in terms) == sorted(EU_POOLS)
    assert GPU_TOLERATION in template["tolerations"]
    assert _pools_of_pods(kube, ns, "pinned", 4) <= EU_POOLS
    # Applying the same manifest again changes nothing: injection is idempotent.
    generation = kube.get("deployment", "pinned", ns)["metadata"]["generation"]
    assert kube.apply(_deployment(ns, "pinned", replicas=4), user=ALICE).ok
    assert kube.get("deployment", "pinned", ns)["metadata"]["generation"] == generation


def test_validate_mode_refuses_misplaced_workloads(kube: Kube, ns: str, unique: str) -> None:
    policy = f"validate-{unique}"
    assert kube.apply(_policy(policy, "validate", ["h100-eu"], maxGPUsPerPod=4)).ok
    _govern(kube, ns, "strict", policy)
    tol = [GPU_TOLERATION]

    aimed = _deployment(ns, "strict", nodeSelector={"pool": "a100-shared-us"}, tolerations=tol)
    result = kube.apply(aimed, user=ALICE)
    assert not result.ok
    assert "PlacementViolation" in result.stderr
    assert "h100-eu" in result.stderr

    unpinned = _deployment(ns, "strict", tolerations=tol)
    result = kube.apply(unpinned, user=ALICE)
    assert not result.ok
    assert "could be scheduled on nodes outside the allowed pools" in result.stderr

    pod = manifests.pod("by-name", ns, gpus=1, model="strict", nodeName="a100-shared-us-0")
    pod["spec"]["containers"][0]["image"] = IMAGE
    result = kube.apply(pod, user=ALICE)
    assert not result.ok
    assert "PlacementViolation at spec.nodeName" in result.stderr

    greedy = _deployment(ns, "strict", gpus=8, nodeSelector={"pool": "h100-eu"}, tolerations=tol)
    result = kube.apply(greedy, user=ALICE)
    assert not result.ok
    assert "asks for 8 nvidia.com/gpu" in result.stderr
    assert "at most 4" in result.stderr

    placed = _deployment(ns, "strict", gpus=2, nodeSelector={"pool": "h100-eu"}, tolerations=tol)
    result = kube.apply(placed, user=ALICE)
    assert result.ok, result.stderr
    assert _pools_of_pods(kube, ns, "strict", 1) == {"h100-eu"}


def test_exclusive_gpus_refuse_a_pod_that_could_land_on_a_time_sliced_pool(
    kube: Kube, ns: str, unique: str
) -> None:
    policy = f"exclusive-{unique}"
    pools = _policy(policy, "validate", ["h100-eu", "a100-shared-us"], requireExclusiveGPU=True)
    assert kube.apply(pools).ok
    _govern(kube, ns, "exclusive", policy)
    gpu_nodes = {"nvidia.com/gpu.present": "true"}
    anywhere = _deployment(ns, "exclusive", nodeSelector=gpu_nodes, tolerations=[GPU_TOLERATION])
    result = kube.apply(anywhere, user=ALICE)
    assert not result.ok
    assert "requires exclusive GPUs" in result.stderr
    assert "a100-shared-us-0" in result.stderr


def test_missing_policy_for_a_high_risk_model_is_refused(kube: Kube, ns: str) -> None:
    _govern(kube, ns, "homeless", "no-such-policy")
    result = kube.apply(_deployment(ns, "homeless"), user=ALICE)
    assert not result.ok
    assert "PlacementViolation" in result.stderr
    assert "'no-such-policy' not found" in result.stderr
    condition = {
        c["type"]: c for c in kube.get("governedmodel", "homeless", ns)["status"]["conditions"]
    }
    assert condition["PlacementResolved"]["status"] == "False"


def test_a_policy_edit_that_strands_running_pods_flags_them(
    kube: Kube, ns: str, unique: str
) -> None:
    policy = f"moving-{unique}"
    assert kube.apply(_policy(policy, "inject", ["h100-eu"])).ok
    _govern(kube, ns, "stranded", policy)
    assert kube.apply(_deployment(ns, "stranded"), user=ALICE).ok
    assert _pools_of_pods(kube, ns, "stranded", 1) == {"h100-eu"}

    def status_pools() -> list[str]:
        status = kube.get("governedmodel", "stranded", ns).get("status") or {}
        return [p for w in status.get("workloads", []) for p in w.get("pools", [])]

    kube.wait_for(lambda: status_pools() == ["h100-eu"], "status.workloads pools", 60)
    assert kube.apply(_policy(policy, "inject", ["h200-eu"])).ok

    def flagged() -> bool:
        meta = kube.get("deployment", "stranded", ns)["metadata"]
        return (meta.get("annotations") or {}).get("aigov.io/flagged") == "PlacementViolation"

    kube.wait_for(flagged, "the Deployment flagged PlacementViolation", 30)

    def recorded() -> bool:
        status = kube.get("governedmodel", "stranded", ns).get("status") or {}
        return any(h["event"] == "PlacementChanged" for h in status.get("history", []))

    kube.wait_for(recorded, "the policy edit in the model's history (issue 11)", 30)
