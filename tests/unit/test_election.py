"""Leader election's decisions (aigov.election): who takes, renews or waits, and when a
leader must stop. Times are passed in: wall time for the record, monotonic for decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from aigov.election import (
    Action,
    LeaseRecord,
    Observed,
    Timing,
    TimingError,
    lost,
    observe,
    released,
    step,
)

T = Timing()  # controller-runtime's 15 / 10 / 2
NOW = dt.datetime(2026, 12, 2, 17, 0, 0, 123456, tzinfo=dt.UTC)
ME, OTHER = "aigov-5c9d-abcde_1a2b3c4d", "aigov-5c9d-fghij_5e6f7a8b"


def held(holder: str, seen_at: float, duration: int = 15, transitions: int = 3) -> Observed:
    record = LeaseRecord(holder, duration, NOW, NOW, transitions)
    return Observed(record, version="41", seen_at=seen_at)


def test_no_lease_is_created_held_by_me() -> None:
    s = step(None, ME, NOW, 100.0, T)
    assert s.action is Action.CREATE
    assert s.record == LeaseRecord(ME, 15, NOW, NOW, 0)
    assert s.holder == ME


def test_my_lease_is_renewed_keeping_acquire_time_and_transitions() -> None:
    later = NOW + dt.timedelta(seconds=2)
    s = step(held(ME, 100.0), ME, later, 102.0, T)
    assert s.action is Action.RENEW
    assert s.record == LeaseRecord(ME, 15, NOW, later, 3)


def test_a_live_lease_of_another_replica_is_waited_for() -> None:
    s = step(held(OTHER, 100.0), ME, NOW, 114.9, T)
    assert s.action is Action.WAIT
    assert s.record is None
    assert s.holder == OTHER
    assert s.expires_in == pytest.approx(0.1)


def test_a_lease_nobody_renewed_for_its_duration_is_taken() -> None:
    """Counted from when *this* replica saw the record, on its own clock."""
    later = NOW + dt.timedelta(hours=1)
    s = step(held(OTHER, 100.0), ME, later, 115.0, T)
    assert s.action is Action.TAKE
    assert s.record == LeaseRecord(ME, 15, later, later, 4)


def test_the_holders_duration_counts_not_mine() -> None:
    assert step(held(OTHER, 100.0, duration=60), ME, NOW, 150.0, T).action is Action.WAIT
    assert step(held(OTHER, 100.0, duration=60), ME, NOW, 160.0, T).action is Action.TAKE


def test_a_released_lease_is_taken_at_once() -> None:
    record = released(LeaseRecord(OTHER, 15, NOW, NOW, 3), NOW)
    assert record == LeaseRecord("", 1, NOW, NOW, 3)
    s = step(Observed(record, "42", seen_at=100.0), ME, NOW, 100.0, T)
    assert s.action is Action.TAKE
    assert s.record is not None
    assert (s.record.holder, s.record.transitions) == (ME, 4)


def test_the_wait_restarts_when_the_holder_renews_and_not_otherwise() -> None:
    first = observe(None, LeaseRecord(OTHER, 15, NOW, NOW, 3), "41", now=100.0)
    assert first.seen_at == 100.0
    # The same record again (e.g. someone edited a label: a new resourceVersion).
    same = observe(first, LeaseRecord(OTHER, 15, NOW, NOW, 3), "43", now=110.0)
    assert (same.seen_at, same.version) == (100.0, "43")
    assert step(same, ME, NOW, 115.0, T).action is Action.TAKE
    renewed = LeaseRecord(OTHER, 15, NOW, NOW + dt.timedelta(seconds=2), 3)
    fresh = observe(same, renewed, "44", now=114.0)
    assert fresh.seen_at == 114.0
    assert step(fresh, ME, NOW, 115.0, T).action is Action.WAIT


def test_a_leader_stops_once_the_renew_deadline_passed_before_anyone_may_take_over() -> None:
    assert not lost(renewed_at=100.0, mono=109.9, timing=T)
    assert lost(renewed_at=100.0, mono=110.0, timing=T)
    # The others wait the lease duration from a look at or after that renewal.
    assert T.renew_deadline < T.lease_duration


def test_a_lease_record_round_trips_through_the_api_form() -> None:
    record = LeaseRecord(ME, 15, NOW, NOW + dt.timedelta(seconds=2), 7)
    spec = record.to_spec()
    assert spec == {
        "holderIdentity": ME,
        "leaseDurationSeconds": 15,
        "leaseTransitions": 7,
        "acquireTime": "2026-12-02T17:00:00.123456Z",
        "renewTime": "2026-12-02T17:00:02.123456Z",
    }
    assert LeaseRecord.from_spec(spec) == record


def test_a_badly_written_lease_reads_as_one_to_take_over() -> None:
    record = LeaseRecord.from_spec(
        {"holderIdentity": 7, "leaseDurationSeconds": "long", "renewTime": "yesterday"}
    )
    assert record == LeaseRecord("", 1, None, None, 0)
    assert LeaseRecord.from_spec(None) == LeaseRecord("", 1)
    assert step(Observed(record, "1", 100.0), ME, NOW, 100.0, T).action is Action.TAKE


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ((15, 15, 2), "lease duration (15 s) must exceed the renew deadline (15 s)"),
        ((15, 10, 9), "renew deadline (10 s) must exceed 1.2 x the retry period (9 s)"),
        ((15, 10, 0), "must be > 0"),
    ],
)
def test_timings_that_cannot_give_one_leader_are_refused(
    timing: tuple[float, float, float], message: str
) -> None:
    with pytest.raises(TimingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Timing(*timing)
