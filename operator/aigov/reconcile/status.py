"""The status a GovernedModel should have, and the patch that gets it there.

`desired_status` is the one idempotent reconcile (STYLE 6): create, update, resume and the
expiry timer all call it with what the indexes hold and the time, and write the result only
when `status_patch` says something changed. Feeding its result back in as the model's status
with the same inputs yields the same status: no new history, no patch, no event storm.

Pure: no clock reads, no I/O, no kopf; the handlers pass `now` and write the patch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aigov.api.enums import ConditionStatus, ConditionType, Phase
from aigov.api.models import (
    ApprovalSummary,
    GovernedModel,
    GovernedModelStatus,
    ModelApproval,
    PlacementRef,
    RiskAssessment,
    RiskAssessmentSummary,
    WorkloadRef,
)
from aigov.policy.governance import model_violations
from aigov.policy.standing import Standing, standing
from aigov.reconcile.binding import binding_patch, binding_phase, binding_status
from aigov.reconcile.conditions import (
    ConditionReason,
    mark_approved,
    mark_lineage,
    mark_placement,
    mark_ready,
    mark_risk_assessed,
    ordered,
    set_condition,
)
from aigov.reconcile.history import DEFAULT_MAX_HISTORY, append_history, new_entries

__all__ = [
    "DEFAULT_MAX_HISTORY",
    "SPEC_CHANGED",
    "binding_patch",
    "binding_phase",
    "binding_status",
    "desired_status",
    "lost_approval",
    "regained_approval",
    "status_patch",
]

SPEC_CHANGED = "SpecChanged"
"""lost_approval's reason when the spec changed: its assessment and approval no longer bind."""


def desired_status(
    model: GovernedModel,
    assessments: Iterable[RiskAssessment],
    approvals: Iterable[ModelApproval],
    now: dt.datetime,
    workloads: Sequence[WorkloadRef] = (),
    *,
    actor: str = "aigov-operator",
    placement: tuple[bool, str, str] | None = None,
    max_history: int = DEFAULT_MAX_HISTORY,
    unreadable: Sequence[str] = (),
    policy: PlacementRef | None = None,
) -> GovernedModelStatus:
    """The status `model` should have at `now`, merged with the status it has.

    Phase, spec hash, the approval and assessment in force come from `standing()`; the
    conditions keep their lastTransitionTime while their status holds; the history keeps every
    recorded entry and gains one per change since the last recorded status (see
    reconcile.history), capped at the newest `max_history`. `workloads` replaces the list.

    `placement` is (resolved, reason, message) for PlacementResolved; None means placement was
    not judged in this pass, and an existing PlacementResolved condition is kept as it is (so
    callers that do not judge placement do not flap it). Ready is True only when the model
    may run and PlacementResolved, if present, is True.

    `policy` is the PlacementPolicy judged in this pass (with `placement`) and its generation;
    a new generation of the same policy is recorded in the history.

    `unreadable` lists governance objects naming the model that could not be parsed: the
    model is then not approved, and the Approved condition says why.

    `actor` is who the operator acts as, recorded for clock-driven events such as Expired.
    Times written are `now` truncated to whole seconds, as Kubernetes writes its own.
    """
    st = standing(model, assessments, approvals, now, unreadable)
    stamp = now.replace(microsecond=0)
    generation = model.metadata.generation
    violations = model_violations(st)
    old = model.status

    conditions = list(old.conditions)
    marks = [
        mark_lineage(st, violations, generation, stamp),
        mark_risk_assessed(st, violations, generation, stamp),
        mark_approved(st, violations, generation, stamp),
    ]
    if placement is not None:
        marks.append(mark_placement(placement, generation, stamp))
    for mark in marks:
        conditions = set_condition(conditions, mark, stamp)
    ready = mark_ready(st, conditions, violations, generation, stamp)
    conditions = ordered(set_condition(conditions, ready, stamp))

    new = GovernedModelStatus(
        phase=st.phase,
        spec_hash=st.spec_hash,
        observed_generation=generation,
        conditions=conditions,
        approval=_approval_summary(st),
        risk_assessment=_assessment_summary(st),
        spec_editors=list(model.spec_editors or ()),
        placement=policy if placement is not None else old.placement,
        workloads=list(workloads),
    )
    entries = new_entries(old, new, st, actor, stamp)
    return new.model_copy(update={"history": append_history(old.history, entries, max_history)})


def _approval_summary(st: Standing) -> ApprovalSummary | None:
    """The newest decision for the current spec hash, whatever it decided."""
    ma = st.decision
    if ma is None:
        return None
    return ApprovalSummary(
        name=ma.metadata.name,
        approver=ma.approver,
        decision=ma.spec.decision,
        spec_hash=ma.spec.model_ref.spec_hash,
        valid_until=ma.spec.valid_until,
        approved_at=ma.decided_at,
        signed_by=ma.signed_by,
    )


def _assessment_summary(st: Standing) -> RiskAssessmentSummary | None:
    """The newest assessment for the current spec hash, even if expired (status says so)."""
    ra = st.assessment
    if ra is None:
        return None
    return RiskAssessmentSummary(
        name=ra.metadata.name,
        assessor=ra.assessor,
        risk_level=ra.spec.risk_level,
        spec_hash=ra.spec.model_ref.spec_hash,
        valid_until=ra.spec.valid_until,
        signed_by=ra.signed_by,
    )


def status_patch(
    current: GovernedModelStatus, desired: GovernedModelStatus
) -> dict[str, Any] | None:
    """The JSON merge patch (RFC 7386) `{"status": {...}}` from current to desired, or None.

    Only changed fields are sent; a field that disappears (e.g. the approval after a spec
    change) is sent as null, because a merge patch leaves absent keys alone. Lists
    (conditions, history, workloads) are sent whole: merge patch replaces lists.
    """
    diff = _merge_diff(current.to_k8s(), desired.to_k8s())
    return {"status": diff} if diff else None


def _merge_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns `old` into `new` (both plain JSON objects)."""
    diff: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(before, Mapping) and isinstance(value, Mapping):
            nested = _merge_diff(before, value)
            if nested:
                diff[key] = nested
        elif key not in old or before != value:
            diff[key] = value
    return diff


def _ready(status: GovernedModelStatus) -> bool:
    """Ready=True, or phase Approved for a status written before it had conditions."""
    condition = status.condition(ConditionType.READY)
    if condition is not None:
        return condition.status == ConditionStatus.TRUE
    return status.phase is Phase.APPROVED


def lost_approval(old: GovernedModelStatus, new: GovernedModelStatus) -> str | None:
    """Why a model that was Ready no longer is, as a reason code; None if it did not lose it.

    The code is what the handlers write on the workloads they flag (aigov.io/flagged,
    WorkloadRef.reason): ModelRetired, SpecChanged, Revoked, Rejected, RiskAssessmentExpired,
    ApprovalExpired, RiskUnacceptable, SeparationOfDuties, or the PlacementResolved reason.
    Retirement is named before the spec change it implies (lifecycle is part of the spec).
    """
    if not _ready(old) or _ready(new):
        return None
    if new.phase is Phase.RETIRED:
        return ConditionReason.MODEL_RETIRED.value
    if old.spec_hash is not None and old.spec_hash != new.spec_hash:
        return SPEC_CHANGED
    ready = new.condition(ConditionType.READY)
    return ready.reason if ready is not None else ConditionReason.NOT_APPROVED.value


def regained_approval(old: GovernedModelStatus, new: GovernedModelStatus) -> bool:
    """Whether a model that was not Ready now is, so flagged workloads can be cleared.

    True also on the first observation of a Ready model (an empty old status), so flags left
    from before a status was lost are cleared; clearing is harmless when there are none.
    """
    return not _ready(old) and _ready(new)
