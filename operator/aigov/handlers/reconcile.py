"""Keep each GovernedModel's status current and flag the workloads of a model that may not run.

One idempotent pass (`_reconcile`) serves every trigger: a daemon per model runs it at start,
whenever something about the model changes (the model, its assessments and approvals, its
pods), and when the next expiry comes due (never later than RESYNC_SECONDS).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import kopf

from aigov import kube, logs
from aigov.api.base import InvalidResource
from aigov.api.constants import FLAGGED_ANNOTATION, GROUP, MODEL_LABEL, VERSION
from aigov.api.models import GovernedModel
from aigov.config import Settings
from aigov.handlers import indexes
from aigov.handlers.runtime import Runtime
from aigov.reconcile.model import model_pass
from aigov.reconcile.workloads import Flag

log = logs.get("aigov.reconcile")

RESYNC_SECONDS = 30.0
LABELLED_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "InferenceService",
    "Pod",
)


async def _write_flags(flags: tuple[Flag, ...]) -> None:
    for flag in flags:
        await kube.merge_patch(
            flag.kind,
            flag.namespace,
            flag.name,
            {"metadata": {"annotations": {FLAGGED_ANNOTATION: flag.reason}}},
        )
        if flag.reason is not None:
            kube.post_event(
                {
                    "apiVersion": flag.api_version,
                    "kind": flag.kind,
                    "namespace": flag.namespace,
                    "name": flag.name,
                    "uid": flag.uid,
                },
                "Warning",
                "AigovFlagged",
                f"aigov: this workload's model may no longer run ({flag.reason}); "
                "new pods and scale-ups are refused",
            )
        log.info(
            "workload flag",
            kind=flag.kind,
            namespace=flag.namespace,
            name=flag.name,
            flagged=flag.reason,
        )


async def _reconcile(
    namespace: str, name: str, indices: Mapping[str, Any], settings: Settings
) -> float:
    """One level-based pass over model `name`; returns seconds until the next is due."""
    body = await kube.get("GovernedModel", namespace, name)
    if body is None:
        return RESYNC_SECONDS
    try:
        model = GovernedModel.from_body(body)
    except InvalidResource as exc:
        log.warning("invalid GovernedModel", namespace=namespace, name=name, error=str(exc))
        return RESYNC_SECONDS
    ev = indexes.evidence(indices, namespace, name)
    objects = await kube.list_labelled(namespace, f"{MODEL_LABEL}={name}", LABELLED_KINDS)
    now = dt.datetime.now(dt.UTC)
    ctx = indexes.placement_context(indices, settings.placement_required_for)
    done = model_pass(model, ev.assessments, ev.approvals, objects=objects, placement=ctx, now=now)
    if done.status_patch is not None:
        await kube.merge_patch("GovernedModel", namespace, name, done.status_patch, "status")
        log.info("status written", namespace=namespace, name=name, phase=done.desired.phase)
    for kind, obj_name, patch in done.binding_patches:
        await kube.merge_patch(kind, namespace, obj_name, patch, "status")
    await _write_flags(done.flags)
    # A little past the expiry, so the pass that wakes up sees it expired.
    due = done.due_in + 0.05 if done.due_in is not None else RESYNC_SECONDS
    return min(RESYNC_SECONDS, due)


@kopf.daemon(GROUP, VERSION, "governedmodels", cancellation_timeout=5.0)
async def govern_model(
    *, stopped: kopf.DaemonStopped, namespace: str | None, name: str, memo: Any, **kwargs: Any
) -> None:
    """The model's reconciler: a pass now, then whenever woken or due."""
    runtime: Runtime = memo.runtime
    key = (namespace or "", name)
    wake = runtime.waker(key)
    while not stopped:
        wake.clear()
        try:
            delay = await _reconcile(key[0], name, kwargs, runtime.settings)
        except Exception:  # one failed pass must not end the model's reconciler
            log.exception("reconcile failed", namespace=namespace, name=name)
            delay = 5.0
        waiters = {
            asyncio.ensure_future(wake.wait()),
            asyncio.ensure_future(_stopped(stopped, delay)),
        }
        _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
    runtime.forget_waker(key)


async def _stopped(stopped: kopf.DaemonStopped, seconds: float) -> None:
    await stopped.wait(seconds)


def _wake(memo: Any, namespace: str | None, model: object) -> None:
    runtime: Runtime = memo.runtime
    if isinstance(model, str) and model:
        runtime.waker((namespace or "", model)).set()


@kopf.on.event(GROUP, VERSION, "governedmodels")
def model_changed(*, memo: Any, namespace: str | None, name: str, **_: Any) -> None:
    """A spec or lifecycle change is judged at once, not at the next resync."""
    _wake(memo, namespace, name)


@kopf.on.event(GROUP, VERSION, "riskassessments")
def assessment_changed(*, memo: Any, namespace: str | None, spec: Any, **_: Any) -> None:
    """An assessment made, changed or removed moves its model at once."""
    _wake(memo, namespace, (spec.get("modelRef") or {}).get("name"))


@kopf.on.event(GROUP, VERSION, "modelapprovals")
def decision_changed(*, memo: Any, namespace: str | None, spec: Any, **_: Any) -> None:
    """An approval or revocation takes effect at once: running workloads are flagged."""
    _wake(memo, namespace, (spec.get("modelRef") or {}).get("name"))


@kopf.on.event("pods", labels={MODEL_LABEL: kopf.PRESENT})
def pod_changed(*, memo: Any, namespace: str | None, labels: Mapping[str, str], **_: Any) -> None:
    """Where a model's pods run is part of its status."""
    _wake(memo, namespace, labels.get(MODEL_LABEL))


@kopf.on.event(GROUP, VERSION, "placementpolicies")
def policy_changed(*, memo: Any, name: str, **kwargs: Any) -> None:
    """A policy edit re-judges where its models' pods run: stranded pods get flagged."""
    for (namespace, model_name), store in kwargs["governed_models"].items():
        for model in store:
            if isinstance(model, GovernedModel) and model.spec.placement_policy == name:
                _wake(memo, namespace, model_name)
