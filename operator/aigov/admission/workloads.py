"""Judge a workload admission request: parse the object, run the rules, grade by mode.

A workload that could land on a reserved pool (a PlacementPolicy with reservePools) is
judged in enforce mode by every rule, in any namespace, governed or not, whatever its mode:
the pool is reserved for approved models whose policy allows it, and only the whole rule set
tells an approved model's workload from one that merely carries its label.

Updates are judged like creates, with two exceptions that cannot make anything run that was
not judged before: an update that changes neither the spec nor the labels (metadata such as
annotations and finalizers only: how the operator flags a workload, how controllers adopt
it), and a stop (fewer replicas, a Job or CronJob suspended). Without them a revoked model's
Deployment could not even be scaled to zero or flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import Mode, Reason
from aigov.policy import governance
from aigov.policy.decision import Decision, Violation
from aigov.policy.placement import PlacementContext
from aigov.policy.recognition import Recognition
from aigov.policy.reserved import exposed, reservations, reserved_pool_violations
from aigov.policy.scheduling import oversized
from aigov.policy.standing import Evidence
from aigov.policy.workload import Workload, parse_workload

AUDIT_ANNOTATION = "violations"
"""Key of the admission audit annotation (the API server prefixes the webhook's name)."""

EvidenceLookup = Callable[[str, str], Evidence]
"""(namespace, model name) -> what the indexes know about that model."""


def _replicas(obj: Mapping[str, Any], missing: int = 1) -> int:
    """spec.replicas; `missing` when absent. Workloads default to 1 (the API server fills it
    in), but a Scale omits a count of 0 (`omitempty`), so a Scale's missing count is 0."""
    spec = obj.get("spec")
    value = spec.get("replicas") if isinstance(spec, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else missing


_STOPPING_FIELDS = ("replicas", "suspend")
"""Spec fields an update may lower without being judged: fewer replicas, a suspended job."""


def _suspended(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    return isinstance(spec, Mapping) and spec.get("suspend") is True


def _without_stopping_fields(obj: Mapping[str, Any]) -> tuple[Any, Any]:
    spec = obj.get("spec")
    if isinstance(spec, Mapping):
        spec = {k: v for k, v in spec.items() if k not in _STOPPING_FIELDS}
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return spec, labels


def _labels(obj: Mapping[str, Any]) -> Any:
    meta = obj.get("metadata")
    return meta.get("labels") if isinstance(meta, Mapping) else None


def _subresource_needs_judging(
    subresource: str, new: Mapping[str, Any], old: Mapping[str, Any]
) -> bool:
    if subresource == "scale":
        # A Scale of 0 replicas has no spec.replicas: read as 1, a scale-up from 0 of a
        # revoked model's Deployment would pass unjudged.
        return _replicas(new, missing=0) > _replicas(old, missing=0)
    if subresource == "status":
        # The status strategy keeps label changes: judged when the labels change (a pod
        # taken from its model, or moved to another), never for a kubelet's status update.
        return bool(_labels(new) != _labels(old))
    return True  # ephemeralcontainers: new containers, always judged


def needs_judging(request: AdmissionRequest) -> bool:
    """CREATE always; UPDATE unless it only touches metadata or stops things.

    Stopping is lowering replicas or suspending a Job/CronJob: how people (and aigov, when
    configured to) bring a workload of a model that lost approval to a safe state.
    Resuming or scaling up is judged.
    """
    if request.operation == "CREATE":
        return True
    if request.operation != "UPDATE":
        return False
    new, old = request.object, request.old_object
    if request.subresource:
        return _subresource_needs_judging(request.subresource, new, old)
    if _without_stopping_fields(new) != _without_stopping_fields(old):
        return True
    resumed = _suspended(old) and not _suspended(new)
    return resumed or _replicas(new) > _replicas(old)


def evaluate(
    workload: Workload,
    namespace: str,
    lookup: EvidenceLookup,
    now: dt.datetime,
    placement: PlacementContext | None = None,
    *,
    recognition: Recognition | None = None,
) -> Decision:
    """Every rule that applies to a workload, all violations reported."""
    model = workload.model
    evidence = lookup(namespace, model) if model else None
    return governance.evaluate(workload, evidence, now, placement, recognition=recognition)


def judge(
    request: AdmissionRequest,
    mode: Mode | None,
    lookup: EvidenceLookup,
    now: dt.datetime,
    *,
    parent: Workload | None = None,
    placement: PlacementContext | None = None,
    recognition: Recognition | None = None,
) -> Outcome:
    """The graded outcome for `request` in a namespace of `mode` (None: not governed).

    `parent` is the scaled object for a scale subresource request (whose body is a Scale);
    the caller finds it in the workload index. `recognition` is the engine table and
    accelerator rules read at start-up (None: the built-in ones). With `placement`, a
    workload that could land on a reserved pool is judged by every rule in enforce mode,
    whatever `mode` is (see the module docstring).
    """
    workload = None
    if needs_judging(request):
        workload = parent if request.subresource == "scale" else parse_workload(request.object)
    if workload is None:
        return Outcome(decision=Decision(), mode=None)
    too_big = _oversized(workload)
    if too_big.violations and (mode is not None or placement is not None):
        return grade(request, workload, too_big, Mode.ENFORCE)
    reserved = reservations(placement.policies, placement.nodes) if placement else {}
    on_reserved = placement is not None and exposed(workload, placement.nodes, reserved)
    if mode is None and not on_reserved:
        return Outcome(decision=Decision(), mode=None)
    decision = evaluate(
        workload, request.namespace, lookup, now, placement, recognition=recognition
    )
    if placement is not None and on_reserved:
        model = lookup(request.namespace, workload.model).model if workload.model else None
        found = reserved_pool_violations(workload, model, placement.policies, placement.nodes)
        return grade(request, workload, decision.merge(Decision(found)), Mode.ENFORCE)
    if mode is None:
        return Outcome(decision=Decision(), mode=None)
    return grade(request, workload, decision, mode)


def _oversized(workload: Workload) -> Decision:
    """Scheduling constraints too large to evaluate: refused before any rule reads them, in
    every mode and namespace the webhook sees (the cost would fall on every request)."""
    return Decision(
        Violation(
            Reason.PLACEMENT_VIOLATION,
            f"the pod asks for {why}: aigov does not evaluate scheduling constraints this "
            "large (they would stall admission for everyone); simplify them",
            path,
        )
        for template in workload.templates
        for path, why in oversized(template)
    )


def grade(request: AdmissionRequest, workload: Workload, decision: Decision, mode: Mode) -> Outcome:
    """Turn a decision into what the API server and the user see in `mode`."""
    model = workload.model
    if decision.allowed:
        return Outcome(decision=decision, mode=mode, warnings=decision.warnings, model=model)
    # The API server files this under "<webhook name>/violations" in its audit log.
    evidence = {AUDIT_ANNOTATION: decision.to_json()}
    if mode is Mode.ENFORCE:
        return Outcome(
            decision=decision,
            mode=mode,
            message=f"aigov refused {request.ref}: {decision.summary()}",
            warnings=decision.warnings,
            audit_annotations=evidence,
            model=model,
        )
    warnings = decision.warnings
    if mode is Mode.WARN:
        warnings = tuple(f"aigov: {v.render()}" for v in decision.violations) + warnings
    return Outcome(
        decision=decision,
        mode=mode,
        warnings=warnings,
        audit_annotations=evidence,
        model=model,
    )
