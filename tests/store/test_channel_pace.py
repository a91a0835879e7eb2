"""The shared Slack pace on SQLite and PostgreSQL: every reservation of a channel's slot, from
any instance, gets a slot of its own, a burst then one per interval, and a 429 holds them all."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from service.store.db import make_engine, session
from service.store.pace import pause_channel, reserve_slot

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def reserve(engine, channel: str = "#alerts", now: datetime = T0, *, rate: float = 1.0, burst: int = 1) -> datetime:
    with session(engine) as s:
        return reserve_slot(s, channel, now, rate=rate, burst=burst)


def test_a_burst_then_one_slot_per_interval_per_channel(engine):
    """Burst of three at one a second: three slots now, then one a second; another channel has its own."""
    slots = [reserve(engine, burst=3) for _ in range(5)]
    assert [slot - T0 for slot in slots] == [timedelta(0)] * 3 + [SECOND, 2 * SECOND]
    assert reserve(engine, "#desk", burst=3) == T0
    # Ten idle seconds later the bucket has refilled to its burst, never beyond.
    later = T0 + 10 * SECOND
    assert [reserve(engine, now=later, burst=3) - later for _ in range(4)] == [timedelta(0)] * 3 + [SECOND]


def test_a_pause_holds_the_channel_for_every_reserver(engine):
    """After a 429 with Retry-After, the next slot is at its end, then one per interval, no burst."""
    reserve(engine, burst=3)
    with session(engine) as s:
        pause_channel(s, "#alerts", T0 + 10 * SECOND, T0, rate=1.0, burst=3)
        pause_channel(s, "#alerts", T0 + 2 * SECOND, T0, rate=1.0, burst=3)  # never shortens it
    assert [reserve(engine, now=T0 + SECOND, burst=3) - T0 for _ in range(2)] == [10 * SECOND, 11 * SECOND]


def test_two_instances_racing_for_a_slot_never_share_it(database_url, engine):
    """Forced race, two connections: the first has read the channel's row and not yet written its
    slot when the second asks. The second must wait for the first, then get the next slot."""
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    first_read, release_first = threading.Event(), threading.Event()

    @event.listens_for(first_engine, "after_cursor_execute")
    def pause_after_reading(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "channel_pace" in statement:
            first_read.set()
            assert release_first.wait(60), "the test never let the first reserver go on"

    slots: dict[str, datetime] = {}
    errors: list[BaseException] = []

    def run(name: str, engine_) -> None:
        try:
            slots[name] = reserve(engine_)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    reserve(engine, now=T0 - timedelta(hours=1))  # the row exists (a new one would lock as it is inserted)
    first = threading.Thread(target=run, args=("first", first_engine))
    second = threading.Thread(target=run, args=("second", second_engine))
    try:
        first.start()
        assert first_read.wait(30), "the first reserver never read the row"
        second.start()
        second.join(timeout=1.0)
        # While the first holds the row between its read and its write, the second cannot pass:
        # had it read the row too, both would write the same slot.
        assert second.is_alive(), f"the second reserver did not wait for the first: {slots}"
        release_first.set()
        first.join(timeout=60)
        second.join(timeout=60)
        assert not errors, errors
        assert (slots["first"], slots["second"]) == (T0, T0 + SECOND)
        assert reserve(engine) == T0 + 2 * SECOND
    finally:
        release_first.set()
        first.join(timeout=5)
        second.join(timeout=5)
        first_engine.dispose()
        second_engine.dispose()


@pytest.mark.parametrize(("rate", "burst"), [(2.0, 1), (0.5, 2)])
def test_many_reservations_are_spaced_by_the_rate(engine, rate, burst):
    """However many reserve at once, no more than `burst` slots fall within any one interval."""
    slots = sorted(reserve(engine, rate=rate, burst=burst) for _ in range(8))
    interval = timedelta(seconds=1 / rate)
    assert all(later - earlier >= interval for earlier, later in zip(slots, slots[burst:]))
    assert len(set(slots[burst - 1 :])) == len(slots[burst - 1 :])
