"""The admission service: one pure function per webhook path, request + index view -> Reply.

The web server (aigov.handlers.server) parses each AdmissionReview once and calls the route
of its URL path here; nothing here does I/O. Two things need more than a verdict, and are
returned for the caller to carry out: a JSON Patch (only when something is injected or
stamped) and an Event (audit mode). When an object the request depends on has not reached
the indexes yet (a namespace created a moment ago, the object a Scale scales, the assessment
an approval names under GitOps), a route raises NotYet; the server waits briefly for the
watch and asks again with `final=True`, when the route decides with what it has.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aigov.admission import access, binding, governance, namespaces, placement, workloads
from aigov.admission.jsonpatch import JsonPatch, from_merge
from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest
from aigov.admission.view import IndexView
from aigov.api.constants import VIOLATIONS_ANNOTATION, Mode
from aigov.api.enums import RiskClass
from aigov.policy.access import AccessRules
from aigov.policy.decision import Decision
from aigov.policy.recognition import Recognition
from aigov.policy.ungoverned import is_ai_workload
from aigov.policy.workload import MalformedWorkload, Workload, parse_workload


class NotYet(Exception):  # noqa: N818 - reads as the answer: "not yet"
    """Something the request depends on is not in the indexes yet; ask again shortly."""


class Unavailable(Exception):  # noqa: N818 - reads as the answer
    """aigov cannot judge this request now (503): the message says why and what to do."""


@dataclass(frozen=True)
class Rules:
    """The operator's settings the routes read, fixed for the life of the process."""

    admin_groups: tuple[str, ...] = ()
    operator_users: tuple[str, ...] = ()
    access: AccessRules = field(default_factory=AccessRules)
    recognition: Recognition = field(default_factory=Recognition)

    @staticmethod
    def of(
        *,
        admin_groups: tuple[str, ...],
        operator_users: tuple[str, ...],
        access_restricted_for: tuple[str, ...],
        break_glass_groups: tuple[str, ...],
        recognition: Recognition,
    ) -> Rules:
        return Rules(
            admin_groups=admin_groups,
            operator_users=operator_users,
            access=AccessRules(
                restricted=frozenset(RiskClass(c) for c in access_restricted_for),
                break_glass_groups=break_glass_groups,
            ),
            recognition=recognition,
        )


@dataclass(frozen=True)
class AuditEvent:
    """A Warning Event to post on the workload (audit mode keeps violations visible)."""

    involved: Mapping[str, Any]
    reason: str
    message: str


@dataclass(frozen=True)
class Reply:
    """What a route decided. `outcome` None: nothing to record (a mutation with no verdict)."""

    outcome: Outcome | None
    patch: JsonPatch = field(default_factory=list)
    event: AuditEvent | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is None or self.outcome.allowed


Route = Callable[[AdmissionRequest, IndexView, Rules, dt.datetime, bool], Reply]


def _mode(request: AdmissionRequest, view: IndexView, final: bool) -> Mode | None:
    namespace = request.namespace
    if not namespace:
        return None
    if not view.knows_namespace(namespace):
        if not final:
            raise NotYet(namespace)
        raise Unavailable(f"aigov has not yet seen namespace {namespace!r}; retry in a moment")
    return view.mode(namespace)


def _judge_workload(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Outcome:
    mode = _mode(request, view, final)
    parent: Workload | None = None
    if mode is not None and request.subresource == "scale" and workloads.needs_judging(request):
        parent = view.scaled(request.resource, request.namespace, request.name)
        if parent is None:
            if not final:
                raise NotYet(request.ref)
            raise Unavailable(f"aigov does not know {request.ref} yet; retry in a moment")
    return workloads.judge(
        request,
        mode,
        view.evidence,
        now,
        parent=parent,
        placement=view.placement(),
        recognition=rules.recognition,
    )


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


def validate_workloads(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Governed namespaces: every rule, graded by the namespace's mode."""
    outcome = _judge_workload(request, view, rules, now, final)
    event = None
    if outcome.mode is Mode.AUDIT and not outcome.decision.allowed and not request.dry_run:
        event = AuditEvent(
            _involved(request), "AigovAudit", f"aigov (audit): {outcome.decision.summary()}"
        )
    return Reply(outcome, event=event)


def mutate_workloads(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Inject mode pins pods to their pools; audit mode records the violations on the
    object itself (or clears stale ones). Judged on the object as it will be stored."""
    mode = _mode(request, view, final)
    if mode is None:
        return Reply(None)
    ctx = view.placement()
    original = request.object
    changes: dict[str, Any] = {}
    model_name = parse_workload(request.object).model if not request.subresource else None
    if model_name is not None:
        found = placement.injections(
            request, view.evidence(request.namespace, model_name).model, ctx
        )
        if found:
            changes = placement.merge_patch(found)
            request = dataclasses.replace(request, object=placement.applied(request.object, found))
    annotations = (request.object.get("metadata") or {}).get("annotations") or {}
    if mode is Mode.AUDIT or VIOLATIONS_ANNOTATION in annotations:
        outcome = _judge_workload(request, view, rules, now, final)
        note: str | None = None
        if outcome.mode is Mode.AUDIT and not outcome.decision.allowed:
            note = outcome.decision.to_json()
        if note is not None or VIOLATIONS_ANNOTATION in annotations:
            changes.setdefault("metadata", {}).setdefault("annotations", {})[
                VIOLATIONS_ANNOTATION
            ] = note
    return Reply(None, patch=from_merge(original, changes) if changes else [])


def validate_reserved(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Namespaces without aigov.io/mode: only what could land on a reserved pool is
    judged (by every rule, enforced); everything else is allowed untouched."""
    return Reply(_judge_workload(request, view, rules, now, final))


def validate_access(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """exec, attach and port-forward into pods of restricted models: break-glass only."""
    del now
    mode = _mode(request, view, final)
    model_name = view.pod_model(request.namespace, request.name)
    model = view.evidence(request.namespace, model_name).model if model_name else None
    return Reply(access.judge(request, mode, model_name, model, rules.access))


def validate_bindings(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """A pod bound to a node by anyone but the scheduler: judged on its target node."""
    del rules, final
    model = view.pod_model(request.namespace, request.name)
    return Reply(binding.judge(request, model, view.evidence, view.placement(), now))


def _governance_context(
    request: AdmissionRequest, view: IndexView, now: dt.datetime, final: bool
) -> governance.Context:
    spec = request.object.get("spec") or {}
    ref = spec.get("modelRef") or {} if isinstance(spec, Mapping) else {}
    name = ref.get("name") if isinstance(ref, Mapping) else None
    signers = view.signers()
    signed = bool(request.namespace) and view.requires_signatures(request.namespace)
    if not isinstance(name, str):
        return governance.Context(model=None, now=now, signers=signers, require_signed=signed)
    wanted = spec.get("riskAssessmentRef")
    ev = view.evidence(request.namespace, name)
    assessment = next((a for a in ev.assessments if a.metadata.name == wanted), None)
    # Under GitOps the assessment may be applied a moment before the approval: give its
    # watch event the same short grace as a new namespace's.
    creating = request.operation == "CREATE"
    if assessment is None and isinstance(wanted, str) and creating and not final:
        raise NotYet(f"RiskAssessment {wanted}")
    return governance.Context(
        model=ev.model, assessment=assessment, now=now, signers=signers, require_signed=signed
    )


def mutate_governance(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Record who acted: author, spec editors, assessor or approver, and the signer."""
    del rules
    ctx = _governance_context(request, view, now, final)
    changes = governance.stamp(request, ctx).changes
    if not changes:
        return Reply(None)
    return Reply(None, patch=from_merge(request.object, {"metadata": {"annotations": changes}}))


def validate_governance(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Readable, stamped as it must be, signed where required, duties separated."""
    ctx = _governance_context(request, view, now, final)
    return Reply(governance.judge(request, ctx, rules.operator_users))


def validate_namespaces(
    request: AdmissionRequest, view: IndexView, rules: Rules, now: dt.datetime, final: bool
) -> Reply:
    """Only admin groups may add, change or remove aigov.io/mode on a namespace."""
    del view, now, final
    return Reply(namespaces.judge(request, rules.admin_groups))


_LIFECYCLE_TAINTS = "node.kubernetes.io/"
"""Tolerations the API server and controllers add to every pod (not-ready, unreachable):
they do not let a pod onto a tainted GPU pool."""


def never_judged(request: AdmissionRequest, rules: Rules) -> bool:
    """Whether a workload request is one no rule could refuse whatever the indexes hold:
    no model named, no accelerator reached, not a serving kind, and no toleration (so it
    cannot land on a reserved, tainted pool). While the operator loads its indexes, these
    are admitted instead of refused as "not ready": a CPU web Deployment must not wait for
    aigov."""
    if request.subresource or request.operation not in {"CREATE", "UPDATE"}:
        return False
    try:
        workload = parse_workload(request.object)
    except MalformedWorkload:
        return False
    if is_ai_workload(workload, rules.recognition.accelerators):
        return False
    return not any(
        not str(t.get("key", "")).startswith(_LIFECYCLE_TAINTS)
        for template in workload.templates
        for t in template.tolerations
    )


def starting(request: AdmissionRequest, *, mutating: bool = False) -> Reply:
    """The reply to a never-judged request while the indexes load (see never_judged): an
    allowed decision to record, or for the mutating webhook nothing to change."""
    del request
    return Reply(None) if mutating else Reply(Outcome(decision=Decision(), mode=None))
