"""Judge a `pods/binding` request: the pod's target node against its model's placement.

A hand-made binding that breaks placement is refused in every mode, governed namespace or
not: binding by hand is a privileged act that skips the scheduler, not a workload to audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import Mode
from aigov.policy.binding import judge_binding
from aigov.policy.placement import PlacementContext
from aigov.policy.standing import Evidence


def _target(obj: Mapping[str, object]) -> str:
    target = obj.get("target")
    name = target.get("name") if isinstance(target, Mapping) else None
    return name if isinstance(name, str) else ""


def judge(
    request: AdmissionRequest,
    model: str | None,
    lookup: Callable[[str, str], Evidence],
    ctx: PlacementContext,
    now: dt.datetime,
) -> Outcome:
    """The outcome for binding pod `request.name` (of `model`, if labelled) to its target."""
    evidence = lookup(request.namespace, model) if model else None
    decision = judge_binding(request.name, _target(request.object), evidence, ctx, now)
    message = f"aigov refused {request.ref}: {decision.summary()}" if decision.violations else ""
    return Outcome(decision=decision, mode=Mode.ENFORCE, message=message, model=model)
