"""Plain sentences about a model's standing, and who must act next. Pure: no I/O.

`aigov why gm/NAME` prints these; the facts come from the same `standing()` and placement
resolution the operator uses for status, so the words and the webhook never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aigov.api.enums import Decision as Verdict
from aigov.api.models import GovernedModel
from aigov.policy.placement import PlacementContext, resolve
from aigov.policy.standing import Evidence, Standing, standing


@dataclass(frozen=True)
class Explanation:
    """What a person reads: the phase, one sentence per aspect, and who acts next."""

    model: str
    phase: str
    sentences: tuple[str, ...]
    next_step: str | None
    """None when the model may run."""


def _short(spec_hash: str) -> str:
    return f"{spec_hash[:12]}..."


def _lineage(st: Standing) -> str:
    if not st.lineage_problems:
        return "Lineage: complete (every artifact pinned by digest; datasets and code named)."
    problems = "; ".join(f"{p.path}: {p.message}" for p in st.lineage_problems)
    return f"Lineage: incomplete: {problems}."


def _assessment(st: Standing) -> str:
    ra = st.assessment
    if ra is None:
        return f"Risk assessment: none for the current spec hash {_short(st.spec_hash)}."
    until = ra.spec.valid_until.isoformat()
    state = "expired at" if st.assessment_expired else "valid until"
    signed = f", signed with key {ra.signed_by}" if ra.signed_by else ""
    return (
        f"Risk assessment: {ra.metadata.name} by {ra.assessor or 'unknown'}{signed} rates the "
        f"risk {ra.spec.risk_level.value}, {state} {until}."
    )


def _approval(st: Standing) -> str:
    ma = st.decision
    if st.unreadable:
        return "Approval: not approved, because " + "; ".join(st.unreadable) + "."
    if ma is None:
        return f"Approval: no decision on the current spec hash {_short(st.spec_hash)}."
    who = ma.approver or "unknown"
    signed = f", signed with key {ma.signed_by}" if ma.signed_by else ""
    when = ma.decided_at.isoformat() if ma.decided_at else "an unknown time"
    if ma.spec.decision is not Verdict.APPROVE:
        other = (
            f" of spec hash {_short(ma.spec.model_ref.spec_hash)} (a veto voids every earlier "
            "approval)"
            if st.veto_of_other_spec
            else ""
        )
        done = "revoked" if ma.spec.decision is Verdict.REVOKE else "rejected"
        return f"Approval: {done} by {who}{signed} at {when}{other}."
    if st.approval_basis_stale:
        return (
            f"Approval: {ma.metadata.name} by {who} relied on another assessment than the one "
            "in force: it must be approved again."
        )
    until = f", valid until {ma.spec.valid_until.isoformat()}" if ma.spec.valid_until else ""
    state = " (expired)" if st.approval_expired else ""
    return f"Approval: approved by {who}{signed} at {when}{until}{state}."


def _next(st: Standing, model: GovernedModel) -> str | None:
    authors = ", ".join(model.spec_editors or ()) or "unknown"
    name = model.metadata.name
    ra = st.assessment
    if st.retired:
        return "Nobody: the model is retired; an ML engineer may create a new version."
    steps = (
        (
            bool(st.lineage_problems),
            f"An ML engineer (aigov-model-author) must complete the lineage of {name}.",
        ),
        (
            st.assessment is None or st.assessment_expired or st.risk_unacceptable,
            f"A risk officer (aigov-risk-assessor), not one of the authors ({authors}), must "
            f"create a RiskAssessment of {name} at spec hash {st.spec_hash}.",
        ),
        (
            bool(st.duty_problems),
            "An approver who is neither an author nor the assessor must decide: "
            + "; ".join(st.duty_problems)
            + ".",
        ),
        (
            not st.may_run,
            f"An approver (aigov-approver), not one of the authors ({authors}) nor the "
            f"assessor ({ra.assessor if ra else 'unknown'}), must create a ModelApproval "
            f"with decision approve for spec hash {st.spec_hash}, relying on RiskAssessment "
            f"{ra.metadata.name if ra else '<the new assessment>'}.",
        ),
    )
    return next((step for needed, step in steps if needed), None)


def explain(evidence: Evidence, placement: PlacementContext, now: dt.datetime) -> Explanation:
    """Why the model of `evidence` may or may not run at `now`, and who acts next."""
    model = evidence.model
    if model is None:
        why = f" (it exists but is invalid: {evidence.invalid})" if evidence.invalid else ""
        return Explanation(
            evidence.name,
            "NotFound",
            (f"GovernedModel {evidence.name} not found in {evidence.namespace}{why}.",),
            "An ML engineer (aigov-model-author) must create the GovernedModel.",
        )
    st = standing(model, evidence.assessments, evidence.approvals, now, evidence.unreadable)
    resolution = resolve(model, placement)
    authors = ", ".join(model.spec_editors or ()) or "unknown"
    sentences = [
        f"Spec hash {st.spec_hash}, authored by {authors}.",
        _lineage(st),
        _assessment(st),
        _approval(st),
        f"Placement: {resolution.message}",
    ]
    if st.deprecated:
        sentences.append("Lifecycle: deprecated; plan its replacement.")
    step = _next(st, model)
    if step is None and not resolution.resolved:
        step = "A platform admin (aigov-placement-admin) must create the PlacementPolicy it names."
    return Explanation(model.metadata.name, st.phase.value, tuple(sentences), step)
