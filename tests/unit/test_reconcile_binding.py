"""Status of RiskAssessments and ModelApprovals: Current, Stale, Expired or Orphaned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigov.api import constants
from aigov.api.models import BindingPhase, GovernedModel, ModelApproval, RiskAssessment, spec_hash
from aigov.reconcile.binding import binding_patch, binding_phase, binding_status

HEX64 = "a" * 64
NAME = "fraud-scorer-3-1"
T0 = datetime(2026, 10, 2, 8, tzinfo=UTC)
UNTIL = T0 + timedelta(days=90)

SPEC: dict[str, Any] = {
    "modelName": "fraud-scorer",
    "version": "3.1.0",
    "purpose": "Card-fraud scoring for payment authorisation",
    "owner": "team-risk-ml",
    "artifacts": [
        {"name": "server", "image": f"registry.example.com/risk/fraud-scorer@sha256:{HEX64}"}
    ],
    "lineage": {
        "datasets": [
            {
                "name": "transactions-2025",
                "uri": "s3://datasets/tx/2025-12",
                "role": "training",
                "containsPersonalData": True,
            }
        ],
        "code": {
            "repository": "https://git.example.com/risk/fraud",
            "commit": "0123456789abcdef0123456789abcdef01234567",
        },
    },
    "riskClass": "high",
    "placementPolicy": "confidential-eu",
    "lifecycle": "active",
}
CURRENT = spec_hash(SPEC)


def meta(name: str, annotation: str, who: str, generation: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "risk",
        "generation": generation,
        "creationTimestamp": "2026-10-02T08:00:00Z",
        "annotations": {annotation: who},
    }


MODEL = GovernedModel.from_body(
    {
        "apiVersion": constants.API_VERSION,
        "kind": "GovernedModel",
        "metadata": meta(NAME, constants.AUTHOR_ANNOTATION, "alice"),
        "spec": SPEC,
    }
)


def assessment(hash_: str = CURRENT, status: dict[str, Any] | None = None) -> RiskAssessment:
    body: dict[str, Any] = {
        "apiVersion": constants.API_VERSION,
        "kind": "RiskAssessment",
        "metadata": meta("fraud-ra", constants.ASSESSOR_ANNOTATION, "bob", generation=3),
        "spec": {
            "modelRef": {"name": NAME, "specHash": hash_},
            "riskLevel": "medium",
            "methodology": "ISO/IEC 23894 workshop",
            "validUntil": UNTIL.isoformat(),
        },
    }
    if status is not None:
        body["status"] = status
    return RiskAssessment.from_body(body)


def approval(hash_: str = CURRENT, valid_until: datetime | None = None) -> ModelApproval:
    spec: dict[str, Any] = {
        "modelRef": {"name": NAME, "specHash": hash_},
        "riskAssessmentRef": "fraud-ra",
        "decision": "approve",
        "justification": "Mitigations in place",
    }
    if valid_until is not None:
        spec["validUntil"] = valid_until.isoformat()
    return ModelApproval.from_body(
        {
            "apiVersion": constants.API_VERSION,
            "kind": "ModelApproval",
            "metadata": meta("fraud-ma", constants.APPROVER_ANNOTATION, "carol"),
            "spec": spec,
        }
    )


def test_bound_and_in_date_is_current() -> None:
    assert binding_status(assessment(), MODEL, T0) == {
        "phase": "Current",
        "boundToCurrentSpec": True,
        "observedGeneration": 3,
    }


def test_a_changed_model_makes_it_stale() -> None:
    assert binding_status(assessment("b" * 64), MODEL, T0) == {
        "phase": "Stale",
        "boundToCurrentSpec": False,
        "observedGeneration": 3,
    }


@pytest.mark.parametrize(
    ("now", "phase"),
    [
        (UNTIL - timedelta(microseconds=1), BindingPhase.CURRENT),
        (UNTIL, BindingPhase.EXPIRED),
        (UNTIL + timedelta(days=1), BindingPhase.EXPIRED),
    ],
)
def test_it_expires_at_valid_until(now: datetime, phase: BindingPhase) -> None:
    assert binding_phase(assessment(), MODEL, now) is phase
    assert binding_status(assessment(), MODEL, now)["boundToCurrentSpec"] is True


def test_stale_wins_over_expired() -> None:
    assert binding_phase(assessment("b" * 64), MODEL, UNTIL) is BindingPhase.STALE


def test_an_approval_without_valid_until_does_not_expire_by_itself() -> None:
    far = T0 + timedelta(days=3650)
    assert binding_phase(approval(), MODEL, far) is BindingPhase.CURRENT
    assert binding_phase(approval(valid_until=UNTIL), MODEL, far) is BindingPhase.EXPIRED


def test_no_model_or_another_model_means_orphaned() -> None:
    assert binding_status(approval(), None, T0) == {
        "phase": "Orphaned",
        "boundToCurrentSpec": False,
        "observedGeneration": 1,
    }
    other = MODEL.model_copy(update={"metadata": MODEL.metadata.model_copy(update={"name": "x"})})
    assert binding_phase(approval(), other, T0) is BindingPhase.ORPHANED


def test_the_patch_is_written_only_on_change() -> None:
    fresh = assessment()
    assert binding_patch(fresh, MODEL, T0) == {"status": binding_status(fresh, MODEL, T0)}
    written = assessment(
        status={
            "phase": "Current",
            "boundToCurrentSpec": True,
            "observedGeneration": 3,
            "conditions": [],
        }
    )
    assert binding_patch(written, MODEL, T0) is None
    assert binding_patch(written, MODEL, UNTIL) == {
        "status": {"phase": "Expired", "boundToCurrentSpec": True, "observedGeneration": 3}
    }
