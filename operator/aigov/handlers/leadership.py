"""Leader election: the model reconcilers run only in the replica holding the Lease.

Every replica watches, indexes and serves admission. The Elector looks at the Lease every
retry period (aigov.election decides, aigov.kube.lease reads and writes) and tells the
Runtime: on gaining the Lease it starts a reconciler for every model in the index; on losing
it (no successful renewal within the renew deadline, or someone else holds it) it cancels
them all at once. On a graceful stop it cancels them, waits for them, then releases the
Lease so another replica takes over on its next look. A replica campaigns only once its
indexes are loaded: a leader with half an index would reconcile half the models.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from aigov import election, logs, metrics
from aigov.handlers import reconcile
from aigov.handlers.runtime import Runtime
from aigov.kube import lease

log = logs.get("aigov.leadership")


def identity(pod_name: str) -> str:
    """This process's holderIdentity: the pod's name and a random suffix (a restarted
    container in the same pod is a different holder: it must not inherit a lease its
    predecessor may still think it holds)."""
    return f"{pod_name}_{secrets.token_hex(4)}"


class Elector:
    """One replica's side of the election; `run()` until cancelled, then `release()`."""

    def __init__(
        self,
        *,
        me: str,
        namespace: str,
        name: str,
        timing: election.Timing,
        on_lead: Callable[[], None],
        on_lose: Callable[[], None],
    ) -> None:
        self.me, self.namespace, self.name, self.timing = me, namespace, name, timing
        self.on_lead, self.on_lose = on_lead, on_lose
        self.leading = False
        self.observed: election.Observed | None = None
        self.renewed_at = 0.0
        self._holder = ""
        self._failing = False
        self._next = timing.retry_period

    async def run(self) -> None:
        """Look at the Lease every retry period (or when it runs out): take, renew or wait."""
        loop = asyncio.get_running_loop()
        while True:
            # A holder's look must end before its renew deadline, whatever the API server
            # does; anyone else's within a renew deadline too (no look hangs forever).
            budget = self.timing.renew_deadline
            if self.leading:
                budget = self.renewed_at + self.timing.renew_deadline - loop.time()
            try:
                async with asyncio.timeout(max(budget, 0.001)):
                    await self._look(loop)
                if self._failing:
                    log.info("lease reachable again", lease=self._lease)
                self._failing = False
            except (TimeoutError, lease.LeaseConflictError):
                pass  # the next look tells who holds it now
            except Exception as exc:
                if not self._failing:  # once per outage, not once per retry
                    log.warning("lease not readable or writable", lease=self._lease, error=str(exc))
                self._failing = True
            if self.leading and election.lost(self.renewed_at, loop.time(), self.timing):
                self._lose("no renewal within the renew deadline")
            await asyncio.sleep(self._next)
            self._next = self.timing.retry_period

    @property
    def _lease(self) -> str:
        return f"{self.namespace}/{self.name}"

    async def _look(self, loop: asyncio.AbstractEventLoop) -> None:
        timeout, began = self.timing.retry_period, loop.time()
        found = await lease.read(self.namespace, self.name, timeout)
        mono, now = loop.time(), dt.datetime.now(dt.UTC)
        if found is None:
            self.observed = None
        else:
            spec, version = found
            record = election.LeaseRecord.from_spec(spec)
            self.observed = election.observe(self.observed, record, version, mono)
        step = election.step(self.observed, self.me, now, mono, self.timing)
        if step.action is election.Action.WAIT:
            # Look again when the holder's lease runs out if that is sooner than a retry
            # period: a dead leader is replaced after the lease duration, not up to a retry
            # period later.
            self._next = min(self.timing.retry_period, max(step.expires_in, 0.01))
            if self.leading:
                self._lose(f"the lease is held by {step.holder}")
            if step.holder != self._holder:
                log.info("another replica leads", lease=self._lease, leader=step.holder)
                self._holder = step.holder
            return
        assert step.record is not None
        spec = step.record.to_spec()
        if step.action is election.Action.CREATE:
            version = await lease.create(self.namespace, self.name, spec, timeout)
        else:
            assert self.observed is not None
            version = await lease.replace(
                self.namespace, self.name, spec, self.observed.version, timeout
            )
        self.observed = election.Observed(step.record, version, mono)
        self.renewed_at = began  # never later than the API server saw it: the safe side
        if not self.leading:
            self.leading, self._holder = True, self.me
            metrics.LEADER.set(1)
            log.info(
                "leading: this replica runs the reconcilers",
                lease=self._lease,
                identity=self.me,
                transitions=step.record.transitions,
            )
            self.on_lead()

    def _lose(self, why: str) -> None:
        self.leading = False
        metrics.LEADER.set(0)
        log.warning("leadership lost: reconcilers stopped", lease=self._lease, reason=why)
        self.on_lose()

    async def release(self) -> None:
        """Give the Lease up (after the reconcilers stopped): the next replica to look
        takes it at once instead of waiting out the lease duration.

        Reads the Lease first: a renewal cancelled with the loop may still have reached the
        API server, so the version this replica last wrote may be stale. A conflict means
        such a write just landed: read again (a few times; nobody else writes this holder).
        """
        if not self.leading:
            return
        self.leading = False
        metrics.LEADER.set(0)
        timeout = self.timing.retry_period
        for _ in range(3):
            try:
                found = await lease.read(self.namespace, self.name, timeout)
                current = election.LeaseRecord.from_spec(found[0] if found else None)
                if found is None or current.holder != self.me:
                    log.info("lease not held any more: nothing to release", lease=self._lease)
                    return
                record = election.released(current, dt.datetime.now(dt.UTC))
                await lease.replace(self.namespace, self.name, record.to_spec(), found[1], timeout)
            except lease.LeaseConflictError:
                continue
            except Exception as exc:  # the others take over when the lease runs out
                log.warning("lease not released", lease=self._lease, error=str(exc))
                return
            log.info("lease released", lease=self._lease)
            return
        log.warning("lease not released: it kept changing", lease=self._lease)


async def _campaign(elector: Elector, runtime: Runtime) -> None:
    await runtime.indexed.wait()
    await elector.run()


@kopf.on.startup()
async def start_election(*, memo: Any, **indices: Any) -> None:
    """Campaign for the Lease in the background (kopf passes the live indexes here)."""
    runtime: Runtime = memo.runtime
    settings = runtime.settings
    live: Mapping[str, Any] = indices

    def lead() -> None:
        runtime.leading = True
        started = reconcile.start_all(runtime, live)
        log.info("reconcilers started", models=started)

    def lose() -> None:
        runtime.leading = False
        runtime.cancel_all_reconcilers()

    elector = Elector(
        me=identity(settings.pod_name),
        namespace=settings.lease_namespace,
        name=settings.lease_name,
        timing=settings.lease_timing,
        on_lead=lead,
        on_lose=lose,
    )
    metrics.LEADER.set(0)
    memo.elector = elector
    memo.election = asyncio.get_running_loop().create_task(_campaign(elector, runtime))


@kopf.on.cleanup()
async def stop_election(*, memo: Any, **_: Any) -> None:
    """Stop campaigning, stop every reconciler and wait for them, then release the Lease."""
    runtime: Runtime = memo.runtime
    task: asyncio.Task[None] | None = getattr(memo, "election", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    runtime.leading = False
    await runtime.stop_all_reconcilers()
    elector: Elector | None = getattr(memo, "elector", None)
    if elector is not None:
        await elector.release()
