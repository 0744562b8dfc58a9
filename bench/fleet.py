"""Put the benchmark's objects into the cluster: namespaces, personas, the scored model, and
a fleet of N models with their assessments, approvals and Deployments.

Loading is concurrent (each model's three governance objects and its Deployment in order,
many models at once) because every create goes through aigov's webhooks and the time to load
10,000 models is itself a figure worth reporting.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from bench import manifests as m
from bench.kubeapi import KubeApi


class LoadError(RuntimeError):
    """The API server (or aigov) refused an object the benchmark needs."""


async def _must(api: KubeApi, path: str, body: dict[str, Any], user: str | None = None) -> None:
    answer = await api.create(path, body, user=user)
    if answer.status not in (200, 201):
        name = body["metadata"]["name"]
        raise LoadError(f"{body['kind']} {name}: {answer.status} {answer.message}")


async def prepare(api: KubeApi, fleet_models: int) -> None:
    """Namespaces, role bindings, the placement policy, the scorer model, and fleet nodes."""
    for ns, governed in ((m.NS_GOVERNED, True), (m.NS_BASELINE, False), (m.NS_FLEET, True)):
        await _must(api, "/api/v1/namespaces", m.namespace(ns, governed))
        rb = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"
        for user, role in (
            (m.CLIENT, "edit"),
            (m.AUTHOR, "aigov-model-author"),
            (m.ASSESSOR, "aigov-risk-assessor"),
            (m.APPROVER, "aigov-approver"),
        ):
            await _must(api, rb, m.role_binding(ns, user, role))
    await _must(api, f"{m.GROUP_PATH}/placementpolicies", m.policy())
    for path, body, user in m.governance(m.NS_GOVERNED, m.MODEL, m.model_spec(m.MODEL, m.IMAGE)):
        await _must(api, path, body, user)
    await add_fleet_nodes(api, fleet_models)
    # Pods are admitted only once the namespace's default ServiceAccount exists.
    deadline = time.monotonic() + 60
    for ns in (m.NS_GOVERNED, m.NS_BASELINE, m.NS_FLEET):
        while (await api.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default")).status != 200:
            if time.monotonic() > deadline:
                raise LoadError(f"no default ServiceAccount in {ns} after 60 s")
            await asyncio.sleep(0.3)


async def add_fleet_nodes(api: KubeApi, models: int) -> None:
    for node in m.fleet_nodes(models):
        await _must(api, "/api/v1/nodes", node)


@dataclass
class Loaded:
    """How loading went."""

    models: int
    seconds: float
    pods_running_after_s: float | None = None
    errors: list[str] = field(default_factory=list)


async def load_fleet(api: KubeApi, first: int, last: int, concurrency: int = 24) -> Loaded:
    """Models first..last-1 with assessment, approval and Deployment; errors collected."""
    started = time.monotonic()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(first, last):
        queue.put_nowait(i)
    errors: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                for path, body, user in m.governance(m.NS_FLEET, m.fleet_name(i), m.fleet_model(i)):
                    await _must(api, path, body, user)
                await _must(
                    api,
                    f"/apis/apps/v1/namespaces/{m.NS_FLEET}/deployments",
                    m.fleet_deployment(i),
                    m.CLIENT,
                )
            except LoadError as exc:
                errors.append(str(exc))
                if len(errors) >= 20:
                    raise

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Loaded(last - first, time.monotonic() - started, errors=errors)


async def wait_fleet_pods(api: KubeApi, models: int, timeout_s: float) -> float | None:
    """Seconds until `models` fleet pods run (kwok), or None after `timeout_s`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        running = await api.count(
            f"/api/v1/namespaces/{m.NS_FLEET}/pods", fieldSelector="status.phase=Running"
        )
        if running >= models:
            return time.monotonic() - started
        await asyncio.sleep(2)
    return None
