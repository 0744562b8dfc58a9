"""Policy reports: the standing of each governed workload as an OpenReports `Report`.

One report per top-level workload that names a model (the object a person applied: a
Deployment, a Job, a bare Pod...), owner-referenced to it so that it goes when the workload
goes, with one result per rule of DESIGN.md that applies to a workload naming a model. A rule
is judged by the same code the admission webhook runs (`policy.governance.evaluate`), so a
report never disagrees with what the webhook would say of the same object now; pods found on
nodes outside the model's pools (the reconciler's PlacementViolation flag) fail the placement
rule too.

`wgpolicyk8s.io/v1alpha2` PolicyReports (what Kyverno installs by default) have the same
shape minus the report-level `source`; `ReportFormat` picks one. Severities stay within
high/medium/low, the values every published schema of both accepts.

Each body carries a digest of its content (timestamps excluded) in an annotation: the writer
compares digests and writes only what changed, so a resync of 10,000 unchanged workloads
writes nothing. Pure: no clock reads, no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aigov.api.constants import GROUP, OPERATOR_NAME, Reason
from aigov.api.enums import Lifecycle
from aigov.policy.decision import Violation
from aigov.policy.governance import evaluate, model_violations
from aigov.policy.placement import PlacementContext
from aigov.policy.recognition import Recognition
from aigov.policy.standing import Evidence, standing
from aigov.policy.workload import MalformedWorkload, parse_workload

SOURCE: Final = OPERATOR_NAME
DIGEST_ANNOTATION: Final = f"{GROUP}/report-digest"
"""The digest of the report's content aigov last wrote (timestamps excluded)."""
MODEL_REPORT_LABEL: Final = f"{GROUP}/report-model"
"""The GovernedModel whose reconciler keeps this report: how it finds its reports again after
a restart. Not `aigov.io/model`, which marks workloads."""
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": OPERATOR_NAME}
MESSAGE_LIMIT: Final = 1024
"""Longest message kept per result: every violation is in the workload's refusal, warnings or
annotation; the report needs enough to say what to fix."""


class ReportFormat(StrEnum):
    """Which report API aigov writes (AIGOV_REPORTS)."""

    OPENREPORTS = "openreports"
    WGPOLICY = "wgpolicy"


@dataclass(frozen=True)
class ReportApi:
    """Where reports of one format live."""

    group: str
    version: str
    kind: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def crd(self) -> str:
        return f"{self.plural}.{self.group}"


APIS: Final = {
    ReportFormat.OPENREPORTS: ReportApi("openreports.io", "v1alpha1", "Report", "reports"),
    ReportFormat.WGPOLICY: ReportApi("wgpolicyk8s.io", "v1alpha2", "PolicyReport", "policyreports"),
}


@dataclass(frozen=True)
class Rule:
    """One rule of DESIGN.md as a report shows it."""

    code: Reason
    policy: str
    """The aigov policy (area) the rule belongs to: results group by it."""
    severity: str
    iso42001: str
    """ISO/IEC 42001:2023 Annex A controls the rule evidences."""
    eu_ai_act: str
    """EU AI Act articles the rule evidences."""
    passed: str
    """The result's message when the rule holds."""


RULES: Final = (
    Rule(Reason.MODEL_NOT_FOUND, "model-reference", "high", "A.6.2.5", "Art. 26",
         "the workload names a GovernedModel that exists"),
    Rule(Reason.LINEAGE_INCOMPLETE, "lineage", "medium", "A.7.5, A.6.2.7", "Art. 10, Art. 11",
         "every artifact is pinned by digest; dataset and code lineage recorded"),
    Rule(Reason.RISK_ASSESSMENT_MISSING, "risk-assessment", "high", "A.5.2, A.5.3", "Art. 9",
         "a RiskAssessment is bound to the model's current spec hash"),
    Rule(Reason.RISK_ASSESSMENT_EXPIRED, "risk-assessment", "medium", "A.5.2, A.5.3", "Art. 9",
         "the RiskAssessment in force is within its validity"),
    Rule(Reason.RISK_UNACCEPTABLE, "risk-assessment", "high", "A.5.2, A.5.4", "Art. 5, Art. 9",
         "the model's risk is not unacceptable and its class not prohibited"),
    Rule(Reason.NOT_APPROVED, "approval", "high", "A.6.2.5, A.3.2", "Art. 14, Art. 26",
         "an approval in force is bound to the model's current spec hash"),
    Rule(Reason.SEPARATION_OF_DUTIES, "approval", "medium", "A.3.2", "Art. 14, Art. 26",
         "author, assessor and approver are different people"),
    Rule(Reason.ARTIFACT_NOT_APPROVED, "artifacts", "high", "A.6.2.5, A.7.5", "Art. 15",
         "every image and set of weights is one of the model's pinned artifacts"),
    Rule(Reason.MODEL_REFERENCE_UNRESOLVED, "artifacts", "high", "A.7.5, A.6.2.6",
         "Art. 12, Art. 15", "aigov identifies every model the workload loads"),
    Rule(Reason.PLACEMENT_VIOLATION, "placement", "high", "A.4.5, A.6.2.6", "Art. 15",
         "the pods can only land on, and run on, the model's GPU node pools"),
    Rule(Reason.MODEL_RETIRED, "lifecycle", "medium", "A.6.2.6", "Art. 72",
         "the model is not retired"),
)  # fmt: skip
"""One result per rule, in DESIGN.md's order. UngovernedWorkload never applies: a reported
workload names its model."""


@dataclass(frozen=True)
class DesiredReport:
    """The report one workload should have."""

    namespace: str
    name: str
    body: dict[str, Any]
    digest: str
    inputs: str = ""
    """A fingerprint of everything the report was computed from (see `inputs_key`)."""
    reused: bool = False
    """Its inputs are those of the report last written: not computed again, `body` empty."""


def report_name(kind: str, name: str) -> str:
    """`aigov-<kind>-<name>`, readable in `kubectl get reports`; a name too long for the API
    server keeps its start and a hash of the whole, so two workloads never share a report."""
    full = f"aigov-{kind.lower()}-{name}"
    if len(full) <= 253:
        return full
    return f"{full[:236]}-{hashlib.sha256(full.encode()).hexdigest()[:16]}"


def model_label(model: str) -> str:
    """The MODEL_REPORT_LABEL value: the model's name, or a hash of it when the name is
    longer than a label value may be (63) or holds characters one may not."""
    if len(model) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", model):
        return model
    return "h-" + hashlib.sha256(model.encode()).hexdigest()[:40]


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _result(
    rule: Rule,
    outcome: str,
    message: str,
    path: str = "",
    fmt: ReportFormat = ReportFormat.OPENREPORTS,
) -> dict[str, Any]:
    properties = {"reason": rule.code.value, "iso42001": rule.iso42001, "euAiAct": rule.eu_ai_act}
    if path:
        properties["path"] = path
    result: dict[str, Any] = {
        "policy": rule.policy,
        "rule": rule.code.value,
        "category": "AI governance",
        "result": outcome,
        "severity": rule.severity,
        "scored": True,
        "message": _clip(message),
        "properties": properties,
    }
    if fmt is ReportFormat.WGPOLICY:
        result["source"] = SOURCE  # v1alpha2 has no report-level source
    return result


def _judged(
    rule: Rule, violations: Sequence[Violation], notes: Sequence[str], fmt: ReportFormat
) -> dict[str, Any]:
    mine = [v for v in violations if v.code is rule.code]
    if mine:
        paths = ", ".join(dict.fromkeys(v.path for v in mine))
        return _result(rule, "fail", "; ".join(v.message for v in mine), paths, fmt)
    if notes:
        return _result(rule, "warn", "; ".join(notes), "", fmt)
    return _result(rule, "pass", rule.passed, "", fmt)


def rule_results(
    obj: Mapping[str, Any],
    evidence: Evidence,
    now: dt.datetime,
    *,
    fmt: ReportFormat = ReportFormat.OPENREPORTS,
    placement: PlacementContext | None = None,
    recognition: Recognition | None = None,
    misplaced_on: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One result per rule for the workload `obj` of the model `evidence` describes.

    A workload aigov cannot read gives `error` for every rule; one whose model does not exist
    fails ModelNotFound and skips the rest (nothing to judge them against). `misplaced_on`
    names nodes outside the model's pools its pods run on.
    """
    try:
        workload = parse_workload(obj)
    except MalformedWorkload as exc:
        return [_result(rule, "error", f"aigov cannot read the workload: {exc}", "", fmt)
                for rule in RULES]  # fmt: skip
    if evidence.model is None:
        why = f" (it exists but is invalid: {evidence.invalid})" if evidence.invalid else ""
        missing = f"GovernedModel {evidence.name!r} not found in namespace {evidence.namespace!r}"
        return [
            _result(rule, "fail", missing + why, "metadata.labels[aigov.io/model]", fmt)
            if rule.code is Reason.MODEL_NOT_FOUND
            else _result(
                rule, "skip", "not evaluated: the workload's model does not exist", "", fmt
            )
            for rule in RULES
        ]
    decision = evaluate(workload, evidence, now, placement, recognition=recognition)
    violations = list(decision.violations)
    if misplaced_on:
        violations.append(
            Violation(
                Reason.PLACEMENT_VIOLATION,
                f"pods run on nodes outside the pools of the model's PlacementPolicy: "
                f"{', '.join(misplaced_on)}",
                "spec.nodeName",
            )
        )
    deprecated = evidence.model.spec.lifecycle is Lifecycle.DEPRECATED
    notes: dict[Reason, list[str]] = {
        Reason.MODEL_RETIRED: [w for w in decision.warnings if deprecated and "deprecated" in w],
    }
    notes[Reason.PLACEMENT_VIOLATION] = [
        w for w in decision.warnings if w not in notes[Reason.MODEL_RETIRED]
    ]
    return [_judged(rule, violations, notes.get(rule.code, []), fmt) for rule in RULES]


def summary(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The Report's summary: how many results of each outcome."""
    counts = {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    for result in results:
        counts[str(result["result"])] += 1
    return counts


def digest(body: Mapping[str, Any]) -> str:
    """A digest of what a report says: the body without timestamps or the digest itself, so
    that the same standing at another time is the same report."""
    meta = dict(body.get("metadata") or {})
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k != DIGEST_ANNOTATION
    }
    content = {
        **body,
        "metadata": {**meta, "annotations": annotations},
        "results": [{k: v for k, v in r.items() if k != "timestamp"} for r in body["results"]],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def context_key(
    evidence: Evidence,
    now: dt.datetime,
    fmt: ReportFormat,
    placement: PlacementContext | None = None,
) -> str:
    """A fingerprint of what every report of the model depends on besides the workload: the
    model's own violations now (so an expiry changes it), its spec, lifecycle and placement
    policy, and the nodes. Computed once per pass; with a workload's uid, resourceVersion
    and misplaced nodes it says whether a report must be computed again (`inputs_key`), so a
    timer pass over 10,000 unchanged workloads costs a string comparison each."""
    parts: list[Any] = [fmt.value, evidence.name, evidence.invalid]
    model = evidence.model
    if model is not None:
        st = standing(model, evidence.assessments, evidence.approvals, now, evidence.unreadable)
        parts += [st.spec_hash, model.spec.lifecycle.value, model.spec.placement_policy]
        parts += [v.render() for v in model_violations(st)]
    if placement is not None:
        policy = placement.policies.get(model.spec.placement_policy or "") if model else None
        parts.append(policy.model_dump(mode="json", by_alias=True) if policy else None)
        parts += sorted(repr(n) for n in placement.nodes)
    canonical = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def inputs_key(context: str, obj: Mapping[str, Any], misplaced_on: Sequence[str]) -> str:
    """What one report is computed from: the model's context and this version of the
    workload (resourceVersion changes with every write to it) and where its pods run."""
    raw = obj.get("metadata")
    meta: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    return f"{context}/{meta.get('uid')}/{meta.get('resourceVersion')}/{','.join(misplaced_on)}"


def workload_report(
    obj: Mapping[str, Any],
    evidence: Evidence,
    now: dt.datetime,
    *,
    fmt: ReportFormat = ReportFormat.OPENREPORTS,
    placement: PlacementContext | None = None,
    recognition: Recognition | None = None,
    misplaced_on: Sequence[str] = (),
    inputs: str = "",
) -> DesiredReport:
    """The report `obj` (a top-level workload naming `evidence`'s model) should have now;
    `inputs` is carried along for the writer (see `inputs_key`)."""
    raw = obj.get("metadata")
    meta: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    kind, name = str(obj.get("kind")), str(meta.get("name"))
    namespace, uid = str(meta.get("namespace") or evidence.namespace), str(meta.get("uid"))
    api = APIS[fmt]
    owner = {"apiVersion": str(obj.get("apiVersion")), "kind": kind, "name": name, "uid": uid}
    results = rule_results(
        obj, evidence, now, fmt=fmt, placement=placement, recognition=recognition,
        misplaced_on=misplaced_on,
    )  # fmt: skip
    body: dict[str, Any] = {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": {
            "name": report_name(kind, name),
            "namespace": namespace,
            "labels": {**MANAGED_BY, MODEL_REPORT_LABEL: model_label(evidence.name)},
            "annotations": {},
            "ownerReferences": [owner],
        },
        "scope": {**owner, "namespace": namespace},
        "summary": summary(results),
        "results": results,
    }
    if fmt is ReportFormat.OPENREPORTS:
        body["source"] = SOURCE
    found = digest(body)
    body["metadata"]["annotations"][DIGEST_ANNOTATION] = found
    stamp = {"seconds": int(now.timestamp()), "nanos": 0}
    for result in results:
        result["timestamp"] = stamp
    return DesiredReport(namespace=namespace, name=body["metadata"]["name"], body=body,
                         digest=found, inputs=inputs)  # fmt: skip
