"""The reconcilers' wake-up table stays bounded by the models that exist (issue 11)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aigov.config import Settings
from aigov.handlers.reconcile import model_changed, pod_changed, start_all
from aigov.handlers.runtime import Runtime


async def test_pods_naming_unknown_models_add_no_wake_up_entries() -> None:
    runtime = Runtime(settings=Settings())
    memo = SimpleNamespace(runtime=runtime)
    for i in range(1000):
        await pod_changed(memo=memo, namespace=f"ns-{i}", labels={"aigov.io/model": f"m-{i}"})
    assert runtime.wakers == {}


async def test_a_pod_of_a_reconciled_model_wakes_it() -> None:
    runtime = Runtime(settings=Settings(), leading=True)
    memo = SimpleNamespace(runtime=runtime)
    runtime.start_reconciler(("ns", "m"), lambda: asyncio.sleep(3600))
    try:
        await pod_changed(memo=memo, namespace="ns", labels={"aigov.io/model": "m"})
        assert runtime.waker(("ns", "m")).is_set()
    finally:
        await runtime.stop_all_reconcilers()


async def test_a_replica_that_does_not_lead_starts_and_wakes_no_reconciler() -> None:
    """Only the Lease holder reconciles: events seen by the others change nothing."""
    runtime = Runtime(settings=Settings())
    memo = SimpleNamespace(runtime=runtime)
    await model_changed(memo=memo, namespace="ns", name="m", governed_models={("ns", "m"): []})
    runtime.start_reconciler(("ns", "m"), lambda: asyncio.sleep(3600))
    await pod_changed(memo=memo, namespace="ns", labels={"aigov.io/model": "m"})
    assert runtime.reconcilers == {}
    assert runtime.wakers == {}


async def test_gaining_the_lease_starts_every_indexed_model_and_losing_it_cancels_all() -> None:
    runtime = Runtime(settings=Settings(), leading=True)
    keys = [("ns", "a"), ("ns", "b"), ("other", "a")]
    started = start_all(runtime, {"governed_models": dict.fromkeys(keys, ())})
    try:
        assert started == 3
        assert set(runtime.reconcilers) == set(keys)
        tasks = runtime.cancel_all_reconcilers()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert all(task.cancelled() for task in tasks)
        assert runtime.reconcilers == {}
        assert runtime.wakers == {}
    finally:
        await runtime.stop_all_reconcilers()
