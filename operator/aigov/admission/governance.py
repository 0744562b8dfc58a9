"""Admission of aigov's own kinds: what the operator can read, who acted, and their duties.

- What the webhook admits, the indexes can parse: each body is parsed with the models the
  indexes use, and refused (`InvalidResource`, with field paths) when it does not parse.
- Who acted comes from the authenticated request, or, for a signed RiskAssessment or
  ModelApproval, from the TrustedSigner whose key signed it (`SignatureInvalid` otherwise,
  and for an unsigned one where the namespace requires signatures).
- Stamps record it: on CREATE the actor becomes the author (GovernedModel), assessor
  (RiskAssessment) or approver (ModelApproval); every change of a GovernedModel's spec hash
  adds its editor to `aigov.io/spec-editors`, and any spec change (lifecycle included) names
  its editor in `aigov.io/last-editor` for the history; an approval records the uid of the
  assessment it relied on. The mutating webhook writes them and the validating webhook
  checks they are exactly what they must be, so no other webhook, earlier or later, can
  forge one (`StampProtected`).
- Separation of duties: nobody who authored the spec may assess or approve it, and the
  assessor may not approve it; anyone allowed may reject or revoke.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.base import InvalidResource, Resource, spec_hash
from aigov.api.constants import (
    APPROVER_ANNOTATION,
    ASSESSMENT_UID_ANNOTATION,
    ASSESSOR_ANNOTATION,
    AUTHOR_ANNOTATION,
    LAST_EDITOR_ANNOTATION,
    SIGNED_AT_ANNOTATION,
    SIGNED_BY_ANNOTATION,
    SPEC_EDITORS_ANNOTATION,
    Mode,
    Reason,
)
from aigov.api.enums import Decision as Verdict
from aigov.api.governedmodel import editors_after, parse_editors
from aigov.api.models import GovernedModel, ModelApproval, RiskAssessment
from aigov.api.signer import TrustedSigner
from aigov.policy.decision import Decision, Violation
from aigov.policy.signing import BadKeyError, SignatureError, Signer, load_public_key, verify

STAMPS: Mapping[str, str] = {
    "GovernedModel": AUTHOR_ANNOTATION,
    "RiskAssessment": ASSESSOR_ANNOTATION,
    "ModelApproval": APPROVER_ANNOTATION,
}
ALL_STAMPS = frozenset(
    {
        *STAMPS.values(),
        SPEC_EDITORS_ANNOTATION,
        LAST_EDITOR_ANNOTATION,
        ASSESSMENT_UID_ANNOTATION,
        SIGNED_BY_ANNOTATION,
        SIGNED_AT_ANNOTATION,
    }
)
"""Every annotation aigov writes on its own kinds; nobody else may write any of them."""

_PARSERS: Mapping[str, type[Resource]] = {
    "GovernedModel": GovernedModel,
    "RiskAssessment": RiskAssessment,
    "ModelApproval": ModelApproval,
    "TrustedSigner": TrustedSigner,
}
_SIGNABLE = frozenset({"RiskAssessment", "ModelApproval"})


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


@dataclass(frozen=True)
class Context:
    """What the indexes know that these rules need, and the time."""

    model: GovernedModel | None
    assessment: RiskAssessment | None = None
    """For a ModelApproval: the RiskAssessment its riskAssessmentRef names, if known."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    signers: tuple[Signer, ...] = ()
    """The TrustedSigners whose keys load."""
    require_signed: bool = False
    """The namespace is labelled aigov.io/require-signed-approvals=true."""


@dataclass(frozen=True)
class Actor:
    """Who the request acts for: the requester, or the signer of a signed decision."""

    identity: str
    signed_by: str | None = None
    signed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Stamping:
    """Annotations the mutating webhook sets (value) or removes (None)."""

    changes: Mapping[str, str | None]


@dataclass(frozen=True)
class _Reading:
    """The request as these rules read it: the parsed object, the actor, or why not."""

    obj: Resource | None
    actor: Actor | None
    violations: tuple[Violation, ...]


def _parse(request: AdmissionRequest) -> tuple[Resource | None, list[Violation]]:
    parser = _PARSERS.get(request.kind)
    if parser is None or request.operation not in {"CREATE", "UPDATE"}:
        return None, []
    try:
        obj = parser.from_body(request.object)
    except InvalidResource as exc:
        return None, [
            Violation(
                Reason.INVALID_RESOURCE,
                f"{problem.message}: aigov could not read this {request.kind}",
                problem.path,
            )
            for problem in exc.details
        ]
    if isinstance(obj, TrustedSigner):
        try:
            load_public_key(obj.spec.public_key)
        except BadKeyError as exc:
            return None, [Violation(Reason.INVALID_RESOURCE, str(exc), "spec.publicKey")]
    return obj, []


def _assessment_hash(obj: Resource, ctx: Context) -> str | None:
    if isinstance(obj, ModelApproval) and ctx.assessment is not None:
        return ctx.assessment.spec.content_hash()
    return None


SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def _names_no_person(request: AdmissionRequest, obj: Resource) -> bool:
    """An unsigned assessment or approval by a ServiceAccount.

    Impersonation leaves no trace in an AdmissionReview (userInfo is the impersonated
    identity, with no extra), and the edit role may impersonate every ServiceAccount of its
    namespace: one person could author as themselves and assess or approve as a
    ServiceAccount. A veto (reject, revoke) only stops a model, so it is never refused.
    """
    if not request.user.username.startswith(SERVICE_ACCOUNT_PREFIX):
        return False
    return not (isinstance(obj, ModelApproval) and obj.spec.decision is not Verdict.APPROVE)


def _actor(request: AdmissionRequest, obj: Resource, ctx: Context) -> Actor | Violation:
    user = Actor(request.user.username)
    if not isinstance(obj, RiskAssessment | ModelApproval):
        return user
    if obj.spec.signature is None:
        if ctx.require_signed:
            return Violation(
                Reason.SIGNATURE_INVALID,
                f"namespace {request.namespace!r} requires signed assessments and approvals "
                f"(aigov.io/require-signed-approvals=true): sign this {request.kind} with "
                "`aigov sign` and a TrustedSigner's key",
                "spec.signature",
            )
        if _names_no_person(request, obj):
            return Violation(
                Reason.SEPARATION_OF_DUTIES,
                f"{request.user.username!r} is a ServiceAccount: anyone who may impersonate it "
                "(the edit role may) could act as it, so its unsigned "
                f"{request.kind} names no person and separation of duties cannot hold; sign "
                "it with `aigov sign` and a TrustedSigner's key",
                "spec.signature",
            )
        return user
    try:
        verified = verify(obj, request.namespace, ctx.signers, ctx.now, _assessment_hash(obj, ctx))
    except SignatureError as exc:
        return Violation(Reason.SIGNATURE_INVALID, str(exc), "spec.signature")
    return Actor(verified.signer.identity, verified.signer.name, verified.issued_at)


def _read(request: AdmissionRequest, ctx: Context) -> _Reading:
    obj, problems = _parse(request)
    if obj is None:
        return _Reading(None, None, tuple(problems))
    if request.operation != "CREATE" or request.kind not in _SIGNABLE:
        return _Reading(obj, Actor(request.user.username), ())
    actor = _actor(request, obj, ctx)
    if isinstance(actor, Violation):
        return _Reading(obj, None, (actor,))
    return _Reading(obj, actor, ())


def _hash_changed(request: AdmissionRequest) -> bool:
    """The spec hash changes: what was assessed and approved is no longer what is there."""
    old, new = request.old_object.get("spec"), request.object.get("spec")
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return old != new
    try:
        return spec_hash(old) != spec_hash(new)
    except (TypeError, ValueError):
        return True


def _spec_changed(request: AdmissionRequest) -> bool:
    """Any spec field changes, lifecycle included."""
    return request.old_object.get("spec") != request.object.get("spec")


def _editors(obj: Mapping[str, Any]) -> tuple[str, ...] | None:
    annotations = _annotations(obj)
    raw = annotations.get(SPEC_EDITORS_ANNOTATION)
    if raw is None:
        author = annotations.get(AUTHOR_ANNOTATION)
        return (author,) if isinstance(author, str) and author else ()
    return parse_editors(raw) if isinstance(raw, str) else None


def _expected(request: AdmissionRequest, reading: _Reading, ctx: Context) -> dict[str, str | None]:
    """Every stamp as it must be once this request is admitted (None: absent)."""
    if request.operation == "UPDATE":
        old = _annotations(request.old_object)
        expected = {key: old.get(key) for key in ALL_STAMPS}
        if request.kind == "GovernedModel" and _spec_changed(request):
            expected[LAST_EDITOR_ANNOTATION] = request.user.username
        if request.kind == "GovernedModel" and _hash_changed(request):
            before = _editors(request.old_object) or ()
            editors = editors_after(before, request.user.username)
            expected[SPEC_EDITORS_ANNOTATION] = json.dumps(list(editors))
        return expected
    expected = dict.fromkeys(ALL_STAMPS)
    actor, obj = reading.actor, reading.obj
    if actor is None or obj is None:
        return expected
    expected[STAMPS[request.kind]] = actor.identity
    if isinstance(obj, GovernedModel):
        expected[SPEC_EDITORS_ANNOTATION] = json.dumps([actor.identity])
        expected[LAST_EDITOR_ANNOTATION] = actor.identity
    if actor.signed_by is not None and actor.signed_at is not None:
        expected[SIGNED_BY_ANNOTATION] = actor.signed_by
        expected[SIGNED_AT_ANNOTATION] = actor.signed_at.isoformat()
    if (
        isinstance(obj, ModelApproval)
        and obj.spec.decision is Verdict.APPROVE
        and ctx.assessment is not None
    ):
        expected[ASSESSMENT_UID_ANNOTATION] = ctx.assessment.metadata.uid
    return expected


def stamp(request: AdmissionRequest, ctx: Context) -> Stamping:
    """The stamps to write (CREATE of any aigov kind, a spec change of a GovernedModel).

    A request the validating webhook will refuse (unreadable, badly signed) gets no stamps.
    """
    if request.kind not in STAMPS or request.operation not in {"CREATE", "UPDATE"}:
        return Stamping({})
    if request.operation == "UPDATE" and (
        request.kind != "GovernedModel" or not _spec_changed(request)
    ):
        return Stamping({})
    reading = _read(request, ctx)
    if reading.violations:
        return Stamping({})
    typed = _annotations(request.object)
    changes = {
        key: value
        for key, value in _expected(request, reading, ctx).items()
        if typed.get(key) != value
    }
    return Stamping(changes)


def _stamp_violations(
    request: AdmissionRequest, reading: _Reading, ctx: Context
) -> list[Violation]:
    new = _annotations(request.object)
    expected = _expected(request, reading, ctx)
    found = []
    for key in sorted(ALL_STAMPS):
        if new.get(key) == expected[key]:
            continue
        if request.operation == "UPDATE" and key != SPEC_EDITORS_ANNOTATION:
            why = f"records who acted on this {request.kind} and cannot be changed or removed"
        else:
            why = "is written by aigov only, from the authenticated request or the signature"
        found.append(
            Violation(
                Reason.STAMP_PROTECTED,
                f"{key} {why} (must be {expected[key]!r}, found {new.get(key)!r})",
                f"metadata.annotations[{key}]",
            )
        )
    return found


def _assessment_violations(obj: ModelApproval, ctx: Context) -> list[Violation]:
    """An approval must rely on an existing assessment of the same spec hash."""
    ref = obj.spec.risk_assessment_ref
    if obj.spec.decision is not Verdict.APPROVE or ref is None:
        return []
    path = "spec.riskAssessmentRef"
    if ctx.assessment is None:
        message = f"RiskAssessment {ref!r} does not exist in this namespace: assess first"
        return [Violation(Reason.INVALID_RESOURCE, message, path)]
    assessed = ctx.assessment.spec.model_ref.spec_hash
    if assessed != obj.spec.model_ref.spec_hash:
        message = (
            f"RiskAssessment {ref!r} assessed spec hash {assessed[:12]}..., but this approval "
            f"decides on {obj.spec.model_ref.spec_hash[:12]}...: rely on an assessment of the "
            "same spec"
        )
        return [Violation(Reason.INVALID_RESOURCE, message, path)]
    return []


def _duties(
    request: AdmissionRequest, obj: RiskAssessment | ModelApproval, actor: Actor, ctx: Context
) -> tuple[list[Violation], list[str]]:
    who = actor.identity
    model = ctx.model
    ref = obj.spec.model_ref
    if model is None:
        note = (
            f"aigov: GovernedModel {ref.name!r} not found in {request.namespace!r}: separation "
            "of duties is checked again when a workload uses it"
        )
        return [], [note]
    warnings = []
    current = model.spec.canonical_hash()
    if ref.spec_hash != current:
        warnings.append(
            f"aigov: modelRef.specHash {ref.spec_hash[:12]}... is not the current spec hash "
            f"{current[:12]}... of GovernedModel {model.metadata.name!r}: this "
            f"{request.kind} will not count"
        )
    if isinstance(obj, ModelApproval) and obj.spec.decision is not Verdict.APPROVE:
        # Stopping a model is never a conflict of interest: anyone allowed may pull the brake.
        return [], warnings
    path = "metadata.annotations"
    name = model.metadata.name
    editors = model.spec_editors
    violations = []
    if editors is None:
        message = (
            f"the aigov.io/spec-editors stamp of GovernedModel {name!r} is unreadable: aigov "
            "cannot tell who authored its spec"
        )
        violations.append(Violation(Reason.SEPARATION_OF_DUTIES, message, path))
    elif who in editors:
        role = "assess" if isinstance(obj, RiskAssessment) else "approve"
        message = (
            f"{who!r} authored the spec of GovernedModel {name!r} and may not {role} it: "
            "the spec's authors, the assessor and the approver must be different people"
        )
        violations.append(Violation(Reason.SEPARATION_OF_DUTIES, message, path))
    if ctx.assessment is not None and ctx.assessment.assessor == who:
        message = (
            f"{who!r} assessed GovernedModel {name!r} (RiskAssessment "
            f"{ctx.assessment.metadata.name!r}) and may not also decide on it"
        )
        violations.append(Violation(Reason.SEPARATION_OF_DUTIES, message, path))
    return violations, warnings


def judge(request: AdmissionRequest, ctx: Context, operator_users: tuple[str, ...]) -> Outcome:
    """Readable, stamped exactly as it must be, signed where required, duties separated."""
    reading = _read(request, ctx)
    violations = list(reading.violations)
    warnings: list[str] = []
    stamped = request.user.username not in operator_users and request.kind in STAMPS
    if stamped and (request.operation == "UPDATE" or not violations):
        violations.extend(_stamp_violations(request, reading, ctx))
    obj, actor = reading.obj, reading.actor
    if request.operation == "CREATE" and isinstance(obj, ModelApproval):
        violations.extend(_assessment_violations(obj, ctx))
    if (
        request.operation == "CREATE"
        and isinstance(obj, RiskAssessment | ModelApproval)
        and actor is not None
    ):
        found, notes = _duties(request, obj, actor, ctx)
        violations.extend(found)
        warnings.extend(notes)
    decision = Decision(violations, warnings)
    message = f"aigov refused {request.ref}: {decision.summary()}" if violations else ""
    return Outcome(
        decision=decision, mode=Mode.ENFORCE, message=message, warnings=decision.warnings
    )
