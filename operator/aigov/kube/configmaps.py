"""The decision log's checkpoints: one ConfigMap in the operator's namespace, written by name
(the chart's Role grants get and patch on that name only; it creates the ConfigMap)."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes.client.exceptions import ApiException

from aigov.kube.client import call

_MERGE = "application/merge-patch+json"


def _path(namespace: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps" + (f"/{name}" if name else "")


async def read_configmap_data(namespace: str, name: str) -> dict[str, str] | None:
    """The data of a ConfigMap, or None when it does not exist."""
    try:
        body: dict[str, Any] = await asyncio.to_thread(call, "GET", _path(namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    data: dict[str, str] = body.get("data") or {}
    return data


async def write_configmap_data(
    namespace: str, name: str, data: dict[str, str | None], labels: dict[str, str]
) -> None:
    """Merge `data` into a ConfigMap (None deletes a key), creating it when absent (local
    runs; in a Helm install the chart made it)."""
    path = _path(namespace, name)
    patch = {"data": data}
    try:
        await asyncio.to_thread(call, "PATCH", path, patch, None, _MERGE)
        return
    except ApiException as exc:
        if exc.status != 404:
            raise
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {k: v for k, v in data.items() if v is not None},
    }
    try:
        await asyncio.to_thread(call, "POST", _path(namespace), body)
    except ApiException as exc:
        if exc.status != 409:  # another replica made it meanwhile: merge into theirs
            raise
        await asyncio.to_thread(call, "PATCH", path, patch, None, _MERGE)
