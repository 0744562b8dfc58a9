"""Leader election over a coordination.k8s.io/v1 Lease: the decisions, without the I/O.

Every replica watches, indexes and serves admission; only the holder of the Lease runs the
model reconcilers (they write status and flag or stop workloads: two writers would
contradict each other). The rules are client-go's (controller-runtime's defaults):

- a replica looks at the Lease every `retry_period`; the holder renews it each time;
- another replica takes it only when nobody renewed it for `lease_duration`, counted on its
  own clock from when *it saw* the record change (clock skew between nodes does not matter);
- the holder stops reconciling once `renew_deadline` passed since its last successful
  renewal, which is before anyone else may take over (renew_deadline < lease_duration);
- a holder that stops gracefully releases the Lease (empty holder), so another replica takes
  it on its next look instead of waiting out the lease duration (client-go ReleaseOnCancel).

Writes are optimistic: a write names the resourceVersion it read, so of two replicas taking
an expired Lease at once exactly one succeeds. Nothing here does I/O or reads a clock: the
caller passes the times (wall time for the record, monotonic time for the decisions).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

JITTER = 1.2
"""client-go's JitterFactor: renew_deadline must exceed retry_period by this factor, so a
holder gets more than one try to renew before it gives up."""


class TimingError(ValueError):
    """Lease timings that cannot give one leader at a time."""


@dataclass(frozen=True)
class Timing:
    """How long a lease lasts and how often replicas look at it (seconds)."""

    lease_duration: float = 15.0
    """How long the others wait, after the last renewal they saw, before taking over
    (written as whole seconds, leaseDurationSeconds, rounded up)."""
    renew_deadline: float = 10.0
    """How long the holder keeps reconciling without a successful renewal."""
    retry_period: float = 2.0
    """How often every replica looks at (and the holder renews) the Lease."""

    def __post_init__(self) -> None:
        if min(self.lease_duration, self.renew_deadline, self.retry_period) <= 0:
            raise TimingError("lease duration, renew deadline and retry period must be > 0")
        if self.lease_duration <= self.renew_deadline:
            raise TimingError(
                f"lease duration ({self.lease_duration:g} s) must exceed the renew deadline "
                f"({self.renew_deadline:g} s): a holder must stop before another may take over"
            )
        if self.renew_deadline <= JITTER * self.retry_period:
            raise TimingError(
                f"renew deadline ({self.renew_deadline:g} s) must exceed {JITTER:g} x the "
                f"retry period ({self.retry_period:g} s)"
            )


@dataclass(frozen=True)
class LeaseRecord:
    """The fields of a Lease's spec that election reads and writes."""

    holder: str = ""
    """holderIdentity; empty when released."""
    duration_seconds: int = 15
    """leaseDurationSeconds: how long others wait (the holder's setting, not theirs)."""
    acquire_time: dt.datetime | None = None
    renew_time: dt.datetime | None = None
    transitions: int = 0
    """leaseTransitions: how many times the holder changed."""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> LeaseRecord:
        """Read a Lease spec; missing or unreadable fields take their empty values (a Lease
        someone else wrote badly must not stop the election: it is simply taken over)."""
        s = spec or {}
        holder = s.get("holderIdentity")
        duration = s.get("leaseDurationSeconds")
        transitions = s.get("leaseTransitions")
        return cls(
            holder=holder if isinstance(holder, str) else "",
            duration_seconds=duration if isinstance(duration, int) and duration > 0 else 1,
            acquire_time=_time(s.get("acquireTime")),
            renew_time=_time(s.get("renewTime")),
            transitions=transitions if isinstance(transitions, int) else 0,
        )

    def to_spec(self) -> dict[str, Any]:
        """The Lease spec to write (MicroTime: RFC 3339 with microseconds, UTC)."""
        spec: dict[str, Any] = {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.duration_seconds,
            "leaseTransitions": self.transitions,
        }
        for key, value in (("acquireTime", self.acquire_time), ("renewTime", self.renew_time)):
            if value is not None:
                spec[key] = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return spec


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Observed:
    """The Lease as this replica last read it, and since when it looked like that."""

    record: LeaseRecord
    version: str
    """resourceVersion: the next write names it (optimistic concurrency)."""
    seen_at: float
    """Monotonic time when this replica first saw this record (not the holder's clock)."""


def observe(previous: Observed | None, record: LeaseRecord, version: str, now: float) -> Observed:
    """What a read tells: a changed record restarts the wait, an unchanged one does not
    (a resourceVersion alone may change without a renewal, e.g. a label edit)."""
    if previous is not None and previous.record == record:
        return replace(previous, version=version)
    return Observed(record=record, version=version, seen_at=now)


class Action(enum.StrEnum):
    CREATE = "create"
    """No Lease exists: create it, holding it."""
    TAKE = "take"
    """The Lease is released or expired: write it with this replica as holder."""
    RENEW = "renew"
    """This replica holds it: write a fresh renewTime."""
    WAIT = "wait"
    """Another replica holds a live lease: look again later."""


@dataclass(frozen=True)
class Step:
    """What to do after one look at the Lease."""

    action: Action
    record: LeaseRecord | None
    """The record to write (None for WAIT)."""
    holder: str
    """Who holds the Lease if this step succeeds (for WAIT: the current holder)."""
    expires_in: float = 0.0
    """For WAIT: seconds until the current holder's lease runs out, as seen here."""


def step(observed: Observed | None, me: str, now: dt.datetime, mono: float, timing: Timing) -> Step:
    """The next step of replica `me` given the Lease it read (None: there is none).

    `now` is wall time (written in the record), `mono` monotonic time (compared with
    `observed.seen_at`).
    """
    duration = math.ceil(timing.lease_duration)  # whole seconds in the API; never shorter
    if observed is None:
        record = LeaseRecord(me, duration, acquire_time=now, renew_time=now)
        return Step(Action.CREATE, record, me)
    current = observed.record
    if current.holder == me:
        return Step(Action.RENEW, replace(current, duration_seconds=duration, renew_time=now), me)
    expires_in = observed.seen_at + current.duration_seconds - mono
    if current.holder and expires_in > 0:
        return Step(Action.WAIT, None, current.holder, expires_in)
    record = LeaseRecord(me, duration, now, now, current.transitions + 1)
    return Step(Action.TAKE, record, me)


def lost(renewed_at: float, mono: float, timing: Timing) -> bool:
    """Whether a holder whose last successful renewal was at `renewed_at` must stop now."""
    return mono - renewed_at >= timing.renew_deadline


def released(current: LeaseRecord, now: dt.datetime) -> LeaseRecord:
    """The record a holder writes when it stops gracefully: no holder, so any replica takes
    it on its next look (client-go writes the same, leaseDurationSeconds 1)."""
    return LeaseRecord("", 1, now, now, current.transitions)
