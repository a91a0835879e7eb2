"""Calendar reminders in the outbox, on SQLite and PostgreSQL: each reminder is queued once,
however many looks, restarts and instances; superseded ones are skipped, never sent late."""

from __future__ import annotations

import datetime as dt
import threading
import time
from functools import cache

import pytest
from sqlalchemy import create_engine, event, text
from sqlmodel import select

from service.digest.calendar import Deadline
from service.pipeline.reminders import ReminderReport, calendar_status, queue_due_reminders
from service.rules import Ruleset, load_ruleset
from service.store.db import make_engine, session
from service.store.models import OutboxAlert
from service.store.outbox import claim_due_alerts, record_sent
from tests.conftest import SHIPPED_RULES

UTC = dt.UTC
DAY = dt.date(2026, 12, 13)
ENTRY = Deadline(id="ban-ends", date=DAY, title="Ban ends", ends="the ban", source="MOFCOM")
SEVEN, ONE, ZERO = (dt.datetime(2026, 12, d, 8, tzinfo=UTC) for d in (6, 12, 13))


@cache
def shipped_rules() -> Ruleset:
    return load_ruleset(SHIPPED_RULES)


def look(engine, now: dt.datetime, deadlines=(ENTRY,)) -> ReminderReport:
    """One instance's look at the calendar, as the scheduler's sweep makes it."""
    with session(engine) as s:
        return queue_due_reminders(s, list(deadlines), ruleset=shipped_rules(), default_channel="#alerts", now=now)


def rows(engine) -> dict[str, str]:
    """Key -> status of every outbox row; a key stored twice fails here."""
    with session(engine) as s:
        found = [(row.key, row.status) for row in s.exec(select(OutboxAlert).order_by(OutboxAlert.id))]
    assert len({key for key, _ in found}) == len(found), found
    return dict(found)


def test_each_reminder_is_queued_once_however_often_it_is_looked_for(engine):
    """Looks every minute queue the 7-day reminder once; the 1-day one once, when it is due."""
    assert look(engine, SEVEN - dt.timedelta(minutes=1)).queued == []
    assert look(engine, SEVEN).queued == ["reminder:ban-ends:7d:#alerts"]
    for minutes in (1, 2, 60 * 24):
        assert look(engine, SEVEN + dt.timedelta(minutes=minutes)).queued == []
    _send_everything(engine, SEVEN + dt.timedelta(minutes=1))
    assert look(engine, ONE).queued == ["reminder:ban-ends:1d:#alerts"]
    assert look(engine, ONE + dt.timedelta(hours=3)).queued == []
    # The 7-day reminder was sent: the 1-day one does not turn it into a skip.
    assert rows(engine) == {"reminder:ban-ends:7d:#alerts": "sent", "reminder:ban-ends:1d:#alerts": "pending"}


def test_a_service_back_after_two_reminders_sends_the_latest_and_skips_the_other(engine):
    """Down over the 7-day and 1-day times: the first look queues the 1-day one, marks the
    7-day one skipped (so no later look sends it), and says so in the calendar listing."""
    report = look(engine, ONE + dt.timedelta(hours=5))
    assert (report.queued, report.skipped) == (["reminder:ban-ends:1d:#alerts"], 1)
    assert rows(engine) == {"reminder:ban-ends:1d:#alerts": "pending", "reminder:ban-ends:7d:#alerts": "skipped"}
    with session(engine) as s:
        [entry] = calendar_status(s, [ENTRY], ONE + dt.timedelta(hours=5))
    assert [(state.slot.name, state.state) for state in entry.slots] == [("7d", "skipped"), ("1d", "pending"), ("0d", "upcoming")]
    assert entry.slots[0].detail == "skipped: the 1d reminder was due too"


def test_an_unsent_earlier_reminder_is_skipped_when_a_later_one_falls_due(engine):
    """A 7-day reminder still waiting (Slack down) is not sent after the 1-day one is due."""
    look(engine, SEVEN)
    look(engine, ONE)
    assert rows(engine) == {"reminder:ban-ends:7d:#alerts": "skipped", "reminder:ban-ends:1d:#alerts": "pending"}


def test_a_reminder_being_posted_is_left_to_finish(engine):
    """A row a dispatcher holds may be on its way to Slack: the later look does not skip it."""
    look(engine, SEVEN)
    with session(engine) as s:
        [claimed] = claim_due_alerts(s, "dispatcher", ONE - dt.timedelta(seconds=1), dt.timedelta(minutes=2), per_channel=5, limit=10)
    assert claimed.alert.key == "reminder:ban-ends:7d:#alerts"
    look(engine, ONE)
    assert rows(engine)["reminder:ban-ends:7d:#alerts"] == "pending"


def test_once_the_date_has_passed_nothing_unsent_of_it_goes_out(engine):
    """A reminder still waiting when its date is over is skipped; nothing new is queued."""
    look(engine, ZERO)
    report = look(engine, ZERO + dt.timedelta(days=1))
    assert (report.queued, report.skipped) == ([], 1)
    assert rows(engine)["reminder:ban-ends:0d:#alerts"] == "skipped"
    with session(engine) as s:
        assert calendar_status(s, [ENTRY], ZERO + dt.timedelta(days=1)) == []
        [past] = calendar_status(s, [ENTRY], ZERO + dt.timedelta(days=1), past=True)
    assert [state.state for state in past.slots] == ["skipped", "skipped", "skipped"]


def test_a_routing_change_reaches_the_new_channel_once(engine):
    """An entry given its own channel after a reminder went out: the next reminder goes there,
    and earlier keys in the old channel stay as they were."""
    look(engine, SEVEN)
    moved = ENTRY.model_copy(update={"channel": "#calendar"})
    assert look(engine, ONE, [moved]).queued == ["reminder:ban-ends:1d:#calendar"]
    assert look(engine, ONE + dt.timedelta(minutes=1), [moved]).queued == []


def _send_everything(engine, now: dt.datetime) -> None:
    with session(engine) as s:
        for item in claim_due_alerts(s, "dispatcher", now, dt.timedelta(minutes=2), per_channel=50, limit=100):
            record_sent(s, item.alert.id, now, token=item.lease_token, channel_id="C1", ts="1.0")


# -- two instances at once ---------------------------------------------------------------------


def _pause_before_insert(engine, hook) -> None:
    """Call `hook` on this engine's connection right before its first insert of outbox rows
    (after the look has read which keys are queued)."""
    called = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_ALERTS") and not called:
            called.append(True)
            hook()

    event.listen(engine, "before_cursor_execute", before)


def test_two_instances_that_both_found_the_reminder_missing_queue_it_once(database_url):
    """Both instances read "not queued" before either writes; the first commits, the second's
    insert then meets the unique key and adds nothing. One row, one reminder."""
    from service.store import migrate

    migrate.upgrade(database_url)
    shipped_rules()  # loaded before the race, not by both threads inside it
    first, second = make_engine(database_url), make_engine(database_url)
    both_read = threading.Barrier(2, timeout=30)
    first_done = threading.Event()
    _pause_before_insert(first, both_read.wait)
    _pause_before_insert(second, lambda: (both_read.wait(), first_done.wait(30)))
    reports: dict[str, ReminderReport] = {}

    def run(name, engine, after=None):
        reports[name] = look(engine, ONE)
        if after is not None:
            after.set()

    threads = [
        threading.Thread(target=run, args=("first", first, first_done)),
        threading.Thread(target=run, args=("second", second)),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert both_read.n_waiting == 0 and first_done.is_set()
        assert reports["first"].queued == ["reminder:ban-ends:1d:#alerts"]
        assert reports["second"].queued == []
        assert rows(first) == {"reminder:ban-ends:1d:#alerts": "pending", "reminder:ban-ends:7d:#alerts": "skipped"}
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.postgres
def test_an_insert_waiting_on_the_others_uncommitted_row_adds_nothing(postgres_url):
    """PostgreSQL: the second instance inserts while the first's row is not yet committed; its
    insert waits on the unique index, and once the first commits it adds nothing."""
    from service.store import migrate

    migrate.upgrade(postgres_url)
    shipped_rules()
    first, second = make_engine(postgres_url), make_engine(postgres_url)
    watcher = create_engine(first.url, isolation_level="AUTOCOMMIT")
    inserted, release = threading.Event(), threading.Event()

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_ALERTS") and not inserted.is_set():
            inserted.set()
            release.wait(30)  # hold the transaction open, the row uncommitted

    event.listen(first, "after_cursor_execute", after)
    reports: dict[str, ReminderReport] = {}
    one = threading.Thread(target=lambda: reports.__setitem__("first", look(first, ZERO)))
    two = threading.Thread(target=lambda: reports.__setitem__("second", look(second, ZERO)))
    try:
        one.start()
        assert inserted.wait(30)
        two.start()
        _wait_until_blocked(watcher)
        release.set()
        one.join(timeout=60)
        two.join(timeout=60)
        assert not one.is_alive() and not two.is_alive()
        assert reports["first"].queued == ["reminder:ban-ends:0d:#alerts"]
        assert reports["second"].queued == []
        assert sorted(rows(first).items()) == [
            ("reminder:ban-ends:0d:#alerts", "pending"),
            ("reminder:ban-ends:1d:#alerts", "skipped"),
            ("reminder:ban-ends:7d:#alerts", "skipped"),
        ]
    finally:
        release.set()
        watcher.dispose()
        first.dispose()
        second.dispose()


def _wait_until_blocked(watcher, within: float = 30) -> None:
    """Until some session of this database waits for a lock: the second insert, on the key."""
    deadline = time.monotonic() + within
    with watcher.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second insert never waited for the first one's row")
