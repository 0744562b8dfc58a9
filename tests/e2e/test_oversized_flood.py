"""Issue 10, cost as a weapon: a flood of pods asking the placement rule for huge node
affinity (at and above the size cap) must not delay anyone else's admission past the webhook
timeout. Real API server and webhook: many clients post such pods concurrently, and a probe
(an ordinary governed GPU Deployment naming no model) still gets its verdict within seconds.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from tools.controlplane.operator import Operator
from tools.kubectl import Kube

from aigov.policy.scheduling import MAX_EXPRESSIONS, MAX_TERMS, MAX_VALUES
from tests.e2e import manifests

pytestmark = pytest.mark.e2e

CLIENTS = 8
FLOOD_SECONDS = 20.0
PROBE_LIMIT_SECONDS = 5.0
"""Half the webhook timeout (10 s): a probe slower than this is a stall."""


def _affinity(expressions: int, values: int) -> dict[str, Any]:
    per_term = max(1, expressions // MAX_TERMS)
    per_value = max(1, values // max(1, expressions))
    terms = [
        {
            "matchExpressions": [
                {
                    "key": f"k{t}-{e}",
                    "operator": "NotIn",
                    "values": [f"v{v}" for v in range(per_value)],
                }
                for e in range(per_term)
            ]
            + [{"key": "pool", "operator": "In", "values": [f"nowhere-{t}"]}]
        }
        for t in range(MAX_TERMS)
    ]
    required = {"nodeSelectorTerms": terms}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def _flood_pod(ns: str, i: int, over: bool) -> dict[str, Any]:
    """A GPU pod (so the conditions send it) at the cap, or above it by a quarter."""
    scale = 1.25 if over else 1.0
    expressions = int((MAX_EXPRESSIONS - MAX_TERMS) * scale)
    pod = manifests.pod(f"flood-{i}", ns, gpus=1, model="ghost")
    pod["spec"]["affinity"] = _affinity(expressions, int(MAX_VALUES * 0.9 * scale))
    return pod


@pytest.fixture
def api(kube: Kube) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(str(kube.kubeconfig)))


def test_a_flood_of_oversized_pods_does_not_stall_a_probe(
    kube: Kube, operator: Operator, api: client.CoreV1Api, unique: str
) -> None:
    ns = kube.namespace(f"flood-{unique}", mode="enforce")
    stop = threading.Event()
    answers: dict[str, int] = {}
    lock = threading.Lock()

    def flood(worker: int) -> None:
        apps = client.CoreV1Api(config.new_client_from_config(str(kube.kubeconfig)))
        i = 0
        while not stop.is_set():
            over = i % 2 == 0
            body = _flood_pod(ns, worker * 100_000 + i, over)
            try:
                apps.create_namespaced_pod(ns, body, dry_run="All", _request_timeout=30)
                key = "admitted"
            except ApiException as exc:
                big = "does not evaluate scheduling constraints this large" in str(exc.body)
                key = ("oversized" if big else f"refused {exc.status}") + (
                    " (over)" if over else " (at cap)"
                )
            with lock:
                answers[key] = answers.get(key, 0) + 1
            i += 1

    workers = [threading.Thread(target=flood, args=(w,), daemon=True) for w in range(CLIENTS)]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    try:
        time.sleep(3)  # let the flood build up
        deadline = time.monotonic() + FLOOD_SECONDS
        n = 0
        while time.monotonic() < deadline:
            probe = manifests.pod(f"probe-{n}", ns, gpus=1)
            started = time.monotonic()
            with pytest.raises(ApiException) as refused:
                api.create_namespaced_pod(ns, probe, dry_run="All", _request_timeout=30)
            latencies.append(time.monotonic() - started)
            assert refused.value.status == 403
            assert "UngovernedWorkload" in str(refused.value.body)
            n += 1
            time.sleep(1)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    record = {
        "clients": CLIENTS,
        "flood_answers": answers,
        "probe_latencies_s": [round(s, 3) for s in latencies],
    }
    out = Path(__file__).resolve().parents[2] / ".cache" / "e2e" / "oversized-flood.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"oversized flood: {record}")
    assert sum(answers.values()) >= CLIENTS, answers
    assert answers.get("oversized (over)", 0) >= 1, answers
    assert max(latencies) < PROBE_LIMIT_SECONDS, latencies
