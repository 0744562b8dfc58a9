"""Admission handlers: parse (done by the guarded server), judge, apply, log one record."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import kopf

from aigov import logs, webhooks
from aigov.admission import namespaces, workloads
from aigov.admission.outcome import Outcome
from aigov.api.constants import Mode
from aigov.handlers.runtime import Runtime
from aigov.handlers.server import current

log = logs.get("aigov.decision")

# How long a request for a namespace the index has not seen yet waits for the watch to catch
# up: the webhook is only called for labelled namespaces, so the label is on its way.
_INDEX_GRACE_SECONDS = 2.0


async def _mode(namespace: str, index: Any) -> Mode | None:
    deadline = time.monotonic() + _INDEX_GRACE_SECONDS
    # kopf's index has no change notification to wait on; this loop runs only in the rare
    # window between a namespace's creation and its watch event.
    while namespace not in index and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if namespace not in index:
        raise kopf.AdmissionError(
            f"aigov has not yet seen namespace {namespace!r}; retry in a moment", code=503
        )
    for value in index[namespace]:
        return Mode(value) if value in {m.value for m in Mode} else None
    return None


def _apply(outcome: Outcome, warnings: list[str], started: float) -> None:
    ctx = current()
    request = ctx.request
    ctx.audit_annotations.update(outcome.audit_annotations)
    warnings.extend(outcome.warnings)
    log.info(
        "admission decision",
        uid=request.uid,
        user=request.user.username,
        operation=request.operation,
        kind=request.kind,
        namespace=request.namespace,
        name=request.name,
        subresource=request.subresource or None,
        model=outcome.model,
        mode=outcome.mode.value if outcome.mode else None,
        decision=outcome.verdict,
        reasons=[c.value for c in outcome.decision.codes],
        dry_run=request.dry_run,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    if not outcome.allowed:
        raise kopf.AdmissionError(outcome.message, code=403)


def _not_ready(memo: Any) -> None:
    runtime: Runtime = memo.runtime
    if not runtime.ready:
        raise kopf.AdmissionError("aigov is starting and has not loaded its indexes yet", code=503)


def _workload_handler(group: str, version: str, plural: str) -> None:
    @kopf.on.validate(group, version, plural, id=webhooks.VALIDATE_WORKLOADS, subresource="*")
    async def validate_workload(*, memo: Any, warnings: list[str], **kwargs: Any) -> None:
        started = time.perf_counter()
        _not_ready(memo)
        request = current().request
        index = kwargs["namespace_modes"]
        mode = await _mode(request.namespace, index) if request.namespace else None
        _apply(workloads.judge(request, mode), warnings, started)


for _resource in webhooks.WORKLOAD_RESOURCES:
    _workload_handler(_resource.group, _resource.version, _resource.plural)


@kopf.on.validate("namespaces", id=webhooks.VALIDATE_NAMESPACES)
async def validate_namespace(*, memo: Any, warnings: list[str], **_: Any) -> None:
    """Only admin groups may add, change or remove aigov.io/mode on a namespace."""
    started = time.perf_counter()
    runtime: Runtime = memo.runtime
    outcome = namespaces.judge(current().request, runtime.settings.admin_groups)
    _apply(outcome, warnings, started)
