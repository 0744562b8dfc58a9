"""The metrics aigov exposes count what was decided and where models stand."""

from __future__ import annotations

from prometheus_client import REGISTRY

from aigov import metrics


def value(name: str, **labels: str) -> float:
    found = REGISTRY.get_sample_value(name, labels)
    return found or 0.0


def test_a_decision_counts_once_per_reason_code() -> None:
    labels = {"webhook": "w-test", "decision": "refused", "mode": "enforce"}
    metrics.decided("w-test", "refused", "enforce", ["NotApproved", "PlacementViolation"], 0.002)
    assert value("aigov_admission_decisions_total", **labels, reason="NotApproved") == 1
    assert value("aigov_admission_decisions_total", **labels, reason="PlacementViolation") == 1
    metrics.decided("w-test", "allowed", None, [], 0.001)
    assert (
        value(
            "aigov_admission_decisions_total",
            webhook="w-test",
            decision="allowed",
            mode="none",
            reason="none",
        )
        == 1
    )
    assert value("aigov_admission_latency_seconds_count", webhook="w-test") == 2


def test_phases_count_models_and_drop_to_zero() -> None:
    metrics.phases(["Approved", "Approved", "PendingApproval"])
    assert value("aigov_models", phase="Approved") == 2
    metrics.phases(["PendingApproval"])
    assert value("aigov_models", phase="Approved") == 0
    assert value("aigov_models", phase="PendingApproval") == 1
