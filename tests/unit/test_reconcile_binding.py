"""Status of RiskAssessments and ModelApprovals: Current, Stale, Expired or Orphaned."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import builders
import pytest
from builders import T0, governed_model, model_approval, model_spec, risk_assessment

from aigov.api.models import BindingPhase, ModelApproval, RiskAssessment, spec_hash
from aigov.reconcile.binding import binding_patch, binding_phase, binding_status

NAME = builders.MODEL_NAME
UNTIL = T0 + timedelta(days=90)
SPEC = model_spec(weights=False)
CURRENT = spec_hash(SPEC)
# The objects of this module are stored without a uid.
MODEL = governed_model(SPEC, uid=None)


def assessment(hash_: str = CURRENT, status: dict[str, Any] | None = None) -> RiskAssessment:
    return risk_assessment(hash_, valid_until=UNTIL, status=status, uid=None, generation=3)


def approval(hash_: str = CURRENT, valid_until: datetime | None = None) -> ModelApproval:
    return model_approval(
        hash_, valid_until=valid_until, justification="Mitigations in place", uid=None
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
