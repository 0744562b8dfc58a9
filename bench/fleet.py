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

import aiohttp

from bench import manifests as m
from bench.kubeapi import Answer, KubeApi


class LoadError(RuntimeError):
    """The API server (or aigov) refused an object the benchmark needs."""


RETRY_S = 60.0
"""How long a create is retried when aigov refused it or the API server was overwhelmed
(429, 5xx: a webhook call that timed out). A model's approval reaches the operator's indexes
through its watch a moment after the API server stored it, and a Deployment sent in that
moment is refused (NotApproved), as it would be for a person; they would retry too. Every
retry is counted and reported with the loading time."""
TRANSIENT = frozenset({429, 500, 502, 503, 504})


async def _must(api: KubeApi, path: str, body: dict[str, Any], user: str | None = None) -> int:
    """Create `body`; retry aigov's refusals for up to RETRY_S. Returns the retries made."""
    deadline = time.monotonic() + RETRY_S
    retries = 0
    while True:
        try:
            answer = await api.create(path, body, user=user)
        except (TimeoutError, aiohttp.ClientError) as exc:
            answer = Answer(0, {"message": f"{type(exc).__name__}: {exc}"})
        if answer.status in (200, 201):
            return retries
        refused_by_aigov = answer.status == 403 and "aigov" in answer.message
        retry = refused_by_aigov or answer.status in TRANSIENT or answer.status == 0
        if not retry or time.monotonic() > deadline:
            name = body["metadata"]["name"]
            raise LoadError(f"{body['kind']} {name}: {answer.status} {answer.message}")
        retries += 1
        await asyncio.sleep(0.5)


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
    retries: int = 0
    """Creates refused by aigov until its indexes caught up (see RETRY_S)."""
    errors: list[str] = field(default_factory=list)


async def load_fleet(api: KubeApi, first: int, last: int, concurrency: int = 24) -> Loaded:
    """Models first..last-1 with assessment, approval and Deployment; errors collected."""
    started = time.monotonic()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(first, last):
        queue.put_nowait(i)
    errors: list[str] = []
    retries = 0

    async def worker() -> None:
        nonlocal retries
        while not queue.empty():
            i = queue.get_nowait()
            try:
                for path, body, user in m.governance(m.NS_FLEET, m.fleet_name(i), m.fleet_model(i)):
                    retries += await _must(api, path, body, user)
                retries += await _must(
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
    return Loaded(last - first, time.monotonic() - started, retries, errors)


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
