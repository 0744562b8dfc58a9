"""exec, attach and port-forward into running models' pods: the rule and its grading."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import MODEL_NAME, NAMESPACE, governed_model, model_spec

from aigov.admission.access import BREAK_GLASS_ANNOTATION, judge
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.admission.workloads import AUDIT_ANNOTATION
from aigov.api.constants import Mode, Reason
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel
from aigov.policy.access import AccessRules, judge_access

RULES = AccessRules()
HIGH = governed_model(model_spec())
LIMITED = governed_model(model_spec(riskClass="limited"))
ALICE = ("ml-engineers", "system:authenticated")
ONCALL = ("sre", "aigov-break-glass", "system:authenticated")


def connect(subresource: str = "exec", groups: tuple[str, ...] = ALICE) -> AdmissionRequest:
    kinds = {"exec": "PodExecOptions", "attach": "PodAttachOptions"}
    kind = kinds.get(subresource, "PodPortForwardOptions")
    body: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "command": ["sh"]}
    return AdmissionRequest(
        uid="uid-9",
        operation="CONNECT",
        group="",
        version="v1",
        resource="pods",
        kind=kind,
        namespace=NAMESPACE,
        name="fraud-scorer-0",
        user=UserInfo("alice", groups),
        subresource=subresource,
        object=body,
    )


def verdict(
    model: GovernedModel | None, groups: tuple[str, ...] = ALICE, name: str | None = MODEL_NAME
):
    return judge_access("exec", "fraud-scorer-0", name, model=model, groups=groups, rules=RULES)


def test_a_high_risk_models_pod_is_restricted_and_the_message_names_the_group() -> None:
    (violation,) = verdict(HIGH).violations
    assert violation.code is Reason.ACCESS_RESTRICTED
    assert violation.path == "metadata.labels[aigov.io/model]"
    assert "kubectl exec into pod 'fraud-scorer-0' is restricted" in violation.message
    assert "risk class high" in violation.message
    assert "break-glass group aigov-break-glass" in violation.message


def test_a_break_glass_member_enters_and_is_named() -> None:
    found = verdict(HIGH, ONCALL)
    assert found.violations == ()
    assert found.break_glass == "aigov-break-glass"
    assert found.restricted


def test_pods_of_other_risk_classes_and_of_no_model_are_open() -> None:
    assert verdict(LIMITED).violations == ()
    assert verdict(None, name=None).violations == ()
    assert not verdict(LIMITED).restricted


def test_a_pod_of_a_model_that_does_not_exist_is_restricted() -> None:
    (violation,) = verdict(None).violations
    assert "does not exist" in violation.message


def test_the_restricted_classes_and_groups_are_configurable() -> None:
    rules = AccessRules(frozenset({RiskClass.LIMITED}), ("oncall",))
    found = judge_access("attach", "p", MODEL_NAME, model=LIMITED, groups=("oncall",), rules=rules)
    assert found.break_glass == "oncall"
    found = judge_access("attach", "p", MODEL_NAME, model=HIGH, groups=(), rules=rules)
    assert found.violations == ()
    found = judge_access("portforward", "p", MODEL_NAME, model=LIMITED, groups=(), rules=rules)
    assert "kubectl port-forward" in found.violations[0].message


@pytest.mark.parametrize("subresource", ["exec", "attach", "portforward"])
def test_enforce_refuses_with_the_pod_named(subresource: str) -> None:
    outcome = judge(connect(subresource), Mode.ENFORCE, MODEL_NAME, HIGH, RULES)
    assert not outcome.allowed
    assert outcome.verdict == "refused"
    assert outcome.message.startswith(f"aigov refused {subresource} into pod risk/fraud-scorer-0")
    assert "AccessRestricted" in outcome.message
    assert outcome.model == MODEL_NAME


def test_warn_admits_with_a_warning_and_audit_records() -> None:
    warned = judge(connect(), Mode.WARN, MODEL_NAME, HIGH, RULES)
    assert warned.allowed
    assert warned.verdict == "warned"
    assert warned.warnings[0].startswith("aigov: AccessRestricted at")
    audited = judge(connect(), Mode.AUDIT, MODEL_NAME, HIGH, RULES)
    assert audited.allowed
    assert audited.verdict == "audited"
    assert audited.warnings == ()
    (recorded,) = json.loads(audited.audit_annotations[AUDIT_ANNOTATION])
    assert recorded["code"] == "AccessRestricted"


def test_break_glass_is_allowed_warned_and_annotated_in_every_mode() -> None:
    for mode in Mode:
        outcome = judge(connect(groups=ONCALL), mode, MODEL_NAME, HIGH, RULES)
        assert outcome.allowed
        assert outcome.break_glass == "aigov-break-glass"
        assert outcome.audit_annotations == {BREAK_GLASS_ANNOTATION: "aigov-break-glass"}
        assert "recorded" in outcome.warnings[0]


def test_ungoverned_namespaces_and_other_operations_are_not_judged() -> None:
    assert judge(connect(), None, MODEL_NAME, HIGH, RULES).mode is None
    other = AdmissionRequest(**{**connect().__dict__, "operation": "CREATE"})
    assert judge(other, Mode.ENFORCE, MODEL_NAME, HIGH, RULES).allowed
