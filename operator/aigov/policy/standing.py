"""Where a model stands at a moment: the one computation admission and reconcile share.

Given a GovernedModel, the RiskAssessments and ModelApprovals that name it, and the time,
`standing()` says which assessment and approval count (bound to the current spec hash, the
newest decision wins, and a reject or revoke of any spec hash voids every decision made
before it), whether they expired, and whether the spec's authors, the assessor and the
approver are different people. Admission turns a Standing into violations; reconcile turns it into
phase, conditions and history. Pure: no clock reads, no I/O; `now` is an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from aigov.api.base import FieldProblem
from aigov.api.enums import Decision as Verdict
from aigov.api.enums import Lifecycle, Phase, RiskClass, RiskLevel
from aigov.api.models import GovernedModel, ModelApproval, RiskAssessment

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Evidence:
    """What the indexes hold about one model name in one namespace."""

    namespace: str
    name: str
    model: GovernedModel | None = None
    invalid: str | None = None
    """Set when an object of that name exists but does not parse: why."""
    assessments: tuple[RiskAssessment, ...] = ()
    approvals: tuple[ModelApproval, ...] = ()
    unreadable: tuple[str, ...] = ()
    """Why RiskAssessments or ModelApprovals naming this model could not be read. Any one of
    them might be a revocation, so the model fails closed (not approved) until it is fixed
    or deleted."""


def _created(obj: RiskAssessment | ModelApproval) -> tuple[dt.datetime, int, str]:
    """Oldest first. creationTimestamp has one-second resolution: within one second the
    stricter decision sorts later and so wins (revoke over reject over approve)."""
    rank = _STRICTNESS.get(obj.spec.decision, 0) if isinstance(obj, ModelApproval) else 0
    return (obj.decided_at or _EPOCH, rank, obj.metadata.name)


_STRICTNESS = {Verdict.APPROVE: 0, Verdict.REJECT: 1, Verdict.REVOKE: 2}


def _counts(obj: RiskAssessment | ModelApproval, namespace: str | None, name: str) -> bool:
    """Names this model, in its namespace, and is not being deleted."""
    meta = obj.metadata
    return (
        obj.spec.model_ref.name == name
        and meta.namespace == namespace
        and meta.deletion_timestamp is None
    )


@dataclass(frozen=True)
class Standing:
    """The governance facts about one model at one moment."""

    model: GovernedModel
    spec_hash: str
    now: dt.datetime
    lineage_problems: tuple[FieldProblem, ...]
    assessment: RiskAssessment | None
    """The newest assessment bound to the current spec hash, if any."""
    decision: ModelApproval | None
    """The decision in force: the newest approve/reject/revoke bound to the current spec
    hash, or a newer reject/revoke of any other spec hash (a veto is final for the model:
    restoring an earlier spec never resurrects an approval made before it)."""
    stale_decisions: tuple[ModelApproval, ...] = field(default=())
    """Decisions that name an older spec hash: they no longer count."""
    duty_problems: tuple[str, ...] = field(default=())
    """Why the spec's authors, the assessor and the approver are not different known people."""
    unreadable: tuple[str, ...] = field(default=())
    """Governance objects naming the model that could not be read: it is not approved."""

    @property
    def veto_of_other_spec(self) -> bool:
        """The decision in force is a reject or revoke made about another spec hash."""
        return (
            self.decision is not None and self.decision.spec.model_ref.spec_hash != self.spec_hash
        )

    @property
    def retired(self) -> bool:
        return self.model.spec.lifecycle is Lifecycle.RETIRED

    @property
    def deprecated(self) -> bool:
        return self.model.spec.lifecycle is Lifecycle.DEPRECATED

    @property
    def prohibited(self) -> bool:
        return self.model.spec.risk_class is RiskClass.PROHIBITED

    @property
    def assessment_expired(self) -> bool:
        return self.assessment is not None and self.assessment.spec.valid_until <= self.now

    @property
    def risk_unacceptable(self) -> bool:
        level = self.assessment.spec.risk_level if self.assessment else None
        return self.prohibited or level is RiskLevel.UNACCEPTABLE

    @property
    def approved(self) -> bool:
        """An approve decision is the newest one for this spec hash."""
        return self.decision is not None and self.decision.spec.decision is Verdict.APPROVE

    @property
    def approval_basis_stale(self) -> bool:
        """The approval relied on another assessment than the one in force now: a newer
        assessment (perhaps of higher risk) was made after it, so it must be decided again."""
        if not self.approved or self.decision is None or self.assessment is None:
            return False
        if self.decision.spec.risk_assessment_ref != self.assessment.metadata.name:
            return True
        stamped = self.decision.assessment_uid
        return stamped is not None and stamped != self.assessment.metadata.uid

    @property
    def approval_expired(self) -> bool:
        until = self.decision.spec.valid_until if self.approved and self.decision else None
        return until is not None and until <= self.now

    @property
    def may_run(self) -> bool:
        """Every rule about the model itself holds (artifacts are judged per workload)."""
        return (
            not self.retired
            and not self.lineage_problems
            and self.assessment is not None
            and not self.assessment_expired
            and not self.risk_unacceptable
            and self.approved
            and not self.approval_basis_stale
            and not self.approval_expired
            and not self.duty_problems
            and not self.unreadable
        )

    @property
    def phase(self) -> Phase:
        """The GovernedModel phase that summarises this standing: the first rule that holds."""
        rejected = self.decision is not None and not self.approved
        rules = (
            (self.retired, Phase.RETIRED),
            (bool(self.lineage_problems), Phase.INVALID),
            (self.risk_unacceptable, Phase.REJECTED),
            (self.assessment is None, Phase.PENDING_ASSESSMENT),
            (bool(self.unreadable), Phase.PENDING_APPROVAL),
            (self.assessment_expired, Phase.EXPIRED),
            (rejected, Phase.REJECTED),
            (
                not self.approved or self.approval_basis_stale or bool(self.duty_problems),
                Phase.PENDING_APPROVAL,
            ),
            (self.approval_expired, Phase.EXPIRED),
        )
        return next((phase for holds, phase in rules if holds), Phase.APPROVED)

    def next_expiry(self) -> dt.datetime | None:
        """The next moment this standing changes by the clock alone, if any."""
        moments = []
        if self.assessment is not None and not self.assessment_expired:
            moments.append(self.assessment.spec.valid_until)
        until = self.decision.spec.valid_until if self.approved and self.decision else None
        if until is not None and not self.approval_expired:
            moments.append(until)
        return min(moments, default=None)


def _duty_problems(
    model: GovernedModel, assessment: RiskAssessment | None, decision: ModelApproval | None
) -> tuple[str, ...]:
    if assessment is None or decision is None or decision.spec.decision is not Verdict.APPROVE:
        return ()
    editors = model.spec_editors
    if editors is None:
        return (
            "the aigov.io/spec-editors stamp of the GovernedModel is unreadable: aigov cannot "
            "tell who authored the spec",
        )
    people = {"assessor": assessment.assessor, "approver": decision.approver}
    kinds = {"assessor": "RiskAssessment", "approver": "ModelApproval"}
    missing = [
        f"no {role} stamp on the {kinds[role]}: aigov cannot tell who the {role} was"
        for role, who in people.items()
        if not who
    ]
    if not editors:
        missing.insert(
            0, "no author stamp on the GovernedModel: aigov cannot tell who the author was"
        )
    if missing:
        return tuple(missing)
    problems = [
        f"{who!r} is both author and {role}" for role, who in people.items() if who in editors
    ]
    if people["assessor"] == people["approver"]:
        problems.append(f"{people['assessor']!r} is both assessor and approver")
    return tuple(problems)


def standing(
    model: GovernedModel,
    assessments: Iterable[RiskAssessment],
    approvals: Iterable[ModelApproval],
    now: dt.datetime,
    unreadable: Iterable[str] = (),
) -> Standing:
    """Decide which assessment and decision count for `model` at `now`."""
    current = model.spec.canonical_hash()
    name, namespace = model.metadata.name, model.metadata.namespace
    mine = [a for a in assessments if _counts(a, namespace, name)]
    decisions = [a for a in approvals if _counts(a, namespace, name)]
    bound_assessments = sorted(
        (a for a in mine if a.spec.model_ref.spec_hash == current), key=_created
    )
    in_force = sorted(
        (
            a
            for a in decisions
            if a.spec.model_ref.spec_hash == current or a.spec.decision is not Verdict.APPROVE
        ),
        key=_created,
    )
    assessment = bound_assessments[-1] if bound_assessments else None
    decision = in_force[-1] if in_force else None
    return Standing(
        model=model,
        spec_hash=current,
        now=now,
        lineage_problems=tuple(model.spec.lineage_problems()),
        assessment=assessment,
        decision=decision,
        stale_decisions=tuple(
            sorted((a for a in decisions if a.spec.model_ref.spec_hash != current), key=_created)
        ),
        duty_problems=_duty_problems(model, assessment, decision),
        unreadable=tuple(unreadable),
    )
