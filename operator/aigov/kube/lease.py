"""Read and write one coordination.k8s.io/v1 Lease: the I/O of leader election.

The decisions are in aigov.election; the loop that calls both is aigov.handlers.leadership.
Every write names the resourceVersion it read: a conflict means another replica wrote
first, and is reported as LeaseConflictError (not an error: the next look sees who won).
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes.client.exceptions import ApiException

from aigov.kube.client import call

_COLLECTION = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


class LeaseConflictError(Exception):
    """Another replica created or changed the Lease since it was read."""


def _body(namespace: str, name: str, spec: dict[str, Any], version: str = "") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if version:
        metadata["resourceVersion"] = version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": spec,
    }


async def read(
    namespace: str, name: str, request_timeout: float
) -> tuple[dict[str, Any], str] | None:
    """(spec, resourceVersion) of the Lease, or None when it does not exist."""
    path = _COLLECTION.format(namespace=namespace) + f"/{name}"
    try:
        lease = await asyncio.to_thread(call, "GET", path, timeout=request_timeout)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(lease.get("spec") or {}), str(lease["metadata"]["resourceVersion"])


async def create(namespace: str, name: str, spec: dict[str, Any], request_timeout: float) -> str:
    """Create the Lease; its resourceVersion. LeaseConflictError when it exists meanwhile."""
    path = _COLLECTION.format(namespace=namespace)
    try:
        lease = await asyncio.to_thread(
            call, "POST", path, _body(namespace, name, spec), timeout=request_timeout
        )
    except ApiException as exc:
        if exc.status == 409:
            raise LeaseConflictError(name) from exc
        raise
    return str(lease["metadata"]["resourceVersion"])


async def replace(
    namespace: str, name: str, spec: dict[str, Any], version: str, request_timeout: float
) -> str:
    """Replace the Lease read at `version`; its new resourceVersion. LeaseConflictError when
    someone wrote it since (or deleted it)."""
    path = _COLLECTION.format(namespace=namespace) + f"/{name}"
    try:
        lease = await asyncio.to_thread(
            call, "PUT", path, _body(namespace, name, spec, version), timeout=request_timeout
        )
    except ApiException as exc:
        if exc.status in {404, 409}:
            raise LeaseConflictError(name) from exc
        raise
    return str(lease["metadata"]["resourceVersion"])
