"""Policy reports (OpenReports or wgpolicyk8s): another group's kind in any namespace,
written by server-side apply for aigov.handlers.reports."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes.client.exceptions import ApiException

from aigov.kube.client import call


def _reports_path(group: str, version: str, plural: str, namespace: str) -> str:
    return f"/apis/{group}/{version}/namespaces/{namespace}/{plural}"


async def list_reports(
    group: str, version: str, plural: str, namespace: str, selector: str
) -> list[dict[str, Any]] | None:
    """The reports matching `selector` in `namespace`; None when the API is not served (its
    CRD is not installed)."""
    path = _reports_path(group, version, plural, namespace)
    try:
        found = await asyncio.to_thread(call, "GET", path, None, [("labelSelector", selector)])
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    items: list[dict[str, Any]] = found["items"]
    return items


async def apply_report(group: str, version: str, plural: str, body: dict[str, Any]) -> str:
    """Create or update a report by server-side apply (field manager `aigov`, forced: the
    operator owns every field it writes); returns the stored resourceVersion."""
    meta = body["metadata"]
    path = _reports_path(group, version, plural, meta["namespace"]) + f"/{meta['name']}"
    query = [("fieldManager", "aigov"), ("force", "true")]
    stored = await asyncio.to_thread(
        call, "PATCH", path, body, query, "application/apply-patch+yaml"
    )
    return str(stored["metadata"]["resourceVersion"])


async def delete_report(
    group: str, version: str, plural: str, namespace: str, name: str, *, resource_version: str
) -> None:
    """Delete a report only if it is still the version aigov last saw (a 409 means someone,
    perhaps another model's reconciler, wrote it since: it is theirs); gone is fine."""
    path = _reports_path(group, version, plural, namespace) + f"/{name}"
    options = {"apiVersion": "v1", "kind": "DeleteOptions",
               "preconditions": {"resourceVersion": resource_version}}  # fmt: skip
    try:
        await asyncio.to_thread(call, "DELETE", path, options, None, "application/json")
    except ApiException as exc:
        if exc.status not in {404, 409}:
            raise
