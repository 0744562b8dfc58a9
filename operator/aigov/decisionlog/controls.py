"""Which ISO/IEC 42001 Annex A controls and EU AI Act articles a record is evidence for.

A data module: one table per kind of fact (every record, a webhook, a reason code, a
governance event), merged per record by `controls_for`. The ids are what an auditor looks
up: `A.6.2.8` is ISO/IEC 42001:2023 Annex A control 6.2.8 "AI system recording of event
logs"; `Art.12` is Article 12 of Regulation (EU) 2024/1689 "Record-keeping". A record
lists the controls whose operation it shows, not every control aigov touches.
"""

from __future__ import annotations

from collections.abc import Iterable

EVERY_RECORD: tuple[str, ...] = ("A.6.2.8", "Art.12", "Art.19", "Art.26(6)")
"""Every record is an automatically generated event log entry (A.6.2.8, Art. 12), kept by
the provider (Art. 19) and the deployer (Art. 26(6)) for at least six months."""

BY_WEBHOOK: dict[str, tuple[str, ...]] = {
    # A workload admitted, warned, recorded or refused: responsible deployment and use.
    "validate-workloads": ("A.6.2.5", "A.9.2", "Art.26(1)"),
    "validate-reserved": ("A.4.5", "A.6.2.5", "Art.15"),
    "validate-bindings": ("A.4.5", "A.6.2.5", "Art.15"),
    # exec, attach, port-forward into a model's pods: human oversight and integrity.
    "validate-access": ("A.9.2", "Art.14", "Art.15"),
    # Who may move a namespace in or out of governance: roles and responsibilities.
    "validate-namespaces": ("A.3.2", "A.2.2"),
    # Models, assessments, approvals written by people: documentation and duties.
    "validate-governance": ("A.3.2", "A.6.2.3", "Art.11", "Art.17"),
}

BY_REASON: dict[str, tuple[str, ...]] = {
    "UngovernedWorkload": ("A.4.4", "A.6.2.7"),
    "ModelNotFound": ("A.6.2.7", "Art.11"),
    "LineageIncomplete": ("A.7.5", "Art.10"),
    "RiskAssessmentMissing": ("A.5.2", "Art.9"),
    "RiskAssessmentExpired": ("A.5.2", "Art.9"),
    "RiskUnacceptable": ("A.5.2", "A.5.4", "Art.5", "Art.9"),
    "NotApproved": ("A.6.2.5", "Art.14"),
    "ArtifactNotApproved": ("A.7.5", "A.6.2.5", "Art.15"),
    "ModelReferenceUnresolved": ("A.7.5", "Art.10"),
    "PlacementViolation": ("A.4.5", "Art.15"),
    "ModelRetired": ("A.6.2.6", "Art.72"),
    "SeparationOfDuties": ("A.3.2", "Art.14", "Art.17"),
    "AccessRestricted": ("A.9.2", "Art.14"),
    "ModeChangeForbidden": ("A.3.2",),
    "InvalidMode": ("A.3.2",),
    "StampProtected": ("A.3.2", "Art.12"),
    "InvalidResource": ("A.6.2.3",),
    "SignatureInvalid": ("A.3.2", "A.6.2.5", "Art.15"),
    "InvalidRequest": (),
}

BY_EVENT: dict[str, tuple[str, ...]] = {
    "Created": ("A.6.2.3", "A.6.2.7", "A.7.5", "Art.11"),
    "SpecChanged": ("A.6.2.3", "A.6.2.7", "A.7.5", "Art.11"),
    "Assessed": ("A.5.2", "A.5.3", "Art.9"),
    "Approved": ("A.3.2", "A.6.2.5", "Art.14", "Art.17"),
    "Rejected": ("A.3.2", "A.6.2.5", "Art.14", "Art.17"),
    "Revoked": ("A.3.2", "A.6.2.6", "Art.14", "Art.72"),
    "Expired": ("A.5.2", "A.6.2.6", "Art.9"),
    "Deprecated": ("A.6.2.6", "Art.72"),
    "Retired": ("A.6.2.6", "Art.72"),
    "Reactivated": ("A.6.2.5",),
    "PlacementChanged": ("A.4.5", "Art.15"),
    "PhaseChanged": ("A.6.2.6",),
    "ModelDeleted": ("A.6.2.6", "Art.72"),
    "WorkloadFlagged": ("A.6.2.6", "Art.14", "Art.26(5)", "Art.72"),
    "WorkloadFlagCleared": ("A.6.2.6", "Art.72"),
    "WorkloadStopped": ("A.6.2.6", "Art.14", "Art.26(5)"),
    "WorkloadNeedsAPerson": ("A.6.2.6", "Art.14", "Art.26(5)"),
    "LogStarted": (),
}


def controls_for(
    webhook: str | None = None, reasons: Iterable[str] = (), event: str | None = None
) -> list[str]:
    """The control ids one record evidences, every-record ones first, each once."""
    ids: list[str] = [*EVERY_RECORD]
    if webhook is not None:
        ids.extend(BY_WEBHOOK.get(webhook, ()))
    for reason in reasons:
        ids.extend(BY_REASON.get(reason, ()))
    if event is not None:
        ids.extend(BY_EVENT.get(event, ()))
    return list(dict.fromkeys(ids))
