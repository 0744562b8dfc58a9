"""Once the indexes are loaded, they are frozen out of the garbage collector's full passes."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from aigov.config import Settings
from aigov.handlers.indexes import mark_indexed
from aigov.handlers.runtime import Runtime


async def test_readiness_freezes_what_the_indexes_loaded() -> None:
    runtime = Runtime(settings=Settings())
    loaded = [{"index": i} for i in range(1000)]  # stands for the indexes' objects
    gc.unfreeze()
    try:
        await mark_indexed(memo=SimpleNamespace(runtime=runtime))
        assert runtime.indexed.is_set()
        assert gc.get_freeze_count() >= len(loaded)
    finally:
        gc.unfreeze()
