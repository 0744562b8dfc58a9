"""Issue 3 end to end: every reason code, every mode, the bypass classes, real users."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools.controlplane.operator import Operator
from tools.kubectl import Kube, User

from tests.e2e import governed, manifests
from tests.e2e.governed import ALICE, BOB, CAROL, IMAGE, MALLORY


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> Iterator[str]:
    name = kube.namespace(f"gov-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    return name


def _deploy(
    kube: Kube,
    ns: str,
    name: str,
    model: str | None,
    image: str = IMAGE,
    user: User = ALICE,
    **kwargs: Any,
) -> Any:
    return kube.apply(
        manifests.deployment(name, ns, gpus=1, model=model, image=image, **kwargs), user=user
    )


def _running(kube: Kube, ns: str, app: str, count: int = 1) -> list[dict[str, Any]]:
    def done() -> bool:
        pods = kube.list("pods", ns, f"app={app}")
        return len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods)

    kube.wait_for(done, f"{count} Running pods of {app}", 90)
    return kube.list("pods", ns, f"app={app}")


def test_governed_deployment_is_admitted_and_its_pods_run(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "scorer")
    result = _deploy(kube, ns, "scorer", "scorer")
    assert result.ok, result.stderr
    (pod,) = _running(kube, ns, "scorer")
    node = kube.get("node", pod["spec"]["nodeName"])
    assert node["metadata"]["labels"]["pool"] in {"h100-eu", "h200-eu", "a100-shared-us"}


def test_every_violated_rule_is_reported_with_its_path(kube: Kube, ns: str) -> None:
    spec = governed.model_spec(
        artifacts=[{"name": "server", "image": "registry.example.com/risk/scorer:1.0"}],
        lineage={"datasets": []},
    )
    assert kube.apply(governed.model("sloppy", ns, spec), user=ALICE).ok
    result = _deploy(kube, ns, "sloppy", "sloppy", image="registry.example.com/risk/scorer:1.0")
    assert not result.ok
    err = result.stderr
    assert "LineageIncomplete at metadata.labels[aigov.io/model]" in err
    assert "spec.artifacts[0].image" in err
    assert "not pinned" in err
    assert "spec.lineage.code" in err
    assert "spec.lineage.datasets" in err
    assert "RiskAssessmentMissing" in err
    assert "NotApproved" in err
    assert "ArtifactNotApproved at spec.template.spec.containers[0].image" in err


def test_expired_assessment_is_refused(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "stale", valid_until="2021-01-01T00:00:00Z")
    result = _deploy(kube, ns, "stale", "stale")
    assert not result.ok
    assert "RiskAssessmentExpired" in result.stderr
    assert "2021-01-01" in result.stderr


def test_unacceptable_risk_and_prohibited_class_are_refused(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "risky", level="unacceptable")
    result = _deploy(kube, ns, "risky", "risky")
    assert not result.ok
    assert "RiskUnacceptable" in result.stderr
    governed.govern(kube, ns, "banned", governed.model_spec(riskClass="prohibited"))
    result = _deploy(kube, ns, "banned", "banned")
    assert not result.ok
    assert "RiskUnacceptable" in result.stderr
    assert "prohibited" in result.stderr


def test_retired_model_is_refused_and_deprecated_warns(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "old", governed.model_spec(lifecycle="retired"))
    result = _deploy(kube, ns, "old", "old")
    assert not result.ok
    assert "ModelRetired" in result.stderr
    governed.govern(kube, ns, "aging", governed.model_spec(lifecycle="deprecated"))
    result = _deploy(kube, ns, "aging", "aging")
    assert result.ok, result.stderr
    assert "Warning: aigov: GovernedModel 'aging' is deprecated" in result.stderr


def test_approval_is_not_reused_after_the_spec_changes(kube: Kube, ns: str) -> None:
    spec = governed.govern(kube, ns, "drifty")
    assert _deploy(kube, ns, "drifty", "drifty").ok
    changed = {**spec, "version": "1.0.1"}
    assert kube.apply(governed.model("drifty", ns, changed), user=ALICE).ok
    result = _deploy(kube, ns, "drifty-2", "drifty")
    assert not result.ok
    assert "RiskAssessmentMissing" in result.stderr
    assert "NotApproved" in result.stderr
    assert "the spec has changed since" in result.stderr


def test_self_assessment_and_self_approval_are_refused(kube: Kube, ns: str) -> None:
    spec = governed.model_spec()
    assert kube.apply(governed.model("own", ns, spec), user=MALLORY).ok
    result = kube.apply(governed.assessment("own-ra", ns, "own", spec), user=MALLORY)
    assert not result.ok
    assert "SeparationOfDuties" in result.stderr
    assert "may not assess it" in result.stderr
    assert kube.apply(governed.assessment("own-ra", ns, "own", spec), user=BOB).ok
    result = kube.apply(
        governed.approval("own-ok", ns, "own", spec, assessment_name="own-ra"), user=BOB
    )
    assert not result.ok
    assert "SeparationOfDuties" in result.stderr
    assert "assessed" in result.stderr
    result = kube.apply(
        governed.approval("own-ok", ns, "own", spec, assessment_name="own-ra"), user=MALLORY
    )
    assert not result.ok
    assert "may not approve it" in result.stderr
    assert kube.apply(
        governed.approval("own-ok", ns, "own", spec, assessment_name="own-ra"), user=CAROL
    ).ok


def test_identity_stamps_come_from_the_request_and_cannot_be_changed(kube: Kube, ns: str) -> None:
    manifest = governed.model("stamped", ns, governed.model_spec())
    manifest["metadata"]["annotations"] = {"aigov.io/author": "carol", "aigov.io/approver": "x"}
    assert kube.apply(manifest, user=ALICE).ok
    annotations = kube.get("governedmodel", "stamped", ns)["metadata"]["annotations"]
    assert annotations["aigov.io/author"] == "alice"
    assert "aigov.io/approver" not in annotations
    for change in (["aigov.io/author=bob", "--overwrite"], ["aigov.io/author-"]):
        result = kube.run("annotate", "governedmodel", "stamped", "-n", ns, *change, user=ALICE)
        assert not result.ok
        assert "StampProtected" in result.stderr
    assert (
        kube.get("governedmodel", "stamped", ns)["metadata"]["annotations"]["aigov.io/author"]
        == "alice"
    )


def test_approvals_are_immutable(kube: Kube, ns: str) -> None:
    spec = governed.govern(kube, ns, "fixed")
    changed = governed.approval("fixed-ok", ns, "fixed", spec, assessment_name="fixed-ra")
    changed["spec"]["justification"] = "rewritten history"
    # RBAC gives approvers create only; even a cluster admin meets the CRD's CEL rule.
    result = kube.apply(changed, user=CAROL)
    assert not result.ok
    assert "Forbidden" in result.stderr
    result = kube.apply(changed)
    assert not result.ok
    assert "immutable" in result.stderr


def test_warn_mode_admits_with_warnings(kube: Kube, operator: Operator, unique: str) -> None:
    ns = kube.namespace(f"warn-{unique}", mode="warn")
    result = kube.apply(manifests.deployment("llm", ns, gpus=1))
    assert result.ok, result.stderr
    assert "Warning: aigov: UngovernedWorkload at metadata.labels" in result.stderr


def test_audit_mode_admits_and_records_evidence(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"audit-{unique}", mode="audit")
    result = kube.apply(manifests.deployment("llm", ns, gpus=1))
    assert result.ok, result.stderr
    assert "aigov" not in result.stderr  # audit is silent to the user
    stored = kube.get("deployment", "llm", ns)
    violations = json.loads(stored["metadata"]["annotations"]["aigov.io/violations"])
    assert [v["code"] for v in violations] == ["UngovernedWorkload"]
    assert violations[0]["path"] == "metadata.labels"

    def event() -> bool:
        events = kube.list("events", ns)
        return any(e["reason"] == "AigovAudit" for e in events)

    kube.wait_for(event, "an AigovAudit Event", 30)


def test_audit_mode_annotates_the_api_servers_audit_log(
    kube: Kube, operator: Operator, unique: str, audit_log: Path
) -> None:
    ns = kube.namespace(f"audit-log-{unique}", mode="audit")
    assert kube.apply(manifests.deployment("llm", ns, gpus=1)).ok

    def annotated() -> list[dict[str, Any]]:
        found = []
        for line in audit_log.read_text().splitlines():
            if ns in line and "workloads.aigov.io/violations" in line:
                found.append(json.loads(line))
        return found

    kube.wait_for(lambda: bool(annotated()), "the admission audit annotation in the audit log")
    entry = annotated()[0]
    (violation,) = json.loads(entry["annotations"]["workloads.aigov.io/violations"])
    assert violation["code"] == "UngovernedWorkload"
    assert entry["objectRef"]["resource"] == "deployments"


def test_dry_run_gets_the_same_verdict(kube: Kube, ns: str) -> None:
    result = kube.run(
        "apply",
        "--dry-run=server",
        "-f",
        "-",
        stdin=json.dumps(manifests.deployment("llm", ns, gpus=1)),
    )
    assert not result.ok
    assert "UngovernedWorkload" in result.stderr


def test_cronjob_and_job_templates_are_judged(kube: Kube, ns: str) -> None:
    template = manifests.deployment("batch", ns, gpus=1)["spec"]["template"]
    template["spec"]["restartPolicy"] = "Never"
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": ns},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
    }
    result = kube.apply(cronjob, user=ALICE)
    assert not result.ok
    assert "UngovernedWorkload" in result.stderr
    assert "CronJob" in result.stderr
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": ns},
        "spec": {"template": template},
    }
    result = kube.apply(job, user=ALICE)
    assert not result.ok
    assert "UngovernedWorkload" in result.stderr


def _isvc(ns: str, model: str | None, storage: str) -> dict[str, Any]:
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "scorer-isvc", "namespace": ns, "labels": labels},
        "spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": storage},
            }
        },
    }


def test_inference_service_is_judged(kube: Kube, ns: str) -> None:
    result = kube.apply(_isvc(ns, None, "s3://models/scorer/model.joblib"), user=ALICE)
    assert not result.ok
    assert "UngovernedWorkload" in result.stderr
    assert "InferenceService" in result.stderr
    spec = governed.model_spec(
        artifacts=[
            {"name": "server", "image": IMAGE},
            {
                "name": "weights",
                "uri": "s3://models/scorer/model.joblib",
                "digest": "sha256:" + "22" * 32,
            },
        ]
    )
    governed.govern(kube, ns, "served", spec)
    result = kube.apply(_isvc(ns, "served", "s3://models/other/model.joblib"), user=ALICE)
    assert not result.ok
    assert "ArtifactNotApproved at spec.predictor.model.storageUri" in result.stderr
    result = kube.apply(_isvc(ns, "served", "s3://models/scorer/model.joblib"), user=ALICE)
    assert result.ok, result.stderr


def test_ephemeral_debug_container_is_judged(kube: Kube, ns: str) -> None:
    governed.govern(kube, ns, "debuggable")
    pod = manifests.pod("debuggable", ns, gpus=1, model="debuggable")
    pod["spec"]["containers"][0]["image"] = IMAGE
    assert kube.apply(pod, user=ALICE).ok, "the governed pod itself is admitted"
    result = kube.run(
        "debug", "debuggable", "-n", ns, "--image=busybox:1.36", "--container=dbg", user=ALICE
    )
    assert not result.ok
    assert "ArtifactNotApproved" in result.stderr
    assert "ephemeralContainers" in result.stderr


def test_scale_up_of_a_revoked_model_is_refused_and_scale_down_allowed(kube: Kube, ns: str) -> None:
    spec = governed.govern(kube, ns, "scaled")
    assert _deploy(kube, ns, "scaled", "scaled").ok
    assert kube.run("scale", "deployment", "scaled", "-n", ns, "--replicas=2", user=ALICE).ok
    revoke = governed.approval("scaled-revoke", ns, "scaled", spec, decision="revoke")
    assert kube.apply(revoke, user=CAROL).ok
    result = kube.run("scale", "deployment", "scaled", "-n", ns, "--replicas=3", user=ALICE)
    assert not result.ok
    assert "NotApproved" in result.stderr
    assert "revoked" in result.stderr
    result = kube.run("scale", "deployment", "scaled", "-n", ns, "--replicas=0", user=ALICE)
    assert result.ok, result.stderr


def test_namespace_opt_out_by_a_non_admin_is_refused(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"guarded-{unique}", mode="enforce")
    governed.allow_namespace_labelling(kube)
    for change in (["aigov.io/mode-"], ["aigov.io/mode=audit", "--overwrite"]):
        result = kube.run("label", "namespace", ns, *change, user=MALLORY)
        assert not result.ok
        assert "ModeChangeForbidden" in result.stderr
    assert kube.get("namespace", ns)["metadata"]["labels"]["aigov.io/mode"] == "enforce"
    admin = User("dana", ("aigov-admins", "system:authenticated"))
    result = kube.run("label", "namespace", ns, "aigov.io/mode=warn", "--overwrite", user=admin)
    assert result.ok, result.stderr
    result = kube.run("label", "namespace", ns, "aigov.io/mode=lax", "--overwrite", user=admin)
    assert not result.ok
    assert "InvalidMode" in result.stderr


def _status(kube: Kube, ns: str, name: str) -> dict[str, Any]:
    return dict(kube.get("governedmodel", name, ns).get("status") or {})


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == type_), {})


def test_status_follows_the_governed_lifecycle(kube: Kube, ns: str) -> None:
    from aigov.api.base import spec_hash

    spec = governed.govern(kube, ns, "tracked")
    kube.wait_for(lambda: _status(kube, ns, "tracked").get("phase") == "Approved", "Approved")
    status = _status(kube, ns, "tracked")
    assert status["specHash"] == spec_hash(spec)
    assert _condition(status, "Ready")["status"] == "True"
    assert _condition(status, "Approved")["observedGeneration"] == 1
    assert status["approval"]["approver"] == "carol"
    assert status["riskAssessment"]["assessor"] == "bob"
    events = [(h["event"], h.get("actor")) for h in status["history"]]
    assert events[0] == ("Created", "alice")
    assert ("Approved", "carol") in events
    ra = kube.get("riskassessment", "tracked-ra", ns)
    assert ra["status"]["phase"] == "Current"
    assert ra["status"]["boundToCurrentSpec"] is True

    assert _deploy(kube, ns, "tracked", "tracked").ok
    _running(kube, ns, "tracked")

    def placed() -> bool:
        workloads = _status(kube, ns, "tracked").get("workloads", [])
        return any(w["kind"] == "Deployment" and w.get("pools") for w in workloads)

    kube.wait_for(placed, "status.workloads with the pools the pods run on", 60)

    changed = {**spec, "version": "2.0.0"}
    assert kube.apply(governed.model("tracked", ns, changed), user=ALICE).ok
    kube.wait_for(
        lambda: _status(kube, ns, "tracked").get("phase") == "PendingAssessment",
        "PendingAssessment after the spec changed",
    )
    status = _status(kube, ns, "tracked")
    assert status["specHash"] == spec_hash(changed)
    assert "SpecChanged" in [h["event"] for h in status["history"]]
    assert (
        status["history"][: len(events)] == _status(kube, ns, "tracked")["history"][: len(events)]
    ), "history is append-only"
    ra = kube.get("riskassessment", "tracked-ra", ns)
    assert ra["status"]["phase"] == "Stale"
    assert ra["status"]["boundToCurrentSpec"] is False
    kube.wait_for(
        lambda: (
            "aigov.io/flagged"
            in (kube.get("deployment", "tracked", ns)["metadata"].get("annotations") or {})
        ),
        "the running Deployment flagged after the spec change",
    )


def test_revocation_flags_the_running_workload(kube: Kube, ns: str) -> None:
    spec = governed.govern(kube, ns, "revoked")
    assert _deploy(kube, ns, "revoked", "revoked").ok
    _running(kube, ns, "revoked")
    annotations = kube.get("deployment", "revoked", ns)["metadata"].get("annotations") or {}
    assert "aigov.io/flagged" not in annotations
    revoke = governed.approval("revoked-revoke", ns, "revoked", spec, decision="revoke")
    assert kube.apply(revoke, user=CAROL).ok

    def flagged() -> bool:
        meta = kube.get("deployment", "revoked", ns)["metadata"]
        return (meta.get("annotations") or {}).get("aigov.io/flagged") == "Revoked"

    kube.wait_for(flagged, "the Deployment flagged Revoked", 30)
    kube.wait_for(
        lambda: any(e["reason"] == "AigovFlagged" for e in kube.list("events", ns)),
        "an AigovFlagged Event",
        30,
    )
    # A pod the ReplicaSet controller creates now is judged like a direct one: refused.
    (pod,) = kube.list("pods", ns, "app=revoked")
    assert kube.run("delete", "pod", pod["metadata"]["name"], "-n", ns, "--wait=false").ok

    def replacement_refused() -> bool:
        return any(
            e["reason"] == "FailedCreate" and "NotApproved" in e.get("message", "")
            for e in kube.list("events", ns)
        )

    kube.wait_for(replacement_refused, "the ReplicaSet's new pod refused NotApproved", 30)
    status = _status(kube, ns, "revoked")
    assert status["phase"] == "Rejected"
    assert ("Revoked", "carol") in [(h["event"], h.get("actor")) for h in status["history"]]
    assert all(w["flagged"] for w in status["workloads"])


def test_expiry_is_noticed_on_time(kube: Kube, ns: str) -> None:
    import datetime as dt

    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
    governed.govern(kube, ns, "brief", valid_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    kube.wait_for(lambda: _status(kube, ns, "brief").get("phase") == "Approved", "Approved")
    # Nothing changes in the cluster after this point: only the clock moves.
    kube.wait_for(
        lambda: _status(kube, ns, "brief").get("phase") == "Expired",
        "Expired once validUntil passes",
        25,
    )
    expired = [h for h in _status(kube, ns, "brief")["history"] if h["event"] == "Expired"]
    noticed = dt.datetime.fromisoformat(expired[0]["time"].replace("Z", "+00:00"))
    assert noticed - until < dt.timedelta(seconds=3), "noticed by the timer, not a resync"


def test_stop_on_loss_brings_running_workloads_to_a_safe_state(
    kube: Kube, operator: Operator, unique: str
) -> None:
    ns = kube.namespace(f"stop-{unique}", mode="enforce")
    governed.bind_personas(kube, ns)
    # An admin opts the namespace in (the namespace guard protects this label too).
    result = kube.run("label", "namespace", ns, "aigov.io/stop-on-loss=true", user=ALICE)
    assert not result.ok
    assert "ModeChangeForbidden" in result.stderr or "forbidden" in result.stderr.lower()
    assert kube.run("label", "namespace", ns, "aigov.io/stop-on-loss=true").ok
    spec = governed.govern(kube, ns, "halted")
    assert _deploy(kube, ns, "halted", "halted", replicas=2).ok
    _running(kube, ns, "halted", 2)
    bare = manifests.pod("halted-bare", ns, gpus=1, model="halted", image=IMAGE)
    assert kube.apply(bare, user=ALICE).ok
    revoke = governed.approval("halted-revoke", ns, "halted", spec, decision="revoke")
    assert kube.apply(revoke, user=CAROL).ok

    def stopped() -> bool:
        deployment = kube.get("deployment", "halted", ns)
        annotations = deployment["metadata"].get("annotations") or {}
        return (
            deployment["spec"]["replicas"] == 0
            and annotations.get("aigov.io/replicas-before-stop") == "2"
            and annotations.get("aigov.io/flagged") == "Revoked"
        )

    kube.wait_for(stopped, "the Deployment scaled to 0 and flagged", 30)
    kube.wait_for(lambda: not kube.list("pods", ns, "app=halted"), "its pods gone", 60)
    kube.wait_for(
        lambda: any(e["reason"] == "AigovStopped" for e in kube.list("events", ns)),
        "an AigovStopped Event",
        30,
    )
    # A bare Pod has neither replicas nor suspend: flagged, and an Event names a person's job.
    kube.wait_for(
        lambda: any(
            e["reason"] == "AigovActionNeeded" and e["involvedObject"]["name"] == "halted-bare"
            for e in kube.list("events", ns)
        ),
        "an AigovActionNeeded Event for the bare Pod",
        30,
    )
    # What a person would do; it also gives its GPU back to the tests that follow.
    kube.run("delete", "pod", "halted-bare", "-n", ns, "--wait=false")


def test_deleting_a_model_flags_its_running_workloads(kube: Kube, ns: str) -> None:
    """Issue 11: a deleted GovernedModel's workloads do not keep running unflagged."""
    governed.govern(kube, ns, "gone")
    assert _deploy(kube, ns, "gone", "gone").ok
    _running(kube, ns, "gone")
    assert kube.run("delete", "governedmodel", "gone", "-n", ns, check=True).ok

    def flagged() -> bool:
        meta = kube.get("deployment", "gone", ns)["metadata"]
        return (meta.get("annotations") or {}).get("aigov.io/flagged") == "ModelNotFound"

    kube.wait_for(flagged, "the Deployment flagged ModelNotFound after its model was deleted")
    assert not _deploy(kube, ns, "gone-2", "gone").ok


def test_namespace_status_and_finalize_cannot_remove_the_mode(
    kube: Kube, operator: Operator, unique: str
) -> None:
    """Issue 11: the status and finalize subresources keep metadata changes, so the guard
    judges them too."""
    ns = kube.namespace(f"subres-{unique}", mode="enforce")
    governed.allow_namespace_labelling(kube)
    body = kube.get("namespace", ns)
    del body["metadata"]["labels"]["aigov.io/mode"]
    for sub in ("status", "finalize"):
        path = f"/api/v1/namespaces/{ns}/{sub}"
        result = kube.run("replace", "--raw", path, "-f", "-", user=MALLORY, stdin=json.dumps(body))
        assert not result.ok, f"{sub} removed the mode"
        assert "ModeChangeForbidden" in result.stderr, result.stderr
    assert kube.get("namespace", ns)["metadata"]["labels"]["aigov.io/mode"] == "enforce"
