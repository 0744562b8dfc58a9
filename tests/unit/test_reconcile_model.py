"""model_pass(): one reconcile pass over a model, and flag_reason().

A small world holds what the cluster stores (the model, its assessments and approvals, the
labelled workloads, the nodes and the PlacementPolicy). Each pass's writes are applied back
with merge-patch semantics, as the reconciler's writes would be, so the next pass sees them.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import builders
from builders import (
    NAMESPACE,
    T0,
    UNTIL,
    governed_model_body,
    merge_patch,
    model_approval_body,
    model_spec,
    node_pool,
    placement_policy,
    risk_assessment_body,
)

from aigov.api import constants
from aigov.api.models import (
    Condition,
    ConditionStatus,
    GovernedModel,
    GovernedModelStatus,
    ModelApproval,
    Phase,
    RiskAssessment,
    WorkloadRef,
    spec_hash,
)
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import NodeInfo
from aigov.reconcile.model import Pass, flag_reason, model_pass
from aigov.reconcile.workloads import Flag

NAME = builders.MODEL_NAME
T1 = T0 + timedelta(hours=1)
H200 = {"nvidia.com/gpu.product": "NVIDIA-H200", "nvidia.com/gpu.count": "8"}
JUSTIFICATION = "model risk committee: {decision}"


def assessment_body(
    hash_: str, name: str = "fraud-ra", created: datetime = T0, until: datetime = UNTIL
) -> dict[str, Any]:
    return risk_assessment_body(hash_, name=name, created=created, valid_until=until)


def approval_body(
    hash_: str,
    name: str = "fraud-ma",
    created: datetime = T0,
    decision: str = "approve",
    until: datetime | None = None,
) -> dict[str, Any]:
    return model_approval_body(
        hash_,
        name=name,
        created=created,
        decision=decision,
        valid_until=until,
        justification=JUSTIFICATION,
    )


def owned(kind: str, name: str, owner: tuple[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1" if kind == "Pod" else "apps/v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-{name}",
            "labels": {constants.MODEL_LABEL: NAME},
        },
    }
    if owner is not None:
        body["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    return body


def running_deployment(*nodes: str) -> list[dict[str, Any]]:
    """A Deployment, its ReplicaSet and one Pod per node."""
    objects = [
        owned("Deployment", "fraud-api", None),
        owned("ReplicaSet", "fraud-api-7d9c", ("Deployment", "fraud-api")),
    ]
    for i, node in enumerate(nodes):
        pod = owned("Pod", f"fraud-api-7d9c-{i}", ("ReplicaSet", "fraud-api-7d9c"))
        pod["spec"] = {"nodeName": node, "containers": [{"name": "srv", "image": "srv"}]}
        objects.append(pod)
    return objects


POLICY = placement_policy(
    pools=[node_pool("h200-eu", H200, tolerations=())],
    generation=1,
    requireExclusiveGPU=True,
    mode="validate",
)
NODES = (
    NodeInfo("gpu-h200-1", {**H200, "pool": "h200-eu"}),
    NodeInfo("gpu-h200-2", {**H200, "pool": "h200-eu"}),
    NodeInfo("gpu-l4-1", {"nvidia.com/gpu.product": "NVIDIA-L4", "pool": "l4-shared"}),
)
PLACEMENT = PlacementContext(policies={"confidential-eu": POLICY}, nodes=NODES)
DEPLOYMENT_REF = WorkloadRef(
    kind="Deployment", name="fraud-api", nodes=["gpu-h200-1", "gpu-h200-2"], pools=["h200-eu"]
)


def deployment_flag(current: str | None, reason: str | None) -> Flag:
    return Flag(
        kind="Deployment",
        api_version="apps/v1",
        namespace=NAMESPACE,
        name="fraud-api",
        uid="uid-fraud-api",
        current=current,
        reason=reason,
    )


def binding(kind: str, name: str, phase: str, bound: bool) -> tuple[str, str, dict[str, Any]]:
    status = {"phase": phase, "boundToCurrentSpec": bound, "observedGeneration": 1}
    return (kind, name, {"status": status})


class World:
    """What the cluster stores for one model; `run` is one reconcile pass plus its writes."""

    def __init__(self, objects: list[dict[str, Any]] | None = None) -> None:
        # The model's server image is its one artifact: no separate weights.
        self.body: dict[str, Any] = governed_model_body(model_spec(weights=False))
        self.assessments: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []
        self.objects = objects if objects is not None else []
        self.placement = PLACEMENT

    @property
    def hash(self) -> str:
        return spec_hash(self.body["spec"])

    def compute(self, now: datetime, *, stop_workloads: bool = False) -> Pass:
        return model_pass(
            GovernedModel.from_body(copy.deepcopy(self.body)),
            [RiskAssessment.from_body(b) for b in self.assessments],
            [ModelApproval.from_body(b) for b in self.approvals],
            objects=copy.deepcopy(self.objects),
            placement=self.placement,
            now=now,
            stop_workloads=stop_workloads,
        )

    def run(self, now: datetime) -> Pass:
        """A pass, with every write it decides applied to the stored objects."""
        done = self.compute(now)
        if done.status_patch is not None:
            self.body = merge_patch(self.body, done.status_patch)
        bodies = {("RiskAssessment", b["metadata"]["name"]): b for b in self.assessments} | {
            ("ModelApproval", b["metadata"]["name"]): b for b in self.approvals
        }
        for kind, name, patch in done.binding_patches:
            bodies[(kind, name)].update(merge_patch(bodies[(kind, name)], patch))
        for flag in done.flags:
            target = next(
                o
                for o in self.objects
                if (o["kind"], o["metadata"]["name"]) == (flag.kind, flag.name)
            )
            target.update(
                merge_patch(
                    target,
                    {"metadata": {"annotations": {constants.FLAGGED_ANNOTATION: flag.reason}}},
                )
            )
        return done

    def settled(self, now: datetime) -> Pass:
        """Run, then check that a second pass at the same moment writes nothing."""
        done = self.run(now)
        again = self.compute(now)
        assert again.status_patch is None
        assert again.binding_patches == ()
        assert again.flags == ()
        assert again.desired == done.desired
        return done


def approved_world() -> World:
    world = World(running_deployment("gpu-h200-1", "gpu-h200-2"))
    world.assessments.append(assessment_body(world.hash))
    world.approvals.append(approval_body(world.hash))
    return world


def ready(status: GovernedModelStatus) -> Condition:
    found = status.condition("Ready")
    assert found is not None
    return found


# flag_reason ------------------------------------------------------------------------------


def condition(status: str, reason: str) -> Condition:
    return Condition(
        type="Ready",
        status=ConditionStatus(status),
        reason=reason,
        message="",
        last_transition_time=T0,
    )


def test_flag_reason_is_none_only_when_ready() -> None:
    assert flag_reason(GovernedModelStatus(conditions=[condition("True", "Ready")])) is None
    assert flag_reason(GovernedModelStatus(conditions=[condition("False", "Revoked")])) == (
        "Revoked"
    )
    assert flag_reason(GovernedModelStatus(conditions=[condition("Unknown", "Pending")])) == (
        "Pending"
    )


def test_flag_reason_without_a_ready_reason_is_not_ready() -> None:
    assert flag_reason(GovernedModelStatus()) == "NotReady"
    assert flag_reason(GovernedModelStatus(phase=Phase.APPROVED)) == "NotReady"
    assert flag_reason(GovernedModelStatus(conditions=[condition("False", "")])) == "NotReady"


# An approved model ------------------------------------------------------------------------


def test_an_approved_model_with_a_running_deployment_flags_nothing() -> None:
    world = approved_world()
    done = world.settled(T1)
    assert done.desired.phase is Phase.APPROVED
    assert ready(done.desired).status is ConditionStatus.TRUE
    assert done.desired.workloads == [DEPLOYMENT_REF]
    assert done.flags == ()
    assert done.status_patch is not None
    assert done.status_patch["status"]["workloads"] == [
        {
            "kind": "Deployment",
            "name": "fraud-api",
            "nodes": ["gpu-h200-1", "gpu-h200-2"],
            "pools": ["h200-eu"],
            "flagged": False,
        }
    ]
    assert done.status_patch["status"]["phase"] == "Approved"
    assert done.binding_patches == (
        binding("RiskAssessment", "fraud-ra", "Current", True),
        binding("ModelApproval", "fraud-ma", "Current", True),
    )
    assert done.due_in == (UNTIL - T1).total_seconds()
    assert "aigov.io/flagged" not in world.objects[0]["metadata"].get("annotations", {})


def test_moved_pods_change_only_the_workloads() -> None:
    world = approved_world()
    world.settled(T1)
    # The pod on gpu-h200-2 is replaced by one on gpu-h200-1.
    world.objects = [o for o in world.objects if o["metadata"]["name"] != "fraud-api-7d9c-1"]
    pod = owned("Pod", "fraud-api-7d9c-9", ("ReplicaSet", "fraud-api-7d9c"))
    pod["spec"] = {"nodeName": "gpu-h200-1"}
    world.objects.append(pod)
    done = world.settled(T1 + timedelta(minutes=5))
    assert done.status_patch == {
        "status": {
            "workloads": [
                {
                    "kind": "Deployment",
                    "name": "fraud-api",
                    "nodes": ["gpu-h200-1"],
                    "pools": ["h200-eu"],
                    "flagged": False,
                }
            ]
        }
    }
    assert done.flags == ()
    assert done.binding_patches == ()


# Losing approval --------------------------------------------------------------------------


def test_a_revoke_flags_the_running_deployment_once() -> None:
    world = approved_world()
    world.settled(T1)
    t2 = T1 + timedelta(days=1)
    world.approvals.append(approval_body(world.hash, "fraud-revoke", t2, "revoke"))
    done = world.run(t2)
    assert done.desired.phase is Phase.REJECTED
    assert ready(done.desired).reason == "Revoked"
    assert flag_reason(done.desired) == "Revoked"
    assert done.flags == (deployment_flag(None, "Revoked"),)
    flagged = DEPLOYMENT_REF.model_copy(update={"flagged": True, "reason": "Revoked"})
    assert done.desired.workloads == [flagged]
    assert done.status_patch is not None
    assert done.status_patch["status"]["workloads"] == [
        {
            "kind": "Deployment",
            "name": "fraud-api",
            "nodes": ["gpu-h200-1", "gpu-h200-2"],
            "pools": ["h200-eu"],
            "flagged": True,
            "reason": "Revoked",
        }
    ]
    assert done.binding_patches == (binding("ModelApproval", "fraud-revoke", "Current", True),)
    assert done.due_in == (UNTIL - t2).total_seconds()
    assert world.objects[0]["metadata"]["annotations"] == {"aigov.io/flagged": "Revoked"}

    # The status and the annotation are written: the next pass has nothing to do.
    again = world.compute(t2 + timedelta(minutes=1))
    assert again.status_patch is None
    assert again.flags == ()
    assert again.binding_patches == ()
    assert again.desired == done.desired


def test_a_new_approval_removes_the_flag() -> None:
    world = approved_world()
    world.settled(T1)
    t2 = T1 + timedelta(days=1)
    world.approvals.append(approval_body(world.hash, "fraud-revoke", t2, "revoke"))
    world.settled(t2)
    t3 = t2 + timedelta(days=1)
    world.approvals.append(approval_body(world.hash, "fraud-ma-2", t3))
    done = world.settled(t3)
    assert done.desired.phase is Phase.APPROVED
    assert done.flags == (deployment_flag("Revoked", None),)
    assert done.desired.workloads == [DEPLOYMENT_REF]
    assert world.objects[0]["metadata"]["annotations"] == {}


def test_expiry_flags_with_the_assessment_reason_and_nothing_is_due() -> None:
    world = approved_world()
    world.settled(T1)
    done = world.settled(UNTIL)
    assert done.desired.phase is Phase.EXPIRED
    assert done.flags == (deployment_flag(None, "RiskAssessmentExpired"),)
    assert done.binding_patches == (binding("RiskAssessment", "fraud-ra", "Expired", True),)
    assert done.due_in is None


def test_a_spec_change_makes_bindings_stale_and_flags_the_deployment() -> None:
    world = approved_world()
    world.settled(T1)
    world.body["spec"]["version"] = "3.1.1"
    world.body["metadata"]["generation"] = 2
    t2 = T1 + timedelta(days=1)
    done = world.settled(t2)
    assert done.desired.phase is Phase.PENDING_ASSESSMENT
    assert done.desired.spec_hash == world.hash
    assert done.binding_patches == (
        binding("RiskAssessment", "fraud-ra", "Stale", False),
        binding("ModelApproval", "fraud-ma", "Stale", False),
    )
    assert done.flags == (deployment_flag(None, "RiskAssessmentMissing"),)
    assert done.due_in is None


# When the next pass is due ----------------------------------------------------------------


def test_due_in_is_the_seconds_to_the_assessments_valid_until() -> None:
    world = approved_world()
    now = UNTIL - timedelta(seconds=90, microseconds=500_000)
    assert world.compute(now).due_in == 90.5
    assert world.compute(T0).due_in == 365 * 24 * 3600.0


def test_due_in_is_the_approvals_valid_until_when_sooner() -> None:
    world = approved_world()
    world.approvals[0] = approval_body(world.hash, until=T0 + timedelta(days=30))
    assert world.compute(T1).due_in == (timedelta(days=30) - timedelta(hours=1)).total_seconds()


def test_nothing_is_due_without_an_assessment() -> None:
    world = World(running_deployment("gpu-h200-1"))
    done = world.settled(T1)
    assert done.due_in is None
    assert done.desired.phase is Phase.PENDING_ASSESSMENT
    assert done.flags == (deployment_flag(None, "RiskAssessmentMissing"),)
    assert done.binding_patches == ()


# Placement --------------------------------------------------------------------------------


def test_a_pod_outside_the_policy_pools_flags_its_deployment() -> None:
    world = approved_world()
    world.objects = running_deployment("gpu-h200-1", "gpu-l4-1")
    done = world.settled(T1)
    assert done.desired.phase is Phase.APPROVED
    assert ready(done.desired).status is ConditionStatus.TRUE
    assert done.flags == (deployment_flag(None, "PlacementViolation"),)
    assert done.desired.workloads == [
        WorkloadRef(
            kind="Deployment",
            name="fraud-api",
            nodes=["gpu-h200-1", "gpu-l4-1"],
            pools=["h200-eu", "l4-shared"],
            flagged=True,
            reason="PlacementViolation",
        )
    ]


def test_a_missing_placement_policy_blocks_a_high_risk_model() -> None:
    world = approved_world()
    world.placement = PlacementContext(policies={}, nodes=NODES)
    done = world.settled(T1)
    resolved = done.desired.condition("PlacementResolved")
    assert resolved is not None
    assert (resolved.status, resolved.reason, resolved.message) == (
        ConditionStatus.FALSE,
        "PolicyNotFound",
        "PlacementPolicy 'confidential-eu' not found",
    )
    assert ready(done.desired).reason == "PolicyNotFound"
    assert done.flags == (deployment_flag(None, "PolicyNotFound"),)


def _stopping_world() -> World:
    objects = running_deployment("gpu-h200-1")
    objects[0]["spec"] = {"replicas": 3}
    cron = owned("CronJob", "fraud-nightly", None)
    cron["spec"] = {"schedule": "0 3 * * *", "suspend": False}
    world = World([*objects, cron])
    world.assessments.append(assessment_body(world.hash, "fraud-ra", T0))
    world.approvals.append(approval_body(world.hash, "fraud-ma", T0, "approve"))
    return world


def test_a_lost_model_stops_its_workloads_only_when_configured() -> None:
    world = _stopping_world()
    t2 = T1 + timedelta(days=1)
    world.approvals.append(approval_body(world.hash, "fraud-revoke", t2, "revoke"))
    assert world.compute(t2).stops == ()  # default: flag only
    done = world.compute(t2, stop_workloads=True)
    patches = {(f.kind, f.name): f.stop_patch() for f in done.stops}
    assert patches == {
        ("CronJob", "fraud-nightly"): {"spec": {"suspend": True}},
        ("Deployment", "fraud-api"): {
            "metadata": {"annotations": {"aigov.io/replicas-before-stop": "3"}},
            "spec": {"replicas": 0},
        },
    }


def test_an_approved_model_stops_nothing_and_a_stopped_workload_is_not_stopped_again() -> None:
    world = _stopping_world()
    assert world.compute(T1, stop_workloads=True).stops == ()
    world.objects[0]["spec"]["replicas"] = 0
    world.objects[-1]["spec"]["suspend"] = True
    world.approvals.append(approval_body(world.hash, "fraud-revoke", T1, "revoke"))
    assert world.compute(T1 + timedelta(seconds=1), stop_workloads=True).stops == ()


def test_a_kind_stop_on_loss_cannot_stop_asks_for_a_person() -> None:
    """A DaemonSet has no replicas and no suspend: flagged, and named for a person to act."""
    world = _stopping_world()
    daemons = owned("DaemonSet", "fraud-agent", None)
    daemons["spec"] = {}
    world.objects.append(daemons)
    t2 = T1 + timedelta(days=1)
    world.approvals.append(approval_body(world.hash, "fraud-revoke", t2, "revoke"))
    assert world.compute(t2).attention == ()  # only where stop-on-loss applies
    done = world.compute(t2, stop_workloads=True)
    assert [(f.kind, f.name, f.reason) for f in done.attention] == [
        ("DaemonSet", "fraud-agent", "Revoked")
    ]
    assert all(f.kind != "DaemonSet" for f in done.stops)
