"""What the admission layer hands back: the verdict in the namespace's mode."""

from __future__ import annotations

from dataclasses import dataclass, field

from aigov.api.constants import Mode
from aigov.policy.decision import Decision


@dataclass(frozen=True)
class Outcome:
    """A decision, graded by mode: refuse (enforce), warn (warn) or record (audit).

    `allowed` is what the API server is told. In warn and audit modes a workload with
    violations is allowed, and the violations travel as warnings or audit evidence.
    """

    decision: Decision
    mode: Mode | None
    """None when the object is not governed here (no mode, or not an AI workload)."""
    message: str = ""
    """The refusal message in enforce mode; empty when allowed."""
    warnings: tuple[str, ...] = ()
    audit_annotations: dict[str, str] = field(default_factory=dict)
    """`auditAnnotations` of the AdmissionReview response: kept in the API server's audit log."""
    model: str | None = None
    break_glass: str | None = None
    """The break-glass group that let a restricted access through, for the decision record."""

    @property
    def allowed(self) -> bool:
        return self.mode is not Mode.ENFORCE or self.decision.allowed

    @property
    def verdict(self) -> str:
        """`allowed`, `refused`, `warned` or `audited`: the decision log's one word."""
        if self.decision.allowed or self.mode is None:
            return "allowed"
        return {Mode.ENFORCE: "refused", Mode.WARN: "warned", Mode.AUDIT: "audited"}[self.mode]
