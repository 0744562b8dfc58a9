"""Several replicas: every one serves admission, exactly one reconciles.

kopf's peering pauses a lower-priority operator as a whole: its watch streams stop, so its
indexes are never loaded (kopf 1.45, `_cogs/clients/watching.py`, `streaming_block`). A
paused aigov replica would stay unready forever and serve no admission. With AIGOV_PEERING
set, one process therefore runs two kopf operators over one shared Runtime:

- serving (standalone, never paused): the indexes, the admission webhooks, the readiness
  gate, start-up and clean-up (health endpoint). Every replica is ready and serves.
- reconciling (peered in the ClusterKopfPeering named by AIGOV_PEERING): the indexes again
  (the reconcilers read them), daemons, change handlers and every event handler outside the
  admission side. Only the replica with the highest priority runs them; the others stay
  paused until its keep-alive lapses (kopf's peering lifetime, 60 s) or it exits gracefully
  (then at once).

Each operator gets its own event loop, the reconciler in a thread: kopf assumes every task
of its loop belongs to it and cancels them all when it stops. Nothing here decides anything
about governance; it only routes kopf handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from typing import Any

import kopf

from aigov import logs

log = logs.get("aigov.replicas")

SERVING_MODULES = (
    "aigov.handlers.lifecycle",
    "aigov.handlers.indexes",
    "aigov.handlers.admission",
    "aigov.handlers.decisionlog",
)
"""Modules of the admission side: their start-up/clean-up and event handlers run in every
replica (health endpoint, readiness gate). Those of any other module (e.g. the reconcilers'
event and clean-up handlers) run only in the leader, in the reconciler's event loop."""


def priority(pinned: int = 0) -> int:
    """The peering priority: `pinned`, or a random one when 0 (replicas with equal
    priorities would all pause, says kopf)."""
    return pinned or random.randint(1, 2**31 - 1)  # noqa: S311 - a tie-breaker, not a secret


def _side(
    fn: object, serving: kopf.OperatorRegistry, reconciling: kopf.OperatorRegistry
) -> kopf.OperatorRegistry:
    return serving if getattr(fn, "__module__", "") in SERVING_MODULES else reconciling


def split(
    source: kopf.OperatorRegistry,
) -> tuple[kopf.OperatorRegistry, kopf.OperatorRegistry]:
    """The (serving, reconciling) registries made from the handlers of `source`.

    kopf keeps handlers in one sub-registry per kind of handler; there is no public API to
    copy them, so this reads kopf's sub-registries (pinned by kopf==1.45.2 and by
    tests/unit/test_chart_ha.py).
    """
    serving, reconciling = kopf.OperatorRegistry(), kopf.OperatorRegistry()
    for activity in source._activities.get_all_handlers():
        if activity.activity == "authentication":  # kopf's Activity is a StrEnum
            serving._activities.append(activity)
            reconciling._activities.append(activity)
        else:
            _side(activity.fn, serving, reconciling)._activities.append(activity)
    for index in source._indexing.get_all_handlers():
        serving._indexing.append(index)
        reconciling._indexing.append(index)
    for webhook in source._webhooks.get_all_handlers():
        serving._webhooks.append(webhook)
    for watcher in source._watching.get_all_handlers():
        _side(watcher.fn, serving, reconciling)._watching.append(watcher)
    for spawner in source._spawning.get_all_handlers():
        reconciling._spawning.append(spawner)
    for changer in source._changing.get_all_handlers():
        reconciling._changing.append(changer)
    return serving, reconciling


def run(
    *,
    registry: kopf.OperatorRegistry,
    serving_settings: kopf.OperatorSettings,
    reconciling_settings: kopf.OperatorSettings,
    peering: str,
    memo: dict[str, Any],
    pinned_priority: int = 0,
) -> int:
    """Serve in this thread, reconcile (when leader) in another; return the exit code.

    A SIGTERM stops the serving operator (kopf's signal handling needs the main thread),
    which then stops the reconciler; the reconciler leaves the peering on its way out, so
    another replica takes over at once. If the reconciler dies, the process exits non-zero
    so that Kubernetes restarts the pod.

    The stop flags: kopf waits for a threading.Event in an executor thread, and asyncio.run
    waits for that thread at exit, so a threading.Event that is never set hangs the exit.
    The serving side therefore gets an asyncio.Event of its own loop (set thread-safely);
    the reconciler gets a threading.Event, which is always set before the process ends.
    """
    serving_registry, reconciling_registry = split(registry)
    reconciling_settings.admission.server = None  # the serving side owns the webhook port
    reconciling_settings.peering.stealth = True  # no log line per keep-alive
    stop_reconciling = threading.Event()
    failed = threading.Event()
    serving: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
    serving_ready = threading.Event()

    @kopf.on.cleanup(registry=serving_registry, id="stop-reconciler")
    def stop_reconciler(**_: Any) -> None:
        """As soon as the serving side starts stopping, the reconciler stops too (in
        parallel, within the pod's grace period) and leaves the peering."""
        stop_reconciling.set()

    def stop_serving() -> None:
        serving_ready.wait()
        loop, stop = serving[0]
        loop.call_soon_threadsafe(stop.set)

    def reconcile() -> None:
        try:
            kopf.run(
                registry=reconciling_registry,
                settings=reconciling_settings,
                clusterwide=True,
                standalone=False,
                peering_name=peering,
                priority=priority(pinned_priority),
                stop_flag=stop_reconciling,
                memo=kopf.Memo(**memo),
            )
        except BaseException:
            log.exception("the reconciler crashed")
            raise
        finally:
            if not stop_reconciling.is_set():
                failed.set()
                log.error("the reconciler stopped on its own: stopping the process")
                stop_serving()

    async def serve() -> None:
        stop = asyncio.Event()
        serving.append((asyncio.get_running_loop(), stop))
        serving_ready.set()
        await kopf.operator(
            registry=serving_registry,
            settings=serving_settings,
            clusterwide=True,
            standalone=True,
            stop_flag=stop,
            memo=kopf.Memo(**memo),
        )

    thread = threading.Thread(target=reconcile, name="aigov-reconciler", daemon=True)
    thread.start()
    log.info("replica started", peering=peering)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(serve())
    finally:
        stop_reconciling.set()
        thread.join(timeout=60)
    return 1 if failed.is_set() else 0
