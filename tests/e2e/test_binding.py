"""Issue 11: a pod bound to a node by hand (pods/binding) is judged on its target node."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, Result

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE, MALLORY


@pytest.fixture
def policy(kube: Kube, unique: str) -> Iterator[str]:
    name = f"bind-{unique}"
    pool = {
        "name": "h100-eu",
        "nodeSelector": {"pool": "h100-eu"},
        "tolerations": [manifests.GPU_TOLERATION],
    }
    body = {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": name},
        "spec": {"nodePools": [pool], "mode": "validate"},
    }
    assert kube.apply(body).ok
    yield name
    kube.run("delete", "placementpolicy", name, "--wait=false")


def _binder(kube: Kube, ns: str) -> None:
    """mallory may bind pods: RBAC allows it, only aigov's rule stands in the way."""
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "e2e-pod-binder"},
            "rules": [{"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"]}],
        }
    )
    kube.apply(governed.role_binding(ns, "mallory", "e2e-pod-binder"))


def _bind(kube: Kube, ns: str, pod: str, node: str) -> Result:
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/binding"
    return kube.run("create", "--raw", path, "-f", "-", user=MALLORY, stdin=json.dumps(binding))


def test_a_pod_bound_by_hand_stays_in_its_models_pools(
    kube: Kube, operator: Operator, unique: str, policy: str
) -> None:
    ns = kube.namespace(f"bind-{unique}", mode="enforce")
    governed.bind_personas(kube, ns)
    _binder(kube, ns)
    governed.govern(kube, ns, "m", governed.model_spec(placementPolicy=policy))
    for name in ("p", "q"):
        pod = manifests.pod(
            name, ns, gpus=1, model="m", image=IMAGE, schedulerName="manual",
            nodeSelector={"pool": "h100-eu"},
        )  # fmt: skip
        result = kube.apply(pod, user=ALICE)
        assert result.ok, result.stderr
    refused = _bind(kube, ns, "p", "a100-shared-us-0")
    assert not refused.ok, "bound outside the model's pools"
    assert "PlacementViolation at target.name" in refused.stderr
    assert "outside the pools of GovernedModel 'm'" in refused.stderr
    assert not kube.get("pod", "p", ns)["spec"].get("nodeName")
    allowed = _bind(kube, ns, "q", "h100-eu-0")
    assert allowed.ok, allowed.stderr
    assert kube.get("pod", "q", ns)["spec"]["nodeName"] == "h100-eu-0"
    kube.run("delete", "pod", "p", "q", "-n", ns, "--wait=false")  # give the GPU back
