"""evaluate(): the governance rules for a workload that names a model, every reason code.

Workloads are realistic Deployment, Pod and InferenceService bodies read through
`parse_workload`; the model, assessments and approvals are parsed from stored bodies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import builders
import pytest
from builders import (
    HEX64,
    IMAGE,
    NAMESPACE,
    REPO,
    T0,
    UNTIL,
    governed_model,
    model_approval,
    model_spec,
    risk_assessment,
)

from aigov.api import constants
from aigov.api.constants import Reason
from aigov.api.models import GovernedModel, ModelApproval, RiskAssessment, spec_hash
from aigov.policy.decision import Decision, Violation
from aigov.policy.governance import MODEL_PATH, evaluate
from aigov.policy.standing import Evidence
from aigov.policy.workload import parse_workload

OTHER64 = "c" * 64
NAME = builders.MODEL_NAME
WEIGHTS = builders.WEIGHTS_URI
NOW = T0 + timedelta(days=1)
CONTAINERS = "spec.template.spec.containers"
JUSTIFICATION = "committee minutes 42: {decision}"
CURRENT = spec_hash(model_spec())
H12 = CURRENT[:12]
OLD = "b" * 64


def model(spec: dict[str, Any] | None = None, *, author: str = "alice") -> GovernedModel:
    return governed_model(spec, author=author)


def assessment(name: str = "fraud-ra", *, hash_: str = CURRENT, **options: Any) -> RiskAssessment:
    """Bound to the current spec unless `hash_` says; `options` as `risk_assessment`'s."""
    return risk_assessment(hash_, name=name, **options)


def approval(name: str = "fraud-ma", *, hash_: str = CURRENT, **options: Any) -> ModelApproval:
    """Bound to the current spec unless `hash_` says; `options` as `model_approval`'s."""
    return model_approval(hash_, name=name, justification=JUSTIFICATION, **options)


def evidence(
    gm: GovernedModel | None = None,
    assessments: tuple[RiskAssessment, ...] | None = None,
    approvals: tuple[ModelApproval, ...] | None = None,
    invalid: str | None = None,
) -> Evidence:
    """Approved by default: the model, its assessment, an approval relying on it."""
    return Evidence(
        namespace=NAMESPACE,
        name=NAME,
        model=gm if gm is not None or invalid is not None else model(),
        invalid=invalid,
        assessments=assessments if assessments is not None else (assessment(),),
        approvals=approvals if approvals is not None else (approval(),),
    )


LABELS = {constants.MODEL_LABEL: NAME, "app": "fraud-api"}
GPU = {"limits": {"nvidia.com/gpu": "1"}}


def deployment(
    *images: str, init: tuple[str, ...] = (), labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """Deployment fraud-api: a GPU container per image (default: the model's own)."""
    spec = {
        "initContainers": [{"name": f"init-{i}", "image": image} for i, image in enumerate(init)],
        "containers": [
            builders.container(f"c{i}", image, gpus="1")
            for i, image in enumerate(images or (IMAGE,))
        ],
    }
    return builders.deployment(spec, name="fraud-api", labels=LABELS if labels is None else labels)


def pod(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return builders.pod({"containers": containers, **spec}, name="fraud-debug", labels=LABELS)


def isvc(model_entry: dict[str, Any]) -> dict[str, Any]:
    predictor = {"model": {"modelFormat": {"name": "sklearn"}, **model_entry}}
    return builders.inference_service({"predictor": predictor}, name="fraud-isvc", labels=LABELS)


def judge(body: dict[str, Any], ev: Evidence | None, now: datetime = NOW) -> Decision:
    return evaluate(parse_workload(body), ev, now)


def at_model(code: Reason, message: str) -> Violation:
    return Violation(code, message, MODEL_PATH)


def not_approved_none(hint: str = "") -> Violation:
    return at_model(
        Reason.NOT_APPROVED,
        f"no ModelApproval approves GovernedModel {NAME!r} at spec hash {H12}...{hint}",
    )


MISSING = at_model(
    Reason.RISK_ASSESSMENT_MISSING,
    f"no RiskAssessment names GovernedModel {NAME!r} at its current spec hash {H12}...: "
    "a risk officer must assess this spec (modelRef.specHash = status.specHash)",
)


# Allowed ----------------------------------------------------------------------------------


def test_model_path_is_the_model_label() -> None:
    assert MODEL_PATH == "metadata.labels[aigov.io/model]"


def test_an_approved_model_with_its_own_image_is_allowed() -> None:
    decision = judge(deployment(), evidence())
    assert decision.allowed
    assert decision.violations == ()
    assert decision.warnings == ()


def test_a_plain_workload_without_model_or_gpu_passes() -> None:
    body = deployment("nginx:1.27", labels={"app": "web"})
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {}
    assert judge(body, None) == Decision()


def test_a_gpu_workload_naming_no_model_is_ungoverned() -> None:
    decision = judge(deployment(labels={"app": "fraud-api"}), None)
    assert decision.violations == (
        Violation(
            Reason.UNGOVERNED_WORKLOAD,
            "Deployment risk/fraud-api requests nvidia.com/gpu but names no GovernedModel: "
            "add label aigov.io/model=<model name> to the Deployment (metadata.labels) "
            "and its pod template (spec.template.metadata.labels)",
            "metadata.labels",
        ),
    )


def test_evidence_is_not_consulted_when_the_workload_names_no_model() -> None:
    decision = judge(deployment(labels={"app": "fraud-api"}), evidence(approvals=()))
    assert decision.codes == (Reason.UNGOVERNED_WORKLOAD,)


def test_a_template_naming_another_model_is_reported_with_the_model_rules() -> None:
    body = deployment()
    body["spec"]["template"]["metadata"]["labels"] = {constants.MODEL_LABEL: "other"}
    decision = judge(body, evidence())
    assert decision.violations == (
        Violation(
            Reason.UNGOVERNED_WORKLOAD,
            f"Deployment risk/fraud-api names GovernedModel {NAME} but its pod template "
            f"names other: set label aigov.io/model={NAME} in spec.template.metadata.labels, "
            "so the Pods run the model that is governed",
            "spec.template.metadata.labels",
        ),
    )


# ModelNotFound ----------------------------------------------------------------------------


def test_an_unknown_model_is_not_found() -> None:
    ev = Evidence(namespace=NAMESPACE, name=NAME)
    assert judge(deployment(), ev).violations == (
        at_model(Reason.MODEL_NOT_FOUND, f"GovernedModel {NAME!r} not found in namespace 'risk'"),
    )


def test_an_invalid_model_is_not_found_and_says_why() -> None:
    why = "GovernedModel 'fraud-scorer-3-1' is invalid: spec.riskClass: Input should be 'high'"
    ev = evidence(invalid=why, assessments=(), approvals=())
    assert ev.model is None
    assert judge(deployment("nginx:latest"), ev).violations == (
        at_model(
            Reason.MODEL_NOT_FOUND,
            f"GovernedModel {NAME!r} not found in namespace 'risk' (it exists but is invalid: "
            f"{why})",
        ),
    )


# LineageIncomplete ------------------------------------------------------------------------


def test_incomplete_lineage_names_every_field_to_fix() -> None:
    spec = model_spec(
        artifacts=[
            {"name": "server", "image": f"{REPO}:3.1.0"},
            {"name": "weights", "uri": WEIGHTS},
        ],
        lineage={"datasets": []},
    )
    hash_ = spec_hash(spec)
    ev = evidence(model(spec), (assessment(hash_=hash_),), (approval(hash_=hash_),))
    decision = judge(deployment(f"{REPO}:3.1.0"), ev)
    assert decision.violations == (
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.artifacts[0].image: artifact 'server': image "
            f"'{REPO}:3.1.0' is not pinned by digest (use repo@sha256:<64 lowercase hex>)",
        ),
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.artifacts[1].digest: artifact 'weights': "
            f"no sha256 digest for '{WEIGHTS}'",
        ),
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.lineage.code: no code lineage: give the repository "
            "and commit that produced the model",
        ),
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.lineage.datasets: no dataset lineage: list the "
            "datasets the model was trained and evaluated on",
        ),
        Violation(
            Reason.ARTIFACT_NOT_APPROVED,
            f"image '{REPO}:3.1.0' is not pinned by digest: a tag can be re-pointed after "
            f"approval; use one of the artifacts of GovernedModel {NAME!r}",
            f"{CONTAINERS}[0].image",
        ),
    )


# Risk assessment --------------------------------------------------------------------------


def test_no_assessment_and_no_approval_are_both_reported() -> None:
    decision = judge(deployment(), evidence(assessments=(), approvals=()))
    assert decision.violations == (MISSING, not_approved_none())


def test_an_assessment_of_another_spec_is_missing() -> None:
    ev = evidence(assessments=(assessment(hash_=OLD),))
    assert judge(deployment(), ev).violations == (MISSING,)


def test_an_expired_assessment_is_reported_from_valid_until_on() -> None:
    before = judge(deployment(), evidence(), UNTIL - timedelta(microseconds=1))
    assert before.allowed
    decision = judge(deployment(), evidence(), UNTIL)
    assert decision.violations == (
        at_model(
            Reason.RISK_ASSESSMENT_EXPIRED,
            f"RiskAssessment 'fraud-ra' of {NAME!r} expired at 2027-10-02T08:00:00+00:00: "
            "a new assessment is needed",
        ),
    )


def test_an_unacceptable_risk_level_is_refused() -> None:
    ev = evidence(assessments=(assessment(level="unacceptable"),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.RISK_UNACCEPTABLE, f"RiskAssessment 'fraud-ra' rates {NAME!r} unacceptable"
        ),
    )


def test_a_prohibited_risk_class_is_refused() -> None:
    spec = model_spec(riskClass="prohibited")
    hash_ = spec_hash(spec)
    ev = evidence(model(spec), (assessment(hash_=hash_),), (approval(hash_=hash_),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.RISK_UNACCEPTABLE,
            f"GovernedModel {NAME!r} has riskClass prohibited (EU AI Act Art. 5): it never runs",
        ),
    )


def test_prohibited_and_unacceptable_are_both_reported() -> None:
    spec = model_spec(riskClass="prohibited")
    hash_ = spec_hash(spec)
    ev = evidence(
        model(spec), (assessment(hash_=hash_, level="unacceptable"),), (approval(hash_=hash_),)
    )
    decision = judge(deployment(), ev)
    assert decision.codes == (Reason.RISK_UNACCEPTABLE,)
    assert [v.message for v in decision.violations] == [
        f"GovernedModel {NAME!r} has riskClass prohibited (EU AI Act Art. 5): it never runs",
        f"RiskAssessment 'fraud-ra' rates {NAME!r} unacceptable",
    ]


# NotApproved ------------------------------------------------------------------------------


def test_no_approval_is_not_approved() -> None:
    assert judge(deployment(), evidence(approvals=())).violations == (not_approved_none(),)


def test_a_revocation_is_not_approved_and_names_who_and_why() -> None:
    decisions = (
        approval(),
        approval("fraud-revoke", decision="revoke", approver="dave", created=NOW),
    )
    assert judge(deployment(), evidence(approvals=decisions)).violations == (
        at_model(
            Reason.NOT_APPROVED,
            f"ModelApproval 'fraud-revoke' by dave revoked GovernedModel {NAME!r}: "
            "committee minutes 42: revoke",
        ),
    )


def test_a_rejection_is_not_approved() -> None:
    ev = evidence(approvals=(approval("fraud-reject", decision="reject"),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.NOT_APPROVED,
            f"ModelApproval 'fraud-reject' by carol rejected GovernedModel {NAME!r}: "
            "committee minutes 42: reject",
        ),
    )


def test_a_decision_without_approver_stamp_is_by_unknown() -> None:
    ev = evidence(approvals=(approval("fraud-revoke", decision="revoke", approver=None),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.NOT_APPROVED,
            f"ModelApproval 'fraud-revoke' by unknown revoked GovernedModel {NAME!r}: "
            "committee minutes 42: revoke",
        ),
    )


def test_an_expired_approval_is_not_approved() -> None:
    lapse = T0 + timedelta(days=30)
    ev = evidence(approvals=(approval(valid_until=lapse),))
    assert judge(deployment(), ev, lapse - timedelta(seconds=1)).allowed
    assert judge(deployment(), ev, lapse).violations == (
        at_model(
            Reason.NOT_APPROVED,
            f"ModelApproval 'fraud-ma' of {NAME!r} expired at 2026-11-01T08:00:00+00:00",
        ),
    )


def test_an_approval_on_a_superseded_assessment_is_not_approved() -> None:
    ev = evidence(
        assessments=(assessment(), assessment("fraud-ra-2", created=NOW, level="high")),
    )
    assert judge(deployment(), ev, NOW + timedelta(hours=1)).violations == (
        at_model(
            Reason.NOT_APPROVED,
            "ModelApproval 'fraud-ma' relied on RiskAssessment 'fraud-ra', but 'fraud-ra-2' "
            f"is the assessment in force now: {NAME!r} must be approved again",
        ),
    )


def test_an_approval_of_a_changed_spec_says_the_spec_has_changed_since() -> None:
    decisions = (
        approval("fraud-ma-1", hash_=OLD, created=T0),
        approval("fraud-ma-2", hash_="d" * 64, created=T0 + timedelta(hours=1)),
    )
    ev = evidence(approvals=decisions)
    assert judge(deployment(), ev).violations == (
        not_approved_none(
            f"; ModelApproval 'fraud-ma-2' (approve) named spec hash {'d' * 12}..., "
            "but the spec has changed since"
        ),
    )


def test_a_stale_approval_is_named_as_such() -> None:
    ev = evidence(approvals=(approval("fraud-old", hash_=OLD),))
    (violation,) = judge(deployment(), ev).violations
    assert violation.message.endswith(
        f"; ModelApproval 'fraud-old' (approve) named spec hash {OLD[:12]}..., "
        "but the spec has changed since"
    )


def test_a_revocation_of_another_spec_hash_stays_in_force() -> None:
    """Issue 9: approve H1, revoke H2, restore H1: the old approval does not come back."""
    ev = evidence(approvals=(approval("fraud-revoke", hash_=OLD, decision="revoke"),))
    (violation,) = judge(deployment(), ev).violations
    assert violation.code is Reason.NOT_APPROVED
    assert "revoked GovernedModel" in violation.message
    assert f"decided on spec hash {OLD[:12]}..." in violation.message
    assert "voids every approval made before it, for every spec hash" in violation.message


# ModelRetired, deprecation ----------------------------------------------------------------


def test_a_retired_model_may_not_run() -> None:
    ev = evidence(model(model_spec(lifecycle="retired")))
    assert judge(deployment(), ev).violations == (
        at_model(Reason.MODEL_RETIRED, f"GovernedModel {NAME!r} is retired and may not run"),
    )


def test_a_deprecated_model_warns_and_runs() -> None:
    decision = judge(deployment(), evidence(model(model_spec(lifecycle="deprecated"))))
    assert decision.allowed
    assert decision.violations == ()
    assert decision.warnings == (
        f"aigov: GovernedModel {NAME!r} is deprecated: plan its replacement",
    )


def test_a_deprecated_model_warns_beside_its_violations() -> None:
    ev = evidence(model(model_spec(lifecycle="deprecated")), approvals=())
    decision = judge(deployment(), ev)
    assert decision.violations == (not_approved_none(),)
    assert decision.warnings == (
        f"aigov: GovernedModel {NAME!r} is deprecated: plan its replacement",
    )


# SeparationOfDuties -----------------------------------------------------------------------


def test_the_author_approving_breaks_separation_of_duties() -> None:
    ev = evidence(approvals=(approval(approver="alice"),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.SEPARATION_OF_DUTIES,
            f"GovernedModel {NAME!r}: 'alice' is both author and approver",
        ),
    )


def test_a_missing_stamp_breaks_separation_of_duties() -> None:
    ev = evidence(approvals=(approval(approver=None),))
    assert judge(deployment(), ev).violations == (
        at_model(
            Reason.SEPARATION_OF_DUTIES,
            f"GovernedModel {NAME!r}: no approver stamp on the ModelApproval: aigov cannot "
            "tell who the approver was",
        ),
    )


# ArtifactNotApproved ----------------------------------------------------------------------


def not_artifact(image: str, path: str) -> Violation:
    return Violation(
        Reason.ARTIFACT_NOT_APPROVED,
        f"image {image!r} is not an artifact of GovernedModel {NAME!r}",
        path,
    )


def unpinned(image: str, path: str) -> Violation:
    return Violation(
        Reason.ARTIFACT_NOT_APPROVED,
        f"image {image!r} is not pinned by digest: a tag can be re-pointed after approval; "
        f"use one of the artifacts of GovernedModel {NAME!r}",
        path,
    )


@pytest.mark.parametrize(
    "image",
    [f"{REPO}:3.1.0", REPO, f"{REPO}@sha512:{HEX64}", f"{REPO}:3.1.0@"],
    ids=["tag", "bare", "not-sha256", "empty-digest"],
)
def test_an_unpinned_image_is_not_approved(image: str) -> None:
    assert judge(deployment(image), evidence()).violations == (
        unpinned(image, f"{CONTAINERS}[0].image"),
    )


@pytest.mark.parametrize(
    "image",
    [
        f"{REPO}@sha256:{OTHER64}",
        f"registry.example.com/risk/other@sha256:{HEX64}",
        f"mirror.example.com/risk/fraud-scorer@sha256:{HEX64}",
        f"{REPO}:3.1.0@sha256:{OTHER64}",
    ],
    ids=["other-digest", "other-repo", "other-registry", "tag-and-other-digest"],
)
def test_an_image_that_is_no_artifact_is_not_approved(image: str) -> None:
    assert judge(deployment(image), evidence()).violations == (
        not_artifact(image, f"{CONTAINERS}[0].image"),
    )


def test_a_tag_beside_the_right_digest_is_accepted() -> None:
    assert judge(deployment(f"{REPO}:3.1.0@sha256:{HEX64}"), evidence()).allowed


def test_an_artifact_with_a_tag_matches_the_untagged_image() -> None:
    tagged = f"{REPO}:3.1.0@sha256:{HEX64}"
    spec = model_spec(
        artifacts=[
            {"name": "server", "image": tagged},
            {"name": "weights", "uri": WEIGHTS, "digest": f"sha256:{HEX64}"},
        ]
    )
    hash_ = spec_hash(spec)
    ev = evidence(model(spec), (assessment(hash_=hash_),), (approval(hash_=hash_),))
    assert judge(deployment(IMAGE), ev).allowed
    assert judge(deployment(tagged), ev).allowed
    assert judge(deployment(f"{REPO}:3.2.0@sha256:{HEX64}"), ev).allowed


def test_a_registry_port_is_not_taken_for_a_tag() -> None:
    ported = f"registry.example.com:5000/risk/fraud-scorer@sha256:{HEX64}"
    spec = model_spec(
        artifacts=[
            {"name": "server", "image": ported},
            {"name": "weights", "uri": WEIGHTS, "digest": f"sha256:{HEX64}"},
        ]
    )
    hash_ = spec_hash(spec)
    ev = evidence(model(spec), (assessment(hash_=hash_),), (approval(hash_=hash_),))
    assert judge(deployment(ported), ev).allowed
    tagged = f"registry.example.com:5000/risk/fraud-scorer:1@sha256:{HEX64}"
    assert judge(deployment(tagged), ev).allowed
    other = f"registry.example.com:5001/risk/fraud-scorer@sha256:{HEX64}"
    assert judge(deployment(other), ev).violations == (
        not_artifact(other, f"{CONTAINERS}[0].image"),
    )


def test_every_container_is_judged_with_its_own_path() -> None:
    sidecar = "docker.io/envoyproxy/envoy:v1.31"
    body = deployment(IMAGE, sidecar, init=(f"busybox@sha256:{OTHER64}",))
    assert judge(body, evidence()).violations == (
        unpinned(sidecar, f"{CONTAINERS}[1].image"),
        not_artifact(f"busybox@sha256:{OTHER64}", "spec.template.spec.initContainers[0].image"),
    )


def test_init_and_ephemeral_containers_of_a_pod_are_judged() -> None:
    debug = "busybox:1.36"
    body = pod(
        [{"name": "srv", "image": IMAGE, "resources": GPU}],
        initContainers=[{"name": "fetch", "image": f"{REPO}@sha256:{OTHER64}"}],
        ephemeralContainers=[{"name": "debugger", "image": debug}],
    )
    assert judge(body, evidence()).violations == (
        unpinned(debug, "spec.ephemeralContainers[0].image"),
        not_artifact(f"{REPO}@sha256:{OTHER64}", "spec.initContainers[0].image"),
    )


def test_a_container_without_image_is_left_to_the_api_server() -> None:
    assert judge(pod([{"name": "srv"}]), evidence()).allowed


def test_an_inference_service_loading_an_artifact_is_allowed() -> None:
    assert judge(isvc({"storageUri": WEIGHTS}), evidence()).allowed


def test_an_inference_service_naming_no_weights_is_unresolved() -> None:
    """Without storageUri the ServingRuntime, which admission cannot see, decides."""
    (violation,) = judge(isvc({}), evidence()).violations
    assert violation.code is Reason.MODEL_REFERENCE_UNRESOLVED
    assert violation.path == "spec.predictor.model"


def test_an_inference_service_loading_something_else_is_not_approved() -> None:
    uri = "s3://models/fraud-scorer/3.2.0/model.safetensors"
    assert judge(isvc({"storageUri": uri}), evidence()).violations == (
        Violation(
            Reason.ARTIFACT_NOT_APPROVED,
            f"storageUri {uri!r} is not an artifact of the model (GovernedModel {NAME!r} "
            f"approves: {WEIGHTS})",
            "spec.predictor.model.storageUri",
        ),
    )


def test_a_storage_uri_without_digest_in_the_model_is_not_an_artifact() -> None:
    spec = model_spec(
        artifacts=[{"name": "server", "image": IMAGE}, {"name": "weights", "uri": WEIGHTS}]
    )
    hash_ = spec_hash(spec)
    ev = evidence(model(spec), (assessment(hash_=hash_),), (approval(hash_=hash_),))
    decision = judge(isvc({"storageUri": WEIGHTS}), ev)
    assert decision.codes == (Reason.LINEAGE_INCOMPLETE, Reason.ARTIFACT_NOT_APPROVED)
    assert decision.violations[-1] == Violation(
        Reason.ARTIFACT_NOT_APPROVED,
        f"storageUri {WEIGHTS!r} matches artifact 'weights', which has no digest: what the "
        f"URI holds can change after approval (GovernedModel {NAME!r} approves: none (only "
        "images))",
        "spec.predictor.model.storageUri",
    )


def test_inference_service_containers_are_judged() -> None:
    body = isvc({"storageUri": WEIGHTS})
    body["spec"]["predictor"]["containers"] = [{"name": "kserve-container", "image": "srv:1"}]
    assert judge(body, evidence()).violations == (
        unpinned("srv:1", "spec.predictor.containers[0].image"),
    )


# Everything at once -----------------------------------------------------------------------


def test_every_broken_rule_is_reported_at_once_each_at_its_path() -> None:
    spec = model_spec(lifecycle="retired", lineage={"datasets": []})
    stale = approval("fraud-ma-old", hash_=OLD)
    ev = evidence(model(spec), (), (stale,))
    body = deployment(f"{REPO}:latest", init=(f"{REPO}@sha256:{OTHER64}",))
    decision = judge(body, ev)
    hint = (
        f"; ModelApproval 'fraud-ma-old' (approve) named spec hash {OLD[:12]}..., "
        "but the spec has changed since"
    )
    hash_ = spec_hash(spec)[:12]
    assert decision.violations == (
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.lineage.code: no code lineage: give the repository "
            "and commit that produced the model",
        ),
        at_model(
            Reason.LINEAGE_INCOMPLETE,
            f"GovernedModel {NAME!r} spec.lineage.datasets: no dataset lineage: list the "
            "datasets the model was trained and evaluated on",
        ),
        at_model(
            Reason.RISK_ASSESSMENT_MISSING,
            f"no RiskAssessment names GovernedModel {NAME!r} at its current spec hash "
            f"{hash_}...: a risk officer must assess this spec (modelRef.specHash = "
            "status.specHash)",
        ),
        at_model(
            Reason.NOT_APPROVED,
            f"no ModelApproval approves GovernedModel {NAME!r} at spec hash {hash_}...{hint}",
        ),
        unpinned(f"{REPO}:latest", f"{CONTAINERS}[0].image"),
        not_artifact(f"{REPO}@sha256:{OTHER64}", "spec.template.spec.initContainers[0].image"),
        at_model(Reason.MODEL_RETIRED, f"GovernedModel {NAME!r} is retired and may not run"),
    )
    assert decision.codes == (
        Reason.LINEAGE_INCOMPLETE,
        Reason.RISK_ASSESSMENT_MISSING,
        Reason.NOT_APPROVED,
        Reason.ARTIFACT_NOT_APPROVED,
        Reason.MODEL_RETIRED,
    )
    assert not decision.allowed


def test_an_image_in_an_inference_service_model_entry_is_an_artifact_too() -> None:
    """KServe lets a model entry carry a full container: its image replaces the runtime's."""
    body = isvc({"storageUri": WEIGHTS, "image": "evil.example.com/miner:latest"})
    (violation,) = judge(body, evidence()).violations
    assert violation.code is Reason.ARTIFACT_NOT_APPROVED
    assert violation.path == "spec.predictor.model.image"
    assert "not pinned by digest" in violation.message
    assert judge(isvc({"storageUri": WEIGHTS, "image": IMAGE}), evidence()).allowed
