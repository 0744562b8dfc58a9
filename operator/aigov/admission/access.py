"""Admission of exec, attach and port-forward (CONNECT) into pods: policy/access.py, graded.

enforce refuses a restricted access; warn admits it with a warning; audit admits it and
records the violation in the API server's audit log. A break-glass access is admitted in
every mode with a warning that it is recorded, and an audit annotation naming the group.
"""

from __future__ import annotations

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.admission.workloads import AUDIT_ANNOTATION
from aigov.api.constants import Mode
from aigov.api.models import GovernedModel
from aigov.policy.access import AccessRules, judge_access
from aigov.policy.decision import Decision

BREAK_GLASS_ANNOTATION = "break-glass"
"""Audit annotation key (prefixed by the webhook's name): the group that allowed the access."""


def judge(
    request: AdmissionRequest,
    mode: Mode | None,
    model_name: str | None,
    model: GovernedModel | None,
    rules: AccessRules,
) -> Outcome:
    """The graded outcome of a CONNECT to pod `request.name`, whose model (from the pod
    index) is `model_name`; `mode` is its namespace's (None: not governed)."""
    if mode is None or request.operation != "CONNECT":
        return Outcome(decision=Decision(), mode=None)
    verdict = judge_access(
        request.subresource,
        request.name,
        model_name,
        model=model,
        groups=request.user.groups,
        rules=rules,
    )
    decision = Decision(verdict.violations)
    where = f"{request.subresource} into pod {request.namespace}/{request.name}"
    if verdict.break_glass is not None:
        return Outcome(
            decision=decision,
            mode=mode,
            warnings=(
                f"aigov: break-glass {where} as a member of {verdict.break_glass}: recorded",
            ),
            audit_annotations={BREAK_GLASS_ANNOTATION: verdict.break_glass},
            model=model_name,
            break_glass=verdict.break_glass,
        )
    if decision.allowed:
        return Outcome(decision=decision, mode=mode, model=model_name)
    evidence = {AUDIT_ANNOTATION: decision.to_json()}
    if mode is Mode.ENFORCE:
        return Outcome(
            decision=decision,
            mode=mode,
            message=f"aigov refused {where}: {decision.summary()}",
            audit_annotations=evidence,
            model=model_name,
        )
    warnings = (
        tuple(f"aigov: {v.render()}" for v in decision.violations) if mode is Mode.WARN else ()
    )
    return Outcome(
        decision=decision,
        mode=mode,
        warnings=warnings,
        audit_annotations=evidence,
        model=model_name,
    )
