"""Kubernetes Events aigov posts itself: evidence next to the object it concerns.

Used where kopf's own event posting is not available (admission handlers, the
reconcilers' plain tasks). Posting is fire-and-forget: evidence must never delay or fail
the decision or the write it records.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from aigov import logs
from aigov.kube.client import call

log = logs.get("aigov.kube")

_background: set[asyncio.Task[None]] = set()
"""Posts in flight: asyncio keeps only weak references to tasks."""


def event_body(
    involved: dict[str, Any],
    event_type: str,
    reason: str,
    message: str,
    component: str,
    *,
    now: datetime.datetime,
) -> dict[str, Any]:
    """A core/v1 Event about `involved` (message cut to the API server's 1 KiB limit)."""
    namespace = involved.get("namespace") or "default"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": "aigov-", "namespace": namespace},
        "involvedObject": involved,
        "type": event_type,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now.isoformat(),
        "lastTimestamp": now.isoformat(),
        "count": 1,
    }


def post_event(
    involved: dict[str, Any], event_type: str, reason: str, message: str, component: str = "aigov"
) -> None:
    """Post an Event in the background: never delays, and never fails, the caller.

    A failed post is logged, not raised.
    """
    now = datetime.datetime.now(datetime.UTC)
    body = event_body(involved, event_type, reason, message, component, now=now)
    path = f"/api/v1/namespaces/{body['metadata']['namespace']}/events"

    async def post() -> None:
        try:
            await asyncio.to_thread(call, "POST", path, body)
        except Exception as exc:  # evidence is best effort; the decision is already made
            log.warning("event not posted", reason=reason, error=str(exc))

    task = asyncio.get_running_loop().create_task(post())
    _background.add(task)
    task.add_done_callback(_background.discard)
