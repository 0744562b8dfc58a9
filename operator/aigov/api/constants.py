"""Names aigov writes to or reads from the cluster: group, kinds, labels, annotations, codes."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

GROUP: Final = "aigov.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
CATEGORY: Final = "aigov"

# Plurals, as kopf and the API server spell resources.
GOVERNED_MODELS: Final = "governedmodels"
RISK_ASSESSMENTS: Final = "riskassessments"
MODEL_APPROVALS: Final = "modelapprovals"
PLACEMENT_POLICIES: Final = "placementpolicies"
TRUSTED_SIGNERS: Final = "trustedsigners"

# Labels.
MODE_LABEL: Final = f"{GROUP}/mode"
"""Namespace label that opts a namespace into governance: enforce | warn | audit."""
STOP_LABEL: Final = f"{GROUP}/stop-on-loss"
"""Namespace label: "true" brings running workloads of a model that may no longer run to a
safe state (scaled to zero, suspended), besides flagging them."""
MODEL_LABEL: Final = f"{GROUP}/model"
"""Workload label naming its GovernedModel (same namespace), on the object and its template."""

# Annotations. Identity stamps are written by the webhook from the authenticated request.
AUTHOR_ANNOTATION: Final = f"{GROUP}/author"
ASSESSOR_ANNOTATION: Final = f"{GROUP}/assessor"
APPROVER_ANNOTATION: Final = f"{GROUP}/approver"
SPEC_EDITORS_ANNOTATION: Final = f"{GROUP}/spec-editors"
"""GovernedModel: JSON list of everyone who has authored its spec, the editor of the spec in
force last. Written by the webhook from each spec-changing request; separation of duties
counts every one of them as an author."""
LAST_EDITOR_ANNOTATION: Final = f"{GROUP}/last-editor"
"""GovernedModel: who made the last change to its spec (lifecycle included), for the history."""
ASSESSMENT_UID_ANNOTATION: Final = f"{GROUP}/assessment-uid"
"""ModelApproval: uid of the RiskAssessment it relied on, stamped at creation, so a deleted
and re-created assessment of the same name needs a new approval."""
SIGNED_BY_ANNOTATION: Final = f"{GROUP}/signed-by"
"""RiskAssessment / ModelApproval: the TrustedSigner whose key signed spec.signature."""
SIGNED_AT_ANNOTATION: Final = f"{GROUP}/signed-at"
"""RiskAssessment / ModelApproval: the signed statement's issuedAt (RFC 3339)."""
REQUIRE_SIGNED_LABEL: Final = f"{GROUP}/require-signed-approvals"
"""Namespace label: "true" means RiskAssessments and ModelApprovals there must carry a
signature by a TrustedSigner; the signer, not the applying identity, is the actor."""
VIOLATIONS_ANNOTATION: Final = f"{GROUP}/violations"
"""Audit mode: JSON list of {code, message, path} written on the admitted object."""
FLAGGED_ANNOTATION: Final = f"{GROUP}/flagged"
"""Set on running workloads whose model lost approval or placement; value says why."""

FINALIZER: Final = f"{GROUP}/finalizer"
"""kopf's finalizer, under our own name (never kopf.zalando.org/...)."""

GPU_RESOURCE: Final = "nvidia.com/gpu"


class Mode(StrEnum):
    """How a governed namespace treats a workload that breaks a rule."""

    ENFORCE = "enforce"
    WARN = "warn"
    AUDIT = "audit"


class Reason(StrEnum):
    """Stable reason codes shown to users; see DESIGN.md 'Rules'."""

    UNGOVERNED_WORKLOAD = "UngovernedWorkload"
    MODEL_NOT_FOUND = "ModelNotFound"
    LINEAGE_INCOMPLETE = "LineageIncomplete"
    RISK_ASSESSMENT_MISSING = "RiskAssessmentMissing"
    RISK_ASSESSMENT_EXPIRED = "RiskAssessmentExpired"
    RISK_UNACCEPTABLE = "RiskUnacceptable"
    NOT_APPROVED = "NotApproved"
    ARTIFACT_NOT_APPROVED = "ArtifactNotApproved"
    MODEL_REFERENCE_UNRESOLVED = "ModelReferenceUnresolved"
    """The workload loads weights aigov cannot identify: never silently allowed."""
    PLACEMENT_VIOLATION = "PlacementViolation"
    MODEL_RETIRED = "ModelRetired"
    SEPARATION_OF_DUTIES = "SeparationOfDuties"
    ACCESS_RESTRICTED = "AccessRestricted"
    """exec, attach or port-forward into a pod of a model of a restricted risk class by
    someone outside the break-glass groups."""
    MODE_CHANGE_FORBIDDEN = "ModeChangeForbidden"
    """Namespace guard: only admin groups may set, change or remove aigov.io/mode."""
    INVALID_MODE = "InvalidMode"
    """Namespace guard: aigov.io/mode must be enforce, warn or audit."""
    STAMP_PROTECTED = "StampProtected"
    """Identity stamps (aigov.io/author, assessor, approver) are written by aigov only."""
    INVALID_RESOURCE = "InvalidResource"
    """An aigov object the operator could not read (wrong time format, unknown reference):
    refused at admission so that what the webhook admits, the indexes can always parse."""
    SIGNATURE_INVALID = "SignatureInvalid"
    """A signature is required but missing, does not verify, comes from an unknown key, does
    not match the object, or the key may not perform this duty."""
    INVALID_REQUEST = "InvalidRequest"
    """Not a governance rule: the AdmissionReview itself could not be understood."""
