"""The Elector loop (handlers.leadership) against an in-memory Lease that keeps the API
server's one rule that matters here: a write must name the resourceVersion it read.

Short timings (lease 2 s; renew deadline 0.5 s; retry 0.1 s) so that the loop runs many
rounds in a second, with bounds that leave room for a loaded machine; the e2e test
(tests/e2e/test_chart.py) does the same with real processes, the real API server and the
chart's timings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aigov.election import Timing
from aigov.handlers import leadership
from aigov.kube import lease

FAST = Timing(lease_duration=2.0, renew_deadline=0.5, retry_period=0.1)


class Store:
    """One Lease, as the API server keeps it; `cut` makes a replica's calls fail."""

    def __init__(self) -> None:
        self.spec: dict[str, Any] | None = None
        self.version = 0
        self.cut: set[str] = set()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        store = self

        def check() -> None:
            task = asyncio.current_task()
            if task is not None and task.get_name() in store.cut:
                raise ConnectionError("connection refused")

        async def read(_ns: str, _name: str, request_timeout: float) -> Any:
            check()
            return None if store.spec is None else (dict(store.spec), str(store.version))

        async def create(_ns: str, _name: str, spec: dict[str, Any], request_timeout: float) -> str:
            check()
            if store.spec is not None:
                raise lease.LeaseConflictError("exists")
            store.spec, store.version = spec, store.version + 1
            return str(store.version)

        async def replace(
            _ns: str, _name: str, spec: dict[str, Any], version: str, request_timeout: float
        ) -> str:
            check()
            if version != str(store.version):
                raise lease.LeaseConflictError("changed")
            store.spec, store.version = spec, store.version + 1
            return str(store.version)

        monkeypatch.setattr(lease, "read", read)
        monkeypatch.setattr(lease, "create", create)
        monkeypatch.setattr(lease, "replace", replace)


class Replica:
    def __init__(self, name: str) -> None:
        self.name = name
        self.changes: list[str] = []
        self.elector = leadership.Elector(
            me=leadership.identity(name),
            namespace="default",
            name="aigov",
            timing=FAST,
            on_lead=lambda: self.changes.append("lead"),
            on_lose=lambda: self.changes.append("lose"),
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.elector.run(), name=self.name)

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def pair(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Store, Replica, Replica]]:
    store = Store()
    store.install(monkeypatch)
    a, b = Replica("a"), Replica("b")
    a.start()
    await asyncio.sleep(0.05)  # a looks first
    b.start()
    yield store, a, b
    for replica in (a, b):
        if replica.task is not None and not replica.task.done():
            await replica.stop()


async def watch(a: Replica, b: Replica, seconds: float) -> None:
    """Never two leaders at once, sampled every 5 ms."""
    for _ in range(int(seconds / 0.005)):
        assert not (a.elector.leading and b.elector.leading)
        await asyncio.sleep(0.005)


async def test_one_leader_renews_quietly_and_the_other_waits(pair: Any) -> None:
    store, a, b = pair
    await watch(a, b, 1.0)
    assert (a.changes, b.changes) == (["lead"], [])
    assert store.spec["holderIdentity"] == a.elector.me
    assert store.version > 5  # renewed every retry period


async def test_a_leader_cut_off_stops_before_the_other_takes_over(pair: Any) -> None:
    store, a, b = pair
    await asyncio.sleep(0.3)
    assert a.elector.leading
    store.cut.add("a")
    loop = asyncio.get_running_loop()
    cut_at = loop.time()
    async with asyncio.timeout(3):  # a leader that never stops fails here, not at 300 s
        while a.elector.leading:  # noqa: ASYNC110 - polling the state under test
            await asyncio.sleep(0.005)
        stopped = loop.time() - cut_at
        while not b.elector.leading:
            assert not a.elector.leading
            await asyncio.sleep(0.005)
        taken = loop.time() - cut_at
    assert stopped <= FAST.renew_deadline + 3 * FAST.retry_period
    assert stopped < taken <= FAST.lease_duration + 5 * FAST.retry_period
    assert (a.changes, b.changes) == (["lead", "lose"], ["lead"])
    store.cut.clear()  # a is back: it sees b's lease and waits
    await watch(a, b, 0.5)
    assert (a.changes, b.changes) == (["lead", "lose"], ["lead"])


async def test_a_released_lease_is_taken_on_the_next_look(pair: Any) -> None:
    store, a, b = pair
    await asyncio.sleep(0.3)
    await a.stop()
    # A renewal cancelled with the loop may still land: the version a wrote last is stale.
    store.version += 1
    await a.elector.release()
    assert store.spec["holderIdentity"] == ""
    loop = asyncio.get_running_loop()
    released_at = loop.time()
    async with asyncio.timeout(3):
        while not b.elector.leading:  # noqa: ASYNC110 - polling the state under test
            await asyncio.sleep(0.005)
    # Without the release, b would wait out the lease duration (2 s) from a's last renewal.
    assert loop.time() - released_at < FAST.lease_duration / 2
    assert store.spec["leaseTransitions"] == 1


def test_identities_are_unique_per_process() -> None:
    ids = {leadership.identity("aigov-0") for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("aigov-0_") for i in ids)
