"""ReportWriter: only changed reports are written; the CRD's absence is said once.

The API server is an in-memory store with its semantics for what the writer relies on:
server-side apply creates or replaces and bumps resourceVersion, delete honours a
resourceVersion precondition (409), a list filters by labels, and a missing CRD is a 404
(None from kube.list_reports). The e2e test runs the same writer against the real one.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import builders
import pytest
import structlog
from builders import IMAGE, NAMESPACE, T0, governed_model, model_approval, model_spec
from builders import risk_assessment as assessed
from prometheus_client import REGISTRY

from aigov import kube
from aigov.api.models import spec_hash
from aigov.handlers.reports import RESEED_SECONDS, ReportWriter
from aigov.policy.standing import Evidence
from aigov.reconcile.reports import DesiredReport, ReportFormat, workload_report

NAME = builders.MODEL_NAME
NOW = T0 + timedelta(days=1)
CURRENT = spec_hash(model_spec())


class Store:
    """Reports as the API server would keep them, by (namespace, name)."""

    def __init__(self, *, installed: bool = True) -> None:
        self.installed = installed
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 0
        self.applies = 0
        self.applied_bytes = 0
        self.lists = 0

    async def list_reports(
        self, group: str, version: str, plural: str, namespace: str, selector: str
    ) -> list[dict[str, Any]] | None:
        self.lists += 1
        if not self.installed:
            return None
        wanted = dict(part.split("=", 1) for part in selector.split(","))
        return [
            o
            for (ns, _), o in self.objects.items()
            if ns == namespace and wanted.items() <= o["metadata"]["labels"].items()
        ]

    async def apply_report(self, group: str, version: str, plural: str, body: Any) -> str:
        self.applies += 1
        self.applied_bytes += len(json.dumps(body, separators=(",", ":")))
        self.version += 1
        meta = body["metadata"]
        stored = json.loads(json.dumps(body))
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[(meta["namespace"], meta["name"])] = stored
        return str(self.version)

    async def delete_report(
        self, group: str, version: str, plural: str, namespace: str, name: str, *,
        resource_version: str,
    ) -> None:  # fmt: skip
        found = self.objects.get((namespace, name))
        if found is not None and found["metadata"]["resourceVersion"] == resource_version:
            del self.objects[(namespace, name)]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    found = Store()
    for name in ("list_reports", "apply_report", "delete_report"):
        monkeypatch.setattr(kube, name, getattr(found, name))
    return found


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reports(count: int, decision: str = "approve") -> list[DesiredReport]:
    """The reports of `count` Deployments of the shared model."""
    ev = Evidence(
        namespace=NAMESPACE, name=NAME, model=governed_model(),
        assessments=(assessed(CURRENT),), approvals=(model_approval(CURRENT, decision=decision),),
    )  # fmt: skip
    found = []
    for i in range(count):
        body = builders.deployment(
            builders.pod_spec(builders.container(image=IMAGE)), name=f"fraud-{i:05d}"
        )
        body["metadata"]["uid"] = f"uid-{i:05d}"
        found.append(workload_report(body, ev, NOW, fmt=ReportFormat.OPENREPORTS))
    return found


def writer(clock: Clock | None = None) -> ReportWriter:
    return ReportWriter(ReportFormat.OPENREPORTS, clock=clock or Clock())


async def test_a_thousand_workloads_write_once_then_only_what_changes(store: Store) -> None:
    """The measurement of the issue: objects and bytes written for 1,000 workloads."""
    w = writer()
    approved, revoked = reports(1000), reports(1000, "revoke")
    await w.sync(NAMESPACE, NAME, approved)
    first = (store.applies, store.applied_bytes)
    await w.sync(NAMESPACE, NAME, approved)  # a timer pass: the same standing
    second = store.applies - first[0]
    await w.sync(NAMESPACE, NAME, revoked)
    third = store.applies - first[0] - second
    assert first[0] == 1000
    assert second == 0
    assert third == 1000
    per_report = first[1] / 1000
    assert per_report < 8192, per_report
    assert (w.writes, w.written_bytes) == (store.applies, store.applied_bytes)
    print(
        f"\n1,000 workloads: {first[0]} reports, {first[1]} bytes ({per_report:.0f} per report)"
        f" on the first pass; {second} writes on a resync; {third} on a revocation"
    )


async def test_after_a_restart_the_stored_digests_count(store: Store) -> None:
    await writer().sync(NAMESPACE, NAME, reports(20))
    assert store.applies == 20
    restarted = writer()
    await restarted.sync(NAMESPACE, NAME, reports(20))
    assert store.applies == 20, "a restart must not rewrite unchanged reports"
    assert store.lists == 2


async def test_a_deleted_report_comes_back_on_the_slow_timer(store: Store) -> None:
    clock = Clock()
    w = writer(clock)
    await w.sync(NAMESPACE, NAME, reports(3))
    store.objects.pop((NAMESPACE, "aigov-deployment-fraud-00001"))
    await w.sync(NAMESPACE, NAME, reports(3))
    assert store.applies == 3  # within RESEED_SECONDS: the memory is trusted
    clock.now += RESEED_SECONDS
    await w.sync(NAMESPACE, NAME, reports(3))
    assert store.applies == 4
    assert (NAMESPACE, "aigov-deployment-fraud-00001") in store.objects


def counted(operation: str) -> float:
    return REGISTRY.get_sample_value("aigov_report_writes_total", {"operation": operation}) or 0


async def test_reports_of_workloads_gone_from_the_model_are_deleted(store: Store) -> None:
    w = writer()
    applied, deleted = counted("applied"), counted("deleted")
    await w.sync(NAMESPACE, NAME, reports(3))
    await w.sync(NAMESPACE, NAME, reports(2))
    assert (counted("applied") - applied, counted("deleted") - deleted) == (3, 1)
    assert sorted(name for _, name in store.objects) == [
        "aigov-deployment-fraud-00000", "aigov-deployment-fraud-00001",
    ]  # fmt: skip


async def test_a_report_rewritten_by_another_reconciler_is_not_deleted(store: Store) -> None:
    """The workload moved to another model, whose reconciler wrote the report first."""
    w = writer()
    await w.sync(NAMESPACE, NAME, reports(2))
    await store.apply_report("", "", "", reports(2)[1].body)  # another writer, newer version
    await w.sync(NAMESPACE, NAME, reports(1))
    assert (NAMESPACE, "aigov-deployment-fraud-00001") in store.objects


async def test_a_failed_write_is_retried_on_the_next_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = writer()
    real = store.apply_report

    async def failing(group: str, version: str, plural: str, body: Any) -> str:
        if body["metadata"]["name"].endswith("00000"):
            raise RuntimeError("422 Unprocessable Entity")
        return await real(group, version, plural, body)

    monkeypatch.setattr(kube, "apply_report", failing)
    await w.sync(NAMESPACE, NAME, reports(2))
    assert len(store.objects) == 1
    monkeypatch.setattr(kube, "apply_report", real)
    await w.sync(NAMESPACE, NAME, reports(2))
    assert len(store.objects) == 2


async def test_an_absent_crd_is_said_once_and_looked_for_again_later(store: Store) -> None:
    store.installed = False
    clock = Clock()
    w = writer(clock)
    with structlog.testing.capture_logs() as logged:
        for model in ("a", "b", "c", "a"):
            await w.sync(NAMESPACE, model, reports(2))
    assert store.applies == 0
    assert store.lists == 1, "looked for once, not once per model or pass"
    said = [e for e in logged if "CRD is not installed" in e["event"]]
    assert len(said) == 1
    assert said[0]["crd"] == "reports.openreports.io"
    store.installed = True
    clock.now += RESEED_SECONDS
    await w.sync(NAMESPACE, NAME, reports(2))
    assert store.applies == 2


async def test_off_writes_nothing(store: Store) -> None:
    w = ReportWriter.for_setting("off")
    await w.sync(NAMESPACE, NAME, reports(2))
    assert (store.lists, store.applies) == (0, 0)
    assert ReportWriter.for_setting("wgpolicy").format is ReportFormat.WGPOLICY


async def test_reused_reports_are_kept_and_not_written(store: Store) -> None:
    w = writer()
    written = reports(2)
    await w.sync(NAMESPACE, NAME, written)
    reused = [DesiredReport(r.namespace, r.name, {}, "", r.inputs, reused=True) for r in written]
    await w.sync(NAMESPACE, NAME, reused)
    assert store.applies == 2
    assert len(store.objects) == 2
