"""Prometheus metrics on /metrics: what was decided, how fast, and where models stand.

One module owns every metric name, so dashboards and alerts have one place to look. The
admission path only increments counters and observes a histogram (no I/O); the reconciler
keeps the per-phase gauge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import prometheus_client

REVIEWS = prometheus_client.Counter(
    "aigov_admission_reviews",
    "Admission reviews aigov answered, by webhook (handler id) and decision: what the "
    "webhook configurations' rules and matchConditions let through to aigov.",
    ["webhook", "decision"],
)
DECISIONS = prometheus_client.Counter(
    "aigov_admission_decisions",
    "Admission decisions by webhook, decision (allowed, refused, warned, audited), the "
    "namespace's mode and reason code (one increment per code; 'none' when no rule broke).",
    ["webhook", "decision", "mode", "reason"],
)
LATENCY = prometheus_client.Histogram(
    "aigov_admission_latency_seconds",
    "Time aigov spent deciding one admission review, by webhook (not the network).",
    ["webhook"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5),
)
MODELS = prometheus_client.Gauge(
    "aigov_models", "GovernedModels by phase, as the reconciler last wrote them.", ["phase"]
)
FLAGS = prometheus_client.Counter(
    "aigov_workload_flags",
    "Workload flags written (aigov.io/flagged), by reason ('cleared' when removed).",
    ["reason"],
)
STOPS = prometheus_client.Counter(
    "aigov_workload_stops",
    "Workloads brought to a safe state (scaled to zero or suspended), by reason.",
    ["reason"],
)
REPORT_WRITES = prometheus_client.Counter(
    "aigov_report_writes",
    "Policy report writes, by operation (applied, deleted): only changed reports are written.",
    ["operation"],
)
REPORT_BYTES = prometheus_client.Counter(
    "aigov_report_written_bytes", "Bytes of policy report bodies applied (compact JSON)."
)


def decided(
    webhook: str, decision: str, mode: str | None, reasons: Iterable[str], seconds: float
) -> None:
    """Count one admission decision and its latency."""
    REVIEWS.labels(webhook=webhook, decision=decision).inc()
    LATENCY.labels(webhook=webhook).observe(seconds)
    for reason in list(reasons) or ["none"]:
        labels = {"webhook": webhook, "decision": decision, "mode": mode or "none"}
        DECISIONS.labels(**labels, reason=reason).inc()


_SEEN: set[str] = set()


def phases(current: Iterable[str]) -> None:
    """Set the per-phase gauge from every model's phase (a phase no model has any more
    goes to 0 rather than vanish, so a graph shows it falling)."""
    counts = Counter(current)
    _SEEN.update(counts)
    for phase in _SEEN:
        MODELS.labels(phase=phase).set(counts.get(phase, 0))
