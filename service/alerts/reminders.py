"""Calendar reminders: when each is due, where it goes, and its outbox rows. The clock is always an
argument; nothing here reads the time or touches the database.

Each calendar entry has three reminders: 7 days before (`7d`), 1 day before (`1d`) and on the day
(`0d`), each at 08:00 on its day in the entry's own time zone (the desk's morning where the
authority sits). An entry with a `time` earlier than 09:00 gets its on-the-day reminder an hour
before that time instead, but never before local midnight; one at midnight has no on-the-day
reminder, its 1-day reminder is the last.

A reminder stays deliverable until the entry happens: its `time`, or the end of its day when it
has none. Only the latest reminder that is due is sent: a service that was down over the 7-day
reminder and comes back after the 1-day one is due sends the 1-day one, and the 7-day one is
marked skipped. Local times that do not exist or occur twice (daylight saving) are read with
PEP 495's fold=0, as the digest's send times are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from service.alerts.queue import MAX_CHANNEL, alert_key
from service.digest.calendar import Deadline
from service.domain.alerts import REMINDER, Reminder
from service.store.outbox import PENDING, SKIPPED

UTC = dt.UTC
#: The reminders of every entry, latest last: (slot name, days before the date).
SLOTS: tuple[tuple[str, int], ...] = (("7d", 7), ("1d", 1), ("0d", 0))
#: The local time a reminder goes out on its day.
MORNING = dt.time(8, 0)
#: A timed entry's on-the-day reminder goes at least this long before it.
LEAD = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    """One reminder of one entry: its name ("7d"), days before the date, and when it falls due (UTC)."""

    name: str
    days: int
    due_at: dt.datetime


@dataclass(frozen=True)
class ReminderPlan:
    """What is due for one entry at one instant."""

    #: The reminder to send now, if any: the latest one due while the entry is still ahead.
    send: Slot | None
    #: Earlier reminders that are due too: they are marked skipped, never sent late.
    skip: tuple[Slot, ...]
    #: The entry has happened: no reminder of it goes out any more.
    over: bool


def local_instant(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """The UTC instant of the local `at` on `day` in `zone` (fold=0 for gaps and repeats)."""
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def event_start(deadline: Deadline) -> dt.datetime:
    """When the entry happens: its time, or the start of its day, in its zone."""
    return local_instant(deadline.date, deadline.time or dt.time(0), deadline.zone)


def event_end(deadline: Deadline) -> dt.datetime:
    """Until when a reminder of it is worth sending: its time, or the end of its day."""
    if deadline.time is not None:
        return event_start(deadline)
    return local_instant(deadline.date + dt.timedelta(days=1), dt.time(0), deadline.zone)


def reminder_slots(deadline: Deadline) -> list[Slot]:
    """The entry's reminders with their due instants, earliest first; a reminder that could only
    fall due once the entry has happened is left out."""
    end = event_end(deadline)
    slots = []
    for name, days in SLOTS:
        day = deadline.date - dt.timedelta(days=days)
        due = local_instant(day, MORNING, deadline.zone)
        if days == 0 and deadline.time is not None:
            due = max(local_instant(day, dt.time(0), deadline.zone), min(due, event_start(deadline) - LEAD))
        if due < end:
            slots.append(Slot(name, days, due))
    return slots


def plan_reminders(deadline: Deadline, now: dt.datetime) -> ReminderPlan:
    """Which reminder of `deadline` to send at `now`, and which earlier ones it makes moot."""
    if now >= event_end(deadline):
        return ReminderPlan(None, (), over=True)
    due = [slot for slot in reminder_slots(deadline) if slot.due_at <= now]
    if not due:
        return ReminderPlan(None, (), over=False)
    return ReminderPlan(due[-1], tuple(due[:-1]), over=False)


def days_left(deadline: Deadline, now: dt.datetime) -> int:
    """Whole calendar days from `now`'s date to the entry's date, both in the entry's zone."""
    return (deadline.date - now.astimezone(deadline.zone).date()).days


class _RuleLike(Protocol):
    event_types: tuple[str, ...]
    channel: str | None


def reminder_channels(deadline: Deadline, rules: Iterable[_RuleLike], default_channel: str) -> list[str]:
    """Where the entry's reminders go: its own `channel`; else every channel the alert rules of
    its topic (`event_types`) name, in rule order; else the default channel."""
    if deadline.channel:
        return [deadline.channel[:MAX_CHANNEL]]
    topic = set(deadline.event_types)
    named = [rule.channel.strip()[:MAX_CHANNEL] for rule in rules if rule.channel and topic & set(rule.event_types)]
    return list(dict.fromkeys(c for c in named if c)) or [default_channel[:MAX_CHANNEL]]


def reminder_thread(deadline_id: str) -> str:
    """What every reminder row of one entry shares (its `throttle_key`), in every channel."""
    return f"reminder|{deadline_id}"


def reminder_key(deadline_id: str, slot: str, channel: str) -> str:
    """The idempotency key of one reminder in one channel: `reminder:<id>:<slot>:<channel>`."""
    return alert_key(REMINDER, f"{deadline_id}:{slot}", channel)


def reminder_of(deadline: Deadline, slot: Slot, now: dt.datetime) -> Reminder:
    """The reminder's card as the outbox keeps it, frozen at `now`."""
    return Reminder(
        deadline_id=deadline.id,
        slot=slot.name,
        title=deadline.title,
        date=deadline.date,
        time=deadline.time,
        timezone=deadline.timezone,
        days_left=days_left(deadline, now),
        ends=deadline.ends,
        starts=deadline.starts,
        source=deadline.source,
        link=deadline.link,
        moves=tuple(deadline.moves.items()),
        event_types=tuple(deadline.event_types),
    )


def reminder_rows(
    deadline: Deadline, plan: ReminderPlan, channels: Sequence[str], now: dt.datetime
) -> list[dict[str, Any]]:
    """Outbox rows for what `plan` says, in each channel: the reminder to send (pending), and a
    skipped marker for each earlier reminder that would now come too late to be useful."""
    rows = []
    for channel in channels:
        if plan.send is not None:
            rows.append(_row(deadline, plan.send, channel, now, status=PENDING, why=None))
        for slot in plan.skip:
            why = f"skipped: the {plan.send.name if plan.send else 'later'} reminder was due too"
            rows.append(_row(deadline, slot, channel, now, status=SKIPPED, why=why))
    return rows



def _row(deadline: Deadline, slot: Slot, channel: str, now: dt.datetime, *, status: str, why: str | None) -> dict[str, Any]:
    return {
        "key": reminder_key(deadline.id, slot.name, channel),
        "kind": REMINDER,
        "article_id": None,
        "channel": channel,
        "throttle_key": reminder_thread(deadline.id),
        "parent_id": None,
        "payload": reminder_of(deadline, slot, now).to_payload(),
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        # In its channel's lane it takes its place by when it fell due, among news and prices.
        "sort_at": slot.due_at,
        "outcome_unknown": False,
        "last_error": why,
        "created_at": now,
    }
