"""The append-only history of a GovernedModel: which lifecycle events a reconcile records.

History is derived by comparing the status the model has (what was last recorded) with the
status it should have now, never from the watch event that triggered the reconcile: a
create, an update, a resume after a restart and a timer all reach the same entries, and a
second pass over an unchanged model records nothing (reconcile levels, not edges).

Pure: no clock reads, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from aigov.api.enums import Decision as Verdict
from aigov.api.enums import Lifecycle, Phase
from aigov.api.models import (
    ApprovalSummary,
    GovernedModelStatus,
    HistoryEntry,
    RiskAssessmentSummary,
)
from aigov.policy.standing import Standing

DEFAULT_MAX_HISTORY = 100
"""Entries kept in status.history. An object is at most 1.5 MiB in etcd, so the trail in
status is bounded; the complete record is in Events and the operator's decision log."""


class HistoryEvent(StrEnum):
    """`event` of a history entry."""

    CREATED = "Created"
    """The operator first saw the model (actor: its author)."""
    SPEC_CHANGED = "SpecChanged"
    """The spec hash changed: assessments and approvals of the old spec no longer count."""
    ASSESSED = "Assessed"
    """A RiskAssessment came into force (actor: its assessor)."""
    APPROVED = "Approved"
    """An approve decision came into force (actor: its approver)."""
    REJECTED = "Rejected"
    """A reject decision came into force (actor: its approver)."""
    REVOKED = "Revoked"
    """A revoke decision came into force (actor: its approver)."""
    EXPIRED = "Expired"
    """The assessment or approval in force passed its validUntil (actor: the operator)."""
    DEPRECATED = "Deprecated"
    """spec.lifecycle became deprecated."""
    RETIRED = "Retired"
    """spec.lifecycle became retired."""
    REACTIVATED = "Reactivated"
    """spec.lifecycle went back to active."""
    PLACEMENT_CHANGED = "PlacementChanged"
    """The model's PlacementPolicy was edited: its placement was judged again (actor: the
    operator, which saw the new generation)."""
    PHASE_CHANGED = "PhaseChanged"
    """The phase changed for a reason none of the events above names."""


_LIFECYCLE_EVENTS = {
    HistoryEvent.DEPRECATED: Lifecycle.DEPRECATED,
    HistoryEvent.RETIRED: Lifecycle.RETIRED,
    HistoryEvent.REACTIVATED: Lifecycle.ACTIVE,
}
_EVENT_OF_LIFECYCLE = {lifecycle: event for event, lifecycle in _LIFECYCLE_EVENTS.items()}
_EVENT_OF_VERDICT = {
    Verdict.APPROVE: HistoryEvent.APPROVED,
    Verdict.REJECT: HistoryEvent.REJECTED,
    Verdict.REVOKE: HistoryEvent.REVOKED,
}


def short(spec_hash: str | None) -> str:
    """The first 12 hex digits, enough for a person to tell hashes apart."""
    return f"{spec_hash[:12]}..." if spec_hash else "none"


def _recorded_lifecycle(history: Sequence[HistoryEntry]) -> Lifecycle:
    """The lifecycle the history last recorded; a model starts active.

    The old spec is not at hand (only the stored status is), so the history itself is the
    record. Caveat: once the entry is dropped by the cap, the current lifecycle (if not
    active) is recorded again, at most once per `max_history` entries.
    """
    for entry in reversed(history):
        if entry.event in _LIFECYCLE_EVENTS:
            return _LIFECYCLE_EVENTS[HistoryEvent(entry.event)]
    return Lifecycle.ACTIVE


def _ref(summary: ApprovalSummary | RiskAssessmentSummary | None) -> tuple[str, str | None] | None:
    """What identifies the object in force: a new one, or the same one at another spec."""
    return (summary.name, summary.spec_hash) if summary is not None else None


def _expiry_message(st: Standing) -> str:
    if st.assessment is not None and st.assessment_expired:
        until = st.assessment.spec.valid_until.isoformat()
        return f"RiskAssessment {st.assessment.metadata.name!r} expired at {until}"
    if st.decision is not None and st.decision.spec.valid_until is not None:
        until = st.decision.spec.valid_until.isoformat()
        return f"ModelApproval {st.decision.metadata.name!r} expired at {until}"
    return "validity ended"


def _placement_message(status: GovernedModelStatus) -> str:
    condition = status.condition("PlacementResolved")
    return condition.message if condition is not None and condition.message else "resolved"


def new_entries(
    old: GovernedModelStatus,
    new: GovernedModelStatus,
    st: Standing,
    actor: str,
    now: dt.datetime,
) -> list[HistoryEntry]:
    """The entries to append when the recorded status `old` becomes `new`.

    In order: Created (first observation) or SpecChanged; a lifecycle change; a newly
    effective assessment and decision; and the phase change, which is folded into the entry
    that caused it ("PendingApproval -> Approved: ...") or, if nothing above explains it,
    recorded as Expired (clock) or PhaseChanged. Entries carry the current spec hash.
    """
    author = st.model.author
    editor = st.model.last_editor
    entries: list[HistoryEntry] = []

    def add(event: HistoryEvent, who: str | None, message: str) -> None:
        entries.append(
            HistoryEntry(time=now, event=event, actor=who, spec_hash=new.spec_hash, message=message)
        )

    first = old.spec_hash is None
    spec_changed = not first and old.spec_hash != new.spec_hash
    if first:
        add(HistoryEvent.CREATED, author, f"first observed in phase {new.phase}")
    elif spec_changed:
        add(HistoryEvent.SPEC_CHANGED, editor, f"{short(old.spec_hash)} -> {short(new.spec_hash)}")

    lifecycle = st.model.spec.lifecycle
    if lifecycle is not _recorded_lifecycle(old.history):
        add(_EVENT_OF_LIFECYCLE[lifecycle], editor, f"spec.lifecycle is {lifecycle.value}")

    before, after = old.placement, new.placement
    if (
        not first
        and before is not None
        and after is not None
        and before.policy == after.policy
        and before.generation != after.generation
    ):
        add(
            HistoryEvent.PLACEMENT_CHANGED,
            actor,
            f"PlacementPolicy {after.policy!r} changed (generation {before.generation} -> "
            f"{after.generation}); placement judged again: " + _placement_message(new),
        )

    causes = len(entries)
    if st.assessment is not None and _ref(new.risk_assessment) != _ref(old.risk_assessment):
        ra = st.assessment
        add(
            HistoryEvent.ASSESSED,
            ra.assessor,
            f"RiskAssessment {ra.metadata.name!r} rates the risk {ra.spec.risk_level.value}, "
            f"valid until {ra.spec.valid_until.isoformat()}",
        )
    if st.decision is not None and _ref(new.approval) != _ref(old.approval):
        ma = st.decision
        add(
            _EVENT_OF_VERDICT[ma.spec.decision],
            ma.approver,
            f"ModelApproval {ma.metadata.name!r}: {ma.spec.justification}",
        )

    if first or old.phase == new.phase:
        return entries
    transition = f"{old.phase} -> {new.phase}"
    if new.phase is Phase.EXPIRED:
        add(HistoryEvent.EXPIRED, actor, f"{transition}: {_expiry_message(st)}")
    elif len(entries) > causes or (new.phase is Phase.RETIRED and entries):
        last = entries[-1]
        entries[-1] = last.model_copy(update={"message": f"{transition}: {last.message}"})
    else:
        add(HistoryEvent.PHASE_CHANGED, editor if spec_changed else actor, transition)
    return entries


def append_history(
    history: Sequence[HistoryEntry], entries: Sequence[HistoryEntry], max_history: int
) -> list[HistoryEntry]:
    """`history` + `entries`, dropping the oldest beyond `max_history` (never rewriting any)."""
    merged = [*history, *entries]
    return merged[-max_history:] if max_history > 0 else []
