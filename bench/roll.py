"""Starting and stopping without harm (issue 10 item 7).

1. Start-up: while one replica starts (before its indexes are loaded) a CPU web Deployment
   and the governed GPU Pod are sent as dry-run creates every 0.2 s; we count how each was
   answered. The web Deployment is nothing aigov judges: refusing it is harm; the GPU Pod
   may be refused (aigov cannot judge it yet, so it fails closed).
2. Rolling restart: two replicas behind the proxy, fixed-rate governed load, each replica
   restarted in turn (SIGTERM, start, wait ready) as a Deployment's rolling update does;
   every failed request during the roll is counted by status code.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import manifests as m
from bench.kubeapi import KubeApi
from bench.loads import pod_target
from bench.replicas import Replica
from bench.vegeta import Driver, Load, Summary

Log = Callable[[str], None]


def _stderr(s: str) -> None:
    print(s, file=sys.stderr, flush=True)


@dataclass
class Answers:
    """How the API server answered one kind of probe."""

    allowed: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)

    def add(self, status: int, message: str) -> None:
        if status in (200, 201):
            self.allowed += 1
            return
        self.refused[status] += 1
        text = " ".join(message.split())[:300]
        if text not in self.messages and len(self.messages) < 3:
            self.messages.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "refused": sum(self.refused.values()),
            "codes": {str(k): v for k, v in sorted(self.refused.items())},
            "messages": self.messages,
        }


async def _probe_startup(api: KubeApi, replica: Replica, timeout_s: float) -> dict[str, Any]:
    web, gpu = Answers(), Answers()
    started = time.monotonic()
    replica.start()
    ready_after: float | None = None
    while time.monotonic() - started < timeout_s:
        answer = await api.create(
            f"/apis/apps/v1/namespaces/{m.NS_FLEET}/deployments",
            m.web_deployment(m.NS_FLEET),
            user=m.CLIENT,
            dry_run=True,
        )
        web.add(answer.status, answer.message)
        answer = await api.create(
            f"/api/v1/namespaces/{m.NS_GOVERNED}/pods",
            m.gpu_pod(m.NS_GOVERNED, m.MODEL),
            user=m.CLIENT,
            dry_run=True,
        )
        gpu.add(answer.status, answer.message)
        if await asyncio.to_thread(replica.ready):
            ready_after = time.monotonic() - started
            break
        await asyncio.sleep(0.2)
    return {
        "ready_after_s": None if ready_after is None else round(ready_after, 1),
        "cpu_web_deployment": web.as_dict(),
        "governed_gpu_pod": gpu.as_dict(),
    }


def startup(
    api_factory: Callable[[], KubeApi], replica: Replica, timeout_s: float = 300
) -> dict[str, Any]:
    """Start `replica` (stopped, the only one behind the webhook) and probe until ready."""

    async def go() -> dict[str, Any]:
        async with api_factory() as api:
            return await _probe_startup(api, replica, timeout_s)

    return asyncio.run(go())


def rolling_restart(
    driver: Driver,
    server: str,
    replicas: tuple[Replica, Replica],
    rate: int,
    log: Log = _stderr,
) -> dict[str, Any]:
    """Restart each replica in turn under `rate` governed req/s; failures by code."""
    for r in replicas:
        r.wait_ready(300)
    time.sleep(1)  # the proxy's readiness probe sees both
    target = pod_target(server, m.NS_GOVERNED, governed=True)
    attack = driver.start("roll", target, Load("roll", rate=rate), 900)
    steps: list[dict[str, Any]] = []
    try:
        time.sleep(3)
        for r in replicas:
            stopped = r.stop()
            r.start()
            ready = r.wait_ready(300)
            log(f"  roll: {r.name} stopped in {stopped:.1f} s, ready again {ready:.1f} s later")
            steps.append(
                {"replica": r.name, "stop_s": round(stopped, 1), "ready_s": round(ready, 1)}
            )
            time.sleep(3)
    finally:
        attack.interrupt()
    summary: Summary = attack.wait()
    return {"rate": rate, "steps": steps, "summary": summary}
