"""The reconcilers' wake-up table stays bounded by the models that exist (issue 11)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aigov.config import Settings
from aigov.handlers.reconcile import pod_changed
from aigov.handlers.runtime import Runtime


async def test_pods_naming_unknown_models_add_no_wake_up_entries() -> None:
    runtime = Runtime(settings=Settings())
    memo = SimpleNamespace(runtime=runtime)
    for i in range(1000):
        await pod_changed(memo=memo, namespace=f"ns-{i}", labels={"aigov.io/model": f"m-{i}"})
    assert runtime.wakers == {}


async def test_a_pod_of_a_reconciled_model_wakes_it() -> None:
    runtime = Runtime(settings=Settings())
    memo = SimpleNamespace(runtime=runtime)
    runtime.start_reconciler(("ns", "m"), lambda: asyncio.sleep(3600))
    try:
        await pod_changed(memo=memo, namespace="ns", labels={"aigov.io/model": "m"})
        assert runtime.waker(("ns", "m")).is_set()
    finally:
        await runtime.stop_all_reconcilers()
