"""A GovernedModel's conditions, in the Kubernetes condition dialect, derived from a Standing.

One `mark_*` function per condition type says what that condition should read now; then
`set_condition` merges it into the existing list with Kubernetes semantics (the transition
time moves only when the status does), as sigstore policy-controller's `MarkX` functions do.
Messages reuse the admission messages of `policy.governance.model_violations`, so a user
reads the same sentence in `kubectl describe gm` and in a refused `kubectl apply`.

Pure: no clock reads, no I/O; `now` and the generation are arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum

from aigov.api.constants import Reason
from aigov.api.enums import ConditionStatus, ConditionType
from aigov.api.enums import Decision as Verdict
from aigov.api.models import Condition
from aigov.policy.decision import Violation
from aigov.policy.standing import Standing


class ConditionReason(StrEnum):
    """The `reason` of each GovernedModel condition: stable CamelCase codes for machines.

    Where a rule of DESIGN.md has a reason code, the condition uses the same code, so the
    Reason column of `kubectl get gm -o wide` matches what admission refuses with; the
    approval reasons are finer (Revoked, Rejected, ApprovalExpired) than admission's single
    NotApproved because an auditor wants to tell them apart.
    """

    LINEAGE_COMPLETE = "LineageComplete"
    LINEAGE_INCOMPLETE = Reason.LINEAGE_INCOMPLETE.value
    RISK_ASSESSED = "RiskAssessed"
    RISK_ASSESSMENT_MISSING = Reason.RISK_ASSESSMENT_MISSING.value
    RISK_ASSESSMENT_EXPIRED = Reason.RISK_ASSESSMENT_EXPIRED.value
    RISK_UNACCEPTABLE = Reason.RISK_UNACCEPTABLE.value
    APPROVED = "Approved"
    NOT_APPROVED = Reason.NOT_APPROVED.value
    REVOKED = "Revoked"
    REJECTED = "Rejected"
    APPROVAL_EXPIRED = "ApprovalExpired"
    SEPARATION_OF_DUTIES = Reason.SEPARATION_OF_DUTIES.value
    MODEL_RETIRED = Reason.MODEL_RETIRED.value
    READY = "Ready"


_ORDER = tuple(ConditionType)
"""Types in the order they are written: the order of DESIGN.md, Ready last."""


def set_condition(
    conditions: Sequence[Condition], new: Condition, now: dt.datetime
) -> list[Condition]:
    """`conditions` with `new` in place of the condition of its type (appended if absent).

    Kubernetes semantics (apimachinery's meta.SetStatusCondition): lastTransitionTime is
    kept from the existing condition when the status did not change, even if reason or
    message did, and is `now` when the status changed or the condition is new; the
    `new.last_transition_time` given is ignored, since only the history decides it.
    Other conditions keep their place, so the list does not churn between reconciles.
    """
    old = next((c for c in conditions if c.type == new.type), None)
    since = old.last_transition_time if old is not None and old.status == new.status else now
    merged = new.model_copy(update={"last_transition_time": since})
    if old is None:
        return [*conditions, merged]
    return [merged if c.type == new.type else c for c in conditions]


def ordered(conditions: Sequence[Condition]) -> list[Condition]:
    """aigov's types in DESIGN.md order, Ready last, then any others in their old order.

    A fixed order keeps `kubectl describe` readable and the status patch free of churn.
    """

    def key(condition: Condition) -> int:
        if condition.type in _ORDER:
            return _ORDER.index(ConditionType(condition.type))
        return len(_ORDER)

    return sorted(conditions, key=key)


def _condition(
    type_: ConditionType,
    holds: bool,
    reason: str,
    message: str,
    *,
    generation: int | None,
    now: dt.datetime,
) -> Condition:
    return Condition(
        type=type_,
        status=ConditionStatus.TRUE if holds else ConditionStatus.FALSE,
        reason=reason,
        message=message,
        observed_generation=generation,
        last_transition_time=now,
    )


def _messages(violations: Iterable[Violation], *codes: Reason) -> str:
    return "; ".join(v.message for v in violations if v.code in codes)


def mark_lineage(
    st: Standing, violations: Sequence[Violation], generation: int | None, now: dt.datetime
) -> Condition:
    """LineageComplete: every artifact pinned by digest, datasets and code recorded."""
    if st.lineage_problems:
        message = _messages(violations, Reason.LINEAGE_INCOMPLETE)
        return _condition(
            ConditionType.LINEAGE_COMPLETE,
            False,
            ConditionReason.LINEAGE_INCOMPLETE,
            message,
            generation=generation,
            now=now,
        )
    spec = st.model.spec
    datasets = len(spec.lineage.datasets) if spec.lineage else 0
    message = (
        f"all {len(spec.artifacts)} artifact(s) are pinned by sha256 digest; "
        f"{datasets} dataset(s) and the source commit are recorded"
    )
    return _condition(
        ConditionType.LINEAGE_COMPLETE,
        True,
        ConditionReason.LINEAGE_COMPLETE,
        message,
        generation=generation,
        now=now,
    )


def _assessment_reason(st: Standing) -> ConditionReason | None:
    """Why the model is not (acceptably) assessed, in the order standing.phase uses."""
    if st.risk_unacceptable:
        return ConditionReason.RISK_UNACCEPTABLE
    if st.assessment is None:
        return ConditionReason.RISK_ASSESSMENT_MISSING
    if st.assessment_expired:
        return ConditionReason.RISK_ASSESSMENT_EXPIRED
    return None


def mark_risk_assessed(
    st: Standing, violations: Sequence[Violation], generation: int | None, now: dt.datetime
) -> Condition:
    """RiskAssessed: a current, in-date assessment of an acceptable risk."""
    reason = _assessment_reason(st)
    if reason is not None or st.assessment is None:
        message = _messages(
            violations,
            Reason.RISK_UNACCEPTABLE,
            Reason.RISK_ASSESSMENT_MISSING,
            Reason.RISK_ASSESSMENT_EXPIRED,
        )
        return _condition(
            ConditionType.RISK_ASSESSED,
            False,
            reason or ConditionReason.RISK_ASSESSMENT_MISSING,
            message,
            generation=generation,
            now=now,
        )
    ra = st.assessment
    message = (
        f"RiskAssessment {ra.metadata.name!r} by {ra.assessor or 'unknown'} rates the risk "
        f"{ra.spec.risk_level.value}, valid until {ra.spec.valid_until.isoformat()}"
    )
    return _condition(
        ConditionType.RISK_ASSESSED,
        True,
        ConditionReason.RISK_ASSESSED,
        message,
        generation=generation,
        now=now,
    )


def _approval_reason(st: Standing) -> ConditionReason | None:
    """Why the newest decision does not approve this spec, in standing.phase's order."""
    if st.decision is None or st.unreadable:
        return ConditionReason.NOT_APPROVED
    verdicts = {Verdict.REVOKE: ConditionReason.REVOKED, Verdict.REJECT: ConditionReason.REJECTED}
    rules = (
        (st.decision.spec.decision in verdicts, verdicts.get(st.decision.spec.decision)),
        (bool(st.duty_problems), ConditionReason.SEPARATION_OF_DUTIES),
        (st.approval_expired, ConditionReason.APPROVAL_EXPIRED),
        (st.approval_basis_stale, ConditionReason.NOT_APPROVED),
    )
    return next((reason for holds, reason in rules if holds), None)


def mark_approved(
    st: Standing, violations: Sequence[Violation], generation: int | None, now: dt.datetime
) -> Condition:
    """Approved: the newest decision for this spec hash approves it, in date, by a third person."""
    reason = _approval_reason(st)
    if reason is not None or st.decision is None:
        message = _messages(violations, Reason.NOT_APPROVED, Reason.SEPARATION_OF_DUTIES)
        return _condition(
            ConditionType.APPROVED,
            False,
            reason or ConditionReason.NOT_APPROVED,
            message,
            generation=generation,
            now=now,
        )
    ma = st.decision
    until = ma.spec.valid_until
    message = (
        f"ModelApproval {ma.metadata.name!r} by {ma.approver or 'unknown'} approves spec hash "
        f"{st.spec_hash[:12]}..." + (f", valid until {until.isoformat()}" if until else "")
    )
    return _condition(
        ConditionType.APPROVED,
        True,
        ConditionReason.APPROVED,
        message,
        generation=generation,
        now=now,
    )


def mark_placement(
    placement: tuple[bool, str, str], generation: int | None, now: dt.datetime
) -> Condition:
    """PlacementResolved, as the caller judged it: (resolved, reason, message)."""
    resolved, reason, message = placement
    return _condition(
        ConditionType.PLACEMENT_RESOLVED, resolved, reason, message, generation=generation, now=now
    )


def mark_ready(
    st: Standing,
    conditions: Sequence[Condition],
    violations: Sequence[Violation],
    generation: int | None,
    now: dt.datetime,
) -> Condition:
    """Ready: the model may run, i.e. every other condition is True and it is not retired.

    The reason is the first blocker (retirement, then the conditions in their order), the
    message lists every blocker, so one `kubectl get gm -o wide` row says what to fix first.
    """
    blocking = [
        c
        for c in ordered(conditions)
        if c.type in _ORDER and c.type != ConditionType.READY and c.status != ConditionStatus.TRUE
    ]
    if st.may_run and not blocking:
        message = "lineage complete, risk assessed and approved: workloads may run"
        if st.deprecated:
            message += "; the model is deprecated: plan its replacement"
        return _condition(
            ConditionType.READY,
            True,
            ConditionReason.READY,
            message,
            generation=generation,
            now=now,
        )
    reasons = [c.reason for c in blocking]
    messages = [c.message for c in blocking if c.message]
    if st.retired:
        reasons.insert(0, ConditionReason.MODEL_RETIRED)
        messages.insert(0, _messages(violations, Reason.MODEL_RETIRED))
    reason = reasons[0] if reasons else ConditionReason.NOT_APPROVED
    return _condition(
        ConditionType.READY, False, reason, "; ".join(messages), generation=generation, now=now
    )
