"""Benchmark admission: in-process decision cost, then API-server round trips.

1. In process: `aigov.admission.workloads.judge` on a governed GPU Deployment with its
   model, assessment, approval and placement policy in the indexes (7 nodes, then 1,000).
2. Through the real kube-apiserver: server-side dry-run Pod creates (admission runs, nothing
   is stored) with C concurrent clients, in a namespace aigov governs and in one it does not
   (the no-webhook baseline), in the same run. Reports p50/p99 latency, throughput, and the
   operator's resident memory.

Usage: python -m bench.admission [--requests N] [--concurrency C ...]
Needs the local control plane (`make cluster-up`); starts its own operator.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

from kubernetes import client, config
from tools.controlplane import binaries, nodes
from tools.controlplane.cluster import Cluster
from tools.controlplane.operator import running_operator
from tools.kubectl import Kube, User

from aigov.admission.request import parse_review
from aigov.admission.workloads import judge
from aigov.api.base import spec_hash
from aigov.api.constants import Mode
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import node_info
from aigov.policy.standing import Evidence

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "registry.example.com/risk/fraud-scorer@sha256:" + "ab" * 32
NS_GOVERNED, NS_BASELINE = "bench-governed", "bench-baseline"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _model_spec() -> dict[str, Any]:
    return {
        "modelName": "scorer",
        "version": "1.0.0",
        "purpose": "bench",
        "owner": "bench",
        "artifacts": [{"name": "server", "image": IMAGE}],
        "lineage": {
            "datasets": [
                {"name": "d", "uri": "s3://d", "role": "training", "containsPersonalData": False}
            ],
            "code": {"repository": "https://git.example.com/x", "commit": "a" * 40},
        },
        "riskClass": "high",
        "placementPolicy": "bench-eu",
        "lifecycle": "active",
    }


def _meta(name: str, stamp: str, who: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NS_GOVERNED,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "annotations": {f"aigov.io/{stamp}": who},
    }


def _policy() -> dict[str, Any]:
    tol = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return {
        "apiVersion": "aigov.io/v1alpha1",
        "kind": "PlacementPolicy",
        "metadata": {"name": "bench-eu"},
        "spec": {
            "mode": "validate",
            "maxGPUsPerPod": 8,
            "nodePools": [
                {"name": p, "nodeSelector": {"pool": p}, "tolerations": tol}
                for p in ("h100-eu", "h200-eu")
            ],
        },
    }


def _pod(namespace: str, model: str | None) -> dict[str, Any]:
    labels = {"aigov.io/model": model} if model else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "bench-", "namespace": namespace, "labels": labels},
        "spec": {
            "nodeSelector": {"pool": "h100-eu"},
            "tolerations": [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ],
            "containers": [
                {"name": "server", "image": IMAGE, "resources": {"limits": {"nvidia.com/gpu": "1"}}}
            ],
        },
    }


def in_process(iterations: int, node_count: int) -> dict[str, float]:
    """Median and p99 of one judge() call, in microseconds."""
    spec = _model_spec()
    h = spec_hash(spec)
    model = GovernedModel.from_body(
        {
            "apiVersion": "aigov.io/v1alpha1",
            "kind": "GovernedModel",
            "metadata": _meta("scorer", "author", "alice"),
            "spec": spec,
        }
    )
    ra = RiskAssessment.from_body(
        {
            "apiVersion": "aigov.io/v1alpha1",
            "kind": "RiskAssessment",
            "metadata": _meta("scorer-ra", "assessor", "bob"),
            "spec": {
                "modelRef": {"name": "scorer", "specHash": h},
                "riskLevel": "medium",
                "methodology": "x",
                "validUntil": "2030-01-01T00:00:00Z",
            },
        }
    )
    ma = ModelApproval.from_body(
        {
            "apiVersion": "aigov.io/v1alpha1",
            "kind": "ModelApproval",
            "metadata": _meta("scorer-ok", "approver", "carol"),
            "spec": {
                "modelRef": {"name": "scorer", "specHash": h},
                "decision": "approve",
                "riskAssessmentRef": "scorer-ra",
                "justification": "x",
            },
        }
    )
    ev = Evidence(NS_GOVERNED, "scorer", model, None, (ra,), (ma,))
    base = [node_info(n) for n in nodes.all_nodes()]
    fleet = [
        node_info(
            {
                **nodes.node_manifest(nodes.POOLS[i % 4], i),
                "metadata": {
                    **nodes.node_manifest(nodes.POOLS[i % 4], i)["metadata"],
                    "name": f"n{i}",
                },
            }
        )
        for i in range(max(0, node_count - len(base)))
    ]
    ctx = PlacementContext(
        policies={"bench-eu": PlacementPolicy.from_body(_policy())},
        nodes=base + fleet,
        required_for=frozenset({RiskClass.HIGH}),
    )
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": NS_GOVERNED,
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": []},
            "object": _pod(NS_GOVERNED, "scorer"),
        },
    }
    now = dt.datetime.now(dt.UTC)
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        request = parse_review(review)
        outcome = judge(request, Mode.ENFORCE, lambda _n, _m: ev, now, placement=ctx)
        samples.append((time.perf_counter() - start) * 1e6)
        if not outcome.allowed:
            raise RuntimeError(f"the benchmark workload was refused: {outcome.message}")
    return {
        "nodes": float(len(ctx.nodes)),
        "p50_us": percentile(samples, 0.5),
        "p99_us": percentile(samples, 0.99),
    }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def through_apiserver(kube: Kube, requests: int, concurrency: int) -> dict[str, Any]:
    """Dry-run Pod creates, governed vs baseline namespace, same run."""
    api_client = config.new_client_from_config(str(kube.kubeconfig))  # type: ignore[no-untyped-call]
    api_client.configuration.connection_pool_maxsize = concurrency * 2
    # The client accepts plain dicts; typed as Any because its models are not our API.
    core: Any = client.CoreV1Api(api_client)
    results: dict[str, Any] = {}
    for label, ns, model in (("baseline", NS_BASELINE, None), ("governed", NS_GOVERNED, "scorer")):
        body = _pod(ns, model)

        def one(body: dict[str, Any] = body, ns: str = ns) -> float:
            start = time.perf_counter()
            core.create_namespaced_pod(ns, body, dry_run="All")
            return (time.perf_counter() - start) * 1000

        for _ in range(20):  # warm connections and caches
            one()
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            latencies = list(pool.map(lambda _i: one(), range(requests)))
        elapsed = time.perf_counter() - started
        results[label] = {
            "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "mean_ms": round(statistics.fmean(latencies), 2),
            "throughput_rps": round(requests / elapsed, 1),
        }
    return results


def _setup(kube: Kube) -> None:
    """Governed namespace with an approved model (three distinct users), and a baseline."""
    spec = _model_spec()
    h = spec_hash(spec)
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NS_GOVERNED, "labels": {"aigov.io/mode": "enforce"}},
        }
    )
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS_BASELINE}})
    kube.apply(_policy())
    for who, role in (("bench-bob", "aigov-risk-assessor"), ("bench-carol", "aigov-approver")):
        kube.run(
            "create",
            "rolebinding",
            f"{who}-{role}",
            f"--clusterrole={role}",
            f"--user={who}",
            "-n",
            NS_GOVERNED,
        )
    docs: tuple[tuple[str, str, dict[str, Any], User | None], ...] = (
        ("GovernedModel", "scorer", spec, None),
        (
            "RiskAssessment",
            "scorer-ra",
            {
                "modelRef": {"name": "scorer", "specHash": h},
                "riskLevel": "medium",
                "methodology": "x",
                "validUntil": "2030-01-01T00:00:00Z",
            },
            User("bench-bob"),
        ),
        (
            "ModelApproval",
            "scorer-ok",
            {
                "modelRef": {"name": "scorer", "specHash": h},
                "decision": "approve",
                "riskAssessmentRef": "scorer-ra",
                "justification": "bench",
            },
            User("bench-carol"),
        ),
    )
    for kind, name, body, user in docs:
        result = kube.apply(
            {
                "apiVersion": "aigov.io/v1alpha1",
                "kind": kind,
                "metadata": {"name": name, "namespace": NS_GOVERNED},
                "spec": body,
            },
            user=user,
        )
        if not result.ok:
            raise RuntimeError(f"bench setup: {kind} {name}: {result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    report: dict[str, Any] = {"in_process": [in_process(args.iterations, n) for n in (7, 1000)]}
    for row in report["in_process"]:
        print(
            f"in-process judge(), {row['nodes']:.0f} nodes: p50 {row['p50_us']:.0f} us, "
            f"p99 {row['p99_us']:.0f} us"
        )
    cluster = Cluster()
    cluster.up()
    kube = Kube(binaries.find("kubectl"), cluster.kubeconfig)
    for path in ("crds", "config/rbac"):
        kube.run("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / path), check=True)
    log = binaries.CACHE / "bench" / "operator.log"
    with running_operator(cluster.kubeconfig, log, config_name="aigov-bench") as op:
        _setup(kube)
        time.sleep(1)
        report["apiserver"] = {}
        for c in args.concurrency:
            row = through_apiserver(kube, args.requests, c)
            report["apiserver"][str(c)] = row
            print(
                f"API server, {c:>3} clients: baseline p50 {row['baseline']['p50_ms']} ms "
                f"p99 {row['baseline']['p99_ms']} ms {row['baseline']['throughput_rps']} rps | "
                f"governed p50 {row['governed']['p50_ms']} ms p99 {row['governed']['p99_ms']} ms "
                f"{row['governed']['throughput_rps']} rps"
            )
        report["operator_rss_mib"] = round(_rss_mib(op.process.pid), 1)
        print(f"operator resident memory: {report['operator_rss_mib']} MiB")
    out = binaries.CACHE / "bench" / "admission.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
