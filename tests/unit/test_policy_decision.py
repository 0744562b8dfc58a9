"""Decision: stable order, one human summary, and the violations annotation."""

from __future__ import annotations

import json

from aigov.api.constants import Reason
from aigov.policy.decision import Decision, Violation

UNGOVERNED = Violation(Reason.UNGOVERNED_WORKLOAD, "names no model", "metadata.labels")
ARTIFACT = Violation(
    Reason.ARTIFACT_NOT_APPROVED, "image is not an artifact", "spec.containers[1].image"
)
ARTIFACT_0 = Violation(
    Reason.ARTIFACT_NOT_APPROVED, "image is not an artifact", "spec.containers[0].image"
)


def test_empty_decision_allows() -> None:
    decision = Decision()
    assert decision.allowed
    assert decision.codes == ()
    assert decision.summary() == ""
    assert decision.to_json() == "[]"


def test_warnings_do_not_refuse() -> None:
    decision = Decision(warnings=["model m is deprecated", "model m is deprecated"])
    assert decision.allowed
    assert decision.warnings == ("model m is deprecated",)


def test_order_is_stable_and_duplicates_collapse() -> None:
    one = Decision([ARTIFACT, UNGOVERNED, ARTIFACT_0, ARTIFACT])
    two = Decision([ARTIFACT_0, ARTIFACT, UNGOVERNED])
    assert one == two
    assert one.violations == (UNGOVERNED, ARTIFACT_0, ARTIFACT)
    assert one.codes == (Reason.UNGOVERNED_WORKLOAD, Reason.ARTIFACT_NOT_APPROVED)
    assert not one.allowed


def test_summary_lists_every_violation() -> None:
    assert Decision([ARTIFACT, UNGOVERNED]).summary() == (
        "UngovernedWorkload at metadata.labels: names no model; "
        "ArtifactNotApproved at spec.containers[1].image: image is not an artifact"
    )


def test_to_json_is_the_annotation_form() -> None:
    text = Decision([ARTIFACT, UNGOVERNED]).to_json()
    assert json.loads(text) == [
        {"code": "UngovernedWorkload", "message": "names no model", "path": "metadata.labels"},
        {
            "code": "ArtifactNotApproved",
            "message": "image is not an artifact",
            "path": "spec.containers[1].image",
        },
    ]
    assert text == Decision([UNGOVERNED, ARTIFACT]).to_json()


def test_merge_keeps_everything() -> None:
    merged = Decision([ARTIFACT], ["w1"]).merge(Decision([UNGOVERNED], ["w2"]), Decision())
    assert merged.violations == (UNGOVERNED, ARTIFACT)
    assert merged.warnings == ("w1", "w2")
