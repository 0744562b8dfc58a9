"""One reconcile pass over a model, as a pure function of what the reconciler observed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigov.api.enums import ConditionStatus
from aigov.api.models import (
    GovernedModel,
    GovernedModelStatus,
    ModelApproval,
    PlacementRef,
    RiskAssessment,
    WorkloadRef,
)
from aigov.policy.placement import PlacementContext, pool_of, resolve
from aigov.policy.recognition import Recognition
from aigov.policy.standing import Evidence, standing
from aigov.reconcile.binding import binding_patch
from aigov.reconcile.reports import (
    DesiredReport,
    ReportFormat,
    context_key,
    inputs_key,
    report_name,
    workload_report,
)
from aigov.reconcile.status import desired_status, status_patch
from aigov.reconcile.workloads import PLACEMENT_FLAG, Flag, flag_changes, workload_refs


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
    reports: tuple[DesiredReport, ...] = ()
    """The policy report each top-level workload should have (when reports are on)."""


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
    report_format: ReportFormat | None = None,
    recognition: Recognition | None = None,
    unchanged: Callable[[str, str], bool] | None = None,
) -> Pass:
    """Decide everything the reconciler writes for `model` at `now`; with `report_format`,
    also each workload's policy report (`recognition`: the engine table admission uses;
    `unchanged(name, inputs)`: the report last written had these inputs, skip it)."""
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
    items = list(objects)
    refs, flags = workload_refs(items, pools, flag_reason(without_workloads), misplaced)
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
    reports: tuple[DesiredReport, ...] = ()
    if report_format is not None:
        evidence = Evidence(
            model.metadata.namespace or "", model.metadata.name, model,
            assessments=tuple(assessments), approvals=tuple(approvals),
            unreadable=tuple(unreadable),
        )  # fmt: skip
        reports = workload_reports(
            items, flags, refs, evidence, now=now, report_format=report_format,
            placement=placement, recognition=recognition, misplaced=misplaced,
            unchanged=unchanged,
        )  # fmt: skip
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
        reports=reports,
    )


def workload_reports(
    objects: Sequence[Mapping[str, Any]],
    flags: Sequence[Flag],
    refs: Sequence[WorkloadRef],
    evidence: Evidence,
    *,
    now: dt.datetime,
    report_format: ReportFormat,
    placement: PlacementContext | None = None,
    recognition: Recognition | None = None,
    misplaced: Callable[[str], bool] | None = None,
    unchanged: Callable[[str, str], bool] | None = None,
) -> tuple[DesiredReport, ...]:
    """The report of each top-level workload: one per flag (`workload_refs` decided which
    objects are top-level; `refs` runs beside `flags`). A workload flagged PlacementViolation
    fails the placement rule with the nodes outside its pools (`misplaced`) its pods run on.
    A report whose inputs are unchanged (`unchanged(name, inputs)`) is not computed again:
    it comes back `reused`, without a body."""
    context = context_key(evidence, now, report_format, placement)
    by_key = {(str(o.get("kind")), str((o.get("metadata") or {}).get("name"))): o for o in objects}
    reports = []
    for flag, ref in zip(flags, refs, strict=True):
        obj = by_key.get((flag.kind, flag.name))
        if obj is None:
            continue
        outside = (
            tuple(n for n in ref.nodes if misplaced(n))
            if flag.reason == PLACEMENT_FLAG and misplaced is not None
            else ()
        )
        inputs = inputs_key(context, obj, outside)
        name = report_name(flag.kind, flag.name)
        if unchanged is not None and unchanged(name, inputs):
            reports.append(DesiredReport(evidence.namespace, name, {}, "", inputs, reused=True))
            continue
        reports.append(
            workload_report(
                obj,
                evidence,
                now,
                fmt=report_format,
                placement=placement,
                recognition=recognition,
                misplaced_on=outside,
                inputs=inputs,
            )
        )
    return tuple(reports)
