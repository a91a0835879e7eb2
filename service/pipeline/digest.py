"""Daily digests, top to bottom: find whose digest is due, claim the day's run in the ledger,
gather the content, render it, hand it to the mailer, record the outcome. A failed hand-over is
retried with back-off until the recipient's day ends; a sent digest is never sent again."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from service import metrics
from service.bootstrap import Runtime, make_mailer, make_market_data
from service.config import Settings
from service.config_watch import WatchedConfig
from service.delivery.email import Mailer, sender_address
from service.digest.calendar import Deadline, load_calendar, upcoming_deadlines
from service.digest.chart import price_chart
from service.digest.content import (
    Digest,
    DigestAlert,
    FailingFeed,
    PricePoint,
    TickerMove,
    Unavailable,
    build_digest,
)
from service.digest.recipients import Recipient, load_recipients
from service.digest.render import compose_message, preview_html, render_digest
from service.digest.schedule import (
    Window,
    deliverable_until,
    digest_trigger,
    due_day,
    is_send_day,
    next_send,
    previous_send_day,
    send_instant,
    window_for,
)
from service.errors import ConfigError, MailError, Problem
from service.pipeline.backoff import failure_delay
from service.redaction import scrub
from service.rules import Ruleset, load_ruleset
from service.store.db import session as open_session
from service.store.digests import (
    FAILED,
    SENT,
    SKIPPED,
    Claim,
    claim_run,
    expire_runs,
    get_run,
    open_run,
    record_failure,
    record_sent,
    record_skipped,
    renew_claim,
    run_key,
)
from service.store.models import DigestRun
from service.store.digest_data import articles_seen, watching_since
from service.store.feeds import failing_feeds

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

#: Retries wait 1, 2, 4 ... minutes, at most half an hour, until the recipient's day ends.
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 1800
#: A 5xx answer (or a bug of ours) is tried this many times in all: it takes an operator's fix.
MAX_PERMANENT_ATTEMPTS = 3
#: The chart shows this many days up to the digest's send time.
CHART_DAYS = 5
#: How often the sweep looks for retries due and digests missed while the service was down.
SWEEP_SECONDS = 60


class MarketData(Protocol):
    """The queries a digest needs from the alert store (issue 4) and the price store (issue 5).

    Each may raise: the digest then says that part could not be read, instead of looking calm.
    """

    def followed_tickers(self, watchlists: Sequence[str]) -> Mapping[str, str]:
        """Ticker -> watchlist group for the named groups (every group when none is named)."""

    def alerts(self, session: Session, window: Window) -> Sequence[DigestAlert]:
        """Every alert raised in `window`, with its article and assessment."""

    def prices(
        self, session: Session, tickers: Mapping[str, str], since: dt.datetime, until: dt.datetime
    ) -> tuple[Sequence[TickerMove], Mapping[str, Sequence[PricePoint]]]:
        """The watchlist rows as of `until`, and each ticker's closes from `since` to `until`."""


@dataclass(frozen=True)
class DigestSetup:
    """What the digest use cases work with: who gets one, the calendar, and the adapters."""

    recipients: Sequence[Recipient]
    deadlines: Sequence[Deadline]
    mailer: Mailer
    sender: Address
    market: MarketData | None = None


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one recipient's digest on one call, for the CLI and the logs."""

    recipient: str
    day: dt.date | None
    status: str  # sent, skipped, retrying, failed, already_sent, in_flight, waiting, not_due
    detail: str = ""


def load_digest_setup(
    settings: Settings,
    market: MarketData | None = None,
    *,
    ruleset: Ruleset | None = None,
    digests_file: Path | None = None,
) -> DigestSetup:
    """Recipients and calendar from the rules folder, the mailer and sender from settings.

    The recipients' watchlists are checked against the groups of `ruleset` (the rules folder's,
    loaded now, when not given). `digests_file` replaces rules/digests.yaml (the demo has its own).
    Raises ConfigError with every located problem. A missing calendar means no deadlines.
    """
    digests_file = digests_file or settings.digests_file
    if not digests_file.is_file():
        raise ConfigError(
            [Problem(str(digests_file), None, None, "no digests file; list the recipients there (see docs/digest.md)")]
        )
    ruleset = ruleset or load_ruleset(settings.rules_dir)
    recipients = load_recipients(digests_file, watchlists=ruleset.catalogue.groups)
    targets = {*ruleset.catalogue.groups, *ruleset.catalogue.tickers}
    deadlines = load_calendar(settings.calendar_file, targets=targets) if settings.calendar_file.is_file() else []
    return DigestSetup(recipients, deadlines, make_mailer(settings), sender_address(settings.digest_from), market)


def next_attempt_after_failure(
    now: dt.datetime, attempts: int, *, temporary: bool, expires_at: dt.datetime, jitter: float
) -> dt.datetime | None:
    """When to try a failed digest again, or None to give up on it.

    Temporary failures (no connection, 4xx) retry with back-off until the digest's day ends;
    permanent ones (5xx) only up to MAX_PERMANENT_ATTEMPTS, as they wait on an operator.
    """
    if not temporary and attempts >= MAX_PERMANENT_ATTEMPTS:
        return None
    delay = failure_delay(RETRY_FIRST_SECONDS, attempts, max_backoff=RETRY_MAX_SECONDS, jitter=jitter)
    retry_at = now + dt.timedelta(seconds=delay)
    return retry_at if retry_at < expires_at else None


async def send_due_digests(
    rt: Runtime, setup: DigestSetup, *, now: dt.datetime | None = None, only: Collection[str] | None = None
) -> list[DigestOutcome]:
    """Send every digest due now (today's, once its time has come) that is not sent yet.

    The scheduler calls this at each recipient's time and, as a sweep, every minute: the sweep
    is what retries failures and sends a digest missed while the service was down.
    """
    now = now or rt.clock()
    expired = await rt.db(_expire, rt, now)
    if expired:
        log.warning("%d digest(s) were not delivered before their day ended", expired)
    outcomes = []
    for recipient in setup.recipients:
        if only is not None and recipient.key not in only:
            continue
        day = due_day(recipient, now)
        if day is None:
            upcoming, at = next_send(recipient, now)
            outcomes.append(DigestOutcome(recipient.address, upcoming, "not_due", f"due at {_local(at, recipient)}"))
            continue
        outcomes.append(await send_digest(rt, setup, recipient, day, now=now))
    return outcomes


async def send_digest(
    rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, *, now: dt.datetime, force: bool = False
) -> DigestOutcome:
    """Send `recipient`'s digest for `day` unless the ledger says it is sent or in flight.

    `force` is an operator asking for a given day: it goes out even before its time or after its
    day, and a failed run is tried again; a sent one still never goes twice.
    """
    if not is_send_day(recipient, day):
        detail = f"{day:%A} is not one of the recipient's digest days ({recipient.cron_weekdays})"
        return DigestOutcome(recipient.address, day, "not_due", detail)
    key = run_key(recipient.key, day)
    claim = await rt.db(_open_and_claim, rt, setup, recipient, day, now, force)
    if claim is None:
        return await rt.db(_why_not_claimed, rt, recipient, day, key, now)
    # The heartbeat renews the claim while the digest is built and handed over.
    with rt.leases.holding(DigestRun, [claim.token]):
        return await _attempt_digest(rt, setup, recipient, day, claim, now=now, force=force)


async def _attempt_digest(
    rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, claim: Claim, *, now: dt.datetime, force: bool
) -> DigestOutcome:
    key = claim.key
    try:
        digest = await gather_digest(rt, setup, recipient, day, now=now)
        # An operator asking for a day gets it, watched or not.
        unwatched = None if force else await rt.db(_unwatched, rt, digest)
        if unwatched is not None:
            await rt.db(_record_skipped, rt, claim, now, unwatched)
            log.info("digest for %s on %s not sent: %s", recipient.address, day, unwatched)
            return DigestOutcome(recipient.address, day, "skipped", unwatched)
        message, html = await asyncio.to_thread(_compose, digest, setup.sender, claim.message_id, now)
        if not await rt.db(_renew, rt, claim):
            log.warning("digest %s: its claim was taken over by another instance; not sending it from here", key)
            return DigestOutcome(recipient.address, day, "in_flight", "another instance took the attempt over")
        via = await asyncio.to_thread(
            setup.mailer.deliver, message, preview_html=html, name=f"{day.isoformat()}_{recipient.key}"
        )
    except MailError as err:
        return await _failed(rt, recipient, day, claim, now, err.reason, temporary=err.temporary)
    except Exception as exc:  # a bug must cost one attempt, not hold the run until its lease ends
        log.exception("digest for %s on %s could not be built", recipient.address, day)
        return await _failed(rt, recipient, day, claim, now, f"internal error: {type(exc).__name__}: {exc}", temporary=False)
    recorded = await rt.db(_record_sent, rt, claim, rt.clock(), via)
    if not recorded:
        log.warning("digest %s was sent after its lease ran out; another instance may send it too", key)
    log.info("digest for %s on %s sent (%s, attempt %d)", recipient.address, day, via, claim.attempts)
    metrics.DIGESTS_SENT.inc()
    return DigestOutcome(recipient.address, day, "sent", via)


async def gather_digest(
    rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, *, now: dt.datetime
) -> Digest:
    """The digest's content, read from the store and the market data queries."""
    window = window_for(recipient, day)
    # A digest asked for before its time covers what has happened so far.
    window = Window(window.start, min(window.end, now))
    return await rt.db(_gather, rt, setup, recipient, day, window, now)


async def preview_digest(rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, *, now: dt.datetime) -> str:
    """The HTML of `recipient`'s digest for `day`, chart inlined, without touching the ledger."""
    digest = await gather_digest(rt, setup, recipient, day, now=now)
    return await asyncio.to_thread(lambda: preview_html(digest, price_chart(digest)))


def schedule_digests(scheduler: BaseScheduler, rt: Runtime, setup: DigestSetup) -> list[str]:
    """Add one cron job per recipient, in their zone, and the minute sweep; return the job ids.

    Jobs live in memory and are rebuilt from digests.yaml at start: instances coordinate
    through the ledger, never through a shared job store.
    """
    ids = []
    wanted = {f"digest:{recipient.key}" for recipient in setup.recipients}
    for job in scheduler.get_jobs():
        if job.id.startswith("digest:") and job.id not in wanted:
            # A recipient taken out of digests.yaml gets no more digests.
            job.remove()
    for recipient in setup.recipients:
        job = scheduler.add_job(
            send_due_digests,
            digest_trigger(recipient),
            args=[rt, setup],
            kwargs={"only": {recipient.key}},
            id=f"digest:{recipient.key}",
            name=f"digest for {recipient.address}",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            # Later than this, the sweep catches it anyway.
            misfire_grace_time=SWEEP_SECONDS * 5,
        )
        ids.append(job.id)
    sweep = scheduler.add_job(
        send_due_digests,
        IntervalTrigger(seconds=SWEEP_SECONDS, timezone=dt.UTC),
        args=[rt, setup],
        id="digest-sweep",
        name="digest retries and catch-up",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=SWEEP_SECONDS,
        next_run_time=rt.clock(),
    )
    ids.append(sweep.id)
    return ids


def watch_digest_setup(rt: Runtime) -> WatchedConfig[DigestSetup]:
    """The service's digest set-up, read again when digests.yaml, calendar.yaml or the
    watchlists change; a broken edit is logged and the last good set-up stays in force.

    Without a digests file there are no recipients (digests are optional for a running service).
    """
    settings = rt.settings
    market = make_market_data(rt)

    def load() -> DigestSetup:
        if not settings.digests_file.is_file():
            return DigestSetup([], [], make_mailer(settings), sender_address(settings.digest_from), market)
        return load_digest_setup(settings, market, ruleset=rt.rules.current)

    def files() -> list[Path]:
        return [settings.digests_file, settings.calendar_file, settings.watchlists_file]

    return WatchedConfig("digest set-up (digests.yaml, calendar.yaml)", files, load)


def serve_digests(
    scheduler: BaseScheduler, rt: Runtime, setup: WatchedConfig[DigestSetup] | None = None
) -> WatchedConfig[DigestSetup]:
    """Schedule every recipient's digest and the sweep (`schedule_digests`), and schedule them
    again when the files change. `setup` is the set-up already loaded (`watch_digest_setup`);
    without it, it is loaded now, raising ConfigError as the rules and feeds do."""
    if setup is None:
        setup = watch_digest_setup(rt)
        setup.load_initial()
    _log_schedule(rt, setup.current, "scheduled")
    schedule_digests(scheduler, rt, setup.current)

    sending: set[asyncio.Task] = set()

    async def send_now(edited: DigestSetup) -> None:
        try:
            await send_due_digests(rt, edited)
        except Exception:
            log.exception("sending the digests an edit made due failed; the sweep tries again")

    async def reload() -> None:
        # The watchlists are checked against the rules in force: take their edit first. Both
        # load in a worker thread, off the event loop.
        await rt.rules.reload()
        if rt.rules.reloading:
            return  # the poll tick is reloading the rules: take this edit after them, next run
        if await setup.reload():
            schedule_digests(scheduler, rt, setup.current)
            _log_schedule(rt, setup.current, "rescheduled")
            # What the edit made due goes now: a sweep still running would make the scheduler
            # skip the sweep's extra run, and a new reader would wait for the next one.
            task = asyncio.create_task(send_now(setup.current))
            sending.add(task)
            task.add_done_callback(sending.discard)

    scheduler.add_job(
        reload,
        IntervalTrigger(seconds=rt.settings.scheduler_tick_seconds, timezone=dt.UTC),
        id="digest-reload",
        name="reload digests.yaml and calendar.yaml on change",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(30, int(rt.settings.scheduler_tick_seconds * 2)),
    )
    return setup


def _log_schedule(rt: Runtime, setup: DigestSetup, what: str) -> None:
    if not setup.recipients:
        log.info("no digest recipients (%s); no digests are sent", rt.settings.digests_file)
        return
    now = rt.clock()
    for recipient in setup.recipients:
        day, at = next_send(recipient, now)
        log.info("digest for %s %s: next on %s at %s", recipient.address, what, day, _local(at, recipient))


def _compose(digest: Digest, sender: Address, message_id: str, now: dt.datetime) -> tuple[EmailMessage, str]:
    chart = price_chart(digest)
    rendered = render_digest(digest, chart)
    return compose_message(rendered, digest, sender=sender, message_id=message_id, now=now), preview_html(digest, chart)


def _gather(rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, window: Window, now: dt.datetime) -> Digest:
    with open_session(rt.engine) as session:
        since = watching_since(session)
        feeds = [
            FailingFeed(f.name, f.consecutive_failures, f.last_error, f.last_success_at, f.disabled_reason)
            for f in failing_feeds(session)
        ]
        alerts: Sequence[DigestAlert] | Unavailable
        tickers: Sequence[TickerMove] | Unavailable
        series: Mapping[str, Sequence[PricePoint]] = {}
        followed: Mapping[str, str] | None = None
        market = setup.market
        if market is None:
            alerts = Unavailable("no alert store is connected to the digest")
            tickers = Unavailable("no price store is connected to the digest")
        else:
            try:
                followed = market.followed_tickers(recipient.watchlists)
            except Exception as exc:
                log.exception("watchlists for the digest of %s", recipient.address)
                followed = None
                tickers = Unavailable(f"the watchlists could not be read ({type(exc).__name__}: {exc})")
            alerts = _attempt("alerts", lambda: list(market.alerts(session, window)))
            if followed is not None:
                fetched = _attempt(
                    "prices",
                    lambda: market.prices(session, followed, window.end - dt.timedelta(days=CHART_DAYS), window.end),
                )
                if isinstance(fetched, Unavailable):
                    tickers = fetched
                else:
                    tickers, series = list(fetched[0]), fetched[1]
    deadlines = upcoming_deadlines(list(setup.deadlines), day, previous_send_day(recipient, day))
    return build_digest(
        recipient,
        day,
        window,
        alerts=alerts,
        tickers=tickers,
        series=series,
        deadlines=deadlines,
        failing_feeds=feeds,
        followed_tickers=None if followed is None else set(followed),
        generated_at=now,
        watching_since=since,
    )


def _attempt(what: str, query):
    try:
        return query()
    except Exception as exc:  # a failed query must show in the digest, not stop it
        log.exception("the digest's %s query failed", what)
        return Unavailable(f"{type(exc).__name__}: {exc}")


def _open_and_claim(
    rt: Runtime, setup: DigestSetup, recipient: Recipient, day: dt.date, now: dt.datetime, force: bool
) -> Claim | None:
    key = run_key(recipient.key, day)
    with open_session(rt.engine) as session:
        open_run(
            session,
            key,
            recipient.key,
            day,
            due_at=send_instant(recipient, day),
            expires_at=deliverable_until(recipient, day),
            message_id=digest_message_id(day, setup.sender),
            now=now,
        )
        return claim_run(session, key, rt.instance, now, rt.settings.lease, force=force)


def digest_message_id(day: dt.date, sender: Address) -> str:
    """A short Message-ID: with a common domain it stays on one header line (folded, it parses
    back with a leading space)."""
    return f"<digest.{day:%Y%m%d}.{secrets.token_hex(6)}@{sender.domain or 'reewatch.invalid'}>"


def _why_not_claimed(rt: Runtime, recipient: Recipient, day: dt.date, key: str, now: dt.datetime) -> DigestOutcome:
    with open_session(rt.engine) as session:
        run = get_run(session, key)
    if run is None:
        return DigestOutcome(recipient.address, day, "not_due", "no run recorded")
    if run.status == SENT:
        when = _local(run.sent_at, recipient) if run.sent_at else "earlier"
        return DigestOutcome(recipient.address, day, "already_sent", f"sent {when} via {run.delivered_via}")
    if run.status == SKIPPED:
        return DigestOutcome(recipient.address, day, "skipped", run.last_error or "nothing to send")
    if run.status == FAILED:
        return DigestOutcome(recipient.address, day, "failed", f"gave up after {run.attempts} attempt(s): {run.last_error}")
    if run.lease_until is not None and run.lease_until > now:
        return DigestOutcome(recipient.address, day, "in_flight", "another attempt is under way")
    if run.next_attempt_at > now:
        reason = f" after: {run.last_error}" if run.last_error else ""
        return DigestOutcome(recipient.address, day, "waiting", f"next attempt at {_local(run.next_attempt_at, recipient)}{reason}")
    return DigestOutcome(recipient.address, day, "failed", "the recipient's day has ended")


async def _failed(
    rt: Runtime, recipient: Recipient, day: dt.date, claim: Claim, now: dt.datetime, reason: str, *, temporary: bool
) -> DigestOutcome:
    reason = scrub(reason)  # it is stored, logged and printed: no secrets, no SQL
    retry_at = next_attempt_after_failure(
        now, claim.attempts, temporary=temporary, expires_at=deliverable_until(recipient, day), jitter=rt.rng.random()
    )
    await rt.db(_record_failure, rt, claim, now, reason, retry_at)
    if retry_at is None:
        log.error("digest for %s on %s failed for good after %d attempt(s): %s", recipient.address, day, claim.attempts, reason)
        return DigestOutcome(recipient.address, day, "failed", f"gave up after {claim.attempts} attempt(s): {reason}")
    log.warning(
        "digest for %s on %s failed (attempt %d), retrying at %s: %s",
        recipient.address, day, claim.attempts, retry_at.isoformat(timespec="seconds"), reason,
    )
    return DigestOutcome(recipient.address, day, "retrying", f"{reason}; next attempt at {_local(retry_at, recipient)}")


def _renew(rt: Runtime, claim: Claim) -> bool:
    with open_session(rt.engine) as session:
        return renew_claim(session, claim, rt.clock(), rt.settings.lease)


def _record_sent(rt: Runtime, claim: Claim, now: dt.datetime, via: str) -> bool:
    with open_session(rt.engine) as session:
        return record_sent(session, claim, now, via)


def _unwatched(rt: Runtime, digest: Digest) -> str | None:
    """Why a digest must not go out at all: the service started inside its window and has
    seen nothing since (a first start). A reader gets no empty digest for time never watched."""
    since = digest.watching_since
    if since is None or digest.alert_count:
        return None
    with open_session(rt.engine) as session:
        if articles_seen(session, digest.window.start, digest.window.end):
            return None
    return f"nothing seen yet: reewatch started watching at {since.isoformat(timespec='minutes')}"


def _record_skipped(rt: Runtime, claim: Claim, now: dt.datetime, reason: str) -> bool:
    with open_session(rt.engine) as session:
        return record_skipped(session, claim, now, reason)


def _record_failure(rt: Runtime, claim: Claim, now: dt.datetime, reason: str, retry_at: dt.datetime | None) -> bool:
    with open_session(rt.engine) as session:
        return record_failure(session, claim, now, reason, retry_at)


def _expire(rt: Runtime, now: dt.datetime) -> int:
    with open_session(rt.engine) as session:
        return expire_runs(session, now)


def _local(moment: dt.datetime, recipient: Recipient) -> str:
    return moment.astimezone(recipient.zone).strftime("%Y-%m-%d %H:%M %Z")
