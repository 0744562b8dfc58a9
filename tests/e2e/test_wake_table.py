"""Issue 11: pods labelled with models that do not exist, in any namespace, must not grow
the reconciler's wake-up table (it was about 1 KiB per label value, never freed).

Observed from outside through the operator's `aigov_reconciled_models` gauge, the size of
that table: without the bound, each pod event below would add an entry."""

from __future__ import annotations

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import manifests
from tests.e2e.test_first_rule import _metric

GHOSTS = 30


def test_pods_naming_unknown_models_leave_the_wake_up_table_alone(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"ghosts-{unique}")  # not governed: CPU pods are simply admitted
    before = _metric(operator, "aigov_reconciled_models")
    pods = [manifests.pod(f"p{i}", ns, model=f"ghost-{unique}-{i}") for i in range(GHOSTS)]
    result = kube.apply({"apiVersion": "v1", "kind": "List", "items": pods})
    assert result.ok, result.stderr

    def running() -> bool:
        found = kube.list("pods", ns)
        return len(found) == GHOSTS and all(
            p.get("status", {}).get("phase") == "Running" for p in found
        )

    # Created, scheduled, running: every pod has had several watch events by now.
    kube.wait_for(running, f"{GHOSTS} labelled pods running", 120)
    try:
        assert _metric(operator, "aigov_reconciled_models") <= before
    finally:
        kube.run("delete", "namespace", ns, "--wait=false")
