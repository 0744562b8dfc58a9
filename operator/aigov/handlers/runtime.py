"""State shared by the handlers of one operator process, carried in kopf's memo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigov import metrics
from aigov.config import Settings
from aigov.policy.recognition import Recognition


@dataclass
class Runtime:
    """One per process. kopf copies the memo shallowly per object, so this stays shared."""

    settings: Settings
    recognition: Recognition = field(default_factory=Recognition)
    """Serving engines and accelerator rules (load_recognition); built-in by default."""
    indexed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once kopf has pre-populated every index: admission may trust the indexes."""
    scope_changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set on PlacementPolicy events: re-check the mutating webhook's scope (mutation_scope)."""
    scope_task: asyncio.Task[None] | None = None
    """The task keeping that scope (handlers/mutation_scope.py)."""
    cert_dir: Path | None = None
    """Where the webhook's serving certificate files are (made or mounted)."""
    ca_pem: bytes = b""

    wakers: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    reconcilers: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)
    phases: dict[tuple[str, str], str] = field(default_factory=dict)
    """Each reconciled model's phase, for the aigov_models gauge."""
    """(namespace, model) -> that model's reconciler task."""
    """(namespace, model) -> the event that wakes that model's reconciler."""

    @property
    def ready(self) -> bool:
        return self.indexed.is_set()

    def waker(self, key: tuple[str, str]) -> asyncio.Event:
        """The wake-up event of one model's reconciler, made on first use."""
        return self.wakers.setdefault(key, asyncio.Event())

    def start_reconciler(
        self, key: tuple[str, str], run: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Run `run()` as the model's reconciler unless one is running already."""
        task = self.reconcilers.get(key)
        if task is None or task.done():
            self.reconcilers[key] = asyncio.get_running_loop().create_task(run())

    def forget(self, key: tuple[str, str]) -> None:
        """Drop a model's reconciler, wake-up event and phase: the model is gone.

        Keeps the wake-up table bounded by the models that exist.
        """
        self.reconcilers.pop(key, None)
        self.wakers.pop(key, None)
        if self.phases.pop(key, None) is not None:
            metrics.phases(self.phases.values())

    def stop_reconciler(self, key: tuple[str, str]) -> None:
        """Cancel the model's reconciler (the model is gone)."""
        task = self.reconcilers.pop(key, None)
        if task is not None:
            task.cancel()
        self.wakers.pop(key, None)

    async def stop_all_reconcilers(self) -> None:
        tasks = list(self.reconcilers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.reconcilers.clear()
