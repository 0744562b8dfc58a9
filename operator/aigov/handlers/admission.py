"""Admission handlers: parse (done by the guarded server), judge, apply, log one record.

Each handler reads only kopf's in-memory indexes; none calls the API server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf

from aigov import kube, logs, metrics, webhooks
from aigov.admission import access, binding, governance, namespaces, placement, workloads
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import VIOLATIONS_ANNOTATION, Mode
from aigov.api.enums import RiskClass
from aigov.handlers import indexes
from aigov.handlers.runtime import Runtime
from aigov.handlers.server import current
from aigov.policy.access import AccessRules
from aigov.policy.inject import Injection
from aigov.policy.placement import PlacementContext
from aigov.policy.workload import Workload, parse_workload

log = logs.get("aigov.decision")


# How long a request waits for the watch to deliver an object the index has not seen yet:
# the namespace of a request (the webhook is only called for labelled namespaces, so the
# label is on its way) or the object a scale request scales.
_INDEX_GRACE_SECONDS = 2.0


async def _await_key(index: Any, key: Any) -> bool:
    deadline = time.monotonic() + _INDEX_GRACE_SECONDS
    # kopf's index has no change notification to wait on; this loop runs only in the rare
    # window between an object's creation and its watch event.
    while key not in index and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return key in index


async def _mode(namespace: str, index: Any) -> Mode | None:
    if not namespace:
        return None
    if not await _await_key(index, namespace):
        raise kopf.AdmissionError(
            f"aigov has not yet seen namespace {namespace!r}; retry in a moment", code=503
        )
    values = {m.value for m in Mode}
    return next((Mode(v) for v in index[namespace] if v in values), None)


def _record(outcome: Outcome, request: AdmissionRequest, started: float, webhook: str) -> None:
    seconds = time.perf_counter() - started
    mode = outcome.mode.value if outcome.mode else None
    reasons = [c.value for c in outcome.decision.codes]
    metrics.decided(webhook, outcome.verdict, mode, reasons, seconds)
    extra = {"break_glass": outcome.break_glass} if outcome.break_glass else {}
    log.info(
        "admission decision",
        webhook=webhook,
        uid=request.uid,
        user=request.user.username,
        operation=request.operation,
        kind=request.kind,
        namespace=request.namespace,
        name=request.name,
        subresource=request.subresource or None,
        model=outcome.model,
        mode=mode,
        decision=outcome.verdict,
        reasons=reasons,
        dry_run=request.dry_run,
        latency_ms=round(seconds * 1000, 3),
        **extra,
    )


def _apply(outcome: Outcome, warnings: list[str], started: float, webhook: str) -> None:
    ctx = current()
    ctx.audit_annotations.update(outcome.audit_annotations)
    warnings.extend(outcome.warnings)
    _record(outcome, ctx.request, started, webhook)
    if not outcome.allowed:
        raise kopf.AdmissionError(outcome.message, code=403)


Handler = Callable[..., Awaitable[None]]


def _safe(fn: Handler) -> Handler:
    """An unexpected error becomes a clear refusal and a log record, never a stack trace
    in the user's terminal nor a crash of the server."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> None:
        try:
            await fn(**kwargs)
        except kopf.AdmissionError:
            raise
        except Exception as exc:
            log.exception("admission handler failed", handler=fn.__name__)
            raise kopf.AdmissionError(
                f"aigov could not review this request (internal error: {type(exc).__name__}); "
                "the operator log has the details",
                code=500,
            ) from exc

    return wrapper


def _runtime(memo: Any) -> Runtime:
    runtime: Runtime = memo.runtime
    if not runtime.ready:
        raise kopf.AdmissionError("aigov is starting and has not loaded its indexes yet", code=503)
    return runtime


async def _judge_workload(
    kwargs: Mapping[str, Any],
    runtime: Runtime,
    request: AdmissionRequest | None = None,
    placement_ctx: PlacementContext | None = None,
) -> tuple[AdmissionRequest, Outcome]:
    request = request or current().request
    mode = await _mode(request.namespace, kwargs["namespace_modes"])
    parent: Workload | None = None
    if mode is not None and request.subresource == "scale" and workloads.needs_judging(request):
        await _await_key(kwargs.get(request.resource, {}), (request.namespace, request.name))
        parent = indexes.scaled_parent(kwargs, request.resource, request.namespace, request.name)
        if parent is None:
            raise kopf.AdmissionError(
                f"aigov does not know {request.ref} yet; retry in a moment", code=503
            )

    def lookup(namespace: str, name: str) -> Any:
        return indexes.evidence(kwargs, namespace, name)

    now = dt.datetime.now(dt.UTC)
    placement = placement_ctx or indexes.placement_context(
        kwargs, runtime.settings.placement_required_for, runtime.recognition.accelerators
    )
    outcome = workloads.judge(
        request,
        mode,
        lookup,
        now,
        parent=parent,
        placement=placement,
        recognition=runtime.recognition,
    )
    return request, outcome


def _injections(
    kwargs: Mapping[str, Any], request: AdmissionRequest, ctx: PlacementContext
) -> list[Injection]:
    model_name = parse_workload(request.object).model if not request.subresource else None
    if model_name is None:
        return []
    model = indexes.evidence(kwargs, request.namespace, model_name).model
    return placement.injections(request, model, ctx)


def _merge(patch: kopf.Patch, changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        patch[key] = value


def _involved(request: AdmissionRequest) -> dict[str, Any]:
    meta = request.object.get("metadata") or {}
    ref = {
        "apiVersion": request.object.get("apiVersion"),
        "kind": request.kind,
        "namespace": request.namespace,
        "name": request.name or meta.get("generateName"),
        "uid": meta.get("uid"),
    }
    return {k: v for k, v in ref.items() if v}


def _workload_handlers(group: str, version: str, plural: str) -> None:
    @kopf.on.validate(group, version, plural, id=webhooks.VALIDATE_WORKLOADS, subresource="*")
    @_safe
    async def validate_workload(
        *, memo: Any, warnings: list[str], body: Any, **kwargs: Any
    ) -> None:
        started = time.perf_counter()
        runtime = _runtime(memo)
        request, outcome = await _judge_workload(kwargs, runtime)
        if outcome.mode is Mode.AUDIT and not outcome.decision.allowed and not request.dry_run:
            kube.post_event(
                _involved(request),
                "Warning",
                "AigovAudit",
                f"aigov (audit): {outcome.decision.summary()}",
            )
        _apply(outcome, warnings, started, webhooks.VALIDATE_WORKLOADS)

    @kopf.on.mutate(group, version, plural, id=webhooks.MUTATE_WORKLOADS)
    @_safe
    async def mutate_workload(*, memo: Any, patch: kopf.Patch, **kwargs: Any) -> None:
        """Inject mode pins pods to their pools; audit mode records the violations on the
        object itself (or clears stale ones). Judged on the object as it will be stored."""
        runtime = _runtime(memo)
        request = current().request
        mode = await _mode(request.namespace, kwargs["namespace_modes"])
        if mode is None:
            return
        ctx = indexes.placement_context(
            kwargs, runtime.settings.placement_required_for, runtime.recognition.accelerators
        )
        found = _injections(kwargs, request, ctx)
        if found:
            _merge(patch, placement.merge_patch(found))
            request = dataclasses.replace(request, object=placement.applied(request.object, found))
        annotations = (request.object.get("metadata") or {}).get("annotations") or {}
        if mode is not Mode.AUDIT and VIOLATIONS_ANNOTATION not in annotations:
            return  # nothing to record: the validating webhook does the judging
        request, outcome = await _judge_workload(kwargs, runtime, request, ctx)
        if outcome.mode is None:
            return
        if outcome.mode is Mode.AUDIT and not outcome.decision.allowed:
            patch.metadata.annotations[VIOLATIONS_ANNOTATION] = outcome.decision.to_json()
        elif VIOLATIONS_ANNOTATION in annotations:
            patch.metadata.annotations[VIOLATIONS_ANNOTATION] = None


for _resource in webhooks.WORKLOAD_RESOURCES:
    _workload_handlers(_resource.group, _resource.version, _resource.plural)


def _reserved_handler(group: str, version: str, plural: str) -> None:
    @kopf.on.validate(group, version, plural, id=webhooks.VALIDATE_RESERVED, subresource="*")
    @_safe
    async def validate_reserved(*, memo: Any, warnings: list[str], **kwargs: Any) -> None:
        """Namespaces without aigov.io/mode: only what could land on a reserved pool is
        judged (by every rule, enforced); everything else is allowed untouched."""
        started = time.perf_counter()
        runtime = _runtime(memo)
        _, outcome = await _judge_workload(kwargs, runtime)
        _apply(outcome, warnings, started, webhooks.VALIDATE_RESERVED)


for _resource in webhooks.RESERVED_POOL_RESOURCES:
    _reserved_handler(_resource.group, _resource.version, _resource.plural)


@kopf.on.validate("", "v1", "pods", id=webhooks.VALIDATE_ACCESS, subresource="*")
@_safe
async def validate_access(*, memo: Any, warnings: list[str], **kwargs: Any) -> None:
    """exec, attach and port-forward into pods of restricted models: break-glass only."""
    started = time.perf_counter()
    runtime = _runtime(memo)
    request = current().request
    mode = await _mode(request.namespace, kwargs["namespace_modes"])
    model_name = indexes.pod_model(kwargs, request.namespace, request.name)
    model = indexes.evidence(kwargs, request.namespace, model_name).model if model_name else None
    settings = runtime.settings
    rules = AccessRules(
        restricted=frozenset(RiskClass(c) for c in settings.access_restricted_for),
        break_glass_groups=settings.break_glass_groups,
    )
    outcome = access.judge(request, mode, model_name, model, rules)
    _apply(outcome, warnings, started, webhooks.VALIDATE_ACCESS)


@kopf.on.validate("", "v1", "pods", id=webhooks.VALIDATE_BINDINGS, subresource="*")
@_safe
async def validate_binding(*, memo: Any, warnings: list[str], **kwargs: Any) -> None:
    """A pod bound to a node by anyone but the scheduler: judged on its target node."""
    started = time.perf_counter()
    runtime = _runtime(memo)
    request = current().request
    model = indexes.pod_model(kwargs, request.namespace, request.name)
    ctx = indexes.placement_context(
        kwargs, runtime.settings.placement_required_for, runtime.recognition.accelerators
    )

    def lookup(namespace: str, name: str) -> Any:
        return indexes.evidence(kwargs, namespace, name)

    outcome = binding.judge(request, model, lookup, ctx, dt.datetime.now(dt.UTC))
    _apply(outcome, warnings, started, webhooks.VALIDATE_BINDINGS)


async def _governance_context(
    kwargs: Mapping[str, Any], request: AdmissionRequest
) -> governance.Context:
    spec = request.object.get("spec") or {}
    ref = spec.get("modelRef") or {} if isinstance(spec, Mapping) else {}
    name = ref.get("name") if isinstance(ref, Mapping) else None
    now = dt.datetime.now(dt.UTC)
    signers = indexes.signers(kwargs)
    signed = bool(request.namespace) and indexes.requires_signatures(kwargs, request.namespace)
    if not isinstance(name, str):
        return governance.Context(model=None, now=now, signers=signers, require_signed=signed)
    wanted = spec.get("riskAssessmentRef")
    ev = indexes.evidence(kwargs, request.namespace, name)
    assessment = next((a for a in ev.assessments if a.metadata.name == wanted), None)
    if assessment is None and isinstance(wanted, str) and request.operation == "CREATE":
        # Under GitOps the assessment may be applied a moment before the approval: give
        # its watch event the same short grace as a new namespace's.
        deadline = time.monotonic() + _INDEX_GRACE_SECONDS
        while assessment is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            ev = indexes.evidence(kwargs, request.namespace, name)
            assessment = next((a for a in ev.assessments if a.metadata.name == wanted), None)
    return governance.Context(
        model=ev.model, assessment=assessment, now=now, signers=signers, require_signed=signed
    )


def _stamp_handler(group: str, version: str, plural: str) -> None:
    @kopf.on.mutate(group, version, plural, id=webhooks.MUTATE_GOVERNANCE)
    @_safe
    async def stamp(*, memo: Any, patch: kopf.Patch, **kwargs: Any) -> None:
        """Record who acted: author, spec editors, assessor or approver, and the signer."""
        _runtime(memo)
        request = current().request
        ctx = await _governance_context(kwargs, request)
        for key, value in governance.stamp(request, ctx).changes.items():
            patch.metadata.annotations[key] = value


def _governance_handlers(group: str, version: str, plural: str) -> None:
    @kopf.on.validate(group, version, plural, id=webhooks.VALIDATE_GOVERNANCE)
    @_safe
    async def validate(*, memo: Any, warnings: list[str], **kwargs: Any) -> None:
        """Readable, stamped as it must be, signed where required, duties separated."""
        started = time.perf_counter()
        runtime = _runtime(memo)
        request = current().request
        ctx = await _governance_context(kwargs, request)
        outcome = governance.judge(request, ctx, runtime.settings.operator_users)
        _apply(outcome, warnings, started, webhooks.VALIDATE_GOVERNANCE)


for _resource in webhooks.STAMPED_RESOURCES:
    _stamp_handler(_resource.group, _resource.version, _resource.plural)
for _resource in webhooks.GOVERNANCE_RESOURCES:
    _governance_handlers(_resource.group, _resource.version, _resource.plural)


@kopf.on.validate("namespaces", id=webhooks.VALIDATE_NAMESPACES, subresource="*")
@_safe
async def validate_namespace(*, memo: Any, warnings: list[str], **_: Any) -> None:
    """Only admin groups may add, change or remove aigov.io/mode on a namespace."""
    started = time.perf_counter()
    runtime: Runtime = memo.runtime
    outcome = namespaces.judge(current().request, runtime.settings.admin_groups)
    _apply(outcome, warnings, started, webhooks.VALIDATE_NAMESPACES)
