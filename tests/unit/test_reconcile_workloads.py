"""workload_refs() and flag_changes(): who runs a model, where, and which flags to write.

Objects are shaped as the reconciler lists them (labelled `aigov.io/model=<name>`, with the
ownerReferences controllers write), pods scheduled on nodes of named pools.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from aigov.api.constants import FLAGGED_ANNOTATION, MODEL_LABEL
from aigov.api.models import WorkloadRef
from aigov.reconcile.workloads import TOP_LEVEL_KINDS, Flag, flag_changes, workload_refs

NAMESPACE = "risk"
MODEL = "fraud-scorer-3-1"
POOLS = {
    "gpu-h200-1": "h200-eu",
    "gpu-h200-2": "h200-eu",
    "gpu-a100-1": "a100-eu",
    "cpu-1": "general",
}
API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "InferenceService": "serving.kserve.io/v1beta1",
    "Pod": "v1",
}


def obj(
    kind: str,
    name: str,
    *,
    owner: tuple[str, str] | None = None,
    controller: bool = True,
    flagged: str | None = None,
    node: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": f"uid-{name}",
        "labels": {MODEL_LABEL: MODEL},
        "annotations": {"deployment.kubernetes.io/revision": "1"},
    }
    if flagged is not None:
        meta["annotations"][FLAGGED_ANNOTATION] = flagged
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": API_VERSIONS[owner[0]],
                "kind": owner[0],
                "name": owner[1],
                "uid": f"uid-{owner[1]}",
                "controller": controller,
                "blockOwnerDeletion": True,
            }
        ]
    body: dict[str, Any] = {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": meta}
    if kind == "Pod":
        body["spec"] = {"containers": [{"name": "srv", "image": "srv"}]}
        if node is not None:
            body["spec"]["nodeName"] = node
        body["status"] = {"phase": "Running" if node else "Pending"}
    return body


def deployment_world(flagged: str | None = None) -> list[dict[str, Any]]:
    """A Deployment mid-rollout: two ReplicaSets, pods on two nodes, one pending."""
    return [
        obj("Deployment", "fraud-api", flagged=flagged),
        obj("ReplicaSet", "fraud-api-7d9c", owner=("Deployment", "fraud-api")),
        obj("ReplicaSet", "fraud-api-5b6f", owner=("Deployment", "fraud-api")),
        obj("Pod", "fraud-api-7d9c-x1", owner=("ReplicaSet", "fraud-api-7d9c"), node="gpu-h200-2"),
        obj("Pod", "fraud-api-7d9c-x2", owner=("ReplicaSet", "fraud-api-7d9c"), node="gpu-h200-1"),
        obj("Pod", "fraud-api-5b6f-y1", owner=("ReplicaSet", "fraud-api-5b6f"), node="gpu-h200-1"),
        obj("Pod", "fraud-api-7d9c-x3", owner=("ReplicaSet", "fraud-api-7d9c")),
    ]


def flag(kind: str, name: str, current: str | None, reason: str | None) -> Flag:
    return Flag(
        kind=kind,
        api_version=API_VERSIONS[kind],
        namespace=NAMESPACE,
        name=name,
        uid=f"uid-{name}",
        current=current,
        reason=reason,
    )


def test_top_level_kinds() -> None:
    """What people apply; ReplicaSets and Pods are reported under their owners."""
    assert {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "InferenceService",
        "ReplicationController",
        "LeaderWorkerSet",
        "JobSet",
        "RayService",
        "TrainJob",
    } <= TOP_LEVEL_KINDS
    assert not {"ReplicaSet", "Pod"} & TOP_LEVEL_KINDS


def test_pods_of_a_deployment_are_reported_under_it() -> None:
    refs, flags = workload_refs(deployment_world(), POOLS, None)
    assert refs == [
        WorkloadRef(
            kind="Deployment",
            name="fraud-api",
            nodes=["gpu-h200-1", "gpu-h200-2"],
            pools=["h200-eu"],
            flagged=False,
            reason=None,
        )
    ]
    assert flags == [flag("Deployment", "fraud-api", None, None)]
    assert flag_changes(flags) == []


def test_a_model_that_lost_approval_flags_its_deployment() -> None:
    refs, flags = workload_refs(deployment_world(), POOLS, "Revoked")
    assert refs == [
        WorkloadRef(
            kind="Deployment",
            name="fraud-api",
            nodes=["gpu-h200-1", "gpu-h200-2"],
            pools=["h200-eu"],
            flagged=True,
            reason="Revoked",
        )
    ]
    assert flag_changes(flags) == [flag("Deployment", "fraud-api", None, "Revoked")]


def test_a_flag_already_written_is_not_written_again() -> None:
    _, flags = workload_refs(deployment_world(flagged="Revoked"), POOLS, "Revoked")
    assert flags == [flag("Deployment", "fraud-api", "Revoked", "Revoked")]
    assert not flags[0].changed
    assert flag_changes(flags) == []


def test_a_flag_for_another_reason_is_rewritten() -> None:
    _, flags = workload_refs(deployment_world(flagged="RiskAssessmentExpired"), POOLS, "Revoked")
    assert flag_changes(flags) == [
        flag("Deployment", "fraud-api", "RiskAssessmentExpired", "Revoked")
    ]


def test_a_flag_is_removed_when_the_model_may_run_again() -> None:
    refs, flags = workload_refs(deployment_world(flagged="Revoked"), POOLS, None)
    assert refs[0].flagged is False
    assert refs[0].reason is None
    changes = flag_changes(flags)
    assert changes == [flag("Deployment", "fraud-api", "Revoked", None)]
    assert changes[0].changed


def test_a_bare_pod_is_its_own_workload() -> None:
    objects = [obj("Pod", "fraud-debug", node="gpu-a100-1")]
    refs, flags = workload_refs(objects, POOLS, "Revoked")
    assert refs == [
        WorkloadRef(
            kind="Pod",
            name="fraud-debug",
            nodes=["gpu-a100-1"],
            pools=["a100-eu"],
            flagged=True,
            reason="Revoked",
        )
    ]
    assert flag_changes(flags) == [flag("Pod", "fraud-debug", None, "Revoked")]


def test_a_pod_with_only_a_non_controller_owner_is_bare() -> None:
    objects = [
        obj("Pod", "fraud-debug", owner=("Deployment", "fraud-api"), controller=False, node="cpu-1")
    ]
    refs, _ = workload_refs(objects, POOLS, None)
    assert refs == [WorkloadRef(kind="Pod", name="fraud-debug", nodes=["cpu-1"], pools=["general"])]


def test_a_pending_bare_pod_runs_nowhere_yet() -> None:
    refs, _ = workload_refs([obj("Pod", "fraud-debug")], POOLS, None)
    assert refs == [WorkloadRef(kind="Pod", name="fraud-debug", nodes=[], pools=[])]


@pytest.mark.parametrize("kind", ["StatefulSet", "Job", "DaemonSet"])
def test_pods_of_other_controllers_map_directly(kind: str) -> None:
    objects = [
        obj(kind, "fraud-batch"),
        obj("Pod", "fraud-batch-0", owner=(kind, "fraud-batch"), node="gpu-h200-1"),
        obj("Pod", "fraud-batch-1", owner=(kind, "fraud-batch"), node="gpu-a100-1"),
    ]
    refs, flags = workload_refs(objects, POOLS, "ModelRetired")
    assert refs == [
        WorkloadRef(
            kind=kind,
            name="fraud-batch",
            nodes=["gpu-a100-1", "gpu-h200-1"],
            pools=["a100-eu", "h200-eu"],
            flagged=True,
            reason="ModelRetired",
        )
    ]
    assert flags == [flag(kind, "fraud-batch", None, "ModelRetired")]


def test_nodes_outside_any_pool_are_listed_without_a_pool() -> None:
    objects = [
        obj("StatefulSet", "fraud-db"),
        obj("Pod", "fraud-db-0", owner=("StatefulSet", "fraud-db"), node="unlabelled-node"),
        obj("Pod", "fraud-db-1", owner=("StatefulSet", "fraud-db"), node="gpu-h200-1"),
    ]
    refs, _ = workload_refs(objects, POOLS, None)
    assert refs[0].nodes == ["gpu-h200-1", "unlabelled-node"]
    assert refs[0].pools == ["h200-eu"]


def test_a_workload_without_pods_has_no_nodes() -> None:
    objects = [obj("Deployment", "fraud-api"), obj("InferenceService", "fraud-isvc")]
    refs, flags = workload_refs(objects, POOLS, None)
    assert refs == [
        WorkloadRef(kind="Deployment", name="fraud-api"),
        WorkloadRef(kind="InferenceService", name="fraud-isvc"),
    ]
    assert [f.api_version for f in flags] == ["apps/v1", "serving.kserve.io/v1beta1"]


def test_replicasets_owned_by_a_deployment_are_not_reported() -> None:
    refs, _ = workload_refs(deployment_world(), POOLS, None)
    assert [r.kind for r in refs] == ["Deployment"]


def test_two_deployments_keep_their_own_pods() -> None:
    objects = [
        obj("Deployment", "fraud-api"),
        obj("Deployment", "fraud-canary"),
        obj("ReplicaSet", "fraud-api-1", owner=("Deployment", "fraud-api")),
        obj("ReplicaSet", "fraud-canary-1", owner=("Deployment", "fraud-canary")),
        obj("Pod", "fraud-api-1-a", owner=("ReplicaSet", "fraud-api-1"), node="gpu-h200-1"),
        obj("Pod", "fraud-canary-1-a", owner=("ReplicaSet", "fraud-canary-1"), node="gpu-a100-1"),
    ]
    refs, _ = workload_refs(objects, POOLS, None)
    assert [(r.name, r.nodes, r.pools) for r in refs] == [
        ("fraud-api", ["gpu-h200-1"], ["h200-eu"]),
        ("fraud-canary", ["gpu-a100-1"], ["a100-eu"]),
    ]


def test_output_is_sorted_by_kind_then_name_whatever_the_input_order() -> None:
    objects = [
        *deployment_world(),
        obj("Deployment", "alpha-api"),
        obj("StatefulSet", "fraud-db"),
        obj("Job", "fraud-backfill"),
        obj("Pod", "fraud-backfill-abc", owner=("Job", "fraud-backfill"), node="cpu-1"),
        obj("CronJob", "fraud-nightly"),
        obj("Pod", "fraud-debug", node="gpu-a100-1"),
        obj("InferenceService", "fraud-isvc"),
        obj("DaemonSet", "fraud-exporter"),
    ]
    expected = [
        ("CronJob", "fraud-nightly"),
        ("DaemonSet", "fraud-exporter"),
        ("Deployment", "alpha-api"),
        ("Deployment", "fraud-api"),
        ("InferenceService", "fraud-isvc"),
        ("Job", "fraud-backfill"),
        ("Pod", "fraud-debug"),
        ("StatefulSet", "fraud-db"),
    ]
    shuffler = random.Random(7)
    for _ in range(5):
        shuffler.shuffle(objects)
        refs, flags = workload_refs(objects, POOLS, "Revoked")
        assert [(r.kind, r.name) for r in refs] == expected
        assert [(f.kind, f.name) for f in flags] == expected
        assert len(flag_changes(flags)) == len(expected)
    refs, _ = workload_refs(objects, POOLS, None)
    nodes = {(r.kind, r.name): r.nodes for r in refs}
    assert nodes[("Deployment", "fraud-api")] == ["gpu-h200-1", "gpu-h200-2"]
    assert nodes[("Job", "fraud-backfill")] == ["cpu-1"]
    assert nodes[("Pod", "fraud-debug")] == ["gpu-a100-1"]


def test_only_changed_flags_are_returned_in_order() -> None:
    flags = [
        flag("Deployment", "a", "Revoked", "Revoked"),
        flag("Deployment", "b", None, "Revoked"),
        flag("Job", "c", "Revoked", None),
        flag("Pod", "d", None, None),
    ]
    assert flag_changes(flags) == [flags[1], flags[2]]
    assert flag_changes([]) == []


def test_nothing_labelled_means_nothing_to_report() -> None:
    assert workload_refs([], POOLS, "Revoked") == ([], [])


def test_a_replicaset_applied_directly_is_its_own_workload_and_is_flagged() -> None:
    objects = [
        obj("ReplicaSet", "bare-rs"),
        obj("Pod", "bare-rs-x", owner=("ReplicaSet", "bare-rs"), node="n1"),
    ]
    refs, flags = workload_refs(objects, {"n1": "h100-eu"}, "Revoked")
    assert [(r.kind, r.name, r.nodes, r.pools) for r in refs] == [
        ("ReplicaSet", "bare-rs", ["n1"], ["h100-eu"])
    ]
    assert [(f.kind, f.name, f.reason) for f in flags] == [("ReplicaSet", "bare-rs", "Revoked")]
