"""The benchmark's table and the issue's targets, rendered from measured numbers (pure).

One row per load, governed next to the no-webhook baseline of the same run, so a reader
sees what aigov adds rather than what the machine happens to do; the targets are the ones
issue 10 sets for this 2-core machine, each shown with the figure it was judged on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.vegeta import Summary

P99_MARGIN_MS = 25.0
"""Governed p99 at 200 req/s may exceed the baseline's by at most this much."""
CLOSED_LOOP_SHARE = 0.70
"""Governed closed-loop throughput at 50 clients, as a share of the baseline's, at least."""
REVIEWS_PER_CPU_SECOND = 2500.0
BASELINE_KEEPS = 0.9
"""A fixed-rate row is judged only when the baseline kept at least this share of the rate."""
RSS_LIMIT_MIB: Mapping[int, float] = {1000: 150.0, 10000: 600.0}
"""Operator resident memory ceiling by number of models loaded."""


@dataclass(frozen=True)
class CpuSplit:
    """Where one side of a load spent CPU: why a latency moved, not only that it did."""

    ms_per_request: Mapping[str, float]
    """CPU milliseconds per request by process (kube-apiserver, etcd, aigov)."""
    machine_busy: float
    """Share of all the machine's cores busy during the load (0 to 1): near 1, requests
    queue for a core whoever is slow."""


@dataclass(frozen=True)
class LoadResult:
    """One load, run against both namespaces."""

    load: str
    baseline: Summary
    governed: Summary
    rate: int = 0
    """Requests per second asked of a fixed-rate load; 0 for a closed loop."""
    cpu: Mapping[str, CpuSplit] = field(default_factory=dict)
    """By side ("baseline", "governed"), when measured."""


@dataclass(frozen=True)
class Target:
    """One target of the issue: what was measured against what was asked."""

    name: str
    measured: str
    goal: str
    met: bool | None
    """None when the run could not judge it: not measured (--quick skips 10,000 models), or
    the machine was too busy for the baseline to keep the rate."""


def _ms(s: Summary) -> str:
    return f"{s.p50_ms:,.1f} / {s.p99_ms:,.1f} ms"


def failure_text(s: Summary) -> str:
    """ "0", or the count with its status codes ("3 (500: 2, 0: 1)"; 0 = no response)."""
    if not s.failed:
        return "0"
    codes = ", ".join(f"{code}: {n}" for code, n in s.failures.items())
    return f"{s.failed} ({codes})"


def render_table(rows: Sequence[LoadResult]) -> str:
    """A Markdown table like the issue's, with a failures column."""
    lines = [
        "| load | baseline p50 / p99 | governed p50 / p99 | throughput baseline / governed "
        "| failed baseline / governed |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.load} | {_ms(r.baseline)} | {_ms(r.governed)} | "
            f"{r.baseline.throughput_rps:,.0f} / {r.governed.throughput_rps:,.0f} per s | "
            f"{failure_text(r.baseline)} / {failure_text(r.governed)} |"
        )
    return "\n".join(lines)


def render_cpu_table(rows: Sequence[LoadResult]) -> str:
    """CPU per request by process and the machine's busy share, baseline / governed."""
    lines = [
        "| load | kube-apiserver ms/request | etcd ms/request | aigov ms/request | machine busy |",
        "|---|---|---|---|---|",
    ]

    def pair(row: LoadResult, process: str) -> str:
        base, gov = row.cpu["baseline"], row.cpu["governed"]
        return (
            f"{base.ms_per_request.get(process, 0.0):.2f} / "
            f"{gov.ms_per_request.get(process, 0.0):.2f}"
        )

    for r in rows:
        if not {"baseline", "governed"} <= r.cpu.keys():
            continue
        busy = f"{r.cpu['baseline'].machine_busy:.0%} / {r.cpu['governed'].machine_busy:.0%}"
        lines.append(
            f"| {r.load} | {pair(r, 'kube-apiserver')} | {pair(r, 'etcd')} | "
            f"{pair(r, 'aigov')} | {busy} |"
        )
    return "\n".join(lines)


def _row(rows: Sequence[LoadResult], label: str) -> LoadResult | None:
    return next((r for r in rows if r.load == label), None)


def evaluate(
    rows: Sequence[LoadResult],
    reviews_per_cpu_second: float | None,
    rss_mib: Mapping[int, float],
    other_failures: int,
) -> list[Target]:
    """Judge the targets of issue 10 item 6 on what this run measured.

    `other_failures` counts failed requests outside the table (the rolling restart)."""
    targets: list[Target] = []
    fixed = _row(rows, "200 req/s fixed rate")
    if fixed is None:
        targets.append(Target("governed p99 at 200 req/s", "not run", "baseline + 25 ms", None))
    else:
        extra = fixed.governed.p99_ms - fixed.baseline.p99_ms
        measured = (
            f"{fixed.governed.p99_ms:,.1f} ms (baseline {fixed.baseline.p99_ms:,.1f}, "
            f"{extra:+,.1f} ms)"
        )
        # A baseline that cannot keep the rate means the machine itself is saturated: the
        # comparison would judge the machine, not aigov.
        saturated = fixed.rate and fixed.baseline.throughput_rps < BASELINE_KEEPS * fixed.rate
        if saturated:
            measured += f"; the baseline kept only {fixed.baseline.throughput_rps:,.0f}/s"
        targets.append(
            Target(
                "governed p99 at 200 req/s",
                measured,
                f"<= baseline + {P99_MARGIN_MS:.0f} ms",
                None if saturated else extra <= P99_MARGIN_MS,
            )
        )
    loop = _row(rows, "50 clients, closed loop")
    if loop is None:
        targets.append(Target("closed loop, 50 clients", "not run", ">= 70% of baseline", None))
    else:
        share = loop.governed.throughput_rps / max(loop.baseline.throughput_rps, 1e-9)
        targets.append(
            Target(
                "closed-loop throughput, 50 clients",
                f"{share:.0%} of baseline ({loop.governed.throughput_rps:,.0f} / "
                f"{loop.baseline.throughput_rps:,.0f} per s)",
                f">= {CLOSED_LOOP_SHARE:.0%}",
                share >= CLOSED_LOOP_SHARE,
            )
        )
    targets.append(
        Target(
            "webhook reviews per CPU-second",
            "not measured" if reviews_per_cpu_second is None else f"{reviews_per_cpu_second:,.0f}",
            f">= {REVIEWS_PER_CPU_SECOND:,.0f}",
            None
            if reviews_per_cpu_second is None
            else reviews_per_cpu_second >= REVIEWS_PER_CPU_SECOND,
        )
    )
    for models, limit in RSS_LIMIT_MIB.items():
        rss = rss_mib.get(models)
        targets.append(
            Target(
                f"operator RSS, {models:,} models",
                "not measured" if rss is None else f"{rss:,.0f} MiB",
                f"<= {limit:,.0f} MiB",
                None if rss is None else rss <= limit,
            )
        )
    failed = sum(r.baseline.failed + r.governed.failed for r in rows) + other_failures
    targets.append(Target("failed requests, whole run", str(failed), "0", failed == 0))
    return targets


def render_targets(targets: Sequence[Target]) -> str:
    """One line per target: met / MISSED / not judged."""
    verdict = {True: "met", False: "MISSED", None: "not judged"}
    width = max(len(t.name) for t in targets)
    return "\n".join(
        f"  {t.name:<{width}}  {t.measured}  (target {t.goal}): {verdict[t.met]}" for t in targets
    )
