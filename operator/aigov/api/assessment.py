"""RiskAssessment and ModelApproval: the decisions bound to one GovernedModel spec hash.

Mirrors crds/aigov.io_riskassessments.yaml and crds/aigov.io_modelapprovals.yaml.
Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import Field

from aigov.api.base import (
    ApiModel,
    Condition,
    ModelRef,
    Resource,
    Timestamp,
    find_condition,
    spec_hash,
)
from aigov.api.constants import (
    APPROVER_ANNOTATION,
    ASSESSMENT_UID_ANNOTATION,
    ASSESSOR_ANNOTATION,
    SIGNED_AT_ANNOTATION,
    SIGNED_BY_ANNOTATION,
)
from aigov.api.enums import BindingPhase, Decision, RiskLevel


class EnvelopeSignature(ApiModel):
    """One signature of a DSSE envelope."""

    sig: str
    """Base64 of the signature over the envelope's pre-authentication encoding."""
    keyid: str | None = None
    """Hint naming the key (aigov uses the TrustedSigner name); not trusted by itself."""


class Envelope(ApiModel):
    """A DSSE envelope (https://github.com/secure-systems-lab/dsse) carrying an in-toto
    Statement about this object, so a decision made under GitOps names its real signer."""

    payload_type: str
    """Must be application/vnd.in-toto+json."""
    payload: str
    """Base64 of the in-toto Statement JSON."""
    signatures: list[EnvelopeSignature]
    """At least one; the first that verifies with a trusted key counts."""


class _Signed(Resource):
    """What RiskAssessments and ModelApprovals share: signature stamps and the creation
    moment that orders decisions."""

    @property
    def signed_by(self) -> str | None:
        """The TrustedSigner whose key signed spec.signature, verified at admission."""
        return self.metadata.annotations.get(SIGNED_BY_ANNOTATION)

    @property
    def decided_at(self) -> dt.datetime | None:
        """When the decision was made: the earlier of creation and the signed issuedAt.

        A signed decision re-applied later (deleted, then created again from the same Git
        commit) keeps the moment its signer decided, so it cannot outlive a later revocation.
        """
        created = self.metadata.creation_timestamp
        raw = self.metadata.annotations.get(SIGNED_AT_ANNOTATION)
        try:
            signed = dt.datetime.fromisoformat(raw) if raw else None
        except ValueError:
            signed = None
        if signed is not None and signed.tzinfo is None:
            signed = None
        moments = [m for m in (created, signed) if m is not None]
        return min(moments) if moments else None


class Hazard(ApiModel):
    """A hazard the assessment identified, and how its risk is reduced (EU AI Act Art. 9)."""

    id: str
    """Unique within the assessment, so reviews can refer to it."""
    description: str
    """What could go wrong, and for whom."""
    severity: str | None = None
    """How bad the harm would be, on the methodology's own scale."""
    likelihood: str | None = None
    """How likely it is, on the methodology's own scale."""
    mitigations: list[str] = Field(default_factory=list)
    """Measures that reduce the risk."""


class RiskAssessmentSpec(ApiModel):
    """A risk officer's assessment of one model spec, valid until a date."""

    model_ref: ModelRef
    """The model and the exact spec hash assessed: a changed model needs a new assessment."""
    risk_level: RiskLevel = Field(strict=False)
    """Residual risk; unacceptable means the model never runs."""
    methodology: str
    """How the risk was assessed, so an auditor can judge the assessment."""
    valid_until: Timestamp
    """After this the assessment has expired and the model no longer runs."""
    hazards: list[Hazard] = Field(default_factory=list)
    """Hazards identified."""
    impact_assessment_ref: str | None = None
    """Reference to the impact assessment (FRIA, DPIA) this relies on."""
    signature: Envelope | None = None
    """A DSSE envelope signed by a TrustedSigner with the assess duty; required where the
    namespace demands signed approvals."""

    def content_hash(self) -> str:
        """sha256 of the canonical spec without its signature: what an approval relies on."""
        return spec_hash({k: v for k, v in self.to_k8s().items() if k != "signature"})


class BindingStatus(ApiModel):
    """Observed state of a RiskAssessment or ModelApproval, written only by the operator."""

    phase: BindingPhase | None = Field(None, strict=False)
    """Whether it still applies to its model."""
    bound_to_current_spec: bool | None = None
    """Whether modelRef.specHash equals the model's current spec hash."""
    observed_generation: int | None = None
    """metadata.generation this status describes."""
    conditions: list[Condition] = Field(default_factory=list)
    """Conditions in the Kubernetes dialect."""

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, or None."""
        return find_condition(self.conditions, type_)


class RiskAssessmentStatus(BindingStatus):
    """Observed state of a RiskAssessment."""


class RiskAssessment(_Signed):
    """A RiskAssessment object: metadata, spec and status."""

    KIND: ClassVar[str] = "RiskAssessment"

    spec: RiskAssessmentSpec
    """The assessment."""
    status: RiskAssessmentStatus = Field(default_factory=RiskAssessmentStatus)
    """Observed state."""

    @property
    def assessor(self) -> str | None:
        """Who assessed, from the aigov.io/assessor stamp the webhook wrote."""
        return self.metadata.annotations.get(ASSESSOR_ANNOTATION)


class ModelApprovalSpec(ApiModel):
    """An approver's decision on one model spec; immutable once created."""

    model_ref: ModelRef
    """The model and the exact spec hash decided on."""
    decision: Decision = Field(strict=False)
    """approve, reject or revoke."""
    justification: str
    """Why, for the auditor (EU AI Act Art. 14 human oversight)."""
    risk_assessment_ref: str | None = None
    """Name of the RiskAssessment relied on; required for approve (the CRD checks)."""
    valid_until: Timestamp | None = None
    """When an approval lapses; None means it lasts as long as the assessment."""
    signature: Envelope | None = None
    """A DSSE envelope signed by a TrustedSigner with the approve duty; required where the
    namespace demands signed approvals."""


class ModelApprovalStatus(BindingStatus):
    """Observed state of a ModelApproval."""


class ModelApproval(_Signed):
    """A ModelApproval object: metadata, spec and status."""

    KIND: ClassVar[str] = "ModelApproval"

    spec: ModelApprovalSpec
    """The decision."""
    status: ModelApprovalStatus = Field(default_factory=ModelApprovalStatus)
    """Observed state."""

    @property
    def approver(self) -> str | None:
        """Who decided, from the aigov.io/approver stamp the webhook wrote."""
        return self.metadata.annotations.get(APPROVER_ANNOTATION)

    @property
    def assessment_uid(self) -> str | None:
        """uid of the RiskAssessment relied on, stamped at creation."""
        return self.metadata.annotations.get(ASSESSMENT_UID_ANNOTATION)
