"""Issue 11: `pods/status` keeps label changes (the status strategy resets only spec,
deletionTimestamp and ownerReferences), so a status write can take a running pod away from
its model. aigov judges a status write that changes labels, and only that (see
conditions.changes_what_runs)."""

from __future__ import annotations

import json

from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, IMAGE, MALLORY


def test_a_status_write_cannot_remove_a_running_pods_model(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"podstatus-{unique}", mode="enforce")
    governed.bind_personas(kube, ns)
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "pod-status-writer", "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]}],
        }
    )
    binding = governed.role_binding(ns, "mallory", "pod-status-writer")
    binding["roleRef"]["kind"] = "Role"
    kube.apply(binding)
    governed.govern(kube, ns, "scorer")
    assert kube.apply(manifests.pod("p", ns, gpus=1, model="scorer", image=IMAGE), user=ALICE).ok
    try:
        patch = {"metadata": {"labels": {"aigov.io/model": None}}}
        result = kube.run(
            "patch", "pod", "p", "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps(patch), user=MALLORY,
        )  # fmt: skip
        labels = kube.get("pod", "p", ns)["metadata"].get("labels") or {}
        assert not result.ok, f"pods/status removed the model label: {labels}"
        assert "UngovernedWorkload" in result.stderr, result.stderr
        assert labels.get("aigov.io/model") == "scorer"
    finally:
        kube.run("delete", "pod", "p", "-n", ns, "--wait=false")
