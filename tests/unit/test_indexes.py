"""The decision indexes keep what they cannot parse: an unreadable revocation fails closed."""

from __future__ import annotations

import builders

from aigov.api.models import ModelApproval
from aigov.handlers.indexes import (
    evidence,
    model_approvals,
    model_pods,
    pod_model,
    risk_assessments,
)

KEY = (builders.NAMESPACE, builders.MODEL_NAME)


def test_an_unreadable_approval_is_kept_as_why_it_cannot_be_read() -> None:
    body = builders.model_approval_body("a" * 64, decision="revoke")
    body["spec"]["validUntil"] = "2030-01-01T00:00:00+99:00"
    entry = model_approvals(namespace=builders.NAMESPACE, name="fraud-ma", body=body)
    assert entry is not None
    (why,) = entry.values()
    assert isinstance(why, str)
    assert why.startswith("ModelApproval 'fraud-ma' cannot be read: ")
    indices = {
        "governed_models": {KEY: [builders.governed_model()]},
        "risk_assessments": {KEY: []},
        "model_approvals": {KEY: [why]},
    }
    ev = evidence(indices, *KEY)
    assert ev.approvals == ()
    assert ev.unreadable == (why,)


def test_a_readable_approval_is_parsed_once() -> None:
    body = builders.model_approval_body("a" * 64)
    entry = model_approvals(namespace=builders.NAMESPACE, name="fraud-ma", body=body)
    assert entry is not None
    assert isinstance(entry[KEY], ModelApproval)


def test_an_object_naming_no_model_cannot_be_placed() -> None:
    body = builders.risk_assessment_body("a" * 64)
    body["spec"]["modelRef"] = "not a reference"
    assert risk_assessments(namespace=builders.NAMESPACE, name="fraud-ra", body=body) is None


def test_labelled_pods_are_indexed_by_name_for_exec_requests() -> None:
    labels = {"aigov.io/model": builders.MODEL_NAME, "app": "x"}
    entry = model_pods(namespace=builders.NAMESPACE, name="fraud-0", labels=labels)
    assert entry == {(builders.NAMESPACE, "fraud-0"): builders.MODEL_NAME}
    indices = {"model_pods": {key: [value] for key, value in entry.items()}}
    assert pod_model(indices, builders.NAMESPACE, "fraud-0") == builders.MODEL_NAME
    assert pod_model(indices, builders.NAMESPACE, "other") is None
