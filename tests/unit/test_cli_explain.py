"""`aigov why gm/NAME`: the standing in sentences, and who must act next."""

from __future__ import annotations

from datetime import timedelta

import builders
import pytest
from builders import NAMESPACE, T0, governed_model, model_approval, model_spec, risk_assessment

from aigov.api.models import spec_hash
from aigov.cli.explain import explain
from aigov.policy.placement import PlacementContext
from aigov.policy.standing import Evidence

CURRENT = spec_hash(model_spec())
NOW = T0 + timedelta(days=1)
NO_PLACEMENT = PlacementContext(policies={}, nodes=[], required_for=frozenset())


def evidence(assess: bool = True, decision: str | None = "approve") -> Evidence:
    return Evidence(
        namespace=NAMESPACE,
        name=builders.MODEL_NAME,
        model=governed_model(),
        assessments=(risk_assessment(CURRENT),) if assess else (),
        approvals=(model_approval(CURRENT, decision=decision),) if decision else (),
    )


def test_an_unassessed_model_needs_a_risk_officer() -> None:
    found = explain(evidence(assess=False, decision=None), NO_PLACEMENT, NOW)
    assert found.phase == "PendingAssessment"
    assert found.next_step is not None
    assert found.next_step.startswith("A risk officer (aigov-risk-assessor), not one of the")
    assert CURRENT in found.next_step


def test_an_assessed_model_needs_a_third_person_to_approve() -> None:
    found = explain(evidence(decision=None), NO_PLACEMENT, NOW)
    assert found.phase == "PendingApproval"
    assert found.next_step is not None
    assert "An approver (aigov-approver), not one of the authors (alice)" in found.next_step
    assert "assessor (bob)" in found.next_step
    assert any(s.startswith("Risk assessment: fraud-ra by bob") for s in found.sentences)


def test_an_approved_model_needs_nobody() -> None:
    found = explain(evidence(), NO_PLACEMENT, NOW)
    assert found.phase == "Approved"
    assert found.next_step is None
    assert any(s.startswith("Approval: approved by carol") for s in found.sentences)


@pytest.mark.parametrize(("decision", "done"), [("reject", "rejected"), ("revoke", "revoked")])
def test_a_vetoed_model_says_so(decision: str, done: str) -> None:
    found = explain(evidence(decision=decision), NO_PLACEMENT, NOW)
    assert found.phase == "Rejected"
    assert any(s.startswith(f"Approval: {done} by carol") for s in found.sentences)
    assert found.next_step is not None


def test_a_missing_model_needs_an_author() -> None:
    found = explain(Evidence(namespace=NAMESPACE, name="ghost"), NO_PLACEMENT, NOW)
    assert found.phase == "NotFound"
    assert found.next_step == "An ML engineer (aigov-model-author) must create the GovernedModel."
