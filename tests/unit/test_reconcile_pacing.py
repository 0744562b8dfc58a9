"""Model reconcilers share a bounded number of pass slots (AIGOV_RECONCILE_CONCURRENCY).

With 1,000 models starting at once (a new leader), every pass used to call the API server at
the same moment: thousands of thread-pool calls queued and never drained.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aigov.config import Settings
from aigov.handlers import reconcile
from aigov.handlers.runtime import Runtime


def test_no_more_passes_run_at_once_than_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most = 0
    passes: list[str] = []
    all_done = asyncio.Event()

    async def one_pass(namespace: str, name: str, *_: Any, **__: Any) -> float:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        passes.append(name)
        running -= 1
        if len(passes) == 6:
            all_done.set()
        return 300.0

    monkeypatch.setattr(reconcile, "_reconcile", one_pass)

    async def scenario() -> None:
        runtime = Runtime(settings=Settings(reconcile_concurrency=2))
        runtime.leading = True
        indices: dict[str, Any] = {"governed_models": {}}
        for i in range(6):
            reconcile.start(runtime, ("ns", f"m{i}"), indices)
        await all_done.wait()
        await runtime.stop_all_reconcilers()

    asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert sorted(passes) == [f"m{i}" for i in range(6)]
    assert most == 2
