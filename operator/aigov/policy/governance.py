"""The governance rules for a workload that names a model: DESIGN.md's reason codes.

Every broken rule is reported, each with the workload field to look at; messages name the
model field or object to fix. Pure: the evidence comes from in-memory indexes, `now` from the
caller.
"""

from __future__ import annotations

import datetime as dt

from aigov.api.constants import MODEL_LABEL, Reason
from aigov.api.engines import EngineTable
from aigov.api.enums import Decision as Verdict
from aigov.api.enums import RiskLevel
from aigov.api.models import GovernedModel
from aigov.policy.decision import Decision, Violation
from aigov.policy.placement import PlacementContext, model_placement_violations
from aigov.policy.recognition import Recognition
from aigov.policy.references import resolve
from aigov.policy.standing import Evidence, Standing, standing
from aigov.policy.ungoverned import check_model_named
from aigov.policy.weights import reference_violations
from aigov.policy.workload import Workload

MODEL_PATH = f"metadata.labels[{MODEL_LABEL}]"


def _short(spec_hash: str) -> str:
    return spec_hash[:12]


def model_violations(st: Standing) -> list[Violation]:
    """What is wrong with the model itself, for any workload that names it."""
    name = st.model.metadata.name
    found: list[Violation] = []

    def add(code: Reason, message: str) -> None:
        found.append(Violation(code, message, MODEL_PATH))

    if st.retired:
        add(Reason.MODEL_RETIRED, f"GovernedModel {name!r} is retired and may not run")
    for problem in st.lineage_problems:
        add(Reason.LINEAGE_INCOMPLETE, f"GovernedModel {name!r} {problem.path}: {problem.message}")
    if st.prohibited:
        add(
            Reason.RISK_UNACCEPTABLE,
            f"GovernedModel {name!r} has riskClass prohibited (EU AI Act Art. 5): it never runs",
        )
    hash_ = _short(st.spec_hash)
    if st.assessment is None:
        add(
            Reason.RISK_ASSESSMENT_MISSING,
            f"no RiskAssessment names GovernedModel {name!r} at its current spec hash "
            f"{hash_}...: a risk officer must assess this spec (modelRef.specHash = "
            f"status.specHash)",
        )
    else:
        ra = st.assessment
        if st.assessment_expired:
            add(
                Reason.RISK_ASSESSMENT_EXPIRED,
                f"RiskAssessment {ra.metadata.name!r} of {name!r} expired at "
                f"{ra.spec.valid_until.isoformat()}: a new assessment is needed",
            )
        if ra.spec.risk_level is RiskLevel.UNACCEPTABLE:
            add(
                Reason.RISK_UNACCEPTABLE,
                f"RiskAssessment {ra.metadata.name!r} rates {name!r} unacceptable",
            )
    found.extend(_approval_violations(st, name, hash_))
    found.extend(
        Violation(Reason.SEPARATION_OF_DUTIES, f"GovernedModel {name!r}: {problem}", MODEL_PATH)
        for problem in st.duty_problems
    )
    return found


def _approval_violations(st: Standing, name: str, hash_: str) -> list[Violation]:
    unreadable = [
        Violation(
            Reason.NOT_APPROVED,
            f"{why}; until it is fixed or deleted GovernedModel {name!r} counts as not approved",
            MODEL_PATH,
        )
        for why in st.unreadable
    ]
    return unreadable + _decision_violations(st, name, hash_)


def _decision_violations(st: Standing, name: str, hash_: str) -> list[Violation]:
    decision = st.decision
    if decision is None:
        stale = st.stale_decisions[-1] if st.stale_decisions else None
        why = (
            f"; ModelApproval {stale.metadata.name!r} ({stale.spec.decision.value}) named spec "
            f"hash {_short(stale.spec.model_ref.spec_hash)}..., but the spec has changed since"
            if stale is not None
            else ""
        )
        message = f"no ModelApproval approves GovernedModel {name!r} at spec hash {hash_}...{why}"
        return [Violation(Reason.NOT_APPROVED, message, MODEL_PATH)]
    verdict = decision.spec.decision
    who = decision.approver or "unknown"
    if verdict in {Verdict.REVOKE, Verdict.REJECT}:
        done = "revoked" if verdict is Verdict.REVOKE else "rejected"
        message = (
            f"ModelApproval {decision.metadata.name!r} by {who} {done} GovernedModel {name!r}: "
            f"{decision.spec.justification}"
        )
        if st.veto_of_other_spec:
            message += (
                f" (decided on spec hash {_short(decision.spec.model_ref.spec_hash)}...; a "
                "reject or revoke voids every approval made before it, for every spec hash: "
                "a new approval is needed)"
            )
        return [Violation(Reason.NOT_APPROVED, message, MODEL_PATH)]
    if st.approval_basis_stale and st.assessment is not None:
        message = (
            f"ModelApproval {decision.metadata.name!r} relied on RiskAssessment "
            f"{decision.spec.risk_assessment_ref!r}, but {st.assessment.metadata.name!r} is "
            f"the assessment in force now: {name!r} must be approved again"
        )
        return [Violation(Reason.NOT_APPROVED, message, MODEL_PATH)]
    if st.approval_expired and decision.spec.valid_until is not None:
        message = (
            f"ModelApproval {decision.metadata.name!r} of {name!r} expired at "
            f"{decision.spec.valid_until.isoformat()}"
        )
        return [Violation(Reason.NOT_APPROVED, message, MODEL_PATH)]
    return []


def _repo_and_digest(image: str) -> tuple[str, str] | None:
    """`registry/repo[:tag]@sha256:...` -> (registry/repo, sha256:...); None if unpinned."""
    name, at, digest = image.partition("@")
    if not at or not digest.startswith("sha256:"):
        return None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:  # a tag beside the digest: the digest is what runs
        name = name[:colon]
    return name, digest


def artifact_violations(
    workload: Workload, model: GovernedModel, engines: EngineTable | None = None
) -> list[Violation]:
    """Every container image must be one of the model's digest-pinned image artifacts, and
    every set of weights the workload loads one of its pinned weight artifacts (as the
    engine table, by default the packaged one, reads them)."""
    allowed = {
        pair for image in model.spec.pinned_images if (pair := _repo_and_digest(image)) is not None
    }
    name = model.metadata.name
    found = reference_violations(resolve(workload, engines), model)
    for template in workload.templates:
        for container in template.all_containers:
            # A KServe model entry may name an image that replaces the serving runtime's:
            # judged like any container image.
            image = container.image
            if image is None:
                continue
            pair = _repo_and_digest(image)
            if pair is None:
                message = (
                    f"image {image!r} is not pinned by digest: a tag can be re-pointed after "
                    f"approval; use one of the artifacts of GovernedModel {name!r}"
                )
            elif pair not in allowed:
                message = f"image {image!r} is not an artifact of GovernedModel {name!r}"
            else:
                continue
            found.append(Violation(Reason.ARTIFACT_NOT_APPROVED, message, container.image_path))
    return found


def evaluate(
    workload: Workload,
    evidence: Evidence | None,
    now: dt.datetime,
    placement: PlacementContext | None = None,
    *,
    recognition: Recognition | None = None,
) -> Decision:
    """All rules for one workload. `evidence` is None when the workload names no model;
    `placement` None skips the placement rule (callers that judge placement pass it);
    `recognition` None uses the packaged engine table and the built-in accelerator lists."""
    known = recognition or Recognition()
    violations = check_model_named(workload, known.accelerators)
    if evidence is None or workload.model is None:
        return Decision(violations)
    if evidence.model is None:
        why = f" (it exists but is invalid: {evidence.invalid})" if evidence.invalid else ""
        violations.append(
            Violation(
                Reason.MODEL_NOT_FOUND,
                f"GovernedModel {evidence.name!r} not found in namespace "
                f"{evidence.namespace!r}{why}",
                MODEL_PATH,
            )
        )
        return Decision(violations)
    st = standing(
        evidence.model, evidence.assessments, evidence.approvals, now, evidence.unreadable
    )
    violations.extend(model_violations(st))
    violations.extend(artifact_violations(workload, evidence.model, known.engines))
    warnings: list[str] = []
    if placement is not None:
        found, notes = model_placement_violations(workload, evidence.model, placement)
        violations.extend(found)
        warnings.extend(notes)
    if st.deprecated:
        warnings.append(
            f"aigov: GovernedModel {evidence.name!r} is deprecated: plan its replacement"
        )
    return Decision(violations, warnings)
