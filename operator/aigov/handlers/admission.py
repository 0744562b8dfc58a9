"""Admission wiring: each webhook path's route, from parsed request to answer.

A route checks readiness, calls the pure admission service (aigov.admission.service) over
the index view, waits briefly when the service needs an object the watch has not delivered
yet, posts the audit Event the service asks for, records the decision (metrics and one log
line), and builds the AdmissionReview answer. None of it calls the API server on the way to
the answer: Events are posted in the background.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

from aigov import kube, logs, metrics, webhooks
from aigov.admission import response, service
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.admission.view import IndexView
from aigov.handlers import decisionlog
from aigov.handlers.runtime import Runtime
from aigov.handlers.server import Route

INDEX_GRACE_SECONDS = 2.0
"""How long a request waits for the watch to deliver an object the index has not seen yet:
the namespace of a request (the webhook is only called for labelled namespaces, so the label
is on its way), the object a scale request scales, the assessment an approval names."""

_POLL_SECONDS = 0.01

ROUTES: Mapping[str, service.Route] = {
    webhooks.VALIDATE_WORKLOADS: service.validate_workloads,
    webhooks.MUTATE_WORKLOADS: service.mutate_workloads,
    webhooks.VALIDATE_RESERVED: service.validate_reserved,
    webhooks.VALIDATE_ACCESS: service.validate_access,
    webhooks.VALIDATE_BINDINGS: service.validate_bindings,
    webhooks.MUTATE_GOVERNANCE: service.mutate_governance,
    webhooks.VALIDATE_GOVERNANCE: service.validate_governance,
    webhooks.VALIDATE_NAMESPACES: service.validate_namespaces,
}
"""Webhook path (webhooks.py, the chart) -> the service function that answers it."""

_ALWAYS_READY = frozenset({webhooks.VALIDATE_NAMESPACES})
"""Routes that read no index: they answer while the indexes load."""

_WORKLOAD_ROUTES = frozenset(
    {webhooks.VALIDATE_WORKLOADS, webhooks.MUTATE_WORKLOADS, webhooks.VALIDATE_RESERVED}
)


_GOVERNANCE_KINDS = frozenset({"GovernedModel", "RiskAssessment", "ModelApproval"})


def record(
    outcome: Outcome,
    request: AdmissionRequest,
    started: float,
    webhook: str,
    spec_hash: str | None = None,
) -> None:
    """Count the decision and write its log records (one JSON line, one decision-log
    record naming the spec hash of the model as the indexes hold it)."""
    seconds = time.perf_counter() - started
    mode = outcome.mode.value if outcome.mode else None
    reasons = [c.value for c in outcome.decision.codes]
    metrics.decided(webhook, outcome.verdict, mode, reasons, seconds)
    decisionlog.admission(outcome, request, seconds, webhook, spec_hash)
    extra = {"break_glass": outcome.break_glass} if outcome.break_glass else {}
    logs.line(
        "aigov.decision",
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


async def _decide(
    fn: service.Route, request: AdmissionRequest, view: IndexView, rules: service.Rules
) -> service.Reply:
    """Call the service; on NotYet, poll the indexes for a moment, then decide for good.

    kopf's indexes have no change notification to wait on; the loop runs only in the rare
    window between an object's creation and its watch event.
    """
    deadline = time.monotonic() + INDEX_GRACE_SECONDS
    while True:
        final = time.monotonic() >= deadline
        try:
            return fn(request, view, rules, dt.datetime.now(dt.UTC), final)
        except service.NotYet:
            await asyncio.sleep(_POLL_SECONDS)


def _answer(reply: service.Reply, request: AdmissionRequest) -> dict[str, Any]:
    outcome = reply.outcome
    if outcome is None:
        return response.review(request.uid, allowed=True, patch=reply.patch)
    return response.review(
        request.uid,
        allowed=outcome.allowed,
        code=200 if outcome.allowed else 403,
        message=outcome.message,
        reason="" if outcome.allowed else "Forbidden",
        warnings=outcome.warnings,
        audit_annotations=outcome.audit_annotations,
        patch=reply.patch,
    )


def _spec_hash(view: IndexView, request: AdmissionRequest, reply: service.Reply) -> str | None:
    """The spec hash of the model a workload decision concerns, as judged (None: no model,
    or the model is not in the indexes)."""
    name = reply.outcome.model if reply.outcome is not None else None
    if not name or not request.namespace or request.kind in _GOVERNANCE_KINDS:
        return None  # an assessment or approval names the hash it binds to itself
    model = view.evidence(request.namespace, name).model
    return model.spec.canonical_hash() if model is not None else None


def route(path: str, runtime: Runtime, view: IndexView, rules: service.Rules) -> Route:
    """The server's handler for webhook `path`."""
    fn = ROUTES[path]

    async def handle(request: AdmissionRequest) -> dict[str, Any]:
        started = time.perf_counter()
        if not runtime.ready and path not in _ALWAYS_READY:
            if path in _WORKLOAD_ROUTES and service.never_judged(request, rules):
                reply = service.starting(request, mutating=path == webhooks.MUTATE_WORKLOADS)
            else:
                return response.refusal(
                    request.uid, 503, "aigov is starting and has not loaded its indexes yet"
                )
        else:
            try:
                reply = await _decide(fn, request, view, rules)
            except service.Unavailable as exc:
                return response.refusal(request.uid, 503, str(exc))
        if reply.event is not None:
            event = reply.event
            kube.post_event(dict(event.involved), "Warning", event.reason, event.message)
        if reply.outcome is not None:
            record(reply.outcome, request, started, path, _spec_hash(view, request, reply))
        return _answer(reply, request)

    return handle


def routes(runtime: Runtime, view: IndexView) -> dict[str, Route]:
    """Every webhook path's handler, over one index view."""
    s = runtime.settings
    rules = service.Rules.of(
        admin_groups=s.admin_groups,
        operator_users=s.operator_users,
        access_restricted_for=s.access_restricted_for,
        break_glass_groups=s.break_glass_groups,
        recognition=runtime.recognition,
    )
    return {path: route(path, runtime, view, rules) for path in ROUTES}
