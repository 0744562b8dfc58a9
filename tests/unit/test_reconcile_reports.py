"""Policy reports: the body each governed workload's report should have, and its schema.

Bodies are checked against the stand-in CRDs the e2e tests install (copies of the published
OpenReports and Kyverno wgpolicyk8s schemas), so a report the builder makes is one the API
server stores.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import builders
import jsonschema
import pytest
import yaml
from builders import IMAGE, NAMESPACE, T0, governed_model, model_approval, model_spec
from builders import risk_assessment as assessed

from aigov.api import constants
from aigov.api.models import GovernedModel, spec_hash
from aigov.config import ConfigError, Settings
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import NodeInfo
from aigov.policy.standing import Evidence
from aigov.reconcile.model import model_pass
from aigov.reconcile.reports import (
    APIS,
    DIGEST_ANNOTATION,
    MODEL_REPORT_LABEL,
    RULES,
    ReportFormat,
    model_label,
    report_name,
    rule_results,
    workload_report,
)

NAME = builders.MODEL_NAME
NOW = T0 + timedelta(days=1)
CURRENT = spec_hash(model_spec())
MANIFESTS = Path(__file__).resolve().parents[1] / "e2e" / "manifests"
CRDS = {
    ReportFormat.OPENREPORTS: MANIFESTS / "openreports-report-crd.yaml",
    ReportFormat.WGPOLICY: MANIFESTS / "wgpolicyk8s-policyreport-crd.yaml",
}


def evidence(
    *, decision: str = "approve", model: GovernedModel | None = None, exists: bool = True
) -> Evidence:
    if not exists:
        return Evidence(namespace=NAMESPACE, name=NAME)
    return Evidence(
        namespace=NAMESPACE,
        name=NAME,
        model=model if model is not None else governed_model(),
        assessments=(assessed(CURRENT),),
        approvals=(model_approval(CURRENT, decision=decision),),
    )


def deployment() -> dict[str, Any]:
    body = builders.deployment(builders.pod_spec(builders.container(image=IMAGE)))
    body["metadata"]["uid"] = "uid-fraud-scorer"
    return body


def outcomes(results: list[dict[str, Any]]) -> dict[str, str]:
    return {r["rule"]: r["result"] for r in results}


def validate(body: dict[str, Any], fmt: ReportFormat) -> None:
    """Check `body` against the stand-in CRD's schema, as the API server would."""
    crd = yaml.safe_load(CRDS[fmt].read_text())
    (version,) = crd["spec"]["versions"]
    assert crd["spec"]["group"] == APIS[fmt].group
    assert version["name"] == APIS[fmt].version
    schema = version["schema"]["openAPIV3Schema"]

    def strict(node: Any) -> Any:
        # Unknown fields are pruned by the API server: refuse them here, so that a field
        # the schema lacks is a failing test rather than a silently dropped one.
        if isinstance(node, dict):
            found = {k: strict(v) for k, v in node.items()}
            if "properties" in found and "additionalProperties" not in found:
                found["additionalProperties"] = False
            return found
        return [strict(v) for v in node] if isinstance(node, list) else node

    jsonschema.validate(body, strict(schema))


# The results ------------------------------------------------------------------------------


def test_an_approved_workload_passes_every_rule() -> None:
    report = workload_report(deployment(), evidence(), NOW)
    body = report.body
    assert outcomes(body["results"]) == {rule.code.value: "pass" for rule in RULES}
    assert body["summary"] == {"pass": len(RULES), "fail": 0, "warn": 0, "error": 0, "skip": 0}
    assert body["source"] == "aigov"
    assert body["scope"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "fraud-scorer",
        "namespace": NAMESPACE,
        "uid": "uid-fraud-scorer",
    }
    (owner,) = body["metadata"]["ownerReferences"]
    assert owner == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "fraud-scorer",
        "uid": "uid-fraud-scorer",
    }  # fmt: skip
    assert report.name == body["metadata"]["name"] == "aigov-deployment-fraud-scorer"
    assert body["metadata"]["labels"][MODEL_REPORT_LABEL] == NAME
    assert body["metadata"]["annotations"][DIGEST_ANNOTATION] == report.digest


def test_a_revoked_model_fails_not_approved_with_the_path_and_controls() -> None:
    results = workload_report(deployment(), evidence(decision="revoke"), NOW).body["results"]
    failed = [r for r in results if r["result"] == "fail"]
    assert [r["rule"] for r in failed] == ["NotApproved"]
    (result,) = failed
    assert result["policy"] == "approval"
    assert result["severity"] == "high"
    assert "revoked" in result["message"]
    assert result["properties"] == {
        "reason": "NotApproved",
        "path": "metadata.labels[aigov.io/model]",
        "iso42001": "A.6.2.5, A.3.2",
        "euAiAct": "Art. 14, Art. 26",
    }


def test_an_image_outside_the_artifacts_fails_with_the_container_path() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:latest"
    results = rule_results(body, evidence(), NOW)
    (failed,) = [r for r in results if r["result"] == "fail"]
    assert failed["rule"] == "ArtifactNotApproved"
    assert failed["properties"]["path"] == "spec.template.spec.containers[0].image"


def test_a_missing_model_fails_model_not_found_and_skips_the_rest() -> None:
    results = rule_results(deployment(), evidence(exists=False), NOW)
    found = outcomes(results)
    assert found.pop("ModelNotFound") == "fail"
    assert set(found.values()) == {"skip"}


def test_an_unreadable_workload_is_an_error_for_every_rule() -> None:
    results = rule_results({"metadata": {"name": "x"}}, evidence(), NOW)
    assert {r["result"] for r in results} == {"error"}
    assert "has no kind" in results[0]["message"]


def test_a_deprecated_model_warns_on_the_lifecycle_rule() -> None:
    deprecated = governed_model({**model_spec(), "lifecycle": "deprecated"})
    ev = Evidence(
        namespace=NAMESPACE, name=NAME, model=deprecated,
        assessments=(assessed(spec_hash(deprecated.spec.model_dump(by_alias=True,
                                                                     exclude_none=True))),),
    )  # fmt: skip
    found = outcomes(rule_results(deployment(), ev, NOW))
    assert found["ModelRetired"] == "warn"


def test_pods_on_nodes_outside_the_pools_fail_placement() -> None:
    """Through model_pass, as the reconciler computes them: the pod runs on an L4 node."""
    h200 = {"nvidia.com/gpu.product": "NVIDIA-H200", "pool": "h200-eu"}
    nodes = (NodeInfo("gpu-h200-1", h200), NodeInfo("gpu-l4-1", {"pool": "l4-shared"}))
    policy = builders.placement_policy(pools=[builders.node_pool("h200-eu")], generation=1)
    ctx = PlacementContext(policies={"confidential-eu": policy}, nodes=nodes)
    workload = deployment()
    replicaset = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "fraud-scorer-7d9c", "namespace": NAMESPACE,
                     "ownerReferences": [{"kind": "Deployment", "name": "fraud-scorer",
                                          "controller": True}]},
    }  # fmt: skip
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "fraud-scorer-7d9c-1", "namespace": NAMESPACE,
                     "ownerReferences": [{"kind": "ReplicaSet", "name": "fraud-scorer-7d9c",
                                          "controller": True}]},
        "spec": {"nodeName": "gpu-l4-1", "containers": [{"name": "s", "image": IMAGE}]},
    }  # fmt: skip
    ev = evidence()
    assert ev.model is not None
    done = model_pass(
        ev.model, ev.assessments, ev.approvals, objects=[workload, replicaset, pod],
        placement=ctx, now=NOW, report_format=ReportFormat.OPENREPORTS,
    )  # fmt: skip
    (report,) = done.reports
    (placement,) = [r for r in report.body["results"] if r["rule"] == "PlacementViolation"]
    assert placement["result"] == "fail"
    assert "gpu-l4-1" in placement["message"]
    assert "spec.nodeName" in placement["properties"]["path"].split(", ")


def test_reports_are_off_unless_asked_for() -> None:
    ev = evidence()
    assert ev.model is not None
    done = model_pass(
        ev.model, ev.assessments, ev.approvals, objects=[deployment()],
        placement=PlacementContext(policies={}, nodes=()), now=NOW,
    )  # fmt: skip
    assert done.reports == ()


# The digest -------------------------------------------------------------------------------


def test_the_digest_ignores_the_time_and_follows_the_verdict() -> None:
    first = workload_report(deployment(), evidence(), NOW)
    later = workload_report(deployment(), evidence(), NOW + timedelta(hours=3))
    revoked = workload_report(deployment(), evidence(decision="revoke"), NOW)
    assert first.digest == later.digest
    assert first.body["results"][0]["timestamp"] != later.body["results"][0]["timestamp"]
    assert revoked.digest != first.digest


# Names ------------------------------------------------------------------------------------


def test_names_stay_within_the_api_servers_limits() -> None:
    long = "x" * 250
    assert len(report_name("Deployment", long)) == 253
    assert report_name("Deployment", long) != report_name("Deployment", long + "y")
    assert model_label(NAME) == NAME
    assert len(model_label("m" * 100)) <= 63
    assert model_label("m" * 100) != model_label("m" * 101)


# Schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(ReportFormat))
@pytest.mark.parametrize("decision", ["approve", "revoke"])
def test_bodies_validate_against_the_published_schema(fmt: ReportFormat, decision: str) -> None:
    body = workload_report(deployment(), evidence(decision=decision), NOW, fmt=fmt).body
    validate(body, fmt)
    assert body["kind"] == APIS[fmt].kind
    assert body["apiVersion"] == APIS[fmt].api_version


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_missing_model_and_error_bodies_validate_too(fmt: ReportFormat) -> None:
    validate(workload_report(deployment(), evidence(exists=False), NOW, fmt=fmt).body, fmt)
    broken = {**deployment(), "kind": ""}
    validate(workload_report(broken, evidence(), NOW, fmt=fmt).body, fmt)


def test_wgpolicy_results_carry_the_source_the_report_cannot() -> None:
    body = workload_report(deployment(), evidence(), NOW, fmt=ReportFormat.WGPOLICY).body
    assert "source" not in body
    assert {r["source"] for r in body["results"]} == {"aigov"}


def test_every_rule_is_a_reason_code_and_says_which_controls() -> None:
    assert len({rule.code for rule in RULES}) == len(RULES)
    assert constants.Reason.UNGOVERNED_WORKLOAD not in {rule.code for rule in RULES}
    for rule in RULES:
        assert rule.iso42001.startswith("A.")
        assert rule.eu_ai_act.startswith("Art. ")
        assert rule.severity in {"high", "medium", "low"}  # every schema's enum has these


# Settings ---------------------------------------------------------------------------------


def test_the_setting_picks_the_format_and_refuses_others() -> None:
    assert Settings.from_env({}).reports == "openreports"
    assert Settings.from_env({"AIGOV_REPORTS": " WGPolicy "}).reports == "wgpolicy"
    assert Settings.from_env({"AIGOV_REPORTS": "off"}).reports == "off"
    with pytest.raises(ConfigError, match="AIGOV_REPORTS='kyverno': expected one of"):
        Settings.from_env({"AIGOV_REPORTS": "kyverno"})


# Unchanged inputs are not computed again ----------------------------------------------------


def pass_over(objects: list[dict[str, Any]], decision: str = "approve", **kw: Any) -> Any:
    ev = evidence(decision=decision)
    assert ev.model is not None
    return model_pass(
        ev.model, ev.assessments, ev.approvals, objects=objects,
        placement=PlacementContext(policies={}, nodes=()), now=NOW,
        report_format=ReportFormat.OPENREPORTS, **kw,
    )  # fmt: skip


def test_a_report_with_the_inputs_last_written_is_reused() -> None:
    workload = {**deployment(), "metadata": {**deployment()["metadata"], "resourceVersion": "7"}}
    (first,) = pass_over([workload]).reports
    assert not first.reused
    assert first.inputs
    seen = {first.name: first.inputs}

    def unchanged(name: str, inputs: str) -> bool:
        return seen.get(name) == inputs

    (again,) = pass_over([workload], unchanged=unchanged).reports
    assert again.reused
    assert again.body == {}
    edited = {**workload, "metadata": {**workload["metadata"], "resourceVersion": "8"}}
    (after_edit,) = pass_over([edited], unchanged=unchanged).reports
    assert not after_edit.reused
    (after_revoke,) = pass_over([workload], "revoke", unchanged=unchanged).reports
    assert not after_revoke.reused
    assert after_revoke.digest != first.digest
