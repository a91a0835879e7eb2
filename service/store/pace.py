"""Each Slack channel's pace, shared by every instance: one row per channel, one slot per post.

Slack allows about one message per second per channel. Paced in memory, each instance would
post at that rate by itself, and two instances at twice it. Here the bucket (domain/pace.py,
GCRA) lives in the `channel_pace` row: a post reserves the channel's next slot in a short
transaction that holds the row, and waits for the slot before posting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from service.domain.pace import due_after_pause, next_slot
from service.store.models import ChannelPace
from service.store.upsert import insert_ignoring_conflicts


def reserve_slot(session: Session, channel: str, now: datetime, *, rate: float, burst: int) -> datetime:
    """Take `channel`'s next slot and return when it begins (`now` or later); commits."""
    pace = _locked(session, channel, now)
    allowed_at, pace.due = next_slot(pace.due, now, pace.paused_until, interval=timedelta(seconds=1 / rate), burst=burst)
    session.commit()
    return allowed_at


def pause_channel(session: Session, channel: str, until: datetime, now: datetime, *, rate: float, burst: int) -> None:
    """Post nothing to `channel` before `until` (Slack's Retry-After), from any instance; commits."""
    pace = _locked(session, channel, now)
    pace.paused_until = max(pace.paused_until or until, until)
    pace.due = due_after_pause(pace.due, until, interval=timedelta(seconds=1 / rate), burst=burst)
    session.commit()


def _locked(session: Session, channel: str, now: datetime) -> ChannelPace:
    """The channel's row, created if new, locked until the caller commits.

    The writes come before the read on purpose: the UPDATE takes the row's lock on PostgreSQL
    (where inserting nothing over an existing row locks nothing), and the INSERT already takes
    the database's write lock on SQLite. So the read sees every slot reserved before, and a
    second reserver waits here until this one has committed its slot."""
    session.exec(insert_ignoring_conflicts(session, ChannelPace).values(channel=channel, due=now, paused_until=None))
    session.exec(update(ChannelPace).where(ChannelPace.channel == channel).values(due=ChannelPace.due))
    pace = session.exec(select(ChannelPace).where(ChannelPace.channel == channel).execution_options(populate_existing=True)).one()
    return pace
