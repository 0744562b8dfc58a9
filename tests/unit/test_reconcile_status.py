"""GovernedModel status: phase, conditions, summaries, history and the patch that writes them.

Each test drives a small world (one model's body, its assessments and approvals) through
reconciles at chosen times, writing every patch into the body with RFC 7386 semantics, as
the API server would, and reading the model back from that body.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import builders
import pytest
from builders import (
    HAZARD,
    T0,
    governed_model_body,
    merge_patch,
    model_approval,
    model_spec,
    risk_assessment,
)

from aigov.api.models import (
    Condition,
    ConditionStatus,
    GovernedModel,
    GovernedModelStatus,
    HistoryEntry,
    ModelApproval,
    Phase,
    PlacementRef,
    RiskAssessment,
    WorkloadRef,
    spec_hash,
)
from aigov.policy.standing import standing
from aigov.reconcile.conditions import set_condition
from aigov.reconcile.history import append_history
from aigov.reconcile.status import (
    desired_status,
    lost_approval,
    regained_approval,
    status_patch,
)

NAME = builders.MODEL_NAME
YEAR = timedelta(days=365)
JUSTIFICATION = "{decision}: reviewed by the model risk committee"


def assessment(hash_: str, **options: Any) -> RiskAssessment:
    """One with a hazard and its mitigation; `options` as `risk_assessment`'s."""
    return risk_assessment(hash_, hazards=[HAZARD], **options)


def approval(hash_: str, **options: Any) -> ModelApproval:
    """`options` as `model_approval`'s."""
    return model_approval(hash_, justification=JUSTIFICATION, **options)


class World:
    """One GovernedModel as stored in the cluster, and the objects that name it."""

    def __init__(self) -> None:
        # A complete spec as the API server stores it (defaults applied).
        self.body: dict[str, Any] = governed_model_body(model_spec(dataset_digest=True))
        self.assessments: list[RiskAssessment] = []
        self.approvals: list[ModelApproval] = []
        self.patches: list[dict[str, Any] | None] = []

    @property
    def model(self) -> GovernedModel:
        return GovernedModel.from_body(copy.deepcopy(self.body))

    @property
    def hash(self) -> str:
        return spec_hash(self.body["spec"])

    @property
    def status(self) -> GovernedModelStatus:
        return self.model.status

    def edit_spec(self, **changes: Any) -> None:
        """An update by the author: a new spec, a new generation."""
        self.body["spec"].update(changes)
        self.body["metadata"]["generation"] += 1

    def reconcile(self, now: datetime, **options: Any) -> GovernedModelStatus:
        """One reconcile: compute, patch the stored body on change, read it back."""
        model = self.model
        desired = desired_status(model, self.assessments, self.approvals, now, **options)
        patch = status_patch(model.status, desired)
        self.patches.append(patch)
        if patch is not None:
            self.body = merge_patch(self.body, patch)
        stored = self.status
        assert stored == desired, "the merge patch must reproduce the desired status"
        return stored

    def settled(self, now: datetime, **options: Any) -> GovernedModelStatus:
        """Reconcile, then check a second pass at the same moment changes nothing."""
        first = self.reconcile(now, **options)
        again = self.reconcile(now, **options)
        assert self.patches[-1] is None
        assert again == first
        return first


def cond(status: GovernedModelStatus, type_: str) -> Condition:
    found = status.condition(type_)
    assert found is not None, f"no {type_} condition"
    return found


def events(status: GovernedModelStatus) -> list[str]:
    return [entry.event for entry in status.history]


def approved_world(now: datetime = T0) -> World:
    world = World()
    world.assessments.append(assessment(world.hash, created=now))
    world.approvals.append(approval(world.hash, created=now))
    world.settled(now)
    return world


# The road to Approved ---------------------------------------------------------------------


class TestRoadToApproval:
    def test_a_new_model_waits_for_its_assessment(self) -> None:
        world = World()
        status = world.settled(T0)
        assert status.phase is Phase.PENDING_ASSESSMENT
        assert status.spec_hash == world.hash
        assert status.observed_generation == 1
        assert [c.type for c in status.conditions] == [
            "LineageComplete",
            "RiskAssessed",
            "Approved",
            "Ready",
        ]
        assert cond(status, "LineageComplete").status is ConditionStatus.TRUE
        risk = cond(status, "RiskAssessed")
        assert (risk.status, risk.reason) == (ConditionStatus.FALSE, "RiskAssessmentMissing")
        assert world.hash[:12] in risk.message
        assert cond(status, "Approved").reason == "NotApproved"
        ready = cond(status, "Ready")
        assert (ready.status, ready.reason) == (ConditionStatus.FALSE, "RiskAssessmentMissing")
        assert all(c.observed_generation == 1 for c in status.conditions)
        assert all(c.last_transition_time == T0 for c in status.conditions)
        assert status.approval is None
        assert status.risk_assessment is None
        assert status.history == [
            HistoryEntry(
                time=T0,
                event="Created",
                actor="alice",
                spec_hash=world.hash,
                message="first observed in phase PendingAssessment",
            )
        ]

    def test_assessment_then_approval_make_it_ready(self) -> None:
        world = World()
        world.settled(T0)

        t1 = T0 + timedelta(hours=1)
        world.assessments.append(assessment(world.hash, created=t1))
        pending = world.settled(t1)
        assert pending.phase is Phase.PENDING_APPROVAL
        assert cond(pending, "RiskAssessed").status is ConditionStatus.TRUE
        assert cond(pending, "RiskAssessed").last_transition_time == t1
        assert pending.risk_assessment is not None
        assert pending.risk_assessment.name == "fraud-ra"
        assert pending.risk_assessment.assessor == "bob"
        assert pending.risk_assessment.spec_hash == world.hash
        assert pending.risk_assessment.valid_until == T0 + YEAR
        assessed = pending.history[-1]
        assert (assessed.event, assessed.actor, assessed.time) == ("Assessed", "bob", t1)
        assert assessed.message is not None
        assert assessed.message.startswith("PendingAssessment -> PendingApproval: ")

        t2 = T0 + timedelta(hours=2)
        world.approvals.append(approval(world.hash, created=t2))
        approved = world.settled(t2)
        assert approved.phase is Phase.APPROVED
        assert events(approved) == ["Created", "Assessed", "Approved"]
        entry = approved.history[-1]
        assert (entry.actor, entry.spec_hash) == ("carol", world.hash)
        assert entry.message is not None
        assert entry.message.startswith("PendingApproval -> Approved: ModelApproval 'fraud-ma'")
        summary = approved.approval
        assert summary is not None
        assert (summary.name, summary.approver, summary.decision) == (
            "fraud-ma",
            "carol",
            "approve",
        )
        assert (summary.spec_hash, summary.approved_at, summary.valid_until) == (
            world.hash,
            t2,
            None,
        )
        ready = cond(approved, "Ready")
        assert (ready.status, ready.reason, ready.last_transition_time) == (
            ConditionStatus.TRUE,
            "Ready",
            t2,
        )
        assert cond(approved, "LineageComplete").last_transition_time == T0
        assert regained_approval(pending, approved)
        assert lost_approval(pending, approved) is None

    def test_first_sight_of_an_approved_model_records_what_led_there(self) -> None:
        world = World()
        world.assessments.append(assessment(world.hash))
        world.approvals.append(approval(world.hash))
        status = world.settled(T0)
        assert status.phase is Phase.APPROVED
        assert events(status) == ["Created", "Assessed", "Approved"]
        assert [e.actor for e in status.history] == ["alice", "bob", "carol"]
        assert regained_approval(GovernedModelStatus(), status)

    def test_a_stale_decision_of_another_spec_does_not_count(self) -> None:
        world = World()
        world.assessments.append(assessment(world.hash))
        world.approvals.append(approval("b" * 64))
        status = world.settled(T0)
        assert status.phase is Phase.PENDING_APPROVAL
        assert status.approval is None
        assert "spec has changed since" in cond(status, "Approved").message

    def test_the_author_cannot_approve(self) -> None:
        world = World()
        world.assessments.append(assessment(world.hash))
        world.approvals.append(approval(world.hash, approver="alice"))
        status = world.settled(T0)
        assert status.phase is Phase.PENDING_APPROVAL
        approved = cond(status, "Approved")
        assert (approved.status, approved.reason) == (ConditionStatus.FALSE, "SeparationOfDuties")
        assert "'alice' is both author and approver" in approved.message
        assert cond(status, "Ready").reason == "SeparationOfDuties"

    def test_a_rejection_is_final_for_that_spec(self) -> None:
        world = World()
        world.assessments.append(assessment(world.hash))
        world.settled(T0)
        t1 = T0 + timedelta(hours=1)
        world.approvals.append(approval(world.hash, created=t1, decision="reject"))
        status = world.settled(t1)
        assert status.phase is Phase.REJECTED
        assert cond(status, "Approved").reason == "Rejected"
        assert status.history[-1].event == "Rejected"
        assert status.history[-1].actor == "carol"
        assert status.approval is not None
        assert status.approval.decision == "reject"

    def test_unacceptable_risk_is_rejected_by_the_assessment(self) -> None:
        world = World()
        world.settled(T0)
        t1 = T0 + timedelta(hours=1)
        world.assessments.append(assessment(world.hash, created=t1, level="unacceptable"))
        status = world.settled(t1)
        assert status.phase is Phase.REJECTED
        risk = cond(status, "RiskAssessed")
        assert (risk.status, risk.reason) == (ConditionStatus.FALSE, "RiskUnacceptable")
        # Still False: the reason changed, the transition time did not.
        assert risk.last_transition_time == T0
        entry = status.history[-1]
        assert (entry.event, entry.actor) == ("Assessed", "bob")
        assert entry.message is not None
        assert entry.message.startswith("PendingAssessment -> Rejected: ")

    def test_incomplete_lineage_is_invalid_with_the_path_to_fix(self) -> None:
        world = World()
        del world.body["spec"]["lineage"]["code"]
        status = world.settled(T0)
        assert status.phase is Phase.INVALID
        lineage = cond(status, "LineageComplete")
        assert (lineage.status, lineage.reason) == (ConditionStatus.FALSE, "LineageIncomplete")
        assert "spec.lineage.code" in lineage.message
        assert cond(status, "Ready").reason == "LineageIncomplete"


# Losing approval --------------------------------------------------------------------------


class TestExpiry:
    def test_the_assessment_expires_exactly_at_valid_until(self) -> None:
        world = World()
        until = T0 + timedelta(days=30)
        world.assessments.append(assessment(world.hash, valid_until=until))
        world.approvals.append(approval(world.hash))
        approved = world.settled(T0)
        st = standing(world.model, world.assessments, world.approvals, T0)
        assert st.next_expiry() == until

        just_before = world.settled(until - timedelta(microseconds=1))
        assert just_before.phase is Phase.APPROVED
        assert world.patches[-2] is None, "nothing changes before validUntil"

        expired = world.settled(st.next_expiry() or until)
        assert expired.phase is Phase.EXPIRED
        risk = cond(expired, "RiskAssessed")
        assert (risk.status, risk.reason, risk.last_transition_time) == (
            ConditionStatus.FALSE,
            "RiskAssessmentExpired",
            until,
        )
        ready = cond(expired, "Ready")
        assert (ready.status, ready.reason) == (ConditionStatus.FALSE, "RiskAssessmentExpired")
        entry = expired.history[-1]
        assert (entry.event, entry.actor, entry.time) == ("Expired", "aigov-operator", until)
        assert entry.message == (
            "Approved -> Expired: RiskAssessment 'fraud-ra' expired at 2026-11-01T08:00:00+00:00"
        )
        assert lost_approval(approved, expired) == "RiskAssessmentExpired"
        assert not regained_approval(approved, expired)
        assert (
            standing(world.model, world.assessments, world.approvals, until).next_expiry() is None
        )

    def test_an_approval_with_valid_until_expires_with_its_own_reason(self) -> None:
        world = World()
        until = T0 + timedelta(days=7)
        world.assessments.append(assessment(world.hash))
        world.approvals.append(approval(world.hash, valid_until=until))
        approved = world.settled(T0)
        assert cond(approved, "Approved").message.endswith(f"valid until {until.isoformat()}")
        expired = world.settled(until, actor="aigov-timer")
        assert expired.phase is Phase.EXPIRED
        assert cond(expired, "Approved").reason == "ApprovalExpired"
        assert expired.history[-1].event == "Expired"
        assert expired.history[-1].actor == "aigov-timer"
        assert lost_approval(approved, expired) == "ApprovalExpired"

    def test_a_new_assessment_needs_a_new_approval_before_the_model_is_back(self) -> None:
        world = World()
        until = T0 + timedelta(days=30)
        world.assessments.append(assessment(world.hash, valid_until=until))
        world.approvals.append(approval(world.hash))
        world.settled(T0)
        expired = world.settled(until)
        later = until + timedelta(days=1)
        world.assessments.append(assessment(world.hash, name="fraud-ra-2", created=later))
        reassessed = world.settled(later)
        # The approval relied on the expired assessment: an approver decides again.
        assert reassessed.phase is Phase.PENDING_APPROVAL
        assert reassessed.history[-1].event == "Assessed"
        assert not regained_approval(expired, reassessed)
        again = later + timedelta(hours=1)
        world.approvals.append(
            approval(world.hash, name="fraud-ma-2", created=again, assessment_ref="fraud-ra-2")
        )
        renewed = world.settled(again)
        assert renewed.phase is Phase.APPROVED
        assert cond(renewed, "Ready").last_transition_time == again
        assert regained_approval(expired, renewed)


class TestRevocation:
    def test_the_newest_decision_wins_and_a_revoke_loses_approval(self) -> None:
        world = approved_world()
        approved = world.status
        t1 = T0 + timedelta(days=3)
        world.approvals.append(
            approval(world.hash, name="fraud-ma-revoke", created=t1, decision="revoke")
        )
        revoked = world.settled(t1)
        assert revoked.phase is Phase.REJECTED
        approved_condition = cond(revoked, "Approved")
        assert (approved_condition.status, approved_condition.reason) == (
            ConditionStatus.FALSE,
            "Revoked",
        )
        assert "revoked GovernedModel" in approved_condition.message
        assert revoked.approval is not None
        assert (revoked.approval.name, revoked.approval.decision) == ("fraud-ma-revoke", "revoke")
        entry = revoked.history[-1]
        assert (entry.event, entry.actor) == ("Revoked", "carol")
        assert entry.message is not None
        assert entry.message.startswith("Approved -> Rejected: ModelApproval 'fraud-ma-revoke'")
        assert lost_approval(approved, revoked) == "Revoked"

    def test_decision_order_does_not_depend_on_list_order(self) -> None:
        world = approved_world()
        world.approvals.append(
            approval(world.hash, name="a-revoke", created=T0 + timedelta(days=1), decision="revoke")
        )
        world.settled(T0 + timedelta(days=1))
        model = world.model
        for seed in range(3):
            shuffled = list(world.approvals)
            random.Random(seed).shuffle(shuffled)
            desired = desired_status(model, world.assessments, shuffled, T0 + timedelta(days=2))
            assert status_patch(model.status, desired) is None


class TestSpecChange:
    def test_a_changed_spec_needs_a_new_assessment_and_approval(self) -> None:
        world = approved_world()
        approved = world.status
        old_hash = world.hash
        world.edit_spec(version="3.1.1")
        t1 = T0 + timedelta(days=1)
        changed = world.settled(t1)
        patch = world.patches[-2]
        assert patch is not None
        assert patch["status"]["approval"] is None, "a merge patch must remove the approval"
        assert patch["status"]["riskAssessment"] is None
        assert changed.phase is Phase.PENDING_ASSESSMENT
        assert changed.spec_hash == world.hash != old_hash
        assert changed.observed_generation == 2
        assert all(c.observed_generation == 2 for c in changed.conditions)
        assert changed.approval is None
        assert changed.risk_assessment is None
        spec_changed, phase_changed = changed.history[-2:]
        assert (spec_changed.event, spec_changed.actor, spec_changed.spec_hash) == (
            "SpecChanged",
            "alice",
            world.hash,
        )
        assert spec_changed.message == f"{old_hash[:12]}... -> {world.hash[:12]}..."
        assert (phase_changed.event, phase_changed.message) == (
            "PhaseChanged",
            "Approved -> PendingAssessment",
        )
        assert lost_approval(approved, changed) == "SpecChanged"
        # Earlier entries are kept as they were, with the hash of their time.
        assert changed.history[: len(approved.history)] == approved.history
        assert {e.spec_hash for e in approved.history} == {old_hash}


class TestLifecycle:
    def test_retiring_stops_the_model(self) -> None:
        world = approved_world()
        approved = world.status
        world.edit_spec(lifecycle="retired")
        t1 = T0 + timedelta(days=1)
        retired = world.settled(t1)
        assert retired.phase is Phase.RETIRED
        ready = cond(retired, "Ready")
        assert (ready.status, ready.reason) == (ConditionStatus.FALSE, "ModelRetired")
        assert "is retired and may not run" in ready.message
        # lifecycle is outside the spec hash: retiring is its own event, not a spec change
        assert events(retired)[-1:] == ["Retired"]
        assert "SpecChanged" not in events(retired)
        assert retired.history[-1].message == "Approved -> Retired: spec.lifecycle is retired"
        assert lost_approval(approved, retired) == "ModelRetired"

    def test_deprecation_and_reactivation_are_recorded_once(self) -> None:
        world = approved_world()
        world.edit_spec(lifecycle="deprecated")
        t1 = T0 + timedelta(days=1)
        deprecated = world.settled(t1)
        assert events(deprecated).count("Deprecated") == 1
        world.settled(t1 + timedelta(hours=1))
        world.edit_spec(lifecycle="active")
        t2 = T0 + timedelta(days=2)
        active = world.settled(t2)
        # lifecycle is outside the spec hash: the approval held throughout.
        assert active.phase is Phase.APPROVED
        assert events(active)[-2:] == ["Deprecated", "Reactivated"]
        assert "SpecChanged" not in events(active)
        assert events(active).count("Deprecated") == 1

    def test_a_deprecated_model_is_ready_with_a_warning(self) -> None:
        world = World()
        world.body["spec"]["lifecycle"] = "deprecated"
        world.assessments.append(assessment(world.hash))
        world.approvals.append(approval(world.hash))
        status = world.settled(T0)
        assert status.phase is Phase.APPROVED
        assert cond(status, "Ready").status is ConditionStatus.TRUE
        assert "deprecated" in cond(status, "Ready").message
        assert events(status) == ["Created", "Deprecated", "Assessed", "Approved"]


# Conditions -------------------------------------------------------------------------------


class TestConditions:
    def test_transition_time_moves_only_with_the_status(self) -> None:
        world = World()
        world.settled(T0)
        t1 = T0 + timedelta(hours=1)
        world.assessments.append(assessment(world.hash, created=t1))
        status = world.settled(t1)
        # Ready is still False, for another reason: its time is kept, its reason updated.
        ready = cond(status, "Ready")
        assert (ready.status, ready.reason, ready.last_transition_time) == (
            ConditionStatus.FALSE,
            "NotApproved",
            T0,
        )
        assert cond(status, "RiskAssessed").last_transition_time == t1
        assert cond(status, "LineageComplete").last_transition_time == T0

    def test_set_condition_keeps_other_conditions_in_place(self) -> None:
        foreign = Condition(
            type="Custom",
            status=ConditionStatus.TRUE,
            reason="X",
            message="",
            last_transition_time=T0,
        )
        ready = Condition(
            type="Ready",
            status=ConditionStatus.FALSE,
            reason="A",
            message="",
            last_transition_time=T0,
        )
        t1 = T0 + timedelta(hours=1)
        same = ready.model_copy(update={"reason": "B", "last_transition_time": t1})
        assert set_condition([foreign, ready], same, t1) == [
            foreign,
            ready.model_copy(update={"reason": "B"}),
        ]
        flipped = ready.model_copy(update={"status": ConditionStatus.TRUE})
        assert set_condition([ready, foreign], flipped, t1) == [
            flipped.model_copy(update={"last_transition_time": t1}),
            foreign,
        ]
        assert set_condition([], ready, t1) == [
            ready.model_copy(update={"last_transition_time": t1})
        ]

    def test_foreign_conditions_survive_a_reconcile(self) -> None:
        world = World()
        custom = {
            "type": "Audited",
            "status": "True",
            "reason": "External",
            "message": "",
            "lastTransitionTime": "2026-10-01T00:00:00Z",
        }
        world.body["status"] = {"conditions": [custom]}
        status = world.settled(T0)
        assert [c.type for c in status.conditions][-1] == "Audited"

    def test_placement_blocks_ready_and_is_kept_when_not_judged(self) -> None:
        world = approved_world()
        t1 = T0 + timedelta(hours=1)
        unresolved = (False, "PlacementViolation", "PlacementPolicy 'confidential-eu' not found")
        status = world.settled(t1, placement=unresolved)
        assert status.phase is Phase.APPROVED
        assert [c.type for c in status.conditions] == [
            "LineageComplete",
            "RiskAssessed",
            "Approved",
            "PlacementResolved",
            "Ready",
        ]
        placement = cond(status, "PlacementResolved")
        assert (placement.status, placement.reason) == (ConditionStatus.FALSE, "PlacementViolation")
        ready = cond(status, "Ready")
        assert (ready.status, ready.reason, ready.message) == (
            ConditionStatus.FALSE,
            "PlacementViolation",
            "PlacementPolicy 'confidential-eu' not found",
        )
        # A pass that does not judge placement keeps the last judgement.
        t2 = T0 + timedelta(hours=2)
        assert world.reconcile(t2) == status
        resolved = world.settled(t2, placement=(True, "PlacementResolved", "pool h200-eu"))
        assert cond(resolved, "Ready").status is ConditionStatus.TRUE
        assert regained_approval(status, resolved)

    def test_times_are_written_in_whole_seconds(self) -> None:
        world = World()
        status = world.settled(T0 + timedelta(seconds=5, microseconds=750))
        assert cond(status, "Ready").last_transition_time == T0 + timedelta(seconds=5)
        assert status.history[0].time == T0 + timedelta(seconds=5)


# Idempotency, patches, history ------------------------------------------------------------


class TestIdempotency:
    @pytest.mark.parametrize("later", [timedelta(0), timedelta(minutes=5), timedelta(days=10)])
    def test_a_second_pass_appends_nothing_and_patches_nothing(self, later: timedelta) -> None:
        world = approved_world()
        before = world.status
        model = world.model
        again = desired_status(model, world.assessments, world.approvals, T0 + later)
        assert again == before
        assert status_patch(model.status, again) is None

    def test_workloads_are_replaced_and_patched_on_change(self) -> None:
        world = approved_world()
        running = [WorkloadRef(kind="Deployment", name="fraud-api", nodes=["gpu-1"])]
        status = world.settled(T0 + timedelta(minutes=1), workloads=running)
        assert status.workloads == running
        patch = world.patches[-2]
        assert patch == {
            "status": {
                "workloads": [
                    {
                        "kind": "Deployment",
                        "name": "fraud-api",
                        "nodes": ["gpu-1"],
                        "pools": [],
                        "flagged": False,
                    }
                ]
            }
        }

    def test_status_patch_sends_only_what_changed(self) -> None:
        world = approved_world()
        current = world.status
        t1 = T0 + timedelta(days=1)
        world.approvals.append(
            approval(world.hash, name="fraud-ma-2", created=t1, valid_until=T0 + YEAR)
        )
        desired = desired_status(world.model, world.assessments, world.approvals, t1)
        patch = status_patch(current, desired)
        assert patch is not None
        assert set(patch["status"]) == {"approval", "conditions", "history"}
        assert patch["status"]["approval"] == {
            "name": "fraud-ma-2",
            "approvedAt": "2026-10-03T08:00:00Z",
            "validUntil": "2027-10-02T08:00:00Z",
        }
        assert status_patch(desired, desired) is None


class TestHistory:
    def test_history_is_capped_by_dropping_the_oldest(self) -> None:
        world = World()
        world.assessments.append(assessment(world.hash))
        kept = list(world.settled(T0, max_history=3).history)
        assert events(world.status) == ["Created", "Assessed"]
        for day in range(1, 5):
            created = T0 + timedelta(days=day)
            verdict = "approve" if day % 2 else "revoke"
            world.approvals.append(
                approval(world.hash, name=f"ma-{day}", created=created, decision=verdict)
            )
            status = world.settled(created, max_history=3)
            assert len(status.history) <= 3
            assert status.history[:-1] == kept[-2:]
            kept = list(status.history)
        assert events(world.status) == ["Revoked", "Approved", "Revoked"]
        assert [e.time for e in world.status.history] == [
            T0 + timedelta(days=2),
            T0 + timedelta(days=3),
            T0 + timedelta(days=4),
        ]

    def test_append_history_never_rewrites(self) -> None:
        def entry(n: int) -> HistoryEntry:
            return HistoryEntry(time=T0 + timedelta(minutes=n), event=f"E{n}")

        old: Sequence[HistoryEntry] = [entry(1), entry(2)]
        assert append_history(old, [entry(3)], 100) == [entry(1), entry(2), entry(3)]
        assert append_history(old, [entry(3)], 2) == [entry(2), entry(3)]
        assert append_history(old, [], 100) == list(old)


class TestLostAndRegained:
    def test_nothing_lost_while_pending(self) -> None:
        world = World()
        first = world.settled(T0)
        world.assessments.append(assessment(world.hash))
        second = world.settled(T0 + timedelta(hours=1))
        assert lost_approval(first, second) is None
        assert not regained_approval(first, second)
        assert lost_approval(GovernedModelStatus(), first) is None

    def test_a_status_without_conditions_is_judged_by_its_phase(self) -> None:
        world = approved_world()
        legacy = GovernedModelStatus(phase=Phase.APPROVED, spec_hash=world.hash)
        world.approvals.append(
            approval(world.hash, name="z", created=T0 + timedelta(days=1), decision="revoke")
        )
        revoked = desired_status(world.model, world.assessments, world.approvals, T0 + YEAR / 2)
        assert lost_approval(legacy, revoked) == "Revoked"


# PlacementPolicy edits (issue 11) ---------------------------------------------------------


class TestPlacementPolicyEdits:
    RESOLVED = (True, "Resolved", "PlacementPolicy 'confidential-eu' (validate)")

    def pass_with(self, world: World, generation: int, now: datetime) -> GovernedModelStatus:
        ref = PlacementRef(policy="confidential-eu", generation=generation)
        return world.settled(now, placement=self.RESOLVED, policy=ref)

    def test_a_new_generation_of_the_policy_is_history(self) -> None:
        world = approved_world()
        first = self.pass_with(world, 1, T0)
        assert first.placement == PlacementRef(policy="confidential-eu", generation=1)
        assert "PlacementChanged" not in events(first)
        assert "PlacementChanged" not in events(self.pass_with(world, 1, T0 + YEAR / 365))
        edited = self.pass_with(world, 2, T0 + YEAR / 300)
        (entry,) = [h for h in edited.history if h.event == "PlacementChanged"]
        assert entry.actor == "aigov-operator"
        assert entry.message is not None
        assert entry.message.startswith(
            "PlacementPolicy 'confidential-eu' changed (generation 1 -> 2); placement judged "
            "again: PlacementPolicy 'confidential-eu' (validate)"
        )

    def test_a_pass_that_does_not_judge_placement_keeps_the_record(self) -> None:
        world = approved_world()
        self.pass_with(world, 3, T0)
        kept = world.settled(T0 + YEAR / 365)
        assert kept.placement == PlacementRef(policy="confidential-eu", generation=3)
