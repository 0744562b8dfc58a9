"""Issue 10, cost as a weapon: a pod whose scheduling constraints would take the placement
rule seconds is refused unread, through the real API server and webhook."""

from __future__ import annotations

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import manifests


def test_a_pod_with_twenty_thousand_affinity_expressions_is_refused(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"cost-{unique}", mode="enforce")
    expression = {"key": "pool", "operator": "NotIn", "values": ["nowhere"]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [expression] * 20_000}]
            }
        }
    }
    pod = manifests.pod("heavy", ns, gpus=1, affinity=affinity)
    result = kube.create(pod)
    assert not result.ok, "admitted"
    assert "PlacementViolation at spec.affinity.nodeAffinity" in result.stderr, result.stderr
    assert "does not evaluate scheduling constraints this large" in result.stderr
    light = manifests.pod("light", ns, gpus=0)
    assert kube.create(light).ok
