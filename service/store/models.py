"""The tables. Every timestamp is an aware UTC datetime (see UTCDateTime)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.store.types import PortableJSON, UTCDateTime

# Stable constraint names let Alembic's batch mode on SQLite and autogenerate find them again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Feed(SQLModel, table=True):
    """A polled feed: what `feeds.yaml` declares, plus its fetch state and health."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    url: str = Field(max_length=2048)
    interval_seconds: int = 300
    kind: str = Field(default="sector", max_length=20)
    weight: float = 0.8
    #: False once the feed is no longer in feeds.yaml (its articles stay).
    enabled: bool = True

    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    body_hash: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=1000)

    last_status: int | None = None
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_warning: str | None = Field(default=None, sa_type=Text)
    consecutive_failures: int = 0
    next_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    #: Set when polling stopped for a reason a person must fix (HTTP 410).
    disabled_reason: str | None = Field(default=None, sa_type=Text)

    # Several instances share the work: a feed is polled by whoever holds its lease.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Article(SQLModel, table=True):
    """One stored entry. Unique per feed by guid, and across feeds by canonical link."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid"),
        UniqueConstraint("canonical_link"),
        Index(None, "fetched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(sa_column=Column(Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False))
    guid: str = Field(max_length=512)
    link: str | None = Field(default=None, max_length=2048)
    canonical_link: str | None = Field(default=None, max_length=2048)
    title: str = Field(sa_type=Text)
    summary: str = Field(default="", sa_type=Text)
    published: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64)


#: Where an outbox row stands. A row is `sent` only once Slack (or the console) took the message.
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "sent", "failed")


class OutboxAlert(SQLModel, table=True):
    """One alert for one channel, written in the same transaction as what raised it.

    The dispatcher leases due rows, posts them and records the outcome; the unique `key` goes
    into the Slack message's metadata, so an attempt whose outcome is unknown can be looked up
    in the channel before anything is posted again.
    """

    __tablename__ = "outbox_alerts"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        # The claim query: due pending rows, oldest first.
        Index(None, "status", "next_attempt_at"),
        # The throttle: an earlier top-level alert with the same rule, tickers and channel.
        Index(None, "throttle_key", "channel", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: Idempotency key, e.g. "news:1234:#rare-earth-alerts": one row per alert and channel.
    key: str = Field(max_length=300)
    #: What `payload` holds: "news" (an article's alert); price alerts will add their own kinds.
    kind: str = Field(default="news", max_length=20)
    #: The scored article; its deletion takes its alerts with it.
    article_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    #: The channel as routed (a name like "#alerts" or an id like "C0123"; "console" without Slack).
    channel: str = Field(max_length=100)
    #: Top rule id and sorted tickers: repeats inside the throttle window reply in one thread.
    throttle_key: str | None = Field(default=None, max_length=300)
    #: The top-level alert this one replies to (its thread); null for a top-level alert.
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("outbox_alerts.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: Everything needed to render the alert, frozen when it was queued (see domain.alerts.Alert).
    payload: dict = Field(default_factory=dict, sa_type=PortableJSON)

    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: True from just before a post until its outcome is known: a crash or a timeout leaves it
    #: set, and the next attempt then searches the channel for the message before posting.
    outcome_unknown: bool = False
    last_error: str | None = Field(default=None, sa_type=Text)

    # Several instances drain one outbox: a row is sent by whoever holds its lease.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)

    #: Filled in by the attempt: the channel's id and, for a reply, the parent's ts.
    channel_id: str | None = Field(default=None, max_length=40)
    thread_ts: str | None = Field(default=None, max_length=40)
    #: The message's ts once Slack accepted it.
    ts: str | None = Field(default=None, max_length=40)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
