"""One reconcile pass over a model, as a pure function of what the reconciler observed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigov.api.enums import ConditionStatus
from aigov.api.models import (
    GovernedModel,
    GovernedModelStatus,
    ModelApproval,
    PlacementRef,
    RiskAssessment,
)
from aigov.policy.placement import PlacementContext, pool_of, resolve
from aigov.policy.standing import standing
from aigov.reconcile.binding import binding_patch
from aigov.reconcile.status import desired_status, status_patch
from aigov.reconcile.workloads import Flag, flag_changes, workload_refs


@dataclass(frozen=True)
class Pass:
    """What one pass decided: status patch, binding patches, flag changes, next due time."""

    desired: GovernedModelStatus
    status_patch: dict[str, Any] | None
    binding_patches: tuple[tuple[str, str, dict[str, Any]], ...]
    """(kind, name, patch) for RiskAssessments and ModelApprovals whose status changes."""
    flags: tuple[Flag, ...]
    """Only the flags to write or remove."""
    due_in: float | None
    """Seconds until the model's standing changes by the clock alone, if ever."""
    stops: tuple[Flag, ...] = ()
    attention: tuple[Flag, ...] = ()
    """Newly flagged workloads stop-on-loss cannot stop (no replicas, no suspend): a person
    must act, and an Event says so."""
    """Flagged workloads still running, to bring to a safe state (when configured)."""


def flag_reason(status: GovernedModelStatus) -> str | None:
    """None when the model may run, else the Ready condition's reason."""
    ready = status.condition("Ready")
    if ready is not None and ready.status is ConditionStatus.TRUE:
        return None
    return ready.reason if ready is not None and ready.reason else "NotReady"


def model_pass(
    model: GovernedModel,
    assessments: Sequence[RiskAssessment],
    approvals: Sequence[ModelApproval],
    *,
    objects: Iterable[Mapping[str, Any]],
    placement: PlacementContext,
    now: dt.datetime,
    stop_workloads: bool = False,
    unreadable: Sequence[str] = (),
) -> Pass:
    """Decide everything the reconciler writes for `model` at `now`."""
    resolution = resolve(model, placement)
    condition = (resolution.resolved, resolution.reason, resolution.message)
    policy_ref = (
        PlacementRef(policy=resolution.policy.metadata.name,
                     generation=resolution.policy.metadata.generation)
        if resolution.policy is not None
        else None
    )  # fmt: skip
    without_workloads = desired_status(
        model, assessments, approvals, now, placement=condition, unreadable=unreadable,
        policy=policy_ref,
    )  # fmt: skip
    nodes = {n.name: n for n in placement.nodes}
    policy = resolution.policy

    def misplaced(node: str) -> bool:
        info = nodes.get(node)
        return (
            policy is not None
            and info is not None
            and pool_of(info, policy.spec.node_pools) is None
        )

    pools = {n.name: n.labels.get("pool", "") for n in placement.nodes}
    refs, flags = workload_refs(objects, pools, flag_reason(without_workloads), misplaced)
    desired = desired_status(
        model, assessments, approvals, now, refs, placement=condition, unreadable=unreadable,
        policy=policy_ref,
    )  # fmt: skip
    decided: list[RiskAssessment | ModelApproval] = [*assessments, *approvals]
    bindings = tuple(
        (type(obj).KIND, obj.metadata.name, patch)
        for obj in decided
        if (patch := binding_patch(obj, model, now)) is not None
    )
    moment = standing(model, assessments, approvals, now, unreadable).next_expiry()
    return Pass(
        desired=desired,
        status_patch=status_patch(model.status, desired),
        binding_patches=bindings,
        flags=tuple(flag_changes(flags)),
        stops=tuple(f for f in flags if f.stop_patch() is not None) if stop_workloads else (),
        attention=(
            tuple(f for f in flag_changes(flags) if f.reason and not f.stoppable)
            if stop_workloads
            else ()
        ),
        due_in=None if moment is None else max(0.0, (moment - now).total_seconds()),
    )
