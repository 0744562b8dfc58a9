"""The table: dry-run Pod creates through the real API server, governed vs baseline.

Each load runs against the baseline namespace (excluded from every aigov webhook, the
reserved-pool one included: the API server's own cost) and then the governed one (aigov's
webhooks judge the GPU Pod in full), in the same run, so the difference is what aigov adds.
Server-side dry run: authentication, authorization, every admission plugin and webhook run,
nothing is stored.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench import manifests as m
from bench import procstat
from bench.report import CpuSplit, LoadResult
from bench.vegeta import Driver, Load, Summary, target_line

FULL_LOADS: tuple[Load, ...] = (
    Load("100 req/s fixed rate", rate=100),
    Load("200 req/s fixed rate", rate=200),
    Load("400 req/s fixed rate", rate=400),
    Load("50 clients, closed loop", workers=50),
    Load("200 clients, closed loop", workers=200),
)
CPU_LOAD = "50 clients, closed loop"
"""The governed load during which the operator's CPU time per review is measured."""


def pod_target(server: str, namespace: str, governed: bool) -> str:
    body = json.dumps(m.gpu_pod(namespace, m.MODEL if governed else None)).encode()
    url = f"{server}/api/v1/namespaces/{namespace}/pods?dryRun=All"
    return target_line(url, body, {"Content-Type": "application/json"})


@dataclass(frozen=True)
class Cpu:
    """The operator's CPU time over one governed load, and the reviews it answered."""

    cpu_seconds: float
    reviews: float | None
    """From its /metrics; None when the counter is missing."""
    requests: int

    @property
    def reviews_per_cpu_second(self) -> float | None:
        return None if self.reviews is None else self.reviews / max(self.cpu_seconds, 1e-9)


def _reviews(metrics_url: str) -> float | None:
    text = procstat.scrape(metrics_url)
    for name in ("aigov_admission_reviews_total", "aigov_admission_decisions_total"):
        total = procstat.counter_total(text, name)
        if total is not None:
            return total
    return None


class CpuMeter:
    """CPU time of named processes and of the whole machine between start() and split()."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._start: dict[str, float] = {}
        self._machine = (0, 0)
        self.spent: dict[str, float] = {}
        """CPU seconds by process over the last start()..split()."""

    def start(self) -> None:
        self._start = {name: procstat.cpu_seconds(pid) for name, pid in self._pids.items()}
        self._machine = procstat.machine_ticks()

    def split(self, requests: int) -> CpuSplit:
        busy, total = procstat.machine_ticks()
        self.spent = {
            name: procstat.cpu_seconds(pid) - self._start[name] for name, pid in self._pids.items()
        }
        return CpuSplit(
            {name: round(1000 * s / max(requests, 1), 3) for name, s in self.spent.items()},
            round((busy - self._machine[0]) / max(total - self._machine[1], 1), 3),
        )


def run_loads(
    driver: Driver,
    server: str,
    loads: Sequence[Load],
    seconds: float,
    *,
    operator_pid: int,
    metrics_url: str,
    processes: Mapping[str, int] | None = None,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> tuple[list[LoadResult], Cpu | None]:
    """Every load on both namespaces; the operator's CPU over the governed CPU_LOAD.

    `processes` (name -> pid, the operator as "aigov" is added) are metered on every load,
    with the machine's busy share, to tell aigov's own cost from a machine out of cores."""
    meter = CpuMeter({**(processes or {}), "aigov": operator_pid})
    targets = {
        "baseline": pod_target(server, m.NS_BASELINE, governed=False),
        "governed": pod_target(server, m.NS_GOVERNED, governed=True),
    }
    for side, target in targets.items():  # warm connections, caches and the JIT-less paths
        driver.run(f"warm-{side}", target, Load("warm", rate=50), 2)
    rows: list[LoadResult] = []
    cpu: Cpu | None = None
    for load in loads:
        summaries: dict[str, Summary] = {}
        splits: dict[str, CpuSplit] = {}
        for side, target in targets.items():
            measure_cpu = side == "governed" and load.label == CPU_LOAD
            reviews_before = _reviews(metrics_url) if measure_cpu else None
            meter.start()
            summaries[side] = driver.run(f"{load.label}-{side}", target, load, seconds)
            splits[side] = meter.split(summaries[side].requests)
            if measure_cpu:
                reviews_after = _reviews(metrics_url)
                reviews = (
                    None
                    if reviews_before is None or reviews_after is None
                    else reviews_after - reviews_before
                )
                cpu = Cpu(meter.spent["aigov"], reviews, summaries[side].requests)
            s = summaries[side]
            log(
                f"  {load.label:<26} {side:<8} p50 {s.p50_ms:8.1f} ms  p99 {s.p99_ms:8.1f} ms  "
                f"{s.throughput_rps:7.0f}/s  failed {s.failed}"
            )
            time.sleep(1)
        rows.append(
            LoadResult(load.label, summaries["baseline"], summaries["governed"], load.rate, splits)
        )
    return rows, cpu
