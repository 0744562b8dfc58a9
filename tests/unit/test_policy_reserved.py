"""Reserved pools: a PlacementPolicy with reservePools keeps its pools for approved models.

The rule alone (policy/reserved.py) and as admission applies it (admission/workloads.py): in
any namespace, governed or not, in every mode, a workload that could land on a reserved pool is
judged by every rule and refused unless it is an approved model's whose policy allows the pool.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import builders
import pytest
from builders import (
    GPU_TOLERATION,
    H200_SELECTOR,
    NAMESPACE,
    T0,
    governed_model,
    model_approval,
    model_spec,
    node_pool,
    placement_policy,
    risk_assessment,
)
from tools.controlplane import nodes

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import judge
from aigov.api.constants import MODEL_LABEL, Mode, Reason
from aigov.api.models import PlacementPolicy, spec_hash
from aigov.policy.placement import PlacementContext
from aigov.policy.reserved import (
    Reservation,
    reservations,
    reserved_pool_violations,
    untainted,
)
from aigov.policy.scheduling import NodeInfo, Taint, node_info
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload

FLEET = [node_info(m) for m in nodes.all_nodes()]
NOW = T0 + dt.timedelta(days=1)
MODEL = builders.MODEL_NAME
EU = [node_pool("h100-eu"), node_pool("h200-eu", H200_SELECTOR)]


def reserving(name: str = "confidential-eu", **spec: Any) -> PlacementPolicy:
    """The model's policy: h100-eu and h200-eu, reserved."""
    return placement_policy(name, EU, reservePools=True, **spec)


def ctx(*policies: PlacementPolicy) -> PlacementContext:
    return PlacementContext({p.metadata.name: p for p in policies}, FLEET)


RESERVED = ctx(reserving())
OPEN = ctx(placement_policy("confidential-eu", EU))


def gpu_spec(**fields: Any) -> dict[str, Any]:
    """One GPU container of the model's image, tolerating the GPU taint, plus `fields`."""
    return builders.pod_spec(builders.container(gpus=1), tolerations=[GPU_TOLERATION], **fields)


def cpu_spec(**fields: Any) -> dict[str, Any]:
    return builders.pod_spec(builders.container("web", "nginx:1.27", gpus=None), **fields)


def pod(spec: dict[str, Any], model: str | None = None) -> dict[str, Any]:
    return builders.pod(spec, name="p", model=model)


def request(obj: dict[str, Any], **fields: Any) -> AdmissionRequest:
    kind = obj["kind"]
    values: dict[str, Any] = {
        "uid": "uid-1",
        "operation": "CREATE",
        "group": "apps" if kind == "Deployment" else "",
        "version": "v1",
        "resource": "deployments" if kind == "Deployment" else "pods",
        "kind": kind,
        "namespace": NAMESPACE,
        "name": obj["metadata"]["name"],
        "user": UserInfo("alice", ("ml-engineers",)),
        "object": obj,
    }
    values.update(fields)
    return AdmissionRequest(**values)


class Approved:
    """The evidence index with the shared world's model, assessed and approved."""

    def __init__(self, approved: bool = True) -> None:
        spec = model_spec()
        current = spec_hash(spec)
        self.evidence = Evidence(
            namespace=NAMESPACE,
            name=MODEL,
            model=governed_model(spec),
            assessments=(risk_assessment(current, name="fraud-ra"),),
            approvals=(model_approval(current, name="fraud-ma"),) if approved else (),
        )

    def __call__(self, namespace: str, name: str) -> Evidence:
        if (namespace, name) == (NAMESPACE, MODEL):
            return self.evidence
        return Evidence(namespace=namespace, name=name)


def judged(
    obj: dict[str, Any],
    mode: Mode | None = None,
    placement: PlacementContext = RESERVED,
    approved: bool = True,
) -> Outcome:
    return judge(request(obj), mode, Approved(approved), NOW, placement=placement)


# ---- the rule alone -------------------------------------------------------------------


def test_reservations_are_the_nodes_of_reserving_policies_only() -> None:
    found = reservations(RESERVED.policies, FLEET)
    assert sorted(found) == ["h100-eu-0", "h100-eu-1", "h200-eu-0"]
    assert found["h200-eu-0"] == (Reservation("confidential-eu", "h200-eu"),)
    assert reservations(OPEN.policies, FLEET) == {}


def test_a_workload_naming_no_model_may_not_land_on_a_reserved_pool() -> None:
    workload = parse_workload(pod(gpu_spec()))
    (violation,) = reserved_pool_violations(workload, None, RESERVED.policies, FLEET)
    assert violation.code is Reason.PLACEMENT_VIOLATION
    assert violation.path == "spec"
    assert "reserved pool h100-eu (PlacementPolicy confidential-eu)" in violation.message
    assert "h200-eu (PlacementPolicy confidential-eu)" in violation.message
    assert "names none" in violation.message


def test_a_node_name_on_a_reserved_node_is_named_at_its_field() -> None:
    workload = parse_workload(pod(cpu_spec(nodeName="h200-eu-0")))
    (violation,) = reserved_pool_violations(workload, None, RESERVED.policies, FLEET)
    assert violation.path == "spec.nodeName"
    assert "h200-eu-0" in violation.message


def test_pinned_elsewhere_is_not_on_a_reserved_pool() -> None:
    for pool in ("a100-shared-us", "cpu"):
        workload = parse_workload(pod(gpu_spec(nodeSelector={"pool": pool})))
        assert reserved_pool_violations(workload, None, RESERVED.policies, FLEET) == []


def test_a_pod_tolerating_no_taint_cannot_reach_tainted_reserved_nodes() -> None:
    workload = parse_workload(pod(cpu_spec()))
    assert reserved_pool_violations(workload, None, RESERVED.policies, FLEET) == []


def test_the_models_own_policy_must_allow_the_reserved_pool() -> None:
    workload = parse_workload(pod(gpu_spec(nodeSelector={"pool": "h100-eu"}), model=MODEL))
    gm = governed_model(model_spec())
    assert reserved_pool_violations(workload, gm, RESERVED.policies, FLEET) == []
    other = governed_model(model_spec(placement_policy="us-only"))
    both = {**RESERVED.policies, "us-only": placement_policy("us-only", [node_pool("cpu")])}
    (violation,) = reserved_pool_violations(workload, other, both, FLEET)
    assert "PlacementPolicy 'us-only' of GovernedModel" in violation.message
    (violation,) = reserved_pool_violations(workload, other, RESERVED.policies, FLEET)
    assert "PlacementPolicy 'us-only' of GovernedModel" in violation.message
    assert "does not exist" in violation.message
    unplaced = governed_model(model_spec(placement_policy=None, riskClass="limited"))
    (violation,) = reserved_pool_violations(workload, unplaced, RESERVED.policies, FLEET)
    assert "names no PlacementPolicy" in violation.message


def test_untainted_reserved_nodes_are_reported() -> None:
    bare = NodeInfo("bare", {"pool": "h100-eu"}, (Taint("node.kubernetes.io/not-ready"),))
    fleet = [*FLEET, bare]
    assert untainted(reservations(RESERVED.policies, fleet), fleet) == ["bare"]


# ---- as admission applies it --------------------------------------------------------------


def test_an_ungoverned_namespace_admits_what_cannot_reach_a_reserved_pool() -> None:
    for body in (pod(cpu_spec()), pod(gpu_spec(nodeSelector={"pool": "a100-shared-us"}))):
        outcome = judged(body)
        assert outcome.allowed
        assert outcome.mode is None


def test_an_ungoverned_namespace_refuses_a_gpu_pod_that_could_land_on_a_reserved_pool() -> None:
    outcome = judged(pod(gpu_spec()))
    assert not outcome.allowed
    assert outcome.mode is Mode.ENFORCE
    assert Reason.PLACEMENT_VIOLATION in outcome.decision.codes
    assert "reserved pool" in outcome.message


def test_without_a_reservation_an_ungoverned_namespace_is_not_judged() -> None:
    outcome = judged(pod(gpu_spec()), placement=OPEN)
    assert outcome.allowed
    assert outcome.mode is None
    assert outcome.decision.allowed


def test_the_approved_models_pod_on_its_reserved_pool_is_admitted_anywhere() -> None:
    body = pod(gpu_spec(nodeSelector={"pool": "h100-eu"}), model=MODEL)
    for mode in (None, Mode.ENFORCE, Mode.WARN):
        outcome = judged(body, mode)
        assert outcome.decision.allowed, outcome.decision.summary()
        assert outcome.allowed


def test_an_unapproved_models_pod_is_refused_there_whatever_the_mode() -> None:
    body = pod(gpu_spec(nodeSelector={"pool": "h100-eu"}), model=MODEL)
    for mode in (None, Mode.WARN, Mode.AUDIT):
        outcome = judged(body, mode, approved=False)
        assert not outcome.allowed
        assert Reason.NOT_APPROVED in outcome.decision.codes


def test_a_foreign_image_under_an_approved_label_does_not_open_the_pool() -> None:
    spec = gpu_spec(nodeSelector={"pool": "h100-eu"})
    spec["containers"][0]["image"] = "registry.example.com/other@sha256:" + "e" * 64
    outcome = judged(pod(spec, model=MODEL))
    assert not outcome.allowed
    assert Reason.ARTIFACT_NOT_APPROVED in outcome.decision.codes


def test_in_a_governed_namespace_the_reservation_adds_to_the_other_rules() -> None:
    body = builders.deployment(cpu_spec(nodeName="h100-eu-1"), labels={"app": "web"})
    outcome = judge(request(body), Mode.ENFORCE, Approved(), NOW, placement=RESERVED)
    assert not outcome.allowed
    assert outcome.decision.codes == (Reason.PLACEMENT_VIOLATION,)
    assert outcome.decision.violations[0].path == "spec.template.spec.nodeName"


# ---- 0 -> N scale-ups ---------------------------------------------------------------------


def scale(replicas: int | None) -> dict[str, Any]:
    spec = {} if replicas is None else {"replicas": replicas}
    meta = {"name": "fraud-scorer", "namespace": NAMESPACE}
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": meta, "spec": spec}


@pytest.mark.parametrize(("old", "new", "judged_"), [(None, 1, True), (1, None, False)])
def test_a_scale_without_replicas_counts_zero(
    old: int | None, new: int | None, judged_: bool
) -> None:
    parent = parse_workload(builders.deployment(gpu_spec(), labels={MODEL_LABEL: MODEL}))
    req = request(
        scale(new),
        operation="UPDATE",
        kind="Scale",
        resource="deployments",
        subresource="scale",
        old_object=scale(old),
    )
    outcome = judge(req, Mode.ENFORCE, Approved(approved=False), NOW, parent=parent)
    assert outcome.allowed is not judged_
    if judged_:
        assert Reason.NOT_APPROVED in outcome.decision.codes
