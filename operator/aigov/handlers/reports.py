"""Write each model's policy reports, and only what changed.

The model's reconciler computes every report of its workloads on each pass (a level, see
reconcile/reports.py); this writer keeps, per model, the digest and resourceVersion of each
report it last wrote or saw, and writes a report only when its digest differs, so a timer
pass over 10,000 unchanged workloads costs no write at all. After a restart, or every
RESEED_SECONDS, it lists the model's reports (label `aigov.io/report-model`) and takes their
digest annotations as the truth: a report someone deleted or edited comes back within that
time. Reports of workloads the model no longer has are deleted, only if still the version
aigov saw (the workload may have moved to another model, whose reconciler now writes it).

When the report CRD is absent, the operator says so once and carries on; it looks again
every RESEED_SECONDS, so installing the CRD later starts the reports. aigov never installs
the CRD: it belongs to another release (Kyverno, the OpenReports chart).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aigov import kube, logs, metrics
from aigov.policy.recognition import Recognition
from aigov.reconcile.reports import (
    APIS,
    DIGEST_ANNOTATION,
    MANAGED_BY,
    MODEL_REPORT_LABEL,
    DesiredReport,
    ReportFormat,
    model_label,
)

log = logs.get("aigov.reports")

WRITE_CONCURRENCY = 8
"""Reports written at once: a first pass over many workloads is not one request at a time,
nor a burst the API server's priority and fairness would have to queue."""
RESEED_SECONDS = 600.0
"""How often a model's reports are compared with the cluster again (the slow timer)."""


@dataclass(frozen=True)
class Seen:
    """What aigov knows one stored report holds."""

    digest: str
    resource_version: str
    inputs: str = ""
    """What aigov computed it from (unknown, "", for reports found in the cluster)."""


@dataclass
class Known:
    """The reports of one model as aigov last saw them."""

    reports: dict[str, Seen]
    at: float


@dataclass
class ReportWriter:
    """One per process; `sync` is called by each model's reconciler after its pass."""

    format: ReportFormat | None
    """None: reports are off (AIGOV_REPORTS=off)."""
    recognition: Recognition | None = None
    """The engine table and accelerator rules admission uses, so reports judge alike."""
    clock: Callable[[], float] = time.monotonic
    known: dict[tuple[str, str], Known] = field(default_factory=dict)
    absent_since: float | None = None
    """When the report CRD was last found missing: looked for again after RESEED_SECONDS."""
    writes: int = 0
    written_bytes: int = 0
    """Reports applied and the size of their bodies, since start (for measurement)."""

    @classmethod
    def for_setting(cls, value: str, recognition: Recognition | None = None) -> ReportWriter:
        """The writer for AIGOV_REPORTS (openreports | wgpolicy | off)."""
        return cls(None if value == "off" else ReportFormat(value), recognition)

    async def sync(self, namespace: str, model: str, desired: Sequence[DesiredReport]) -> None:
        """Make the model's reports in `namespace` the `desired` ones, writing only changes.

        A report that fails to write is logged and left out of what is known, so the next
        pass tries again; the others are still written.
        """
        if self.format is None:
            return
        api = APIS[self.format]
        key = (namespace, model)
        now = self.clock()
        if self.absent_since is not None and now - self.absent_since < RESEED_SECONDS:
            return
        known = self.known.get(key)
        if known is None or now - known.at >= RESEED_SECONDS:
            known = await self._seed(namespace, model)
            if known is None:
                return
            self.known[key] = known
        writing = []
        for report in desired:
            seen = known.reports.get(report.name)
            if report.reused or (seen is not None and seen.digest == report.digest):
                if seen is not None and report.inputs:
                    known.reports[report.name] = Seen(seen.digest, seen.resource_version,
                                                      report.inputs)  # fmt: skip
                continue
            writing.append(report)
        limit = asyncio.Semaphore(WRITE_CONCURRENCY)

        async def write(report: DesiredReport) -> None:
            async with limit:
                try:
                    version = await kube.apply_report(
                        api.group, api.version, api.plural, report.body
                    )
                except Exception:
                    known.reports.pop(report.name, None)
                    log.exception("report not written", namespace=namespace, name=report.name)
                    return
            size = len(kube_json(report.body))
            self.writes += 1
            self.written_bytes += size
            metrics.REPORT_WRITES.labels(operation="applied").inc()
            metrics.REPORT_BYTES.inc(size)
            known.reports[report.name] = Seen(report.digest, version, report.inputs)

        await asyncio.gather(*(write(r) for r in writing))
        wanted = {r.name for r in desired}
        for name in [n for n in known.reports if n not in wanted]:
            seen = known.reports.pop(name)
            try:
                await kube.delete_report(
                    api.group,
                    api.version,
                    api.plural,
                    namespace,
                    name,
                    resource_version=seen.resource_version,
                )
                metrics.REPORT_WRITES.labels(operation="deleted").inc()
            except Exception:
                log.exception("stale report not deleted", namespace=namespace, name=name)

    async def _seed(self, namespace: str, model: str) -> Known | None:
        """The model's reports as stored now; None (said once) when the CRD is absent."""
        assert self.format is not None
        api = APIS[self.format]
        selector = ",".join(
            f"{k}={v}" for k, v in {**MANAGED_BY, MODEL_REPORT_LABEL: model_label(model)}.items()
        )
        items = await kube.list_reports(api.group, api.version, api.plural, namespace, selector)
        if items is None:
            if self.absent_since is None:
                log.warning(
                    "policy reports are on but their CRD is not installed: no reports are "
                    "written; install it (Kyverno or the OpenReports chart) or set "
                    "AIGOV_REPORTS=off",
                    crd=api.crd,
                )
            self.absent_since = self.clock()
            return None
        if self.absent_since is not None:
            log.info("policy report CRD found: writing reports", crd=api.crd)
            self.absent_since = None
        reports = {}
        for item in items:
            meta = item.get("metadata") or {}
            digest = (meta.get("annotations") or {}).get(DIGEST_ANNOTATION, "")
            reports[str(meta.get("name"))] = Seen(str(digest), str(meta.get("resourceVersion")))
        return Known(reports=reports, at=self.clock())

    def unchanged(self, namespace: str, model: str) -> Callable[[str, str], bool]:
        """Whether report `name` of the model was last written from `inputs` (and is not
        due for the slow timer's comparison with the cluster)."""
        known = self.known.get((namespace, model))
        if known is None or self.clock() - known.at >= RESEED_SECONDS:
            return lambda _name, _inputs: False
        reports = known.reports

        def same(name: str, inputs: str) -> bool:
            seen = reports.get(name)
            return seen is not None and bool(seen.inputs) and seen.inputs == inputs

        return same

    def forget(self, namespace: str, model: str) -> None:
        """Drop what is known of a model's reports: its reconciler ended."""
        self.known.pop((namespace, model), None)


def kube_json(body: object) -> bytes:
    """The body as compact JSON, to count the bytes written."""
    return json.dumps(body, separators=(",", ":")).encode()
