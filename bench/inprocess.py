"""The admission decision in process: what one review costs aigov, without the network.

`aigov.admission.workloads.judge` on the governed GPU Pod, its evidence looked up among
`models` models (a dict, as the indexes are), its placement checked against `nodes` nodes
(the 7 of the local cluster plus fake ones built in memory).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from tools.controlplane import nodes as fake_nodes

from aigov.admission.request import parse_review
from aigov.admission.workloads import judge
from aigov.api.constants import Mode
from aigov.api.enums import RiskClass
from aigov.api.models import GovernedModel, ModelApproval, PlacementPolicy, RiskAssessment
from aigov.policy.placement import PlacementContext
from aigov.policy.scheduling import NodeInfo, node_info
from aigov.policy.standing import Evidence
from bench import manifests as m
from bench.stats import percentile


def _stamped(body: dict[str, Any], stamp: str, who: str) -> dict[str, Any]:
    meta = {
        **body["metadata"],
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "annotations": {f"aigov.io/{stamp}": who},
    }
    return {**body, "metadata": meta}


def evidence(ns: str, name: str, spec: dict[str, Any]) -> Evidence:
    """What the indexes hold for one approved model."""
    (_, model, _), (_, ra, _), (_, ma, _) = m.governance(ns, name, spec)
    return Evidence(
        ns,
        name,
        GovernedModel.from_body(_stamped(model, "author", m.AUTHOR)),
        None,
        (RiskAssessment.from_body(_stamped(ra, "assessor", m.ASSESSOR)),),
        (ModelApproval.from_body(_stamped(ma, "approver", m.APPROVER)),),
    )


def fleet_nodes(count: int) -> list[NodeInfo]:
    """The local cluster's nodes plus fake ones cycling over its pools, `count` in all."""
    base = [node_info(n) for n in fake_nodes.all_nodes()]
    extra = []
    for i in range(max(0, count - len(base))):
        node = fake_nodes.node_manifest(fake_nodes.POOLS[i % len(fake_nodes.POOLS)], i)
        node["metadata"]["name"] = f"fake-{i}"
        node["metadata"]["labels"]["kubernetes.io/hostname"] = f"fake-{i}"
        extra.append(node_info(node))
    return base + extra


def measure(iterations: int, node_count: int, model_count: int) -> dict[str, float]:
    """p50 and p99 of one parse + judge, in microseconds."""
    index = {
        (m.NS_FLEET, m.fleet_name(i)): evidence(m.NS_FLEET, m.fleet_name(i), m.fleet_model(i))
        for i in range(max(0, model_count - 1))
    }
    index[(m.NS_GOVERNED, m.MODEL)] = evidence(
        m.NS_GOVERNED, m.MODEL, m.model_spec(m.MODEL, m.IMAGE)
    )
    ctx = PlacementContext(
        policies={m.POLICY: PlacementPolicy.from_body(m.policy())},
        nodes=fleet_nodes(node_count),
        required_for=frozenset({RiskClass.HIGH}),
    )
    review = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": m.NS_GOVERNED,
            "operation": "CREATE",
            "userInfo": {"username": m.CLIENT, "groups": []},
            "object": m.gpu_pod(m.NS_GOVERNED, m.MODEL),
        },
    }

    def lookup(namespace: str, name: str) -> Evidence:
        return index[(namespace, name)]

    now = dt.datetime.now(dt.UTC)
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        request = parse_review(review)
        outcome = judge(request, Mode.ENFORCE, lookup, now, placement=ctx)
        samples.append((time.perf_counter() - start) * 1e6)
        if not outcome.allowed:
            raise RuntimeError(f"the benchmark workload was refused: {outcome.message}")
    return {
        "nodes": float(len(ctx.nodes)),
        "models": float(len(index)),
        "p50_us": round(percentile(samples, 0.5), 1),
        "p99_us": round(percentile(samples, 0.99), 1),
    }
