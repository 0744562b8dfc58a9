"""Admission of aigov's own kinds: identity stamps and separation of duties.

AdmissionRequests are built directly, as `parse_review` would hand them over; the model and
assessment in the context are parsed from stored bodies.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import builders
import pytest
from builders import (
    NAMESPACE,
    governed_model_body,
    model_approval_body,
    model_spec,
    risk_assessment_body,
)

from aigov.admission.governance import ALL_STAMPS, STAMPS, Context, judge, stamp
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api import constants
from aigov.api.constants import (
    APPROVER_ANNOTATION,
    ASSESSMENT_UID_ANNOTATION,
    ASSESSOR_ANNOTATION,
    AUTHOR_ANNOTATION,
    LAST_EDITOR_ANNOTATION,
    SIGNED_BY_ANNOTATION,
    SPEC_EDITORS_ANNOTATION,
    Mode,
    Reason,
)
from aigov.api.models import GovernedModel, RiskAssessment, spec_hash
from aigov.policy.decision import Violation

NAME = builders.MODEL_NAME
OPERATOR = "system:serviceaccount:aigov-system:aigov"
OPERATORS = (OPERATOR,)
PLURALS = {
    "GovernedModel": "governedmodels",
    "RiskAssessment": "riskassessments",
    "ModelApproval": "modelapprovals",
}
SPEC = model_spec(weights=False)
CURRENT = spec_hash(SPEC)
OLD = "b" * 64
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def model_body(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """The GovernedModel, with these `annotations` (none: not stamped yet)."""
    return governed_model_body(SPEC, annotations=annotations or {})


MODEL = GovernedModel.from_body(model_body({AUTHOR_ANNOTATION: "alice"}))


def assessment_body(
    annotations: dict[str, str] | None = None, hash_: str = CURRENT, model: str = NAME
) -> dict[str, Any]:
    """RiskAssessment fraud-ra, with these `annotations` (none: not stamped yet)."""
    return risk_assessment_body(hash_, model_name=model, annotations=annotations or {})


ASSESSMENT = RiskAssessment.from_body(assessment_body({ASSESSOR_ANNOTATION: "bob"}))


def approval_body(
    annotations: dict[str, str] | None = None,
    hash_: str = CURRENT,
    model: str = NAME,
    decision: str = "approve",
) -> dict[str, Any]:
    """ModelApproval fraud-ma, with these `annotations` (none: not stamped yet)."""
    return model_approval_body(
        hash_,
        model_name=model,
        decision=decision,
        justification="model risk committee, minutes 42",
        annotations=annotations or {},
    )


def request(
    operation: str,
    obj: dict[str, Any],
    user: str,
    old: dict[str, Any] | None = None,
) -> AdmissionRequest:
    kind = str(obj["kind"])
    return AdmissionRequest(
        uid="705ab4f5-6393-11e8-b7cc-42010a800002",
        operation=operation,
        group=constants.GROUP,
        version=constants.VERSION,
        resource=PLURALS.get(kind, kind.lower() + "s"),
        kind=kind,
        namespace=NAMESPACE,
        name=str(obj["metadata"]["name"]),
        user=UserInfo(username=user, groups=("system:authenticated",)),
        object=obj,
        old_object=old or {},
    )


def duty(message: str) -> Violation:
    return Violation(Reason.SEPARATION_OF_DUTIES, message, "metadata.annotations")


def admit(
    operation: str,
    body: dict[str, Any],
    user: str,
    ctx: Context,
    old: dict[str, Any] | None = None,
) -> Outcome:
    """What the API server does: the mutating webhook's stamps, then the validating one."""
    req = request(operation, body, user, old)
    changed = copy.deepcopy(body)
    annotations = changed.setdefault("metadata", {}).get("annotations") or {}
    for key, value in stamp(req, ctx).changes.items():
        if value is None:
            annotations.pop(key, None)
        else:
            annotations[key] = value
    changed["metadata"]["annotations"] = annotations
    return judge(request(operation, changed, user, old), ctx, OPERATORS)


CTX = Context(model=MODEL, now=NOW)
WITH_ASSESSMENT = Context(model=MODEL, assessment=ASSESSMENT, now=NOW)


# Stamps -----------------------------------------------------------------------------------


def test_each_kind_has_its_stamp() -> None:
    assert dict(STAMPS) == {
        "GovernedModel": "aigov.io/author",
        "RiskAssessment": "aigov.io/assessor",
        "ModelApproval": "aigov.io/approver",
    }
    assert {
        "aigov.io/author",
        "aigov.io/assessor",
        "aigov.io/approver",
        "aigov.io/spec-editors",
        "aigov.io/last-editor",
        "aigov.io/assessment-uid",
        "aigov.io/signed-by",
        "aigov.io/signed-at",
    } == ALL_STAMPS


@pytest.mark.parametrize(
    ("body", "expected", "user", "ctx"),
    [
        (
            model_body(),
            {
                AUTHOR_ANNOTATION: "alice",
                SPEC_EDITORS_ANNOTATION: '["alice"]',
                LAST_EDITOR_ANNOTATION: "alice",
            },
            "alice",
            Context(model=None, now=NOW),
        ),
        (assessment_body(), {ASSESSOR_ANNOTATION: "bob"}, "bob", CTX),
        (
            approval_body(),
            {APPROVER_ANNOTATION: "carol", ASSESSMENT_UID_ANNOTATION: "uid-fraud-ra"},
            "carol",
            WITH_ASSESSMENT,
        ),
    ],
    ids=["GovernedModel", "RiskAssessment", "ModelApproval"],
)
def test_create_stamps_the_requester(
    body: dict[str, Any], expected: dict[str, str], user: str, ctx: Context
) -> None:
    assert dict(stamp(request("CREATE", body, user), ctx).changes) == expected


def test_create_drops_typed_stamps_and_overwrites_its_own() -> None:
    typed = {
        AUTHOR_ANNOTATION: "mallory",
        ASSESSOR_ANNOTATION: "mallory",
        APPROVER_ANNOTATION: "mallory",
        SIGNED_BY_ANNOTATION: "someone",
        "team": "risk",
    }
    changes = stamp(request("CREATE", approval_body(typed), "carol"), WITH_ASSESSMENT).changes
    assert dict(changes) == {
        AUTHOR_ANNOTATION: None,
        ASSESSOR_ANNOTATION: None,
        SIGNED_BY_ANNOTATION: None,
        APPROVER_ANNOTATION: "carol",
        ASSESSMENT_UID_ANNOTATION: "uid-fraud-ra",
    }


def test_create_without_metadata_annotations_still_stamps() -> None:
    body = model_body()
    del body["metadata"]["annotations"]
    expected = {
        AUTHOR_ANNOTATION: "alice",
        SPEC_EDITORS_ANNOTATION: '["alice"]',
        LAST_EDITOR_ANNOTATION: "alice",
    }
    assert dict(stamp(request("CREATE", body, "alice"), CTX).changes) == expected


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE", "CONNECT"])
def test_no_stamps_without_a_spec_change(operation: str) -> None:
    body = model_body({AUTHOR_ANNOTATION: "mallory"})
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    assert dict(stamp(request(operation, body, "mallory", old=old), CTX).changes) == {}


def test_other_kinds_are_not_stamped() -> None:
    body = {
        "apiVersion": constants.API_VERSION,
        "kind": "PlacementPolicy",
        "metadata": {"name": "confidential-eu", "annotations": {AUTHOR_ANNOTATION: "x"}},
        "spec": {"nodePools": []},
    }
    assert dict(stamp(request("CREATE", body, "admin"), CTX).changes) == {}


# Spec editors (issue 9, scenario 1) -------------------------------------------------------


def edited_body(editors: list[str] | None = None) -> dict[str, Any]:
    """The model with a changed spec (another image), stamped as `editors` say."""
    spec = model_spec(weights=False)
    spec["artifacts"] = [{"name": "server", "image": f"{builders.REPO}@sha256:{'e' * 64}"}]
    annotations = {AUTHOR_ANNOTATION: "alice"}
    if editors is not None:
        annotations[SPEC_EDITORS_ANNOTATION] = json.dumps(editors)
    return governed_model_body(spec, annotations=annotations)


ORIGINAL = model_body({AUTHOR_ANNOTATION: "alice", SPEC_EDITORS_ANNOTATION: '["alice"]'})


def test_a_spec_change_stamps_its_editor() -> None:
    req = request("UPDATE", edited_body(["alice"]), "mallory", ORIGINAL)
    assert dict(stamp(req, CTX).changes) == {
        SPEC_EDITORS_ANNOTATION: '["alice", "mallory"]',
        LAST_EDITOR_ANNOTATION: "mallory",
    }


def test_a_lifecycle_change_names_its_editor_but_makes_no_author() -> None:
    """lifecycle is outside the spec hash: retiring a model is not writing it."""
    retired = copy.deepcopy(ORIGINAL)
    retired["spec"]["lifecycle"] = "retired"
    req = request("UPDATE", retired, "carol", ORIGINAL)
    assert dict(stamp(req, CTX).changes) == {LAST_EDITOR_ANNOTATION: "carol"}


def test_the_last_editor_moves_to_the_end() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice", SPEC_EDITORS_ANNOTATION: '["alice", "bob"]'})
    req = request("UPDATE", edited_body(["alice", "bob"]), "alice", old)
    assert dict(stamp(req, CTX).changes) == {
        SPEC_EDITORS_ANNOTATION: '["bob", "alice"]',
        LAST_EDITOR_ANNOTATION: "alice",
    }


def test_a_model_stamped_before_editors_existed_starts_from_its_author() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    req = request("UPDATE", edited_body(), "mallory", old)
    assert dict(stamp(req, CTX).changes) == {
        SPEC_EDITORS_ANNOTATION: '["alice", "mallory"]',
        LAST_EDITOR_ANNOTATION: "mallory",
    }


def test_a_spec_change_with_the_editor_stamp_admitted() -> None:
    outcome = admit("UPDATE", edited_body(["alice"]), "mallory", CTX, ORIGINAL)
    assert outcome.allowed, outcome.message


def test_a_spec_change_without_the_editor_stamp_is_refused() -> None:
    """No other webhook (and no skipped mutation) can hide an editor."""
    req = request("UPDATE", edited_body(["alice"]), "mallory", ORIGINAL)
    outcome = judge(req, CTX, OPERATORS)
    assert outcome.decision.violations[1:] == (
        Violation(
            Reason.STAMP_PROTECTED,
            "aigov.io/spec-editors is written by aigov only, from the authenticated request "
            'or the signature (must be \'["alice", "mallory"]\', found \'["alice"]\')',
            "metadata.annotations[aigov.io/spec-editors]",
        ),
    )


def test_an_editor_may_not_assess_the_model() -> None:
    edited = GovernedModel.from_body(edited_body(["alice", "mallory"]))
    outcome = admit("CREATE", assessment_body(), "mallory", Context(model=edited, now=NOW))
    assert outcome.decision.violations == (
        duty(
            f"'mallory' authored the spec of GovernedModel {NAME!r} and may not assess it: "
            "the spec's authors, the assessor and the approver must be different people"
        ),
    )


def test_an_editor_may_not_approve_the_model() -> None:
    edited = GovernedModel.from_body(edited_body(["alice", "mallory"]))
    ctx = Context(model=edited, assessment=ASSESSMENT, now=NOW)
    outcome = admit("CREATE", approval_body(), "mallory", ctx)
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)


def test_unreadable_editors_fail_closed() -> None:
    broken = GovernedModel.from_body(model_body({SPEC_EDITORS_ANNOTATION: "not json"}))
    outcome = admit("CREATE", assessment_body(), "bob", Context(model=broken, now=NOW))
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)
    assert "unreadable" in outcome.message


# Stamps verified on validation (issue 9, scenario 4) --------------------------------------


def test_a_stamp_set_by_another_webhook_is_refused() -> None:
    forged = approval_body(
        {APPROVER_ANNOTATION: "carol", ASSESSMENT_UID_ANNOTATION: "uid-fraud-ra"}
    )
    outcome = judge(request("CREATE", forged, "mallory"), WITH_ASSESSMENT, OPERATORS)
    assert outcome.decision.violations == (
        Violation(
            Reason.STAMP_PROTECTED,
            "aigov.io/approver is written by aigov only, from the authenticated request or "
            "the signature (must be 'mallory', found 'carol')",
            "metadata.annotations[aigov.io/approver]",
        ),
    )


def test_a_missing_stamp_on_create_is_refused() -> None:
    outcome = judge(request("CREATE", assessment_body(), "bob"), CTX, OPERATORS)
    assert outcome.decision.codes == (Reason.STAMP_PROTECTED,)


# Stamp immutability -----------------------------------------------------------------------


def test_changing_a_stamp_is_refused() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({AUTHOR_ANNOTATION: "mallory"})
    outcome = judge(request("UPDATE", new, "mallory", old), CTX, OPERATORS)
    expected = Violation(
        Reason.STAMP_PROTECTED,
        "aigov.io/author records who acted on this GovernedModel and cannot be changed or "
        "removed (must be 'alice', found 'mallory')",
        "metadata.annotations[aigov.io/author]",
    )
    assert outcome.decision.violations == (expected,)
    assert not outcome.allowed
    assert outcome.mode is Mode.ENFORCE
    assert outcome.verdict == "refused"
    assert outcome.message == (
        f"aigov refused GovernedModel risk/{NAME}: StampProtected at "
        f"metadata.annotations[aigov.io/author]: {expected.message}"
    )
    assert outcome.warnings == ()


def test_removing_a_stamp_is_refused() -> None:
    old = assessment_body({ASSESSOR_ANNOTATION: "bob"})
    new = assessment_body({})
    outcome = judge(request("UPDATE", new, "bob", old), CTX, OPERATORS)
    assert outcome.decision.violations == (
        Violation(
            Reason.STAMP_PROTECTED,
            "aigov.io/assessor records who acted on this RiskAssessment and cannot be changed "
            "or removed (must be 'bob', found None)",
            "metadata.annotations[aigov.io/assessor]",
        ),
    )


def test_every_changed_stamp_is_reported() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({ASSESSOR_ANNOTATION: "alice", APPROVER_ANNOTATION: "alice"})
    outcome = judge(request("UPDATE", new, "alice", old), CTX, OPERATORS)
    assert [v.path for v in outcome.decision.violations] == [
        "metadata.annotations[aigov.io/approver]",
        "metadata.annotations[aigov.io/assessor]",
        "metadata.annotations[aigov.io/author]",
    ]
    assert outcome.decision.codes == (Reason.STAMP_PROTECTED,)


def test_the_operator_may_change_stamps() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({})
    outcome = judge(request("UPDATE", new, OPERATOR, old), CTX, OPERATORS)
    assert outcome.decision.violations == ()
    assert outcome.allowed
    assert outcome.message == ""
    assert outcome.verdict == "allowed"


def test_an_update_that_keeps_the_stamps_is_allowed() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({AUTHOR_ANNOTATION: "alice", "team": "risk"})
    outcome = judge(request("UPDATE", new, "alice", old), CTX, OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()


def test_an_update_is_not_judged_for_duties() -> None:
    old = assessment_body({ASSESSOR_ANNOTATION: "bob"})
    new = assessment_body({ASSESSOR_ANNOTATION: "bob", "reviewed": "yes"})
    outcome = judge(request("UPDATE", new, "alice", old), CTX, OPERATORS)
    assert outcome.allowed
    assert outcome.warnings == ()


# What the webhook admits, the operator can read (issue 9, scenario 3) ---------------------


def test_a_time_the_api_server_accepts_but_aigov_cannot_read_is_refused() -> None:
    body = approval_body(decision="revoke")
    body["spec"]["validUntil"] = "2030-01-01T00:00:00+99:00"
    outcome = admit("CREATE", body, "carol", CTX)
    assert outcome.decision.codes == (Reason.INVALID_RESOURCE,)
    (violation,) = outcome.decision.violations
    assert violation.path == "spec.validUntil"
    assert "aigov could not read this ModelApproval" in violation.message


def test_an_approval_of_an_unknown_assessment_is_refused() -> None:
    outcome = admit("CREATE", approval_body(), "carol", CTX)
    assert outcome.decision.violations == (
        Violation(
            Reason.INVALID_RESOURCE,
            "RiskAssessment 'fraud-ra' does not exist in this namespace: assess first",
            "spec.riskAssessmentRef",
        ),
    )


def test_an_approval_relying_on_an_assessment_of_another_spec_is_refused() -> None:
    other = RiskAssessment.from_body(assessment_body({ASSESSOR_ANNOTATION: "bob"}, hash_=OLD))
    outcome = admit("CREATE", approval_body(), "carol", Context(MODEL, other, now=NOW))
    assert outcome.decision.codes == (Reason.INVALID_RESOURCE,)
    assert f"assessed spec hash {OLD[:12]}..." in outcome.message


def test_a_trusted_signer_with_a_bad_key_is_refused() -> None:
    body = {
        "apiVersion": constants.API_VERSION,
        "kind": "TrustedSigner",
        "metadata": {"name": "carol"},
        "spec": {
            "identity": "carol",
            "publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "duties": ["approve"],
        },
    }
    outcome = judge(request("CREATE", body, "admin"), CTX, OPERATORS)
    assert outcome.decision.codes == (Reason.INVALID_RESOURCE,)
    assert outcome.decision.violations[0].path == "spec.publicKey"


# Separation of duties ---------------------------------------------------------------------


def test_a_third_person_may_assess() -> None:
    outcome = admit("CREATE", assessment_body(), "bob", CTX)
    assert outcome.allowed
    assert outcome.decision.violations == ()
    assert outcome.warnings == ()


def test_the_author_may_not_assess_their_model() -> None:
    outcome = admit("CREATE", assessment_body(), "alice", CTX)
    message = (
        f"'alice' authored the spec of GovernedModel {NAME!r} and may not assess it: the "
        "spec's authors, the assessor and the approver must be different people"
    )
    assert outcome.decision.violations == (duty(message),)
    assert not outcome.allowed
    assert outcome.message == (
        f"aigov refused RiskAssessment risk/fraud-ra: SeparationOfDuties at "
        f"metadata.annotations: {message}"
    )


def test_the_assessor_may_not_approve_what_they_assessed() -> None:
    outcome = admit("CREATE", approval_body(), "bob", WITH_ASSESSMENT)
    assert outcome.decision.violations == (
        duty(
            f"'bob' assessed GovernedModel {NAME!r} (RiskAssessment 'fraud-ra') and may not "
            "also decide on it"
        ),
    )


def test_an_author_who_also_assessed_breaks_both_rules() -> None:
    own = RiskAssessment.from_body(assessment_body({ASSESSOR_ANNOTATION: "alice"}))
    outcome = admit("CREATE", approval_body(), "alice", Context(MODEL, own, now=NOW))
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)
    assert len(outcome.decision.violations) == 2


def test_a_third_person_may_approve() -> None:
    outcome = admit("CREATE", approval_body(), "carol", WITH_ASSESSMENT)
    assert outcome.allowed, outcome.message
    assert outcome.decision.violations == ()
    assert outcome.warnings == ()


def test_an_operator_user_is_held_to_duties_on_create() -> None:
    author_is_operator = GovernedModel.from_body(model_body({AUTHOR_ANNOTATION: OPERATOR}))
    outcome = admit("CREATE", assessment_body(), OPERATOR, Context(author_is_operator, now=NOW))
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)


def test_creating_a_model_is_not_judged_for_duties() -> None:
    outcome = admit("CREATE", model_body(), "alice", Context(model=None, now=NOW))
    assert outcome.allowed
    assert outcome.warnings == ()


@pytest.mark.parametrize("decision", ["reject", "revoke"])
def test_the_author_may_stop_their_own_model(decision: str) -> None:
    """Rejecting or revoking only makes things safer: no conflict of interest to refuse."""
    outcome = admit("CREATE", approval_body(decision=decision), "alice", CTX)
    assert outcome.allowed, outcome.message
    assert outcome.decision.violations == ()


# Warnings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [assessment_body(model="ghost"), approval_body(model="ghost", decision="revoke")],
    ids=["ra", "ma"],
)
def test_an_unknown_model_is_allowed_with_a_warning(body: dict[str, Any]) -> None:
    outcome = admit("CREATE", body, "alice", Context(model=None, now=NOW))
    assert outcome.allowed, outcome.message
    assert outcome.decision.violations == ()
    warning = (
        "aigov: GovernedModel 'ghost' not found in 'risk': separation of duties is checked "
        "again when a workload uses it"
    )
    assert outcome.warnings == (warning,)


def test_a_spec_hash_that_is_not_current_warns() -> None:
    outcome = admit("CREATE", assessment_body(hash_=OLD), "bob", CTX)
    assert outcome.allowed
    assert outcome.warnings == (
        f"aigov: modelRef.specHash {OLD[:12]}... is not the current spec hash "
        f"{CURRENT[:12]}... of GovernedModel {NAME!r}: this RiskAssessment will not count",
    )


def test_the_current_spec_hash_does_not_warn() -> None:
    assert admit("CREATE", assessment_body(), "bob", CTX).warnings == ()


# ServiceAccounts (issue 11: impersonation leaves no trace) --------------------------------

ROBOT = "system:serviceaccount:risk:pipeline"


def test_an_unsigned_assessment_by_a_service_account_is_refused() -> None:
    outcome = admit("CREATE", assessment_body(), ROBOT, CTX)
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)
    assert "anyone who may impersonate it (the edit role may)" in outcome.message


def test_an_unsigned_approval_by_a_service_account_is_refused() -> None:
    outcome = admit("CREATE", approval_body(), ROBOT, WITH_ASSESSMENT)
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)


@pytest.mark.parametrize("decision", ["reject", "revoke"])
def test_a_service_account_may_still_stop_a_model(decision: str) -> None:
    outcome = admit("CREATE", approval_body(decision=decision), ROBOT, CTX)
    assert outcome.allowed, outcome.message
