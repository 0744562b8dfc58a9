"""The enumerations of the resource models, one StrEnum per CRD `enum`.

Members compare equal to their wire strings (`RiskClass.HIGH == "high"`).
"""

from __future__ import annotations

from enum import StrEnum


class ConditionStatus(StrEnum):
    """The status of a condition, as metav1.Condition spells it."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class RiskClass(StrEnum):
    """EU AI Act risk tier of a model's intended use."""

    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH = "high"
    PROHIBITED = "prohibited"


class Lifecycle(StrEnum):
    """Whether a model may run: active runs, deprecated warns, retired never runs."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class DatasetRole(StrEnum):
    """What a dataset was used for."""

    TRAINING = "training"
    VALIDATION = "validation"
    TEST = "test"
    FINE_TUNING = "fine-tuning"
    EVALUATION = "evaluation"


class Phase(StrEnum):
    """Where a GovernedModel is in its governance lifecycle (status.phase)."""

    PENDING_ASSESSMENT = "PendingAssessment"
    PENDING_APPROVAL = "PendingApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    RETIRED = "Retired"
    INVALID = "Invalid"


class ConditionType(StrEnum):
    """The condition types of a GovernedModel; Ready is True only when all others are."""

    LINEAGE_COMPLETE = "LineageComplete"
    RISK_ASSESSED = "RiskAssessed"
    APPROVED = "Approved"
    PLACEMENT_RESOLVED = "PlacementResolved"
    READY = "Ready"


class RiskLevel(StrEnum):
    """Residual risk found by a RiskAssessment; unacceptable means the model never runs."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNACCEPTABLE = "unacceptable"


class Decision(StrEnum):
    """An approver's decision in a ModelApproval (not to be confused with admission results)."""

    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"


class BindingPhase(StrEnum):
    """status.phase of a RiskAssessment or ModelApproval: does it still apply to its model?"""

    CURRENT = "Current"
    """Bound to the model's current spec hash and within its validity."""
    STALE = "Stale"
    """The model's spec changed since: it no longer applies."""
    EXPIRED = "Expired"
    """Past validUntil."""
    ORPHANED = "Orphaned"
    """The named GovernedModel does not exist."""


class PlacementMode(StrEnum):
    """How a PlacementPolicy is enforced."""

    VALIDATE = "validate"
    """Refuse pods that could land outside the policy's node pools."""
    INJECT = "inject"
    """Also add a pool's node selector and tolerations to pods that name no pool."""


class TolerationOperator(StrEnum):
    """core/v1 Toleration operator."""

    EQUAL = "Equal"
    EXISTS = "Exists"


class TaintEffect(StrEnum):
    """core/v1 taint effect a toleration matches."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"
