"""State shared by the handlers of one operator process, carried in kopf's memo."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aigov.config import Settings


@dataclass
class Runtime:
    """One per process. kopf copies the memo shallowly per object, so this stays shared."""

    settings: Settings
    indexed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once kopf has pre-populated every index: admission may trust the indexes."""
    cert_dir: Path | None = None
    """Where the webhook's serving certificate files are (made or mounted)."""
    ca_pem: bytes = b""

    wakers: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    """(namespace, model) -> the event that wakes that model's reconciler."""

    @property
    def ready(self) -> bool:
        return self.indexed.is_set()

    def waker(self, key: tuple[str, str]) -> asyncio.Event:
        """The wake-up event of one model's reconciler, made on first use."""
        return self.wakers.setdefault(key, asyncio.Event())

    def forget_waker(self, key: tuple[str, str]) -> None:
        self.wakers.pop(key, None)
