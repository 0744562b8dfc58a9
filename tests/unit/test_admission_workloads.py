"""Workload admission: the same decision refused, warned or audited by the namespace's mode."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import AUDIT_ANNOTATION, grade, judge, needs_judging
from aigov.api.constants import Mode, Reason
from aigov.policy.decision import Decision, Violation
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload

AUDIT_KEY = AUDIT_ANNOTATION
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)

GPU = {"name": "srv", "image": "srv:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
CPU = {"name": "web", "image": "web:1", "resources": {"limits": {"cpu": "1"}}}
EXPECTED_MESSAGE = (
    "Deployment team-a/llm requests nvidia.com/gpu but names no GovernedModel: add label "
    "aigov.io/model=<model name> to the Deployment (metadata.labels) and its pod template "
    "(spec.template.metadata.labels)"
)


def deployment(container: dict[str, Any], model: str | None = None) -> dict[str, Any]:
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "namespace": "team-a", "labels": labels},
        "spec": {
            "replicas": 1,
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}},
        },
    }


class Lookup:
    """The evidence index, faked: no model exists; records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def __call__(self, namespace: str, name: str) -> Evidence:
        self.asked.append((namespace, name))
        return Evidence(namespace=namespace, name=name)


def judged(req: AdmissionRequest, mode: Mode | None, lookup: Lookup | None = None) -> Outcome:
    return judge(req, mode, lookup or Lookup(), NOW)


def request(
    obj: dict[str, Any], operation: str = "CREATE", old: dict[str, Any] | None = None
) -> AdmissionRequest:
    if old is None and operation in {"UPDATE", "DELETE"}:
        old = deployment(CPU)  # an UPDATE that changes the pod spec: judged like a CREATE
    return AdmissionRequest(
        uid="uid-7",
        operation=operation,
        group="apps",
        version="v1",
        resource="deployments",
        kind="Deployment",
        namespace="team-a",
        name="llm",
        user=UserInfo("dev@example.com", ("team-a",)),
        object=obj if operation != "DELETE" else {},
        old_object=old or {},
    )


@pytest.fixture
def gpu_request() -> AdmissionRequest:
    return request(deployment(GPU))


def _violations(outcome: Outcome) -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads(outcome.audit_annotations[AUDIT_KEY])
    return loaded


def test_enforce_refuses_an_ungoverned_gpu_deployment(gpu_request: AdmissionRequest) -> None:
    outcome = judged(gpu_request, Mode.ENFORCE)
    assert outcome.allowed is False
    assert outcome.mode is Mode.ENFORCE
    assert outcome.verdict == "refused"
    assert outcome.decision.codes == (Reason.UNGOVERNED_WORKLOAD,)
    assert outcome.message.startswith("aigov refused Deployment team-a/llm")
    assert "UngovernedWorkload at metadata.labels" in outcome.message
    assert outcome.message == (
        f"aigov refused Deployment team-a/llm: UngovernedWorkload at metadata.labels: "
        f"{EXPECTED_MESSAGE}"
    )
    assert outcome.warnings == ()
    assert outcome.model is None
    assert [v["code"] for v in _violations(outcome)] == ["UngovernedWorkload"]


def test_warn_admits_with_warnings(gpu_request: AdmissionRequest) -> None:
    outcome = judged(gpu_request, Mode.WARN)
    assert outcome.allowed is True
    assert outcome.verdict == "warned"
    assert outcome.message == ""
    assert len(outcome.warnings) == 1
    assert all(w.startswith("aigov: UngovernedWorkload") for w in outcome.warnings)
    assert outcome.warnings == (
        f"aigov: UngovernedWorkload at metadata.labels: {EXPECTED_MESSAGE}",
    )


def test_audit_admits_and_records_the_violations(gpu_request: AdmissionRequest) -> None:
    outcome = judged(gpu_request, Mode.AUDIT)
    assert outcome.allowed is True
    assert outcome.verdict == "audited"
    assert outcome.message == ""
    assert outcome.warnings == ()
    # The API server files it as "<webhook name>/violations", i.e.
    # workloads.aigov.io/violations; a key with its own prefix is dropped there.
    assert AUDIT_KEY == "violations"
    assert list(outcome.audit_annotations) == [AUDIT_KEY]
    assert _violations(outcome) == [
        {"code": "UngovernedWorkload", "message": EXPECTED_MESSAGE, "path": "metadata.labels"}
    ]


def test_no_mode_means_not_governed(gpu_request: AdmissionRequest) -> None:
    outcome = judged(gpu_request, None)
    assert outcome.allowed is True
    assert outcome.mode is None
    assert outcome.verdict == "allowed"
    assert outcome.decision.violations == ()
    assert outcome.message == ""
    assert outcome.warnings == ()
    assert outcome.audit_annotations == {}


@pytest.mark.parametrize("mode", [*Mode, None])
@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
def test_cpu_deployment_is_allowed_in_every_mode(mode: Mode | None, operation: str) -> None:
    outcome = judged(request(deployment(CPU), operation), mode)
    assert outcome.allowed is True
    assert outcome.verdict == "allowed"
    assert outcome.decision.violations == ()
    assert outcome.message == ""
    assert outcome.warnings == ()
    assert outcome.audit_annotations == {}


def test_a_named_model_is_looked_up_in_the_workload_namespace() -> None:
    lookup = Lookup()
    outcome = judged(request(deployment(GPU, model="fraud-scorer")), Mode.ENFORCE, lookup)
    assert lookup.asked == [("team-a", "fraud-scorer")]
    assert outcome.model == "fraud-scorer"
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.MODEL_NOT_FOUND,)
    assert outcome.message == (
        "aigov refused Deployment team-a/llm: ModelNotFound at metadata.labels[aigov.io/model]: "
        "GovernedModel 'fraud-scorer' not found in namespace 'team-a'"
    )


def test_an_ungoverned_workload_needs_no_lookup(gpu_request: AdmissionRequest) -> None:
    lookup = Lookup()
    judged(gpu_request, Mode.ENFORCE, lookup)
    assert lookup.asked == []


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("operation", ["DELETE", "CONNECT"])
def test_other_operations_are_not_judged(mode: Mode, operation: str) -> None:
    outcome = judged(request(deployment(GPU), operation), mode)
    assert outcome.allowed is True
    assert outcome.mode is None
    assert outcome.decision.violations == ()
    assert outcome.verdict == "allowed"


def test_update_is_judged_like_create() -> None:
    outcome = judged(request(deployment(GPU), "UPDATE"), Mode.ENFORCE)
    assert outcome.allowed is False
    assert outcome.decision.codes == (Reason.UNGOVERNED_WORKLOAD,)


def test_grade_keeps_decision_warnings_in_every_mode(gpu_request: AdmissionRequest) -> None:
    workload = parse_workload(gpu_request.object)
    violation = Violation(Reason.NOT_APPROVED, "no approval", "metadata.labels")
    decision = Decision([violation], warnings=["model fraud-scorer is deprecated"])
    enforce = grade(gpu_request, workload, decision, Mode.ENFORCE)
    warn = grade(gpu_request, workload, decision, Mode.WARN)
    audit = grade(gpu_request, workload, decision, Mode.AUDIT)
    assert enforce.warnings == ("model fraud-scorer is deprecated",)
    assert enforce.message == (
        "aigov refused Deployment team-a/llm: NotApproved at metadata.labels: no approval"
    )
    assert warn.warnings == (
        "aigov: NotApproved at metadata.labels: no approval",
        "model fraud-scorer is deprecated",
    )
    assert audit.warnings == ("model fraud-scorer is deprecated",)
    for outcome in (enforce, warn, audit):
        assert _violations(outcome) == [
            {"code": "NotApproved", "message": "no approval", "path": "metadata.labels"}
        ]
    assert [o.verdict for o in (enforce, warn, audit)] == ["refused", "warned", "audited"]
    assert [o.allowed for o in (enforce, warn, audit)] == [False, True, True]


def test_grade_of_an_allowed_decision_passes_warnings_only(gpu_request: AdmissionRequest) -> None:
    workload = parse_workload(deployment(GPU, model="m"))
    outcome = grade(gpu_request, workload, Decision(warnings=["deprecated"]), Mode.ENFORCE)
    assert outcome.allowed is True
    assert outcome.verdict == "allowed"
    assert outcome.warnings == ("deprecated",)
    assert outcome.audit_annotations == {}
    assert outcome.message == ""
    assert outcome.model == "m"


def test_metadata_only_update_is_not_judged() -> None:
    # How the operator flags a running workload of a revoked model: must not be refused.
    old = deployment(GPU)
    new = deployment(GPU)
    new["metadata"]["annotations"] = {"aigov.io/flagged": "NotApproved"}
    req = request(new, "UPDATE", old=old)
    assert needs_judging(req) is False
    outcome = judged(req, Mode.ENFORCE)
    assert outcome.allowed is True
    assert outcome.mode is None


def test_scale_down_is_not_judged_but_scale_up_is() -> None:
    old = deployment(GPU)
    down, up = deployment(GPU), deployment(GPU)
    old["spec"]["replicas"], down["spec"]["replicas"], up["spec"]["replicas"] = 3, 0, 4
    assert needs_judging(request(down, "UPDATE", old=old)) is False
    assert needs_judging(request(up, "UPDATE", old=old)) is True
    assert judged(request(down, "UPDATE", old=old), Mode.ENFORCE).allowed is True
    refused = judged(request(up, "UPDATE", old=old), Mode.ENFORCE)
    assert refused.decision.codes == (Reason.UNGOVERNED_WORKLOAD,)


def test_label_change_is_judged() -> None:
    old = deployment(GPU, model="m")
    new = deployment(GPU)  # the model label removed
    assert needs_judging(request(new, "UPDATE", old=old)) is True
    assert judged(request(new, "UPDATE", old=old), Mode.ENFORCE).decision.codes == (
        Reason.UNGOVERNED_WORKLOAD,
    )


def test_suspending_a_job_is_not_judged_but_resuming_is() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "ns"},
        "spec": {
            "schedule": "0 3 * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [GPU]}}}},
        },
    }
    suspended = json.loads(json.dumps(job))
    suspended["spec"]["suspend"] = True
    assert needs_judging(request(suspended, "UPDATE", old=job)) is False
    assert needs_judging(request(job, "UPDATE", old=suspended)) is True


def test_a_pod_status_write_is_judged_only_when_it_changes_labels() -> None:
    """pods/status keeps label changes: a write that takes a GPU pod from its model is judged
    (and refused in enforce), a kubelet's status update is not."""
    labelled = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team-a", "labels": {"aigov.io/model": "m"}},
        "spec": {"containers": [GPU]},
    }
    running = {**labelled, "status": {"phase": "Running"}}
    taken = {**labelled, "metadata": {"name": "p", "namespace": "team-a", "labels": {}}}

    def status(new: dict[str, Any]) -> AdmissionRequest:
        return AdmissionRequest(
            uid="u", operation="UPDATE", group="", version="v1", resource="pods",
            kind="Pod", namespace="team-a", name="p", user=UserInfo("kubelet"),
            subresource="status", object=new, old_object=labelled,
        )  # fmt: skip

    assert not needs_judging(status(running))
    assert needs_judging(status(taken))
    outcome = judge(status(taken), Mode.ENFORCE, lambda ns, n: Evidence(ns, n, None), NOW)
    assert not outcome.allowed
    assert Reason.UNGOVERNED_WORKLOAD in outcome.decision.codes
