"""Keep each GovernedModel's status current and flag the workloads of a model that may not run.

One idempotent pass (`_reconcile`) serves every trigger: a daemon per model runs it at start,
whenever something about the model changes (the model, its assessments and approvals, its
pods), and when the next expiry comes due (never later than Settings.resync_seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf

from aigov import kube, logs, metrics
from aigov.api.base import InvalidResource
from aigov.api.constants import FLAGGED_ANNOTATION, GROUP, MODEL_LABEL, VERSION, Reason
from aigov.api.kinds import workload_kinds
from aigov.api.models import GovernedModel
from aigov.config import Settings
from aigov.handlers import decisionlog, indexes
from aigov.handlers.reports import ReportWriter
from aigov.handlers.runtime import Runtime
from aigov.policy.reserved import reservations, untainted
from aigov.reconcile.model import model_pass, workload_reports
from aigov.reconcile.workloads import Flag, flag_changes, workload_refs

log = logs.get("aigov.reconcile")

RETRY_SECONDS = 5.0
"""When a pass that failed (or met an unreadable model) is tried again."""
LABELLED_KINDS = tuple(k.kind for k in workload_kinds().kinds)
"""Every kind of the kinds table: what runs a model, at any level of ownership."""


class WorkloadWriteError(Exception):
    """Some flag or stop patches failed; the others were written. The pass is retried."""


async def _each(flags: tuple[Flag, ...], write: Callable[[Flag], Awaitable[None]]) -> int:
    """`write` every flag; one that fails is logged and skipped, never the rest (a workload
    deleted or forbidden meanwhile must not keep the others running). Returns the failures."""
    failed = 0
    for flag in flags:
        try:
            await write(flag)
        except Exception:
            failed += 1
            log.exception("workload write failed", kind=flag.kind, namespace=flag.namespace,
                          name=flag.name)  # fmt: skip
    return failed


def _tell(flag: Flag, event: str, message: str, record: str, **fields: Any) -> None:
    """One Warning Event on the workload and one log record: the evidence of each write."""
    kube.post_event(flag.involved, "Warning", event, message)
    decisionlog.workload(flag, event)
    log.info(record, kind=flag.kind, namespace=flag.namespace, name=flag.name, **fields)


async def _flag(flag: Flag) -> None:
    await kube.merge_patch(
        flag.kind,
        flag.namespace,
        flag.name,
        {"metadata": {"annotations": {FLAGGED_ANNOTATION: flag.reason}}},
    )
    metrics.FLAGS.labels(reason=flag.reason or "cleared").inc()
    if flag.reason is None:
        decisionlog.workload(flag, "WorkloadFlagCleared")
        log.info("workload flag", kind=flag.kind, namespace=flag.namespace, name=flag.name,
                 flagged=None)  # fmt: skip
        return
    message = (
        f"aigov: this workload's model may no longer run ({flag.reason}); new pods and "
        "scale-ups are refused"
    )
    _tell(flag, "AigovFlagged", message, "workload flag", flagged=flag.reason)


async def _stop_one(flag: Flag) -> None:
    """Bring a flagged workload to a safe state (stop-on-loss)."""
    patch = flag.stop_patch()
    if patch is None:
        return
    await kube.merge_patch(flag.kind, flag.namespace, flag.name, patch)
    metrics.STOPS.labels(reason=flag.reason or "").inc()
    message = f"aigov stopped this workload: its model may no longer run ({flag.reason})"
    _tell(flag, "AigovStopped", message, "workload stopped", reason=flag.reason)


async def _needs_a_person(flag: Flag) -> None:
    """Stop-on-loss applies but nothing aigov may set stops this kind: say who must act."""
    message = (
        f"aigov cannot stop a {flag.kind} ({flag.reason}): a person must delete it or move it "
        "to an approved model"
    )
    _tell(flag, "AigovActionNeeded", message, "workload needs a person", reason=flag.reason)


async def write_workloads(
    flags: tuple[Flag, ...], stops: tuple[Flag, ...], attention: tuple[Flag, ...] = ()
) -> None:
    """Write every flag, then every stop, whatever fails on the way; raise at the end if
    anything failed, so the reconciler retries the pass soon."""
    failed = await _each(flags, _flag) + await _each(stops, _stop_one)
    failed += await _each(attention, _needs_a_person)
    if failed:
        raise WorkloadWriteError(f"{failed} workload writes failed; the pass is retried")


async def _orphaned(
    namespace: str,
    name: str,
    indices: Mapping[str, Any],
    settings: Settings,
    reports: ReportWriter | None = None,
) -> None:
    """The model was deleted while workloads ran it: flag them ModelNotFound (and stop them
    where stop-on-loss applies), so nothing keeps running on a model the cluster no longer
    records. The flags go when a model of that name is approved again."""
    objects = await kube.list_labelled(namespace, f"{MODEL_LABEL}={name}", LABELLED_KINDS)
    refs, flags = workload_refs(objects, {}, Reason.MODEL_NOT_FOUND.value)
    log.info("governed model deleted", namespace=namespace, name=name, workloads=len(flags))
    decisionlog.model_deleted(namespace, name)
    stopping = settings.stop_workloads or any(indices["namespace_stops"].get(namespace, []))
    stops = tuple(f for f in flags if f.stop_patch() is not None) if stopping else ()
    changed = tuple(flag_changes(flags))
    attention = tuple(f for f in changed if not f.stoppable) if stopping else ()
    await write_workloads(changed, stops, attention)
    if reports is not None and reports.format is not None:
        gone, now = indexes.evidence(indices, namespace, name), dt.datetime.now(dt.UTC)
        done = workload_reports(objects, flags, refs, gone, now=now, report_format=reports.format)
        await reports.sync(namespace, name, done)
        reports.forget(namespace, name)


async def _reconcile(
    namespace: str,
    name: str,
    indices: Mapping[str, Any],
    settings: Settings,
    phases: dict[tuple[str, str], str] | None = None,
    *,
    reports: ReportWriter | None = None,
) -> float | None:
    """One level-based pass over model `name`; returns seconds until the next is due, or
    None when the model is gone (its workloads flagged: nothing more to do)."""
    body = await kube.get("GovernedModel", namespace, name)
    if body is None:
        await _orphaned(namespace, name, indices, settings, reports)
        return None
    try:
        model = GovernedModel.from_body(body)
    except InvalidResource as exc:
        log.warning("invalid GovernedModel", namespace=namespace, name=name, error=str(exc))
        return float(settings.resync_seconds)
    ev = indexes.evidence(indices, namespace, name)
    objects = await kube.list_labelled(namespace, f"{MODEL_LABEL}={name}", LABELLED_KINDS)
    now = dt.datetime.now(dt.UTC)
    ctx = indexes.placement_context(indices, settings.placement_required_for)
    done = model_pass(
        model,
        ev.assessments,
        ev.approvals,
        objects=objects,
        placement=ctx,
        now=now,
        unreadable=ev.unreadable,
        stop_workloads=settings.stop_workloads
        or any(indices["namespace_stops"].get(namespace, [])),
        report_format=reports.format if reports is not None else None,
        recognition=reports.recognition if reports is not None else None,
        unchanged=reports.unchanged(namespace, name) if reports is not None else None,
    )
    if phases is not None and done.desired.phase is not None:
        phases[(namespace, name)] = done.desired.phase.value
        metrics.phases(phases.values())
    if done.status_patch is not None:
        await kube.merge_patch("GovernedModel", namespace, name, done.status_patch, "status")
        decisionlog.model_history(namespace, name, model.status.history, done.desired.history)
        log.info("status written", namespace=namespace, name=name, phase=done.desired.phase)
    for kind, obj_name, patch in done.binding_patches:
        await kube.merge_patch(kind, namespace, obj_name, patch, "status")
    await write_workloads(done.flags, done.stops, done.attention)
    if reports is not None:
        await reports.sync(namespace, name, done.reports)
    # A little past the expiry, so the pass that wakes up sees it expired.
    resync = float(settings.resync_seconds)
    due = done.due_in + 0.05 if done.due_in is not None else resync
    return min(resync, due)


async def _reconcile_forever(
    key: tuple[str, str], indices: Mapping[str, Any], runtime: Runtime
) -> None:
    """A model's reconciler: a pass now, then whenever woken or due, until cancelled."""
    wake = runtime.waker(key)
    while True:
        wake.clear()
        log.debug("reconcile pass", namespace=key[0], name=key[1])
        try:
            async with runtime.pass_slots:
                delay = await _reconcile(
                    key[0], key[1], indices, runtime.settings, runtime.phases,
                    reports=runtime.reports,
                )  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed pass must not end the model's reconciler
            log.exception("reconcile failed", namespace=key[0], name=key[1])
            delay = RETRY_SECONDS
        if delay is None:
            if not indices["governed_models"].get(key):
                runtime.forget(key)  # gone, its workloads flagged: this reconciler ends
                return
            delay = 0.0  # created again meanwhile: reconcile it at once
        elif delay >= runtime.settings.resync_seconds:
            delay *= random.uniform(0.9, 1.0)  # noqa: S311 - spreads resyncs, not a secret
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=delay)


def start(runtime: Runtime, key: tuple[str, str], indices: Mapping[str, Any]) -> None:
    """Start (or wake) the model's reconciler; nothing unless this replica leads."""
    if not runtime.leading:
        return
    runtime.start_reconciler(key, lambda: _reconcile_forever(key, indices, runtime))
    runtime.waker(key).set()


def start_all(runtime: Runtime, indices: Mapping[str, Any]) -> int:
    """A reconciler for every model the index holds: this replica just became the leader.
    Returns how many models that is."""
    keys = list(indices["governed_models"])
    for key in keys:
        start(runtime, key, indices)
    return len(keys)


@kopf.on.event(GROUP, VERSION, "governedmodels")
async def model_changed(*, memo: Any, namespace: str | None, name: str, **kwargs: Any) -> None:
    """Start (or wake) the model's reconciler, if this replica leads; once the model is
    gone, the reconciler ends by itself.

    Plain tasks rather than kopf daemons: a daemon needs a finalizer, and a finalizer left
    behind by a stopped operator would keep every namespace with a model from being deleted;
    and kopf has no way to run daemons only on the replica holding a Lease.
    """
    # A deletion wakes the reconciler too: its last pass flags the workloads left behind.
    start(memo.runtime, (namespace or "", name), kwargs)


def _wake(memo: Any, namespace: str | None, model: object) -> None:
    """Wake the reconciler of the model an object names, if that model has one.

    Only existing models have reconcilers: a pod (or an assessment) naming a model that does
    not exist, in any namespace, must not grow the wake-up table (issue 11).
    """
    runtime: Runtime = memo.runtime
    key = (namespace or "", model)
    if isinstance(model, str) and model and key in runtime.reconcilers:
        runtime.waker(key).set()


@kopf.on.event(GROUP, VERSION, "riskassessments")
async def assessment_changed(*, memo: Any, namespace: str | None, spec: Any, **_: Any) -> None:
    """An assessment made, changed or removed moves its model at once."""
    _wake(memo, namespace, (spec.get("modelRef") or {}).get("name"))


@kopf.on.event(GROUP, VERSION, "modelapprovals")
async def decision_changed(*, memo: Any, namespace: str | None, spec: Any, **_: Any) -> None:
    """An approval or revocation takes effect at once: running workloads are flagged."""
    _wake(memo, namespace, (spec.get("modelRef") or {}).get("name"))


@kopf.on.event("pods", labels={MODEL_LABEL: kopf.PRESENT})
async def pod_changed(
    *, memo: Any, namespace: str | None, labels: Mapping[str, str], **_: Any
) -> None:
    """Where a model's pods run is part of its status."""
    _wake(memo, namespace, labels.get(MODEL_LABEL))


@kopf.on.event(GROUP, VERSION, "placementpolicies")
async def policy_changed(*, memo: Any, name: str, **kwargs: Any) -> None:
    """A policy edit re-judges where its models' pods run: stranded pods get flagged.

    A reservation is only as good as the pools' taints: the reserved-pool webhook's
    matchConditions skip pods that tolerate no taint, so an untainted reserved node is
    named in a warning (see webhooks.match_conditions).
    """
    ctx = indexes.placement_context(kwargs, ())
    bare = untainted(reservations(ctx.policies, ctx.nodes), ctx.nodes)
    if bare:
        log.warning(
            "reserved nodes without a NoSchedule or NoExecute taint: pods that ask for no "
            "GPU and tolerate nothing can land there without aigov being asked; taint them "
            "(e.g. nvidia.com/gpu=present:NoSchedule)",
            policy=name,
            nodes=bare[:20],
        )
    for (namespace, model_name), store in kwargs["governed_models"].items():
        for model in store:
            if isinstance(model, GovernedModel) and model.spec.placement_policy == name:
                _wake(memo, namespace, model_name)
