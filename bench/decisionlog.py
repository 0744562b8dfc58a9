"""Benchmark the decision log: records per second one replica's log sustains, and bytes per
record, through the same call the admission path makes (`decisionlog.admission`).

Each record is built from a refused Deployment's outcome (two violations, a user in three
groups), sealed into the chain (canonical JSON, SHA-256, Merkle append) and written to the
rotating file sink; stdout is measured separately (to /dev/null). A checkpoint is signed
every 1,000 records as in the operator's default.

Records per CPU second is the figure to compare: on a shared machine the wall clock (also
printed) and the p99 measure the other processes as much as the log.

Usage: python -m bench.decisionlog [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigov.admission.outcome import Outcome
from aigov.admission.request import AdmissionRequest, UserInfo
from aigov.api.constants import Mode, Reason
from aigov.decisionlog.settings import LogSettings
from aigov.handlers import decisionlog
from aigov.policy.decision import Decision, Violation

REQUEST = AdmissionRequest(
    uid="5f0c2a7e-8a51-4d7e-9a55-2b1f3c0d9e11",
    operation="CREATE",
    group="apps",
    version="v1",
    resource="deployments",
    kind="Deployment",
    namespace="risk-scoring",
    name="fraud-scorer-serving",
    user=UserInfo("alice@example.com", ("ml-engineers", "team-risk", "system:authenticated")),
)
OUTCOME = Outcome(
    Decision(
        [
            Violation(Reason.NOT_APPROVED, "no approval", "metadata.labels[aigov.io/model]"),
            Violation(Reason.PLACEMENT_VIOLATION, "pool", "spec.template.spec.nodeSelector"),
        ]
    ),
    Mode.ENFORCE,
    "refused",
    model="fraud-scorer-3-1",
)


async def _run(
    directory: Path, records: int, stdout: bool
) -> tuple[float, float, list[float], int]:
    settings = LogSettings(
        directory=directory, stdout=stdout, replica="bench", checkpoints_configmap=""
    )
    log = decisionlog.DecisionLog(
        settings, "aigov-system", Ed25519PrivateKey.generate(), dt.datetime.now(dt.UTC)
    )
    decisionlog._current = log  # what start_decision_log does
    each: list[float] = []
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(records):
        t0 = time.perf_counter()
        decisionlog.admission(OUTCOME, REQUEST, 0.0004, "validate-workloads")
        each.append(time.perf_counter() - t0)
        if (i + 1) % settings.checkpoint_records == 0:
            log.sign()  # the background task's work, counted in the total
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    decisionlog._current = None
    log.close()
    return total, cpu, each, _size(directory)


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("*.jsonl"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    for stdout in (False, True):
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
            if stdout:
                devnull = stack.enter_context(Path(os.devnull).open("w"))
                stack.enter_context(contextlib.redirect_stdout(devnull))
            total, cpu, each, size = asyncio.run(_run(Path(tmp), args.records, stdout))
        each.sort()
        sinks = "file + stdout" if stdout else "file"
        print(
            f"{sinks}: {args.records / cpu:,.0f} records per CPU second "
            f"({args.records / total:,.0f}/s wall clock), "
            f"{size / (args.records + args.records // 1000 + 1):,.0f} bytes/record (file), "
            f"p50 {statistics.median(each) * 1e6:.1f} us, "
            f"p99 {each[int(len(each) * 0.99)] * 1e6:.1f} us, "
            f"max {each[-1] * 1e6:.0f} us per record",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
