"""Rule UngovernedWorkload: an AI workload must name its GovernedModel, everywhere it runs.

An AI workload names a model in any label, reaches an accelerator (a resource request, or a
way that asks the scheduler for nothing: GPU env, runtime class, CDI, privileged, device host
paths; see gpu.py), or is an InferenceService.
It must carry ``aigov.io/model`` on the object, and every pod template must carry the same
value: controllers create Pods from the template, and those Pods are judged like direct Pods
(bypass class 9), so a template that names another model, or none, would be refused later and
out of the user's sight, or would run a model nobody approved. Workloads with no GPU and no
model label are not AI workloads and pass untouched.
"""

from __future__ import annotations

from aigov.api.constants import MODEL_LABEL, Reason
from aigov.policy.decision import Violation
from aigov.policy.gpu import DEFAULT_RULES, AcceleratorRules, workload_accelerators
from aigov.policy.workload import Workload


def model_name(workload: Workload) -> str | None:
    """The GovernedModel the object names by its own ``aigov.io/model`` label, if any."""
    return workload.model


def is_ai_workload(workload: Workload, rules: AcceleratorRules = DEFAULT_RULES) -> bool:
    """Whether governance applies at all: see DESIGN.md "Governing workloads"."""
    return workload.model is not None or _why_ai(workload, rules) is not None


def check_model_named(
    workload: Workload, rules: AcceleratorRules = DEFAULT_RULES
) -> list[Violation]:
    """UngovernedWorkload violations: no model named, or pod templates that disagree."""
    model = workload.model
    if model is None:
        why = _why_ai(workload, rules)
        if why is None:
            return []
        named = [t.model for t in workload.templates if t.model is not None]
        value = named[0] if len(set(named)) == 1 else "<model name>"
        return [
            Violation(
                code=Reason.UNGOVERNED_WORKLOAD,
                message=(
                    f"{workload.kind} {workload.ref} {why} but names no GovernedModel: "
                    f"add label {MODEL_LABEL}={value} to the {workload.kind}"
                    f"{_template_hint(workload)}"
                ),
                path="metadata.labels",
            )
        ]
    return [
        Violation(
            code=Reason.UNGOVERNED_WORKLOAD,
            message=_mismatch(workload, model, template.model, template.labels_path),
            path=template.labels_path,
        )
        for template in workload.templates
        if template.model != model
    ]


def _why_ai(workload: Workload, rules: AcceleratorRules) -> str | None:
    """Why an object that names no model is still an AI workload, as a phrase; None if not.

    Requests are named by resource (their paths are where the user wrote them); the ways
    that ask the scheduler for nothing are easy to miss, so each comes with its path.
    """
    uses = workload_accelerators(workload, rules)
    requested = [use.describe() for use in uses if use.is_request]
    taken = [f"{use.describe()} ({use.path})" for use in uses if not use.is_request]
    phrases = []
    if requested:
        phrases.append("requests " + ", ".join(dict.fromkeys(requested)))
    if taken:
        phrases.append("reaches GPUs through " + ", ".join(dict.fromkeys(taken)))
    if phrases:
        return " and ".join(phrases)
    if workload.is_serving:
        return "is a model-serving or training resource"
    for template in workload.templates:
        if template.model is not None:
            return f"names GovernedModel {template.model} only in {template.labels_path}"
    return None


def _template_hint(workload: Workload) -> str:
    paths = [t.labels_path for t in workload.templates if not t.inherits_labels]
    if not paths:
        return " (metadata.labels)"
    return f" (metadata.labels) and its pod template ({', '.join(dict.fromkeys(paths))})"


def _mismatch(workload: Workload, model: str, other: str | None, labels_path: str) -> str:
    head = f"{workload.kind} {workload.ref} names GovernedModel {model}"
    if other is None:
        return (
            f"{head} but its pod template does not: add label {MODEL_LABEL}={model} to "
            f"{labels_path}, because the Pods it creates are judged by their own labels"
        )
    return (
        f"{head} but its pod template names {other}: set label {MODEL_LABEL}={model} in "
        f"{labels_path}, so the Pods run the model that is governed"
    )
