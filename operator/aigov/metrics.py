"""Prometheus metrics on /metrics: what was decided, how fast, and where models stand.

One module owns every metric name, so dashboards and alerts have one place to look. The
admission path only increments counters and observes a histogram (no I/O); the reconciler
keeps the per-phase gauge.
"""

from __future__ import annotations

import functools
import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

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
RECONCILED = prometheus_client.Gauge(
    "aigov_reconciled_models",
    "Models this replica keeps a reconciler (and a wake-up entry) for: bounded by the "
    "GovernedModels that exist, whatever labels pods in any namespace carry.",
)
LEADER = prometheus_client.Gauge(
    "aigov_leader",
    "1 while this replica holds the leader Lease and runs the model reconcilers, else 0 "
    "(every replica serves admission either way).",
)


@functools.cache
def _reviews(webhook: str, decision: str) -> Any:
    return REVIEWS.labels(webhook=webhook, decision=decision)


@functools.cache
def _latency(webhook: str) -> Any:
    return LATENCY.labels(webhook=webhook)


@functools.cache
def _decisions(webhook: str, decision: str, mode: str, reason: str) -> Any:
    return DECISIONS.labels(webhook=webhook, decision=decision, mode=mode, reason=reason)


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
    """Count one admission decision and its latency.

    The labelled children are looked up once per label set (a bounded set: webhooks x
    decisions x modes x reason codes) rather than per review: `labels()` builds and hashes
    a tuple under a lock each time, a measurable part of a review's cost.
    """
    _reviews(webhook, decision).inc()
    _latency(webhook).observe(seconds)
    for reason in list(reasons) or ["none"]:
        _decisions(webhook, decision, mode or "none", reason).inc()


_SEEN: set[str] = set()


def phases(current: Iterable[str]) -> None:
    """Set the per-phase gauge from every model's phase (a phase no model has any more
    goes to 0 rather than vanish, so a graph shows it falling)."""
    counts = Counter(current)
    _SEEN.update(counts)
    for phase in _SEEN:
        MODELS.labels(phase=phase).set(counts.get(phase, 0))


LOG_RECORDS = prometheus_client.Counter(
    "aigov_decision_log_records",
    "Decision-log records appended to this replica's chain, by type (admission, "
    "governance, checkpoint).",
    ["type"],
)
LOG_SINK_ERRORS = prometheus_client.Counter(
    "aigov_decision_log_sink_errors",
    "Records a sink (stdout, file, cluster) failed to write: the decision stood, but that "
    "copy of the log misses a record (a gap `aigov log verify` reports).",
    ["sink"],
)
CHECKPOINT_SIZE = prometheus_client.Gauge(
    "aigov_decision_log_checkpoint_size",
    "Tree size (records) of the last checkpoint this replica signed.",
)
CHECKPOINT_TIME = prometheus_client.Gauge(
    "aigov_decision_log_checkpoint_timestamp_seconds",
    "Unix time of the last checkpoint this replica signed: its age is time() minus this.",
)
CHECKPOINT_PUBLISHED = prometheus_client.Gauge(
    "aigov_decision_log_checkpoint_published_timestamp_seconds",
    "Unix time the last checkpoint was kept in the cluster (the checkpoints ConfigMap).",
)


CHECKPOINT_AGE = prometheus_client.Gauge(
    "aigov_decision_log_checkpoint_age_seconds",
    "Seconds since this replica signed its last checkpoint (NaN before the first): alert "
    "when it grows past a few checkpoint intervals.",
)
_last_checkpoint: list[float] = []
CHECKPOINT_AGE.set_function(
    lambda: time.time() - _last_checkpoint[-1] if _last_checkpoint else math.nan
)


def checkpointed(size: int, when: float) -> None:
    """Record the size and time of the checkpoint just signed."""
    CHECKPOINT_SIZE.set(size)
    CHECKPOINT_TIME.set(when)
    _last_checkpoint[:] = [when]
