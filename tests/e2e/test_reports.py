"""Policy reports end to end: the real API server stores what aigov writes, against the
published schemas (stand-in CRDs), and the report follows the model's standing."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from aigov import kube as kube_api
from aigov.api.models import GovernedModel
from aigov.handlers.reports import ReportWriter
from aigov.kube import client as kube_client
from aigov.policy.standing import Evidence
from aigov.reconcile.reports import APIS, ReportFormat, workload_report
from tests.e2e import governed, manifests
from tests.e2e.conftest import RESYNC_SECONDS
from tests.e2e.governed import ALICE, CAROL, IMAGE

MANIFESTS = Path(__file__).resolve().parent / "manifests"
RULES = 11


@pytest.fixture
def ns(kube: Kube, operator: Operator, unique: str) -> Iterator[str]:
    name = kube.namespace(f"rep-{unique}", mode="enforce")
    governed.bind_personas(kube, name)
    yield name
    # Give the GPUs back: the fake pool is shared by the whole session.
    kube.run("delete", "deployments", "--all", "-n", name, "--wait=false")


def _report(kube: Kube, ns: str, name: str) -> dict[str, Any] | None:
    found = kube.run("get", "reports.openreports.io", name, "-n", ns, "-o", "yaml")
    return yaml.safe_load(found.stdout) if found.ok else None


def _results(report: dict[str, Any] | None) -> dict[str, str]:
    return {r["rule"]: r["result"] for r in (report or {}).get("results", [])}


def test_a_report_follows_revocation_and_re_approval(kube: Kube, ns: str) -> None:
    spec = governed.govern(kube, ns, "scorer")
    result = kube.apply(
        manifests.deployment("scorer", ns, gpus=1, model="scorer", image=IMAGE), user=ALICE
    )
    assert result.ok, result.stderr
    name = "aigov-deployment-scorer"

    def all_pass() -> bool:
        found = _report(kube, ns, name)
        return found is not None and found["summary"]["pass"] == RULES

    kube.wait_for(all_pass, "a Report with every rule passing", 60)
    report = _report(kube, ns, name)
    assert report is not None
    deployment = kube.get("deployment", "scorer", ns)
    (owner,) = report["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("Deployment", deployment["metadata"]["uid"])
    assert report["scope"]["name"] == "scorer"
    assert report["source"] == "aigov"
    assert set(_results(report).values()) == {"pass"}
    written = report["metadata"]["resourceVersion"]

    # Its pod starts (the Deployment's status changes) and a full resync passes: the same
    # standing writes nothing.
    kube.wait_for(
        lambda: kube.get("deployment", "scorer", ns).get("status", {}).get("readyReplicas") == 1,
        "the Deployment ready",
        90,
    )
    time.sleep(RESYNC_SECONDS + 2)
    still = _report(kube, ns, name)
    assert still is not None
    assert still["metadata"]["resourceVersion"] == written, "an unchanged report was rewritten"

    revoke = governed.approval("scorer-revoke", ns, "scorer", spec, decision="revoke")
    assert kube.apply(revoke, user=CAROL).ok
    kube.wait_for(
        lambda: _results(_report(kube, ns, name)).get("NotApproved") == "fail",
        "the Report's NotApproved result to fail",
        60,
    )
    failed = _report(kube, ns, name)
    assert failed is not None
    assert failed["summary"]["fail"] == 1
    (not_approved,) = [r for r in failed["results"] if r["result"] == "fail"]
    assert "revoked" in not_approved["message"]
    assert not_approved["properties"]["path"] == "metadata.labels[aigov.io/model]"
    assert not_approved["properties"]["iso42001"]

    # The newest decision wins; creationTimestamp has one-second resolution.
    time.sleep(1.1)
    again = governed.approval("scorer-again", ns, "scorer", spec, assessment_name="scorer-ra")
    assert kube.apply(again, user=CAROL).ok
    kube.wait_for(all_pass, "the Report passing again after re-approval", 60)

    # The report goes with its workload (owner reference, garbage collector).
    assert kube.run("delete", "deployment", "scorer", "-n", ns, "--wait=false").ok
    kube.wait_for(lambda: _report(kube, ns, name) is None, "the Report deleted with it", 60)


def test_a_missing_model_fails_model_not_found(kube: Kube, unique: str, operator: Operator) -> None:
    """A workload left behind by a deleted model: an audit namespace admits it."""
    ns = kube.namespace(f"rep-gone-{unique}", mode="audit")
    governed.bind_personas(kube, ns)
    governed.govern(kube, ns, "doomed")
    deployment = manifests.deployment("doomed", ns, gpus=0, model="doomed", image=IMAGE)
    assert kube.apply(deployment, user=ALICE).ok
    name = "aigov-deployment-doomed"
    kube.wait_for(lambda: _report(kube, ns, name) is not None, "a Report", 60)
    assert kube.run("delete", "governedmodel", "doomed", "-n", ns).ok
    kube.wait_for(
        lambda: _results(_report(kube, ns, name)).get("ModelNotFound") == "fail",
        "ModelNotFound to fail",
        60,
    )
    results = _results(_report(kube, ns, name))
    assert {v for k, v in results.items() if k != "ModelNotFound"} == {"skip"}
    kube.run("delete", "deployment", "doomed", "-n", ns, "--wait=false")


def test_wgpolicy_reports_need_their_crd_and_then_validate(
    kube: Kube, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    """Absent CRD: the API answers 404 and the writer writes nothing; installed: the real
    API server stores a PolicyReport as the wgpolicyk8s schema (Kyverno's) has it."""
    # aigov.kube's one client, made from the test cluster's kubeconfig.
    client = config.new_client_from_config(config_file=str(kube.kubeconfig))  # type: ignore[no-untyped-call]
    monkeypatch.setattr(kube_client, "_client", client)
    ns = kube.namespace(f"rep-wg-{unique}")
    api = APIS[ReportFormat.WGPOLICY]
    crd = MANIFESTS / "wgpolicyk8s-policyreport-crd.yaml"
    kube.run("delete", "-f", str(crd), "--ignore-not-found")
    kube.wait_for(
        lambda: (
            asyncio.run(kube_api.list_reports(api.group, api.version, api.plural, ns, "")) is None
        ),
        "the PolicyReport API to be gone",
        30,
    )
    body = _wg_report(kube, ns)
    writer = ReportWriter(ReportFormat.WGPOLICY)
    asyncio.run(writer.sync(ns, "scorer", [body]))
    assert writer.writes == 0
    assert writer.absent_since is not None
    try:
        assert kube.run("apply", "-f", str(crd)).ok
        kube.run("wait", "--for=condition=Established", f"crd/{api.crd}", "--timeout=60s")
        writer = ReportWriter(ReportFormat.WGPOLICY)
        asyncio.run(writer.sync(ns, "scorer", [body]))
        assert writer.writes == 1
        stored = kube.get(f"{api.plural}.{api.group}", body.name, ns)
        assert stored["results"] == body.body["results"], "nothing pruned: the schema has it all"
        assert stored["summary"] == body.body["summary"]
    finally:
        kube.run("delete", "-f", str(crd), "--ignore-not-found", "--wait=false")


def _wg_report(kube: Kube, ns: str, fmt: ReportFormat = ReportFormat.WGPOLICY) -> Any:
    """A report of a ConfigMap-owned stand-in workload: the builder's real output."""

    owner = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "owner", "namespace": ns},
    }
    assert kube.apply(owner).ok
    uid = kube.get("configmap", "owner", ns)["metadata"]["uid"]
    model = GovernedModel.from_body(governed.model("scorer", ns, governed.model_spec()))
    workload = manifests.deployment("scorer", ns, gpus=1, model="scorer", image=IMAGE)
    workload["metadata"]["uid"] = uid
    report = workload_report(workload, Evidence(ns, "scorer", model), now=_now(), fmt=fmt)
    # Owned by the ConfigMap, so the garbage collector keeps it (the Deployment is not made).
    report.body["metadata"]["ownerReferences"][0].update(apiVersion="v1", kind="ConfigMap",
                                                         name="owner")  # fmt: skip
    return report


def _now() -> Any:
    return dt.datetime.now(dt.UTC)


def test_a_thousand_reports_are_written_once(
    kube: Kube, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    """The measurement: objects and bytes the real API server takes for 1,000 workloads, and
    nothing more on a pass after a restart (the digests stored in the cluster count)."""
    client = config.new_client_from_config(config_file=str(kube.kubeconfig))  # type: ignore[no-untyped-call]
    monkeypatch.setattr(kube_client, "_client", client)
    ns = kube.namespace(f"rep-1k-{unique}")
    template = _wg_report(kube, ns, ReportFormat.OPENREPORTS)
    owner = template.body["metadata"]["ownerReferences"][0]

    model = GovernedModel.from_body(governed.model("scorer", ns, governed.model_spec()))
    desired = []
    for i in range(1000):
        workload = manifests.deployment(f"scorer-{i:04d}", ns, gpus=1, model="scorer", image=IMAGE)
        workload["metadata"]["uid"] = owner["uid"]
        report = workload_report(workload, Evidence(ns, "scorer", model), now=_now())
        report.body["metadata"]["ownerReferences"] = [owner]
        desired.append(report)
    writer = ReportWriter(ReportFormat.OPENREPORTS)
    started = time.monotonic()
    asyncio.run(writer.sync(ns, "scorer", desired))
    took = time.monotonic() - started
    assert writer.writes == 1000
    stored = kube.list("reports.openreports.io", ns, "aigov.io/report-model=scorer")
    assert len(stored) == 1000
    restarted = ReportWriter(ReportFormat.OPENREPORTS)
    asyncio.run(restarted.sync(ns, "scorer", desired))
    assert restarted.writes == 0, "a restart rewrote unchanged reports"
    print(
        f"\n1,000 reports: {writer.writes} objects, {writer.written_bytes} bytes written in "
        f"{took:.1f}s; after a restart: {restarted.writes} writes"
    )
    kube.run("delete", "reports.openreports.io", "--all", "-n", ns, "--wait=false")
