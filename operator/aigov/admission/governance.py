"""Admission of aigov's own kinds: identity stamps and separation of duties.

On CREATE the requester becomes the author (GovernedModel), assessor (RiskAssessment) or
approver (ModelApproval): the stamp comes from the authenticated request, never from a field
a user typed. Nobody but the operator may add, change or remove a stamp afterwards. A risk
officer may not assess their own model, and an approver may not approve a model they wrote
or assessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import (
    APPROVER_ANNOTATION,
    ASSESSOR_ANNOTATION,
    AUTHOR_ANNOTATION,
    Mode,
    Reason,
)
from aigov.api.models import GovernedModel, RiskAssessment
from aigov.policy.decision import Decision, Violation

STAMPS: Mapping[str, str] = {
    "GovernedModel": AUTHOR_ANNOTATION,
    "RiskAssessment": ASSESSOR_ANNOTATION,
    "ModelApproval": APPROVER_ANNOTATION,
}
ALL_STAMPS = frozenset(STAMPS.values())


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


@dataclass(frozen=True)
class Stamping:
    """Annotations the mutating webhook sets (value) or removes (None)."""

    changes: Mapping[str, str | None]


def stamp(request: AdmissionRequest) -> Stamping:
    """On CREATE: the kind's stamp is the requester; stamps a user typed are dropped."""
    key = STAMPS.get(request.kind)
    if request.operation != "CREATE" or key is None:
        return Stamping({})
    typed = _annotations(request.object)
    changes: dict[str, str | None] = {k: None for k in ALL_STAMPS if k in typed and k != key}
    changes[key] = request.user.username
    return Stamping(changes)


def _stamp_changes(request: AdmissionRequest) -> list[Violation]:
    old, new = _annotations(request.old_object), _annotations(request.object)
    return [
        Violation(
            Reason.STAMP_PROTECTED,
            f"{key} records who created this {request.kind} and cannot be changed or removed "
            f"(was {old.get(key)!r}, now {new.get(key)!r})",
            f"metadata.annotations[{key}]",
        )
        for key in sorted(ALL_STAMPS)
        if old.get(key) != new.get(key)
    ]


@dataclass(frozen=True)
class Context:
    """What the indexes know that the duty checks need."""

    model: GovernedModel | None
    assessment: RiskAssessment | None = None
    """For a ModelApproval: the RiskAssessment its riskAssessmentRef names, if known."""


def _duties(request: AdmissionRequest, ctx: Context) -> tuple[list[Violation], list[str]]:
    user = request.user.username
    model = ctx.model
    violations: list[Violation] = []
    warnings: list[str] = []
    spec = request.object.get("spec") or {}
    ref = spec.get("modelRef") or {} if isinstance(spec, Mapping) else {}
    ref_name = ref.get("name") if isinstance(ref, Mapping) else None
    if model is None:
        warnings.append(
            f"aigov: GovernedModel {ref_name!r} not found in {request.namespace!r}: separation "
            "of duties is checked again when a workload uses it"
        )
        return violations, warnings
    current = model.spec.canonical_hash()
    named = ref.get("specHash") if isinstance(ref, Mapping) else None
    if named and named != current:
        warnings.append(
            f"aigov: modelRef.specHash {str(named)[:12]}... is not the current spec hash "
            f"{current[:12]}... of GovernedModel {model.metadata.name!r}: this "
            f"{request.kind} will not count"
        )
    path = "metadata.annotations"
    if request.kind == "ModelApproval" and spec.get("decision") in {"reject", "revoke"}:
        # Stopping a model is never a conflict of interest: anyone allowed may pull the brake.
        return violations, warnings
    if model.author == user:
        role = "assess" if request.kind == "RiskAssessment" else "approve"
        violations.append(
            Violation(
                Reason.SEPARATION_OF_DUTIES,
                f"{user!r} wrote GovernedModel {model.metadata.name!r} and may not {role} it: "
                "author, assessor and approver must be three different people",
                path,
            )
        )
    if ctx.assessment is not None and ctx.assessment.assessor == user:
        violations.append(
            Violation(
                Reason.SEPARATION_OF_DUTIES,
                f"{user!r} assessed GovernedModel {model.metadata.name!r} (RiskAssessment "
                f"{ctx.assessment.metadata.name!r}) and may not also decide on it",
                path,
            )
        )
    return violations, warnings


def judge(request: AdmissionRequest, ctx: Context, operator_users: tuple[str, ...]) -> Outcome:
    """Stamp immutability on UPDATE; separation of duties on CREATE of RA and MA."""
    violations: list[Violation] = []
    warnings: list[str] = []
    if request.operation == "UPDATE" and request.user.username not in operator_users:
        violations.extend(_stamp_changes(request))
    if request.operation == "CREATE" and request.kind in {"RiskAssessment", "ModelApproval"}:
        found, notes = _duties(request, ctx)
        violations.extend(found)
        warnings.extend(notes)
    decision = Decision(violations, warnings)
    message = f"aigov refused {request.ref}: {decision.summary()}" if violations else ""
    return Outcome(
        decision=decision, mode=Mode.ENFORCE, message=message, warnings=decision.warnings
    )
