"""State shared by the handlers of one operator process, carried in kopf's memo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigov import metrics
from aigov.config import Settings
from aigov.handlers.reports import ReportWriter
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
    placement_generation: int = 0
    """Bumped on every node and PlacementPolicy event: the cached placement view is stale."""

    leading: bool = False
    """Whether this replica holds the leader Lease (handlers.leadership). Reconcilers run
    only while it does: start_reconciler does nothing otherwise."""
    reports: ReportWriter = field(default_factory=lambda: ReportWriter(None))
    """Writes each model's policy reports (ReportWriter.for_setting(settings.reports))."""

    wakers: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    """(namespace, model) -> the event that wakes that model's reconciler."""
    reconcilers: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)
    """(namespace, model) -> that model's reconciler task."""
    phases: dict[tuple[str, str], str] = field(default_factory=dict)
    """Each reconciled model's phase, for the aigov_models gauge."""
    pass_slots: asyncio.Semaphore = field(init=False)
    """At most settings.reconcile_concurrency model passes call the API server at once;
    the others wait here as parked tasks rather than as queued thread-pool calls."""

    def __post_init__(self) -> None:
        self.pass_slots = asyncio.Semaphore(self.settings.reconcile_concurrency)

    @property
    def ready(self) -> bool:
        return self.indexed.is_set()

    def waker(self, key: tuple[str, str]) -> asyncio.Event:
        """The wake-up event of one model's reconciler, made on first use."""
        event = self.wakers.setdefault(key, asyncio.Event())
        metrics.RECONCILED.set(len(self.wakers))
        return event

    def start_reconciler(
        self, key: tuple[str, str], run: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Run `run()` as the model's reconciler unless one is running already, or this
        replica does not lead (another replica reconciles)."""
        if not self.leading:
            return
        task = self.reconcilers.get(key)
        if task is None or task.done():
            self.reconcilers[key] = asyncio.get_running_loop().create_task(run())

    def forget(self, key: tuple[str, str]) -> None:
        """Drop a model's reconciler, wake-up event and phase: the model is gone.

        Keeps the wake-up table bounded by the models that exist.
        """
        self.reconcilers.pop(key, None)
        self.wakers.pop(key, None)
        metrics.RECONCILED.set(len(self.wakers))
        if self.phases.pop(key, None) is not None:
            metrics.phases(self.phases.values())

    def cancel_all_reconcilers(self) -> list[asyncio.Task[None]]:
        """Cancel every reconciler at once (leadership lost or the process stops) and forget
        their wake-up events; the cancelled tasks, for a caller that waits for them."""
        tasks = list(self.reconcilers.values())
        for task in tasks:
            task.cancel()
        self.reconcilers.clear()
        self.wakers.clear()
        metrics.RECONCILED.set(0)
        return tasks

    async def stop_all_reconcilers(self) -> None:
        """Cancel every reconciler and wait until each has ended."""
        await asyncio.gather(*self.cancel_all_reconcilers(), return_exceptions=True)
