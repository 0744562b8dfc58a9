"""The pydantic models of aigov's four kinds, in one import.

They mirror the CRDs in crds/ field for field (tests/unit/test_api_models.py checks), with
snake_case names in Python and camelCase aliases on the wire. Parse a body once, at the
boundary, with `Kind.from_body(body)`; it raises InvalidResource, never ValidationError.

Spec hash: `spec_hash(raw_spec)` is the sha256 hex of the canonical JSON
(`json.dumps(spec, sort_keys=True, separators=(",", ":"))`) of a spec mapping as stored in
the cluster (defaults applied). `GovernedModelSpec.canonical_hash()` returns the same for a
spec parsed from that mapping. RiskAssessments and ModelApprovals bind to it.

Pure data and computation: no kopf, no Kubernetes client, no I/O.
"""

from __future__ import annotations

from aigov.api.assessment import (
    BindingStatus,
    Envelope,
    EnvelopeSignature,
    Hazard,
    ModelApproval,
    ModelApprovalSpec,
    ModelApprovalStatus,
    RiskAssessment,
    RiskAssessmentSpec,
    RiskAssessmentStatus,
)
from aigov.api.base import (
    ApiModel,
    Condition,
    FieldProblem,
    InvalidResource,
    ModelRef,
    ObjectMeta,
    Resource,
    Timestamp,
    find_condition,
    spec_hash,
)
from aigov.api.enums import (
    BindingPhase,
    ConditionStatus,
    ConditionType,
    DatasetRole,
    Decision,
    Lifecycle,
    Phase,
    PlacementMode,
    RiskClass,
    RiskLevel,
    TaintEffect,
    TolerationOperator,
)
from aigov.api.governedmodel import (
    ApprovalSummary,
    GovernedModel,
    GovernedModelSpec,
    GovernedModelStatus,
    HistoryEntry,
    PlacementRef,
    RiskAssessmentSummary,
    WorkloadRef,
)
from aigov.api.lineage import (
    DIGEST_RE,
    IMAGE_DIGEST_RE,
    Artifact,
    BaseModelRef,
    CodeRef,
    Dataset,
    Lineage,
    TrainingRun,
)
from aigov.api.placement import (
    NodePool,
    PlacementPolicy,
    PlacementPolicySpec,
    PlacementPolicyStatus,
    Toleration,
)

__all__ = [
    "DIGEST_RE",
    "IMAGE_DIGEST_RE",
    "ApiModel",
    "ApprovalSummary",
    "Artifact",
    "BaseModelRef",
    "BindingPhase",
    "BindingStatus",
    "CodeRef",
    "Condition",
    "ConditionStatus",
    "ConditionType",
    "Dataset",
    "DatasetRole",
    "Decision",
    "Envelope",
    "EnvelopeSignature",
    "FieldProblem",
    "GovernedModel",
    "GovernedModelSpec",
    "GovernedModelStatus",
    "Hazard",
    "HistoryEntry",
    "InvalidResource",
    "Lifecycle",
    "Lineage",
    "ModelApproval",
    "ModelApprovalSpec",
    "ModelApprovalStatus",
    "ModelRef",
    "NodePool",
    "ObjectMeta",
    "Phase",
    "PlacementMode",
    "PlacementPolicy",
    "PlacementPolicySpec",
    "PlacementPolicyStatus",
    "PlacementRef",
    "Resource",
    "RiskAssessment",
    "RiskAssessmentSpec",
    "RiskAssessmentStatus",
    "RiskAssessmentSummary",
    "RiskClass",
    "RiskLevel",
    "TaintEffect",
    "Timestamp",
    "Toleration",
    "TolerationOperator",
    "TrainingRun",
    "WorkloadRef",
    "find_condition",
    "spec_hash",
]
