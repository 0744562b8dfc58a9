"""standing(): which assessment and decision count for a model at a moment, and what follows.

Bodies are built as the API server stores them and parsed with `Kind.from_body`, so the spec
hash is the one every reader of the stored object computes.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import builders
import pytest
from builders import (
    NAMESPACE,
    T0,
    UNTIL,
    governed_model,
    model_approval,
    model_spec,
    risk_assessment,
)

from aigov.api.models import (
    FieldProblem,
    GovernedModel,
    ModelApproval,
    Phase,
    RiskAssessment,
    spec_hash,
)
from aigov.policy.standing import Evidence, Standing, standing

NAME = builders.MODEL_NAME
JUSTIFICATION = "{decision}: model risk committee"
CURRENT = spec_hash(model_spec())
OLD = "b" * 64


def model(spec: dict[str, Any] | None = None, *, author: str | None = "alice") -> GovernedModel:
    return governed_model(spec, author=author)


def assessment(name: str = "fraud-ra", *, hash_: str = CURRENT, **options: Any) -> RiskAssessment:
    """Bound to the current spec unless `hash_` says; `options` as `risk_assessment`'s."""
    return risk_assessment(hash_, name=name, **options)


def approval(name: str = "fraud-ma", *, hash_: str = CURRENT, **options: Any) -> ModelApproval:
    """Bound to the current spec unless `hash_` says; `options` as `model_approval`'s."""
    return model_approval(hash_, name=name, justification=JUSTIFICATION, **options)


def approved(now: datetime = T0 + timedelta(days=1), **model_changes: Any) -> Standing:
    """A model with one current assessment and one approval relying on it."""
    return standing(model(model_spec(**model_changes)), [assessment()], [approval()], now)


def names(objects: tuple[RiskAssessment | ModelApproval, ...]) -> list[str]:
    return [o.metadata.name for o in objects]


# Nothing yet ------------------------------------------------------------------------------


def test_a_new_model_has_nothing_in_force() -> None:
    st = standing(model(), [], [], T0)
    assert st.spec_hash == CURRENT
    assert st.now == T0
    assert st.assessment is None
    assert st.decision is None
    assert st.stale_decisions == ()
    assert st.duty_problems == ()
    assert st.lineage_problems == ()
    assert st.phase is Phase.PENDING_ASSESSMENT
    assert not st.approved
    assert not st.assessment_expired
    assert not st.approval_expired
    assert not st.approval_basis_stale
    assert not st.risk_unacceptable
    assert not st.may_run
    assert st.next_expiry() is None


def test_evidence_defaults_to_nothing_known() -> None:
    ev = Evidence(namespace=NAMESPACE, name=NAME)
    assert (ev.model, ev.invalid, ev.assessments, ev.approvals) == (None, None, (), ())


def test_an_approved_model_may_run() -> None:
    st = approved()
    assert st.assessment is not None
    assert st.assessment.metadata.name == "fraud-ra"
    assert st.decision is not None
    assert st.decision.metadata.name == "fraud-ma"
    assert st.approved
    assert st.may_run
    assert st.phase is Phase.APPROVED
    assert st.next_expiry() == UNTIL


# Which assessment counts ------------------------------------------------------------------


def test_the_newest_assessment_bound_to_the_current_hash_counts() -> None:
    assessments = [
        assessment("ra-newest-old-hash", hash_=OLD, created=T0 + timedelta(days=3)),
        assessment("ra-new", created=T0 + timedelta(days=2), level="high"),
        assessment("ra-old", created=T0),
        assessment("ra-no-time", created=None, level="low"),
    ]
    st = standing(model(), assessments, [], T0 + timedelta(days=4))
    assert st.assessment is not None
    assert st.assessment.metadata.name == "ra-new"
    assert st.assessment.spec.risk_level == "high"


def test_an_assessment_without_creation_time_sorts_oldest() -> None:
    st = standing(model(), [assessment("ra-dated"), assessment("ra-undated", created=None)], [], T0)
    assert st.assessment is not None
    assert st.assessment.metadata.name == "ra-dated"


def test_same_second_assessments_are_ordered_by_name() -> None:
    for order in itertools.permutations([assessment("ra-b"), assessment("ra-a")]):
        st = standing(model(), order, [], T0)
        assert st.assessment is not None
        assert st.assessment.metadata.name == "ra-b"


@pytest.mark.parametrize(
    "other",
    [
        assessment("ra-elsewhere", namespace="other", created=T0 + timedelta(days=1)),
        assessment("ra-deleting", created=T0 + timedelta(days=1), deleted=T0 + timedelta(days=2)),
        assessment("ra-other-model", model_name="other-model", created=T0 + timedelta(days=1)),
    ],
    ids=["other-namespace", "being-deleted", "other-model"],
)
def test_assessments_that_do_not_name_this_model_here_are_ignored(
    other: RiskAssessment,
) -> None:
    st = standing(model(), [assessment(), other], [], T0 + timedelta(days=3))
    assert st.assessment is not None
    assert st.assessment.metadata.name == "fraud-ra"
    alone = standing(model(), [other], [], T0 + timedelta(days=3))
    assert alone.assessment is None
    assert alone.phase is Phase.PENDING_ASSESSMENT


def test_an_assessment_of_an_older_spec_does_not_count() -> None:
    st = standing(model(), [assessment(hash_=OLD)], [approval()], T0)
    assert st.assessment is None
    assert st.phase is Phase.PENDING_ASSESSMENT
    assert not st.may_run


# Which decision counts --------------------------------------------------------------------


def test_the_newest_decision_wins() -> None:
    decisions = [
        approval("ma-approve", created=T0),
        approval("ma-revoke", created=T0 + timedelta(days=1), decision="revoke"),
        approval("ma-reapprove", created=T0 + timedelta(days=2)),
    ]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=3))
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-reapprove"
    assert st.approved
    assert st.phase is Phase.APPROVED
    revoked = standing(model(), [assessment()], decisions[:2], T0 + timedelta(days=3))
    assert revoked.decision is not None
    assert revoked.decision.metadata.name == "ma-revoke"
    assert not revoked.approved
    assert revoked.phase is Phase.REJECTED
    assert not revoked.may_run


@pytest.mark.parametrize(
    ("verdicts", "winner"),
    [
        (("approve", "reject", "revoke"), "revoke"),
        (("approve", "reject"), "reject"),
        (("approve", "revoke"), "revoke"),
        (("reject", "revoke"), "revoke"),
    ],
)
def test_within_one_second_the_stricter_decision_wins(
    verdicts: tuple[str, ...], winner: str
) -> None:
    # Names sort against the strictness ("z-approve" after "a-revoke"): strictness decides.
    prefixes = {"approve": "z", "reject": "m", "revoke": "a"}
    decisions = [approval(f"{prefixes[v]}-{v}", decision=v) for v in verdicts]
    for order in itertools.permutations(decisions):
        st = standing(model(), [assessment()], order, T0 + timedelta(seconds=1))
        assert st.decision is not None
        assert st.decision.spec.decision == winner
        assert st.decision.metadata.name == f"{prefixes[winner]}-{winner}"
        assert not st.approved
        assert st.phase is Phase.REJECTED


def test_a_later_second_beats_strictness() -> None:
    revoke = approval("ma-revoke", decision="revoke", created=T0)
    again = approval("ma-again", created=T0 + timedelta(seconds=1))
    st = standing(model(), [assessment()], [again, revoke], T0 + timedelta(minutes=1))
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-again"
    assert st.approved


@pytest.mark.parametrize(
    "revoke",
    [
        approval("ma-revoke", decision="revoke", namespace="other", created=T0 + timedelta(days=1)),
        approval(
            "ma-revoke",
            decision="revoke",
            created=T0 + timedelta(days=1),
            deleted=T0 + timedelta(days=2),
        ),
        approval(
            "ma-revoke", decision="revoke", model_name="other-model", created=T0 + timedelta(days=1)
        ),
    ],
    ids=["other-namespace", "being-deleted", "other-model"],
)
def test_decisions_that_do_not_name_this_model_here_are_ignored(revoke: ModelApproval) -> None:
    st = standing(model(), [assessment()], [approval(), revoke], T0 + timedelta(days=3))
    assert st.decision is not None
    assert st.decision.metadata.name == "fraud-ma"
    assert st.stale_decisions == ()
    assert st.may_run


def test_approvals_of_an_older_spec_are_stale() -> None:
    decisions = [
        approval("ma-old-2", hash_=OLD, created=T0 + timedelta(days=2)),
        approval("ma-old-1", hash_=OLD, created=T0 + timedelta(days=1)),
        approval("ma-other-ns", hash_=OLD, namespace="other"),
    ]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=3))
    assert st.decision is None
    assert names(st.stale_decisions) == ["ma-old-1", "ma-old-2"]
    assert st.phase is Phase.PENDING_APPROVAL
    assert not st.may_run
    assert st.duty_problems == ()


@pytest.mark.parametrize("verdict", ["reject", "revoke"])
def test_a_veto_of_any_spec_hash_voids_every_earlier_approval(verdict: str) -> None:
    """Issue 9: approve H1, change to H2, veto H2, restore H1: H1's approval stays void."""
    decisions = [
        approval("ma-h1", created=T0),
        approval("ma-h2-veto", hash_=OLD, created=T0 + timedelta(days=1), decision=verdict),
    ]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=2))
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-h2-veto"
    assert st.veto_of_other_spec
    assert st.phase is Phase.REJECTED
    assert not st.may_run


def test_an_approval_made_after_a_veto_counts_again() -> None:
    decisions = [
        approval("ma-h2-veto", hash_=OLD, created=T0, decision="revoke"),
        approval("ma-h1-new", created=T0 + timedelta(days=1)),
    ]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=2))
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-h1-new"
    assert st.may_run


def test_a_re_applied_signed_approval_keeps_its_signing_time() -> None:
    """A signed approval deleted and re-created after a revocation keeps the moment its
    signer decided (aigov.io/signed-at), so the revocation still voids it."""
    signed = approval("ma-signed", created=T0 + timedelta(days=2))
    signed = signed.model_copy(
        update={
            "metadata": signed.metadata.model_copy(
                update={
                    "annotations": {
                        **signed.metadata.annotations,
                        "aigov.io/signed-at": T0.isoformat(),
                    }
                }
            )
        }
    )
    decisions = [approval("ma-revoke", created=T0 + timedelta(days=1), decision="revoke"), signed]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=3))
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-revoke"
    assert not st.may_run


def test_unreadable_decisions_fail_closed() -> None:
    st = standing(
        model(), [assessment()], [approval()], T0, ["ModelApproval 'x' cannot be read: bad"]
    )
    assert st.approved
    assert not st.may_run
    assert st.phase is Phase.PENDING_APPROVAL


def test_an_approval_relying_on_a_re_created_assessment_is_stale() -> None:
    """The approval stamped the uid of the assessment it relied on; one of the same name
    created again (another uid) is not what was approved."""
    ma = approval(
        annotations={"aigov.io/approver": "carol", "aigov.io/assessment-uid": "uid-of-first"}
    )
    st = standing(model(), [assessment()], [ma], T0)
    assert st.approval_basis_stale
    assert not st.may_run


def test_a_current_decision_next_to_stale_ones() -> None:
    decisions = [approval("ma-old", hash_=OLD), approval("ma-now")]
    st = standing(model(), [assessment()], decisions, T0)
    assert st.decision is not None
    assert st.decision.metadata.name == "ma-now"
    assert names(st.stale_decisions) == ["ma-old"]
    assert st.may_run


# Expiry -----------------------------------------------------------------------------------


def test_the_assessment_expires_exactly_at_valid_until() -> None:
    just_before = approved(UNTIL - timedelta(microseconds=1))
    assert not just_before.assessment_expired
    assert just_before.may_run
    assert just_before.phase is Phase.APPROVED
    assert just_before.next_expiry() == UNTIL

    at = approved(UNTIL)
    assert at.assessment_expired
    assert not at.may_run
    assert at.phase is Phase.EXPIRED
    assert at.next_expiry() is None


def test_the_approval_expires_exactly_at_its_valid_until() -> None:
    lapse = T0 + timedelta(days=30)
    decisions = [approval(valid_until=lapse)]
    before = standing(model(), [assessment()], decisions, lapse - timedelta(microseconds=1))
    assert not before.approval_expired
    assert before.may_run
    assert before.next_expiry() == lapse

    at = standing(model(), [assessment()], decisions, lapse)
    assert at.approval_expired
    assert at.approved
    assert not at.assessment_expired
    assert not at.may_run
    assert at.phase is Phase.EXPIRED
    assert at.next_expiry() == UNTIL


def test_an_expired_assessment_is_named_before_an_expired_approval() -> None:
    decisions = [approval(valid_until=T0 + timedelta(days=30))]
    st = standing(model(), [assessment()], decisions, UNTIL + timedelta(days=1))
    assert st.assessment_expired
    assert st.approval_expired
    assert st.phase is Phase.EXPIRED
    assert st.next_expiry() is None


@pytest.mark.parametrize(
    ("approval_until", "expected"),
    [
        (None, UNTIL),
        (T0 + timedelta(days=30), T0 + timedelta(days=30)),
        (UNTIL + timedelta(days=30), UNTIL),
    ],
    ids=["no-approval-validity", "approval-first", "assessment-first"],
)
def test_next_expiry_is_the_earliest_moment_still_ahead(
    approval_until: datetime | None, expected: datetime
) -> None:
    st = standing(model(), [assessment()], [approval(valid_until=approval_until)], T0)
    assert st.next_expiry() == expected


def test_next_expiry_ignores_a_decision_that_does_not_approve() -> None:
    revoke = approval(decision="revoke", valid_until=T0 + timedelta(days=1))
    st = standing(model(), [assessment()], [revoke], T0)
    assert not st.approval_expired
    assert st.next_expiry() == UNTIL
    st_later = standing(model(), [assessment()], [revoke], T0 + timedelta(days=2))
    assert not st_later.approval_expired
    assert st_later.phase is Phase.REJECTED


def test_next_expiry_after_the_approval_lapsed_is_the_assessment() -> None:
    decisions = [approval(valid_until=T0 + timedelta(days=1))]
    st = standing(model(), [assessment()], decisions, T0 + timedelta(days=2))
    assert st.next_expiry() == UNTIL


# Basis of the approval --------------------------------------------------------------------


def test_an_approval_relying_on_a_superseded_assessment_must_be_renewed() -> None:
    assessments = [assessment("fraud-ra"), assessment("fraud-ra-2", created=T0 + timedelta(days=1))]
    decisions = [approval(assessment_ref="fraud-ra", created=T0 + timedelta(hours=1))]
    st = standing(model(), assessments, decisions, T0 + timedelta(days=2))
    assert st.assessment is not None
    assert st.assessment.metadata.name == "fraud-ra-2"
    assert st.approved
    assert st.approval_basis_stale
    assert not st.may_run
    assert st.phase is Phase.PENDING_APPROVAL

    renewed = [
        *decisions,
        approval("fraud-ma-2", assessment_ref="fraud-ra-2", created=T0 + timedelta(days=1)),
    ]
    again = standing(model(), assessments, renewed, T0 + timedelta(days=2))
    assert again.decision is not None
    assert again.decision.metadata.name == "fraud-ma-2"
    assert not again.approval_basis_stale
    assert again.may_run


def test_an_approval_naming_an_unknown_assessment_is_stale() -> None:
    st = standing(model(), [assessment()], [approval(assessment_ref="no-such-ra")], T0)
    assert st.approval_basis_stale
    assert st.phase is Phase.PENDING_APPROVAL


def test_basis_is_not_judged_without_an_approval_or_an_assessment() -> None:
    revoke = approval(decision="revoke", assessment_ref="no-such-ra")
    assert not standing(model(), [assessment()], [revoke], T0).approval_basis_stale
    assert not standing(model(), [], [approval()], T0).approval_basis_stale


# Separation of duties ---------------------------------------------------------------------


def test_missing_stamps_are_duty_problems() -> None:
    st = standing(model(author=None), [assessment(assessor=None)], [approval(approver=None)], T0)
    assert st.duty_problems == (
        "no author stamp on the GovernedModel: aigov cannot tell who the author was",
        "no assessor stamp on the RiskAssessment: aigov cannot tell who the assessor was",
        "no approver stamp on the ModelApproval: aigov cannot tell who the approver was",
    )
    assert not st.may_run
    assert st.phase is Phase.PENDING_APPROVAL


def test_an_empty_stamp_counts_as_missing() -> None:
    st = standing(model(), [assessment(assessor="")], [approval()], T0)
    assert st.duty_problems == (
        "no assessor stamp on the RiskAssessment: aigov cannot tell who the assessor was",
    )


def test_a_missing_stamp_hides_the_comparison() -> None:
    st = standing(
        model(author=None), [assessment(assessor="bob")], [approval("m", approver="bob")], T0
    )
    assert st.duty_problems == (
        "no author stamp on the GovernedModel: aigov cannot tell who the author was",
    )


@pytest.mark.parametrize(
    ("author", "assessor", "approver", "problems"),
    [
        ("alice", "alice", "carol", ("'alice' is both author and assessor",)),
        ("alice", "bob", "alice", ("'alice' is both author and approver",)),
        ("alice", "bob", "bob", ("'bob' is both assessor and approver",)),
        (
            "alice",
            "alice",
            "alice",
            (
                "'alice' is both author and assessor",
                "'alice' is both author and approver",
                "'alice' is both assessor and approver",
            ),
        ),
        ("alice", "bob", "carol", ()),
    ],
)
def test_one_person_in_two_roles(
    author: str, assessor: str, approver: str, problems: tuple[str, ...]
) -> None:
    st = standing(
        model(author=author), [assessment(assessor=assessor)], [approval(approver=approver)], T0
    )
    assert st.duty_problems == problems
    assert st.may_run is (not problems)
    assert st.phase is (Phase.PENDING_APPROVAL if problems else Phase.APPROVED)


@pytest.mark.parametrize("verdict", ["reject", "revoke"])
def test_duties_are_judged_only_for_an_approval(verdict: str) -> None:
    st = standing(
        model(), [assessment(assessor="alice")], [approval(decision=verdict, approver="alice")], T0
    )
    assert st.duty_problems == ()
    assert st.phase is Phase.REJECTED


def test_duties_are_not_judged_without_an_assessment() -> None:
    st = standing(model(), [], [approval(approver="alice")], T0)
    assert st.duty_problems == ()
    assert st.phase is Phase.PENDING_ASSESSMENT


# Phase, rule by rule ----------------------------------------------------------------------


def test_retired_is_named_first_and_never_runs() -> None:
    st = approved(lifecycle="retired")
    # lifecycle is outside the hash: the assessment and approval still bind.
    assert st.spec_hash == CURRENT
    assert st.approved
    assert st.retired
    assert not st.deprecated
    assert not st.may_run
    assert st.phase is Phase.RETIRED
    broken = model(model_spec(lifecycle="retired", lineage={"datasets": []}))
    assert standing(broken, [], [], T0).phase is Phase.RETIRED


def test_deprecated_still_runs() -> None:
    st = approved(lifecycle="deprecated")
    assert st.spec_hash == CURRENT
    assert st.deprecated
    assert not st.retired
    assert st.may_run
    assert st.phase is Phase.APPROVED


def test_incomplete_lineage_is_invalid() -> None:
    spec = model_spec(lineage={"datasets": []})
    st = standing(model(spec), [], [], T0)
    assert st.lineage_problems == (
        FieldProblem(
            "spec.lineage.datasets",
            "no dataset lineage: list the datasets the model was trained and evaluated on",
        ),
        FieldProblem(
            "spec.lineage.code",
            "no code lineage: give the repository and commit that produced the model",
        ),
    )
    assert st.phase is Phase.INVALID
    hash_ = spec_hash(spec)
    bound = standing(model(spec), [assessment(hash_=hash_)], [approval(hash_=hash_)], T0)
    assert bound.approved
    assert not bound.may_run
    assert bound.phase is Phase.INVALID


def test_an_unacceptable_assessment_rejects() -> None:
    st = standing(model(), [assessment(level="unacceptable")], [approval()], T0)
    assert st.risk_unacceptable
    assert st.approved
    assert not st.may_run
    assert st.phase is Phase.REJECTED


def test_a_prohibited_risk_class_rejects_even_before_assessment() -> None:
    spec = model_spec(riskClass="prohibited")
    st = standing(model(spec), [], [], T0)
    assert st.prohibited
    assert st.risk_unacceptable
    assert st.phase is Phase.REJECTED
    hash_ = spec_hash(spec)
    full = standing(model(spec), [assessment(hash_=hash_)], [approval(hash_=hash_)], T0)
    assert full.approved
    assert not full.may_run
    assert full.phase is Phase.REJECTED


def test_an_unacceptable_but_expired_assessment_is_still_rejected() -> None:
    st = standing(model(), [assessment(level="unacceptable")], [], UNTIL)
    assert st.assessment_expired
    assert st.phase is Phase.REJECTED


def test_an_expired_assessment_is_named_before_a_missing_approval() -> None:
    st = standing(model(), [assessment()], [], UNTIL)
    assert st.phase is Phase.EXPIRED


@pytest.mark.parametrize("verdict", ["reject", "revoke"])
def test_a_negative_decision_rejects(verdict: str) -> None:
    st = standing(model(), [assessment()], [approval(decision=verdict)], T0)
    assert st.decision is not None
    assert st.decision.spec.decision == verdict
    assert not st.approved
    assert not st.may_run
    assert st.phase is Phase.REJECTED


def test_an_assessed_model_waits_for_its_approval() -> None:
    st = standing(model(), [assessment()], [], T0)
    assert st.phase is Phase.PENDING_APPROVAL
    assert not st.may_run
    assert st.next_expiry() == UNTIL
