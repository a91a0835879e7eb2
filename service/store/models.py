"""The tables. Every timestamp is an aware UTC datetime (see UTCDateTime)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
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
    #: What the first successful poll does with the items it finds: "quiet" stores them without
    #: alerting (a feed's history is not news), "alert" alerts on them like on any later item.
    backfill: str = Field(default="quiet", max_length=10)
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
        # The digest's query: the alerts scored in its window.
        Index(None, "alert", "scored_at"),
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

    # The rules' verdict (service.domain.scoring.Assessment), written in the same transaction
    # as the article. NULL only for articles stored before scoring existed.
    event_types: list[str] | None = Field(default=None, sa_type=PortableJSON)
    score: int | None = None
    severity: str | None = Field(default=None, max_length=10)
    alert: bool | None = None
    impacts: dict[str, str] | None = Field(default=None, sa_type=PortableJSON)
    relevance: dict[str, int] | None = Field(default=None, sa_type=PortableJSON)
    rules: list[str] | None = Field(default=None, sa_type=PortableJSON)
    matched: list[str] | None = Field(default=None, sa_type=PortableJSON)
    novelty: int | None = None
    scored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    #: The story this report belongs to (service.events.stories); NULL only for articles stored
    #: before stories existed.
    story_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: What story grouping compares: a MinHash sketch of the text, and the event signature.
    sketch: bytes | None = Field(default=None, sa_type=LargeBinary)
    signature: dict | None = Field(default=None, sa_type=PortableJSON)
    #: Why an alert-worthy report was stored without alerting: "backfill" (the feed's first
    #: poll) or "too old" (published more than REEWATCH_MAX_ALERT_AGE ago); NULL otherwise.
    quiet: str | None = Field(default=None, max_length=20)


#: A story's alert state, as `reewatch stories` shows it.
STORY_STATES: tuple[str, ...] = ("alerted", "quiet", "no alert")


class Story(SQLModel, table=True):
    """One event as outlets told it: the reports (articles) of it, and how the desk was told.

    Written in the transaction that stores its reports. `sources`, `severity` and `tickers`
    say what the desk has been shown so far, so a later report is judged on what it adds.
    """

    __tablename__ = "stories"
    __table_args__ = (Index(None, "last_seen"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The first report's headline.
    title: str = Field(sa_type=Text)
    #: The earliest and latest publication time of its reports.
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)
    #: The primary event type of its first judged report; NULL while no rule fired on any.
    event_type: str | None = Field(default=None, max_length=40)
    #: The highest severity of its reports, raised one step when an official source confirms
    #: what the press reported first.
    severity: str | None = Field(default=None, max_length=10)
    #: The feeds that carried it, first first.
    sources: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    reports: int = 0
    official: bool = False
    #: The tickers its alerts have shown so far.
    tickers: list[str] = Field(default_factory=list, sa_type=PortableJSON)
    #: "alerted", "quiet" (alert-worthy, but every report was backfill or too old) or "no alert".
    state: str = Field(default="no alert", max_length=10)
    #: Why a quiet story did not alert.
    quiet_reason: str | None = Field(default=None, max_length=20)
    #: When its first alert was queued.
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StoryKey(SQLModel, table=True):
    """The story index: one row per LSH band and per event key of each report.

    A new report looks up the rows sharing any of its keys within the story span: the reports
    that may be near duplicates of it or the same event, found without reading the others.
    """

    __tablename__ = "story_keys"
    __table_args__ = (Index(None, "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: int = Field(sa_type=BigInteger)
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    story_id: int = Field(sa_column=Column(Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False))
    #: The report's publication time (when it was seen, if the feed gave none).
    at: datetime = Field(sa_type=UTCDateTime)

class PriceBar(SQLModel, table=True):
    """One OHLCV bar. A re-delivered bar (same ticker, interval and start) replaces the old values."""

    __tablename__ = "price_bars"
    __table_args__ = (UniqueConstraint("ticker", "interval", "timestamp"),)

    id: int | None = Field(default=None, primary_key=True)
    ticker: str = Field(max_length=32)
    #: "1m", "5m", ... or "1d" (one exchange session).
    interval: str = Field(max_length=8)
    #: The bar's start; a daily bar starts at exchange-local midnight of its session.
    timestamp: datetime = Field(sa_type=UTCDateTime)
    open: float
    high: float
    low: float
    close: float
    volume: int = Field(sa_type=BigInteger)
    source: str = Field(max_length=16)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TickerState(SQLModel, table=True):
    """A watched ticker: its listing, the freshness of its prices, and its source's health for it."""

    __tablename__ = "ticker_states"
    __table_args__ = (UniqueConstraint("ticker"),)

    id: int | None = Field(default=None, primary_key=True)
    ticker: str = Field(max_length=32)
    #: Unknown (None) when the symbol's suffix names no exchange we know.
    exchange: str | None = Field(default=None, max_length=16)
    currency: str | None = Field(default=None, max_length=3)
    reporting_currency: str | None = Field(default=None, max_length=3)
    #: The source of the last attempt: "yfinance", "stream" or "replay".
    source: str | None = Field(default=None, max_length=16)

    last_bar_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_bar_interval: str | None = Field(default=None, max_length=8)
    last_price: float | None = None
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When daily bars were last fetched; they are fetched again once the next session closes.
    daily_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    #: Set while the prices cannot be trusted as current (e.g. zero volume for 3 sessions).
    stale_reason: str | None = Field(default=None, sa_type=Text)
    #: What was wrong with the last delivery although it was used (NaN bars dropped, duplicates).
    data_warning: str | None = Field(default=None, sa_type=Text)
    #: When the price rules last judged this ticker, which fired, and which could not judge and why.
    rules_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rules_firing: str | None = Field(default=None, sa_type=Text)
    rules_blocked: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DigestRun(SQLModel, table=True):
    """One recipient's digest for one day. Its unique key makes it go out at most once,
    whichever instance, restart or retry gets to it; the lease marks an attempt in flight."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("key"), Index(None, "status", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    #: digest:{recipient}:{date}, the recipient's address case-folded, the date in their zone.
    key: str = Field(max_length=400)
    recipient: str = Field(max_length=320)
    digest_date: date
    status: str = Field(default="pending", max_length=10)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    #: The end of the digest's day in the recipient's zone: a digest not sent by then is dropped.
    expires_at: datetime = Field(sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Fixed when the run is created, so a retry after an unclear failure carries the same id
    #: and mail clients can fold a rare second copy into the first.
    message_id: str = Field(max_length=255)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Where it went: "smtp host:port", or the .eml file written under var/outbox/.
    delivered_via: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


#: Where an outbox row stands. A row is `sent` only once Slack (or the console) took the message;
#: `skipped` marks a calendar reminder that a later one of the same date made moot.
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "sent", "failed", "skipped")


class OutboxAlert(SQLModel, table=True):
    """One alert for one channel, written in the same transaction as what raised it.

    The dispatcher leases due rows, posts them and records the outcome; the unique `key` goes
    into the Slack message's metadata, so an attempt whose outcome is unknown can be looked up
    in the channel before anything is posted again.
    """

    __tablename__ = "outbox_alerts"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="status"),
        # The claim query: due pending rows, oldest first.
        Index(None, "status", "next_attempt_at"),
        # The throttle: an earlier top-level alert with the same rule, tickers and channel.
        Index(None, "throttle_key", "channel", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: Idempotency key, e.g. "news:1234:#rare-earth-alerts": one row per alert and channel.
    key: str = Field(max_length=300)
    #: What `payload` holds: "news" (an article's alert, or a later report of its story replying
    #: in its thread), "update" (the story's first alert edited to list its sources), "price"
    #: (a price rule fired), "followup" (a thread reply on how its tickers moved since) or
    #: "reminder" (a calendar date coming up).
    kind: str = Field(default="news", max_length=20)
    #: The scored article; its deletion takes its alerts with it.
    article_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=True, index=True),
    )
    #: The channel as routed (a name like "#alerts" or an id like "C0123"; "console" without Slack).
    channel: str = Field(max_length=100)
    #: Price alerts: the ticker, so repeats inside the rule's throttle window reply in one thread.
    #: Calendar reminders: "reminder|<entry id>", so an entry's reminders are found together.
    throttle_key: str | None = Field(default=None, max_length=300)
    #: News alerts, their updates and replies: the story they tell.
    story_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    #: The order rows go out in, per channel: a news alert's publication time, and its thread's
    #: rows right after it (they share it); a price alert's and a follow-up's due time.
    sort_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
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


class InstanceHeartbeat(SQLModel, table=True):
    """A running instance: written every REEWATCH_HEARTBEAT_SECONDS, removed when it stops.

    A row older than REEWATCH_INSTANCE_TIMEOUT marks an instance that died (or froze): others
    take over the work it leased at once instead of waiting for its leases to run out."""

    __tablename__ = "instance_heartbeats"

    instance_id: str = Field(primary_key=True, max_length=80)
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    beat_at: datetime = Field(sa_type=UTCDateTime)


class ChannelPace(SQLModel, table=True):
    """One Slack channel's pace, shared by every instance posting to it (a GCRA token bucket).

    `due` is when every slot handed out so far would have been paid for at the channel's rate;
    a post may go `burst - 1` intervals before it. Reserving a slot moves it on, under the row's
    lock, so two instances never get the same slot."""

    __tablename__ = "channel_pace"

    channel: str = Field(primary_key=True, max_length=100)
    due: datetime = Field(sa_type=UTCDateTime)
    #: Nothing goes before this (Slack answered 429 with Retry-After).
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
