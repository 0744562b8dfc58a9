"""Judge a workload admission request: parse the object, run the rules, grade by mode."""

from __future__ import annotations

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.api.constants import GROUP, Mode
from aigov.policy.decision import Decision
from aigov.policy.ungoverned import check_model_named
from aigov.policy.workload import Workload, parse_workload

AUDIT_KEY = f"{GROUP}/violations"


def evaluate(workload: Workload) -> Decision:
    """Every rule that applies to a workload, all violations reported."""
    return Decision(check_model_named(workload))


def judge(request: AdmissionRequest, mode: Mode | None) -> Outcome:
    """The graded outcome for `request` in a namespace of `mode` (None: not governed)."""
    if mode is None or request.operation not in {"CREATE", "UPDATE"}:
        return Outcome(decision=Decision(), mode=None)
    workload = parse_workload(request.object)
    decision = evaluate(workload)
    return grade(request, workload, decision, mode)


def grade(request: AdmissionRequest, workload: Workload, decision: Decision, mode: Mode) -> Outcome:
    """Turn a decision into what the API server and the user see in `mode`."""
    model = workload.model
    if decision.allowed:
        return Outcome(decision=decision, mode=mode, warnings=decision.warnings, model=model)
    summary = decision.summary()
    if mode is Mode.ENFORCE:
        return Outcome(
            decision=decision,
            mode=mode,
            message=f"aigov refused {request.ref}: {summary}",
            warnings=decision.warnings,
            audit_annotations={AUDIT_KEY: decision.to_json()},
            model=model,
        )
    if mode is Mode.WARN:
        warnings = tuple(f"aigov: {v.render()}" for v in decision.violations)
        return Outcome(
            decision=decision,
            mode=mode,
            warnings=warnings + decision.warnings,
            audit_annotations={AUDIT_KEY: decision.to_json()},
            model=model,
        )
    return Outcome(
        decision=decision,
        mode=mode,
        warnings=decision.warnings,
        audit_annotations={AUDIT_KEY: decision.to_json()},
        model=model,
    )
