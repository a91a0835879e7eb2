"""Calendar reminders to Slack, top to bottom: read the calendar, find for each entry the reminder
due now (service/alerts/reminders.py), route it where news of its topic goes, queue it in the
outbox (skipping the earlier reminders it makes moot), wake the dispatcher.

Every reminder is one outbox row with a unique key (`reminder:<id>:<7d|1d|0d>:<channel>`): of
several instances, restarts and retries, the first to insert it wins and the others insert
nothing, so each reminder is posted once. `reewatch run` looks every REMINDER_SWEEP_SECONDS (the
first time once its first poll cycle is done, so what fell due while the service was down goes
out then); `reewatch run --once` looks once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from service.alerts.reminders import (
    ReminderPlan,
    Slot,
    days_left,
    event_end,
    plan_reminders,
    reminder_channels,
    reminder_key,
    reminder_rows,
    reminder_slots,
    reminder_thread,
)
from service.bootstrap import Runtime
from service.config_watch import WatchedConfig
from service.digest.calendar import Deadline, load_calendar
from service.rules import Ruleset
from service.store.db import session as open_session
from service.store.models import OutboxAlert
from service.store.outbox import add_alerts, queued_keys, rows_of_threads, skip_unsent

if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

#: How often the running service looks for reminders that fell due. A reminder goes out at most
#: this long after 08:00 local, which is what a morning reminder needs.
REMINDER_SWEEP_SECONDS = 60


@dataclass
class ReminderReport:
    """What one look at the calendar queued."""

    queued: list[str] = field(default_factory=list)
    #: Rows marked skipped: superseded by a later reminder, or the date passed before they went.
    skipped: int = 0


def calendar_targets(ruleset: Ruleset) -> set[str]:
    """What a calendar entry's `moves` may name: the rules' watchlist groups and tickers."""
    return {*ruleset.catalogue.groups, *ruleset.catalogue.tickers}


def load_reminder_calendar(path: Path, ruleset: Ruleset) -> list[Deadline]:
    """The calendar file checked against the rules in force; no file means no reminders."""
    return load_calendar(path, targets=calendar_targets(ruleset)) if path.is_file() else []


def queue_due_reminders(
    session: Session,
    deadlines: Sequence[Deadline],
    *,
    ruleset: Ruleset,
    default_channel: str,
    now: dt.datetime,
) -> ReminderReport:
    """Queue every reminder due at `now`, once per key, and skip what it supersedes; commits.

    The keys already queued are read first, so a look that finds nothing new writes nothing; a
    row another instance inserts meanwhile is still refused by the unique key.
    """
    report = ReminderReport()
    over: list[str] = []
    for deadline in deadlines:
        plan = plan_reminders(deadline, now)
        if plan.over:
            over.append(reminder_thread(deadline.id))
            continue
        if plan.send is None:
            continue
        channels = reminder_channels(deadline, ruleset.rules, default_channel)
        rows = reminder_rows(deadline, plan, channels, now)
        known = queued_keys(session, (row["key"] for row in rows))
        inserted = add_alerts(session, [row for row in rows if row["key"] not in known])
        report.queued += [row.key for row in inserted if row.status == "pending"]
        report.skipped += sum(1 for row in inserted if row.status == "skipped")
        report.skipped += skip_unsent(
            session,
            key_prefixes=[_slot_prefix(deadline, slot) for slot in plan.skip],
            now=now,
            reason=f"skipped: the {plan.send.name} reminder was due too",
        )
    report.skipped += skip_unsent(session, threads=over, now=now, reason="skipped: the date passed before it was sent")
    session.commit()
    return report


def _slot_prefix(deadline: Deadline, slot: Slot) -> str:
    # Every channel's row of this reminder, including channels routed to before an edit.
    return reminder_key(deadline.id, slot.name, "")


async def send_due_reminders(rt: Runtime, deadlines: Sequence[Deadline], *, now: dt.datetime | None = None) -> ReminderReport:
    """Queue what is due now and wake the dispatcher to post it."""
    now = now or rt.clock()
    ruleset = rt.rules.current

    def queue() -> ReminderReport:
        with open_session(rt.engine) as session:
            return queue_due_reminders(
                session, deadlines, ruleset=ruleset, default_channel=rt.settings.slack_default_channel, now=now
            )

    report = await rt.db(queue)
    if report.queued:
        log.info("calendar reminders queued: %s", ", ".join(report.queued))
        rt.outbox_wakeup.set()
    if report.skipped:
        log.info("calendar reminders skipped: %d (a later one was due, or the date passed)", report.skipped)
    return report


def watch_calendar(rt: Runtime) -> WatchedConfig[list[Deadline]]:
    """calendar.yaml, read again when it (or the watchlists its `moves` name) changes; a broken
    edit is logged and the last good calendar stays in force."""
    settings = rt.settings
    return WatchedConfig(
        "calendar.yaml",
        lambda: [settings.calendar_file, settings.watchlists_file],
        lambda: load_reminder_calendar(settings.calendar_file, rt.rules.current),
    )


def serve_reminders(
    scheduler: BaseScheduler, rt: Runtime, calendar: WatchedConfig[list[Deadline]] | None = None
) -> Job:
    """Look for due reminders every REMINDER_SWEEP_SECONDS, at once first; reload the calendar
    on change before each look. `calendar` is the calendar already loaded (`watch_calendar`);
    without it, it is loaded now, raising ConfigError for a broken calendar."""
    if calendar is None:
        calendar = watch_calendar(rt)
        calendar.load_initial()
    if not calendar.current:
        log.info("no calendar entries (%s); no reminders are sent", rt.settings.calendar_file)

    async def sweep() -> None:
        try:
            # `moves` are checked against the rules in force: take an edit of the watchlists
            # first, and the calendar's edit at the next look if the rules are still loading.
            await rt.rules.reload()
            if not rt.rules.reloading:
                await calendar.reload()
            await send_due_reminders(rt, calendar.current)
        except Exception:
            log.exception("queueing calendar reminders failed; the next sweep tries again")

    return scheduler.add_job(
        sweep,
        IntervalTrigger(seconds=REMINDER_SWEEP_SECONDS, timezone=dt.UTC),
        id="calendar-reminders",
        name="calendar reminders to Slack",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=REMINDER_SWEEP_SECONDS,
        # The scheduler runs on the wall clock; the sweep reads the runtime's clock for dates.
        next_run_time=dt.datetime.now(dt.UTC),
    )


# -- `reewatch digest calendar` ---------------------------------------------------------------


@dataclass(frozen=True)
class SlotState:
    """One reminder of one entry as the CLI lists it."""

    slot: Slot
    #: "sent", "pending", "failed", "skipped", "due" (not queued yet), "upcoming" or "missed".
    state: str
    channels: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class EntryStatus:
    deadline: Deadline
    days_left: int
    slots: tuple[SlotState, ...]


def calendar_status(session: Session, deadlines: Iterable[Deadline], now: dt.datetime, *, past: bool = False) -> list[EntryStatus]:
    """Each entry still ahead (or every entry with `past`) and the state of its reminders."""
    chosen = [d for d in deadlines if past or now < event_end(d)]
    rows = rows_of_threads(session, [reminder_thread(d.id) for d in chosen])
    listed = []
    for deadline in chosen:
        plan = plan_reminders(deadline, now)
        states = tuple(
            _slot_state(slot, [r for r in rows if r.key.startswith(_slot_prefix(deadline, slot))], plan, now)
            for slot in reminder_slots(deadline)
        )
        listed.append(EntryStatus(deadline, days_left(deadline, now), states))
    return sorted(listed, key=lambda e: (e.deadline.date, e.deadline.id))


def _slot_state(slot: Slot, rows: list[OutboxAlert], plan: ReminderPlan, now: dt.datetime) -> SlotState:
    channels = tuple(row.channel for row in rows)
    if rows:
        statuses = {row.status for row in rows}
        # The state that matters most to a reader: something failed, then waiting, then done.
        for status in ("failed", "pending", "sent", "skipped"):
            if status in statuses:
                detail = next((row.last_error or "" for row in rows if row.status == status), "")
                sent = [row.sent_at for row in rows if row.sent_at is not None]
                if status == "sent" and sent:
                    detail = f"at {max(sent):%Y-%m-%d %H:%M} UTC"
                return SlotState(slot, status, channels, detail)
    if slot.due_at > now:
        return SlotState(slot, "upcoming")
    if plan.send == slot:
        return SlotState(slot, "due", detail="goes out at the next look")
    return SlotState(slot, "missed", detail="was due while nothing ran, and a later reminder or the date came first")
