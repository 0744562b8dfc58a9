"""Admission of aigov's own kinds: identity stamps and separation of duties.

AdmissionRequests are built directly, as `parse_review` would hand them over; the model and
assessment in the context are parsed from stored bodies.
"""

from __future__ import annotations

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
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api import constants
from aigov.api.constants import (
    APPROVER_ANNOTATION,
    ASSESSOR_ANNOTATION,
    AUTHOR_ANNOTATION,
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


# Stamps -----------------------------------------------------------------------------------


def test_each_kind_has_its_stamp() -> None:
    assert dict(STAMPS) == {
        "GovernedModel": "aigov.io/author",
        "RiskAssessment": "aigov.io/assessor",
        "ModelApproval": "aigov.io/approver",
    }
    assert frozenset({"aigov.io/author", "aigov.io/assessor", "aigov.io/approver"}) == ALL_STAMPS


@pytest.mark.parametrize(
    ("body", "key", "user"),
    [
        (model_body(), AUTHOR_ANNOTATION, "alice"),
        (assessment_body(), ASSESSOR_ANNOTATION, "bob"),
        (approval_body(), APPROVER_ANNOTATION, "carol"),
    ],
    ids=["GovernedModel", "RiskAssessment", "ModelApproval"],
)
def test_create_stamps_the_requester(body: dict[str, Any], key: str, user: str) -> None:
    assert dict(stamp(request("CREATE", body, user)).changes) == {key: user}


def test_create_drops_typed_stamps_and_overwrites_its_own() -> None:
    typed = {
        AUTHOR_ANNOTATION: "mallory",
        ASSESSOR_ANNOTATION: "mallory",
        APPROVER_ANNOTATION: "mallory",
        "team": "risk",
    }
    changes = stamp(request("CREATE", approval_body(typed), "carol")).changes
    assert dict(changes) == {
        AUTHOR_ANNOTATION: None,
        ASSESSOR_ANNOTATION: None,
        APPROVER_ANNOTATION: "carol",
    }


def test_create_drops_only_the_stamps_that_were_typed() -> None:
    typed = {ASSESSOR_ANNOTATION: "bob"}
    assert dict(stamp(request("CREATE", model_body(typed), "alice")).changes) == {
        ASSESSOR_ANNOTATION: None,
        AUTHOR_ANNOTATION: "alice",
    }


def test_create_without_metadata_annotations_still_stamps() -> None:
    body = model_body()
    body["metadata"]["annotations"] = None
    assert dict(stamp(request("CREATE", body, "alice")).changes) == {AUTHOR_ANNOTATION: "alice"}
    body["metadata"] = {"name": NAME}
    assert dict(stamp(request("CREATE", body, "alice")).changes) == {AUTHOR_ANNOTATION: "alice"}


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE", "CONNECT"])
def test_only_create_stamps(operation: str) -> None:
    body = model_body({AUTHOR_ANNOTATION: "mallory"})
    assert dict(stamp(request(operation, body, "mallory", old=model_body())).changes) == {}


def test_other_kinds_are_not_stamped() -> None:
    body = {
        "apiVersion": constants.API_VERSION,
        "kind": "PlacementPolicy",
        "metadata": {"name": "confidential-eu", "annotations": {AUTHOR_ANNOTATION: "x"}},
        "spec": {"nodePools": []},
    }
    assert dict(stamp(request("CREATE", body, "admin")).changes) == {}


# Stamp immutability -----------------------------------------------------------------------


def test_changing_a_stamp_is_refused() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({AUTHOR_ANNOTATION: "mallory"})
    outcome = judge(request("UPDATE", new, "mallory", old), Context(model=MODEL), OPERATORS)
    expected = Violation(
        Reason.STAMP_PROTECTED,
        "aigov.io/author records who created this GovernedModel and cannot be changed or "
        "removed (was 'alice', now 'mallory')",
        "metadata.annotations[aigov.io/author]",
    )
    assert outcome.decision.violations == (expected,)
    assert not outcome.allowed
    assert outcome.mode is Mode.ENFORCE
    assert outcome.verdict == "refused"
    assert outcome.message == (
        f"aigov refused GovernedModel risk/{NAME}: StampProtected at "
        "metadata.annotations[aigov.io/author]: aigov.io/author records who created this "
        "GovernedModel and cannot be changed or removed (was 'alice', now 'mallory')"
    )
    assert outcome.warnings == ()


def test_removing_a_stamp_is_refused() -> None:
    old = assessment_body({ASSESSOR_ANNOTATION: "bob"})
    new = assessment_body({})
    outcome = judge(request("UPDATE", new, "bob", old), Context(model=MODEL), OPERATORS)
    assert outcome.decision.violations == (
        Violation(
            Reason.STAMP_PROTECTED,
            "aigov.io/assessor records who created this RiskAssessment and cannot be changed "
            "or removed (was 'bob', now None)",
            "metadata.annotations[aigov.io/assessor]",
        ),
    )


def test_adding_another_roles_stamp_is_refused() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({AUTHOR_ANNOTATION: "alice", APPROVER_ANNOTATION: "alice"})
    outcome = judge(request("UPDATE", new, "alice", old), Context(model=MODEL), OPERATORS)
    assert outcome.decision.violations == (
        Violation(
            Reason.STAMP_PROTECTED,
            "aigov.io/approver records who created this GovernedModel and cannot be changed "
            "or removed (was None, now 'alice')",
            "metadata.annotations[aigov.io/approver]",
        ),
    )


def test_every_changed_stamp_is_reported() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({ASSESSOR_ANNOTATION: "alice", APPROVER_ANNOTATION: "alice"})
    outcome = judge(request("UPDATE", new, "alice", old), Context(model=MODEL), OPERATORS)
    assert [v.path for v in outcome.decision.violations] == [
        "metadata.annotations[aigov.io/approver]",
        "metadata.annotations[aigov.io/assessor]",
        "metadata.annotations[aigov.io/author]",
    ]
    assert outcome.decision.codes == (Reason.STAMP_PROTECTED,)


def test_the_operator_may_change_stamps() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({})
    outcome = judge(request("UPDATE", new, OPERATOR, old), Context(model=MODEL), OPERATORS)
    assert outcome.decision.violations == ()
    assert outcome.allowed
    assert outcome.message == ""
    assert outcome.verdict == "allowed"


def test_an_update_that_keeps_the_stamps_is_allowed() -> None:
    old = model_body({AUTHOR_ANNOTATION: "alice"})
    new = model_body({AUTHOR_ANNOTATION: "alice", "team": "risk"})
    outcome = judge(request("UPDATE", new, "alice", old), Context(model=MODEL), OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()


def test_an_update_is_not_judged_for_duties() -> None:
    old = assessment_body({ASSESSOR_ANNOTATION: "bob"})
    new = assessment_body({ASSESSOR_ANNOTATION: "bob", "reviewed": "yes"})
    outcome = judge(request("UPDATE", new, "alice", old), Context(model=MODEL), OPERATORS)
    assert outcome.allowed
    assert outcome.warnings == ()


# Separation of duties ---------------------------------------------------------------------


def test_a_third_person_may_assess() -> None:
    outcome = judge(request("CREATE", assessment_body(), "bob"), Context(model=MODEL), OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()
    assert outcome.warnings == ()


def test_the_author_may_not_assess_their_model() -> None:
    outcome = judge(request("CREATE", assessment_body(), "alice"), Context(model=MODEL), OPERATORS)
    assert outcome.decision.violations == (
        duty(
            f"'alice' wrote GovernedModel {NAME!r} and may not assess it: author, assessor and "
            "approver must be three different people"
        ),
    )
    assert not outcome.allowed
    assert outcome.message == (
        f"aigov refused RiskAssessment risk/fraud-ra: SeparationOfDuties at "
        f"metadata.annotations: 'alice' wrote GovernedModel {NAME!r} and may not assess it: "
        "author, assessor and approver must be three different people"
    )


def test_the_author_may_not_approve_their_model() -> None:
    ctx = Context(model=MODEL, assessment=ASSESSMENT)
    outcome = judge(request("CREATE", approval_body(), "alice"), ctx, OPERATORS)
    assert outcome.decision.violations == (
        duty(
            f"'alice' wrote GovernedModel {NAME!r} and may not approve it: author, assessor "
            "and approver must be three different people"
        ),
    )


def test_the_assessor_may_not_approve_what_they_assessed() -> None:
    ctx = Context(model=MODEL, assessment=ASSESSMENT)
    outcome = judge(request("CREATE", approval_body(), "bob"), ctx, OPERATORS)
    assert outcome.decision.violations == (
        duty(
            f"'bob' assessed GovernedModel {NAME!r} (RiskAssessment 'fraud-ra') and may not "
            "also decide on it"
        ),
    )


def test_an_author_who_also_assessed_breaks_both_rules() -> None:
    own = RiskAssessment.from_body(assessment_body({ASSESSOR_ANNOTATION: "alice"}))
    outcome = judge(request("CREATE", approval_body(), "alice"), Context(MODEL, own), OPERATORS)
    assert outcome.decision.violations == (
        duty(
            f"'alice' assessed GovernedModel {NAME!r} (RiskAssessment 'fraud-ra') and may not "
            "also decide on it"
        ),
        duty(
            f"'alice' wrote GovernedModel {NAME!r} and may not approve it: author, assessor "
            "and approver must be three different people"
        ),
    )


def test_a_third_person_may_approve() -> None:
    ctx = Context(model=MODEL, assessment=ASSESSMENT)
    outcome = judge(request("CREATE", approval_body(), "carol"), ctx, OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()
    assert outcome.warnings == ()


def test_an_approval_without_a_known_assessment_checks_the_author_only() -> None:
    outcome = judge(request("CREATE", approval_body(), "bob"), Context(model=MODEL), OPERATORS)
    assert outcome.allowed


def test_an_operator_user_is_held_to_duties_on_create() -> None:
    author_is_operator = GovernedModel.from_body(model_body({AUTHOR_ANNOTATION: OPERATOR}))
    outcome = judge(
        request("CREATE", assessment_body(), OPERATOR), Context(author_is_operator), OPERATORS
    )
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)


def test_a_model_without_author_stamp_does_not_match_anyone() -> None:
    unstamped = GovernedModel.from_body(model_body())
    outcome = judge(request("CREATE", assessment_body(), "alice"), Context(unstamped), OPERATORS)
    assert outcome.allowed


def test_creating_a_model_is_not_judged_for_duties() -> None:
    outcome = judge(request("CREATE", model_body(), "alice"), Context(model=None), OPERATORS)
    assert outcome.allowed
    assert outcome.warnings == ()


# Warnings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [assessment_body(model="ghost"), approval_body(model="ghost")], ids=["ra", "ma"]
)
def test_an_unknown_model_is_allowed_with_a_warning(body: dict[str, Any]) -> None:
    outcome = judge(request("CREATE", body, "alice"), Context(model=None), OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()
    warning = (
        "aigov: GovernedModel 'ghost' not found in 'risk': separation of duties is checked "
        "again when a workload uses it"
    )
    assert outcome.warnings == (warning,)
    assert outcome.decision.warnings == (warning,)


def test_a_spec_hash_that_is_not_current_warns() -> None:
    outcome = judge(
        request("CREATE", assessment_body(hash_=OLD), "bob"), Context(model=MODEL), OPERATORS
    )
    assert outcome.allowed
    assert outcome.warnings == (
        f"aigov: modelRef.specHash {OLD[:12]}... is not the current spec hash "
        f"{CURRENT[:12]}... of GovernedModel {NAME!r}: this RiskAssessment will not count",
    )


def test_a_stale_spec_hash_warns_beside_a_refusal() -> None:
    ctx = Context(model=MODEL, assessment=ASSESSMENT)
    outcome = judge(request("CREATE", approval_body(hash_=OLD), "alice"), ctx, OPERATORS)
    assert not outcome.allowed
    assert outcome.decision.codes == (Reason.SEPARATION_OF_DUTIES,)
    assert outcome.warnings == (
        f"aigov: modelRef.specHash {OLD[:12]}... is not the current spec hash "
        f"{CURRENT[:12]}... of GovernedModel {NAME!r}: this ModelApproval will not count",
    )


def test_the_current_spec_hash_does_not_warn() -> None:
    outcome = judge(request("CREATE", assessment_body(), "bob"), Context(model=MODEL), OPERATORS)
    assert outcome.warnings == ()


@pytest.mark.parametrize("decision", ["reject", "revoke"])
def test_the_author_may_stop_their_own_model(decision: str) -> None:
    """Rejecting or revoking only makes things safer: no conflict of interest to refuse."""
    body = approval_body(decision=decision)
    outcome = judge(request("CREATE", body, "alice"), Context(model=MODEL), OPERATORS)
    assert outcome.allowed
    assert outcome.decision.violations == ()
