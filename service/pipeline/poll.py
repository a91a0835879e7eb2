"""Polling feeds, top to bottom: lease due feeds, fetch, skip what has not changed, parse,
keep what is new, record the feed's health. One bad feed never stops the cycle."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from service.alerts.queue import Enrichment
from service.bootstrap import Runtime
from service.domain.feeds import Entry
from service.domain.scoring import Assessment, Source
from service.errors import FeedError, HTTPStatusError, LeaseLost, RateLimited
from service.logs import log_context
from service.pipeline.backoff import next_poll_after_failure, next_poll_after_success
from service.pipeline.stories import tell_stories
from service.redaction import scrub
from service.rules import score_entry
from service.sources.fetcher import FetchResult, fetch_feed
from service.sources.parser import ParsedFeed
from service.storable import storable
from service.store.articles import insert_articles, unseen_entries
from service.store.db import session as open_session
from service.store.feeds import claim_due_feeds, locked_feed, release
from service.store.models import Feed

log = logging.getLogger(__name__)

#: A feed that did not change, waiting to be recorded: id, name, lease token, the fetch, its
#: body's hash, when its poll began.
Unchanged = tuple[int, str, str, FetchResult, str | None, datetime]
#: A feed's stored warnings, all in one text.
MAX_WARNING_CHARS = 2_000


@dataclass
class StoredArticle:
    id: int
    title: str
    link: str | None
    published: datetime | None
    verdict: Assessment | None = None


@dataclass
class FeedOutcome:
    """What one poll of one feed did, for logs, the CLI and the demo."""

    feed: str
    status: str  # "new", "not_modified", "unchanged", "failed"
    new: int = 0
    #: Outbox rows queued for the new articles (one per alert and channel).
    alerts: int = 0
    seen: int = 0
    duplicates: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    articles: list[StoredArticle] = field(default_factory=list)


@dataclass
class CycleReport:
    outcomes: list[FeedOutcome]

    @property
    def new_articles(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def queued_alerts(self) -> int:
        return sum(o.alerts for o in self.outcomes)

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


async def poll_due_feeds(rt: Runtime, *, names: list[str] | None = None) -> CycleReport:
    """Poll every feed that is due and not leased by another instance, concurrently."""
    return await poll_feeds(rt, await claim_feeds(rt, names=names))


async def claim_feeds(rt: Runtime, *, names: list[str] | None = None) -> list[Feed]:
    """Lease every feed that is due now and no other instance holds."""
    return await rt.db(_claim, rt, rt.clock(), names)


async def poll_feeds(
    rt: Runtime,
    feeds: list[Feed],
    *,
    limit: asyncio.Semaphore | None = None,
    on_polled: Callable[[FeedOutcome], None] | None = None,
) -> CycleReport:
    """Poll feeds this instance has leased, concurrently within `limit` (by default
    REEWATCH_FETCH_CONCURRENCY for this call alone); `on_polled` hears of each as it ends."""
    if not feeds:
        return CycleReport([])
    limit = limit or asyncio.Semaphore(rt.settings.fetch_concurrency)
    unchanged = UnchangedFeeds(rt)
    # Every feed's lease is renewed by the heartbeat until its own poll ends, waiting turns included.
    for feed in feeds:
        rt.leases.hold(Feed, feed.lease_owner or "")

    async def guarded(feed: Feed) -> FeedOutcome:
        try:
            async with limit:
                outcome = await _poll_guarded(rt, feed, len(feeds), unchanged)
        finally:
            rt.leases.let_go(Feed, feed.lease_owner or "")
        if on_polled is not None:
            on_polled(outcome)
        return outcome

    outcomes = await asyncio.gather(*(guarded(feed) for feed in feeds))
    await unchanged.drain()
    return CycleReport(list(outcomes))


async def _poll_guarded(rt: Runtime, feed: Feed, batch_size: int, unchanged: UnchangedFeeds) -> FeedOutcome:
    with log_context(feed=feed.name, feed_id=feed.id):
        try:
            return await poll_feed(rt, feed, batch_size=batch_size, unchanged=unchanged)
        except LeaseLost as lost:
            log.warning("feed %s: %s", feed.name, lost)
            return FeedOutcome(feed.name, "lost", error=str(lost))
        except Exception as exc:  # a bug must cost one feed one cycle, not the whole cycle
            log.exception("internal error while polling feed %s", feed.name)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            try:
                await rt.db(_record_failure, rt, feed.id, feed.lease_owner, FeedError(reason), rt.clock())
            except LeaseLost as lost:
                log.warning("feed %s: %s", feed.name, lost)
            except Exception:
                log.exception("could not record the failure of feed %s", feed.name)
            return FeedOutcome(feed.name, "failed", error=reason)


class UnchangedFeeds:
    """Records feeds that answered 304 (or an unchanged body) in shared transactions.

    Most polls of a busy cycle change nothing, and one transaction per feed made the database
    thread, not the network, the slowest part of such a cycle. A feed is queued here and
    written with whatever else queued up meanwhile: at once when the database thread is idle,
    in one batch when it is busy. If a batch cannot be written the feeds stay leased, and are
    polled again when their leases run out: nothing is lost but a timestamp.
    """

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.pending: list[Unchanged] = []
        self.writer: asyncio.Task | None = None

    def add(self, feed: Feed, fetched: FetchResult, body_hash: str | None, started: datetime) -> None:
        self.pending.append((feed.id, feed.name, feed.lease_owner, fetched, body_hash, started))  # type: ignore[arg-type]
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await self.rt.db(_record_all_unchanged, self.rt, batch, self.rt.clock())
            except Exception:
                names = ", ".join(name for _, name, *_ in batch)
                log.exception("could not record %d unchanged feeds (%s); they are polled again when their leases expire", len(batch), names)

    async def drain(self) -> None:
        """Wait until every queued feed is written."""
        while self.writer is not None and not self.writer.done():
            await self.writer


async def poll_feed(
    rt: Runtime, feed: Feed, *, batch_size: int = 1, unchanged: UnchangedFeeds | None = None
) -> FeedOutcome:
    """Fetch one feed, store its new entries, and record how the feed is doing.

    With `unchanged`, a feed that did not change is recorded in a batch with others (the
    caller drains it); without, at once."""
    started = rt.clock()
    try:
        fetched = await fetch_feed(
            rt.http,
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            max_bytes=rt.settings.max_body_bytes,
            deadline=rt.settings.fetch_deadline,
        )
        body_hash = None if fetched.not_modified else hashlib.sha256(fetched.body or b"").hexdigest()
        if fetched.not_modified or body_hash == feed.body_hash:
            if unchanged is not None:
                unchanged.add(feed, fetched, body_hash, started)
            else:
                await rt.db(
                    _record_all_unchanged, rt, [(feed.id, feed.name, feed.lease_owner, fetched, body_hash, started)], rt.clock()
                )
            return FeedOutcome(feed.name, "not_modified" if fetched.not_modified else "unchanged")
        parsed = await rt.parser.parse(
            fetched.body or b"",
            url=fetched.url,
            content_type=fetched.content_type,
            now=started,
            batch_size=batch_size,
        )
    except FeedError as err:
        failures = await rt.db(_record_failure, rt, feed.id, feed.lease_owner, err, rt.clock())
        log.warning("feed %s failed (%d in a row): %s", feed.name, failures, err.reason)
        return FeedOutcome(feed.name, "failed", error=err.reason)
    for warning in parsed.warnings:
        log.info("feed %s: %s", feed.name, warning)
    outcome = await rt.db(_store_new_entries, rt, feed.id, feed.lease_owner, fetched, parsed, body_hash, rt.clock(), started)
    if outcome.alerts:
        rt.outbox_wakeup.set()  # the dispatcher claims the new rows now, not at its next poll
    return outcome


def _claim(rt: Runtime, now: datetime, names: list[str] | None) -> list[Feed]:
    with open_session(rt.engine) as session:
        return claim_due_feeds(session, rt.instance, now, rt.settings.lease, names=names)


def _store_new_entries(
    rt: Runtime,
    feed_id: int,
    token: str,
    fetched: FetchResult,
    parsed: ParsedFeed,
    body_hash: str,
    now: datetime,
    started: datetime,
) -> FeedOutcome:
    """In one transaction: score and insert the new entries, queue their alerts, and mark the
    feed healthy. If the database refuses that, entry by entry, setting aside what it refuses.
    Raises LeaseLost, storing nothing, if another instance took the feed over meanwhile."""
    try:
        with open_session(rt.engine) as session:
            feed = locked_feed(session, feed_id, token)
            fresh, seen, duplicates = unseen_entries(session, feed.id, parsed.entries)
            stored = _store_entries(rt, session, feed, fresh, now)
            _mark_stored(rt, feed, fetched, parsed, body_hash, now, started, set_aside=[])
            session.commit()
    except StatementError as exc:
        log.warning(
            "feed %d: the database refused its %d new entries as a whole (%s); storing them one by one",
            feed_id,
            len(parsed.entries),
            _refusal(exc),
        )
        return _store_entry_by_entry(rt, feed_id, token, fetched, parsed, body_hash, now, started)
    return _outcome(feed.name, stored, seen, duplicates + len(fresh) - len(stored.inserted), parsed.warnings)


@dataclass
class _Stored:
    inserted: list[tuple[int, Entry]] = field(default_factory=list)
    verdicts: dict[str, Assessment] = field(default_factory=dict)
    alerts: int = 0


def _store_entries(rt: Runtime, session: Session, feed: Feed, entries: list[Entry], now: datetime) -> _Stored:
    """Score and insert `entries` and queue their alerts, in the caller's transaction."""
    # Scoring is pure and fast; doing it here stores each article with its verdict, so an
    # article never exists unscored.
    ruleset = rt.rules.current
    source = Source(name=feed.name, kind=feed.kind, weight=feed.weight)
    verdicts = {entry.guid: score_entry(ruleset, entry, source) for entry in entries}
    inserted = insert_articles(session, feed.id, entries, now, verdicts)
    # Each article joins its story, and what the desk is told goes in with it: an alert exists
    # if and only if its article does. A feed's first poll stores its history quietly (unless
    # the feed says `backfill: alert`), and old items never alert.
    told = tell_stories(
        session,
        ruleset,
        [(article_id, entry, verdicts[entry.guid]) for article_id, entry in inserted],
        source,
        now=now,
        backfill=feed.last_success_at is None and feed.backfill != "alert",
        max_age=rt.settings.alert_age_limit,
        default_channel=rt.settings.slack_default_channel,
        enrichment=Enrichment.from_settings(rt.settings),
    )
    # The stored verdicts carry their novelty.
    verdicts |= {entry.guid: told.verdicts[article_id] for article_id, entry in inserted}
    return _Stored(inserted, verdicts, told.alerts)


def _store_entry_by_entry(
    rt: Runtime,
    feed_id: int,
    token: str,
    fetched: FetchResult,
    parsed: ParsedFeed,
    body_hash: str,
    now: datetime,
    started: datetime,
) -> FeedOutcome:
    """Each new entry in its own transaction (its article with its alerts); one the database
    refuses is set aside with the reason logged, and the feed's other entries are stored."""
    with open_session(rt.engine) as session:
        fresh, seen, duplicates = unseen_entries(session, feed_id, parsed.entries)
    stored = _Stored()
    set_aside: list[str] = []
    name = str(feed_id)
    for entry in fresh:
        try:
            with open_session(rt.engine) as session:
                feed = locked_feed(session, feed_id, token)
                name = feed.name
                one = _store_entries(rt, session, feed, [entry], now)
                session.commit()
        except StatementError as exc:
            reason = _refusal(exc)
            log.warning("feed %s: entry %r set aside, the database refused it: %s", name, entry.guid[:200], reason)
            set_aside.append(reason)
            continue
        duplicates += 1 - len(one.inserted)
        stored.inserted += one.inserted
        stored.verdicts |= one.verdicts
        stored.alerts += one.alerts
    with open_session(rt.engine) as session:
        feed = locked_feed(session, feed_id, token)
        warnings = _mark_stored(rt, feed, fetched, parsed, body_hash, now, started, set_aside=set_aside)
        session.commit()
    return _outcome(feed.name, stored, seen, duplicates, warnings)


def _mark_stored(
    rt: Runtime,
    feed: Feed,
    fetched: FetchResult,
    parsed: ParsedFeed,
    body_hash: str,
    now: datetime,
    started: datetime,
    *,
    set_aside: list[str],
) -> list[str]:
    """Mark the feed healthy after storing its entries; returns the warnings recorded on it."""
    warnings = list(parsed.warnings)
    _mark_success(rt, feed, fetched, now, started)
    feed.body_hash = body_hash
    if set_aside:
        warnings.append(
            f"{len(set_aside)} entries could not be stored and were set aside ({set_aside[0]}); "
            "the feed is read again at its next poll"
        )
        # Forget the validators and the body's hash, so the next poll fetches and parses the
        # body again and retries what was set aside (what was stored is recognised as seen).
        feed.body_hash = feed.etag = feed.last_modified = None
    feed.title = parsed.title or feed.title
    feed.last_warning = scrub("; ".join(warnings), limit=MAX_WARNING_CHARS) or None
    return warnings


def _outcome(name: str, stored: _Stored, seen: int, duplicates: int, warnings: list[str]) -> FeedOutcome:
    return FeedOutcome(
        name,
        "new",
        new=len(stored.inserted),
        alerts=stored.alerts,
        seen=seen,
        duplicates=duplicates,
        warnings=list(warnings),
        articles=[StoredArticle(aid, e.title, e.link, e.published, stored.verdicts[e.guid]) for aid, e in stored.inserted],
    )


def _refusal(exc: StatementError) -> str:
    """What the database said, without the statement or its values."""
    detail = str(getattr(exc, "orig", None) or exc).strip()
    return scrub(detail.splitlines()[0] if detail else type(exc).__name__)


def _record_all_unchanged(rt: Runtime, batch: list[Unchanged], now: datetime) -> None:
    """Mark feeds that did not change as polled, in one transaction."""
    with open_session(rt.engine) as session:
        query = select(Feed).where(Feed.id.in_([feed_id for feed_id, *_ in batch]))  # type: ignore[union-attr]
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        feeds = {feed.id: feed for feed in session.exec(query)}
        for feed_id, name, token, fetched, body_hash, started in batch:
            feed = feeds.get(feed_id)
            if feed is None:
                continue  # removed from feeds.yaml while it was being polled
            if feed.lease_owner != token:
                log.warning("feed %s: %s", name, LeaseLost("its poll"))
                continue
            _mark_success(rt, feed, fetched, now, started)
            if body_hash:
                feed.body_hash = body_hash
        session.commit()


def _record_failure(rt: Runtime, feed_id: int, token: str, err: FeedError, now: datetime) -> int:
    with open_session(rt.engine) as session:
        feed = locked_feed(session, feed_id, token)
        feed.consecutive_failures += 1
        feed.last_polled_at = now
        feed.last_error = err.reason
        feed.last_error_at = now
        feed.last_status = err.status if isinstance(err, HTTPStatusError) else None
        if not err.retryable:
            feed.disabled_reason = f"{err.reason} (since {now:%Y-%m-%d %H:%M} UTC)"
        feed.next_poll_at = next_poll_after_failure(
            now,
            feed.interval_seconds,
            feed.consecutive_failures,
            max_backoff=rt.settings.max_backoff_seconds,
            jitter=rt.rng.random(),
            retry_after=err.retry_after if isinstance(err, RateLimited) else None,
        )
        release(feed)
        session.commit()
        return feed.consecutive_failures


def _mark_success(rt: Runtime, feed: Feed, fetched: FetchResult, now: datetime, started: datetime) -> None:
    feed.last_status = fetched.status
    feed.last_polled_at = now
    feed.last_success_at = now
    feed.consecutive_failures = 0
    # RFC 9111: keep each validator the server sends, even when the other one is absent.
    if fetched.etag:
        feed.etag = storable(fetched.etag, 512)
    if fetched.last_modified:
        feed.last_modified = storable(fetched.last_modified, 128)
    feed.next_poll_at = next_poll_after_success(started, now, feed.interval_seconds, jitter=rt.rng.random())
    release(feed)
