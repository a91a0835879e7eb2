"""When each recipient's digest is due. Pure functions: the clock is always an argument.

A local send time that does not exist (02:30 on a spring-forward day) is read with the offset in
force before the change, so it lands as many minutes after the change as it was due after the
hour: 02:30 becomes 03:30. A local time that occurs twice (01:30 on a fall-back day) means its
first occurrence. Both follow PEP 495's fold=0, which is also how APScheduler reads cron fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger

from service.digest.recipients import Recipient

UTC = dt.UTC


@dataclass(frozen=True)
class Window:
    """The span of time one digest covers: [start, end), aware UTC."""

    start: dt.datetime
    end: dt.datetime

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


def send_instant(recipient: Recipient, day: dt.date) -> dt.datetime:
    """The UTC instant of `recipient`'s send time on `day` in their zone (fold=0, see above)."""
    return dt.datetime.combine(day, recipient.time, tzinfo=recipient.zone).astimezone(UTC)


def is_send_day(recipient: Recipient, day: dt.date) -> bool:
    return day.weekday() in recipient.weekdays


def local_day(recipient: Recipient, moment: dt.datetime) -> dt.date:
    """The calendar day it is for `recipient` at `moment`."""
    return moment.astimezone(recipient.zone).date()


def next_send(recipient: Recipient, after: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The first (day, UTC instant) of a digest strictly after `after`."""
    day = local_day(recipient, after) - dt.timedelta(days=1)
    for _ in range(9):
        if is_send_day(recipient, day):
            instant = send_instant(recipient, day)
            if instant > after:
                return day, instant
        day += dt.timedelta(days=1)
    raise AssertionError("a recipient has at least one weekday")  # guarded by parse_weekdays


def previous_send_day(recipient: Recipient, day: dt.date) -> dt.date:
    """The latest digest day before `day` (Friday for a Monday, with mon-fri)."""
    for back in range(1, 8):
        candidate = day - dt.timedelta(days=back)
        if is_send_day(recipient, candidate):
            return candidate
    raise AssertionError("a recipient has at least one weekday")


def window_for(recipient: Recipient, day: dt.date) -> Window:
    """What the digest for `day` covers: from the previous digest's send time to this one's.

    So Monday's digest carries the weekend, and nothing falls between two digests.
    """
    return Window(send_instant(recipient, previous_send_day(recipient, day)), send_instant(recipient, day))


def deliverable_until(recipient: Recipient, day: dt.date) -> dt.datetime:
    """The end of `day` in the recipient's zone: a digest not sent by then is not sent at all."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=recipient.zone).astimezone(UTC)


def due_day(recipient: Recipient, now: dt.datetime) -> dt.date | None:
    """The day whose digest is due at `now`: today in the recipient's zone once its time has come.

    A digest missed while the service was down is still due until the recipient's day ends.
    """
    day = local_day(recipient, now)
    if is_send_day(recipient, day) and send_instant(recipient, day) <= now < deliverable_until(recipient, day):
        return day
    return None


def digest_trigger(recipient: Recipient) -> CronTrigger:
    """An APScheduler trigger firing at the recipient's send time on their weekdays, in their zone.

    Weekdays go by name: `from_crontab` reads 1-5 as Tuesday to Saturday.
    """
    return CronTrigger(
        day_of_week=recipient.cron_weekdays,
        hour=recipient.time.hour,
        minute=recipient.time.minute,
        timezone=recipient.zone,
    )
