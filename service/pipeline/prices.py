"""Prices, top to bottom: place the tickers on exchanges, decide what each needs now, fetch in
batches, take the stream's bars, check them, store them, record each ticker's health, then judge
the price rules on what is stored (pipeline/price_alerts.py).
One bad ticker never stops the cycle, and a failed fetch is recorded as a failure, never as calm."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, select

from service.bootstrap import Runtime, open_price_feed, open_runtime
from service.config import Settings
from service.domain.markets import completed_sessions, current_session, last_completed_session
from service.domain.prices import DAILY, Bar, Listing, check_bars, stale_reason
from service.pipeline.backoff import next_poll_after_failure, rate_limit_pause
from service.pipeline.price_alerts import RuleOutcome, raise_price_alerts
from service.redaction import scrub
from service.sources.prices.listings import listings_for
from service.sources.prices.source import BarRequest, FetchResult, LiveBars, PriceSource, TickerFailure
from service.store import migrate
from service.store.db import session as open_session
from service.store.models import TickerState
from service.store.prices import load_bars, sync_ticker_states, upsert_bars

log = logging.getLogger(__name__)

#: Daily history fetched for a new ticker: 20 sessions for volume averages, with room to spare.
DAILY_HISTORY = timedelta(days=85)
#: Keep polling intraday this long after the close, for the last bars and late corrections.
AFTER_CLOSE = timedelta(minutes=15)
#: Fetch a session's daily bar this long after its close, once the closing auction has printed.
DAILY_SETTLE = timedelta(minutes=20)

OutcomeStatus = Literal["ok", "failed", "waiting", "idle"]


@dataclass
class PriceFeed:
    """What the price cycle reads from: a source, maybe a live stream, and the source's pause."""

    source: PriceSource
    stream: LiveBars | None = None
    #: 429s in a row; each one pauses the whole source longer.
    rate_limit_strikes: int = 0
    paused_until: datetime | None = None


@dataclass(frozen=True)
class FetchPlan:
    """The batched requests of one cycle, and why the other tickers wait."""

    requests: list[BarRequest]
    waiting: dict[str, str] = field(default_factory=dict)

    def requested(self, ticker: str) -> list[BarRequest]:
        return [r for r in self.requests if any(listing.ticker == ticker for listing in r.listings)]


@dataclass
class TickerOutcome:
    """What one cycle did for one ticker, for logs, the CLI and tests."""

    ticker: str
    status: OutcomeStatus
    bars: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    stale: str | None = None


@dataclass
class PriceCycleReport:
    source: str
    outcomes: list[TickerOutcome]
    rate_limited: bool = False
    paused_until: datetime | None = None
    stream_live: bool | None = None
    #: Price rules that fired this cycle; `queued` says which raised a new alert.
    fired: list[RuleOutcome] = field(default_factory=list)

    @property
    def price_alerts(self) -> int:
        return sum(o.queued for o in self.fired)

    @property
    def failed(self) -> list[TickerOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def stored_bars(self) -> int:
        return sum(o.bars for o in self.outcomes)

    def outcome(self, ticker: str) -> TickerOutcome:
        return next(o for o in self.outcomes if o.ticker == ticker)


async def run_price_cycle(
    rt: Runtime, feed: PriceFeed, tickers: Sequence[str], *, alert: bool = True, judge: bool = True
) -> PriceCycleReport:
    """Fetch what each ticker needs now from the feed, store the bars, record every ticker's health,
    then judge the price rules; `alert=False` judges them without queuing alerts (a dry run), and
    `judge=False` leaves the rules to a later `judge_price_rules` (after the news is stored)."""
    now = rt.clock()
    listings, unplaced = listings_for(tickers)
    states = await rt.db(_sync_states, rt, listings, unplaced, feed.source.name)
    outcomes: dict[str, TickerOutcome] = {}
    for ticker, reason in unplaced.items():
        retry = states[ticker].next_attempt_at
        if retry is not None and retry > now:
            outcomes[ticker] = TickerOutcome(ticker, "waiting", error=reason)
        else:
            outcomes[ticker] = await rt.db(
                _record_unplaced, rt, TickerFailure(ticker, "unknown_ticker", reason), now
            )

    stream_live = feed.stream.is_live if feed.stream is not None else None
    if feed.paused_until is not None and now < feed.paused_until:
        why = f"{feed.source.name} paused after a rate limit until {feed.paused_until:%H:%M:%S} UTC"
        outcomes.update(
            {listing.ticker: TickerOutcome(listing.ticker, "waiting", error=why) for listing in listings}
        )
        report = _report(feed, outcomes, stream_live)
        if judge:
            report.fired = await raise_price_alerts(rt, listings, now, queue=alert)  # without new bars they say so
        return report

    streamed = feed.stream.covered(now) if feed.stream is not None else frozenset()
    plan = plan_fetches(
        listings, states, now, intraday_interval=rt.settings.price_intraday_interval, streamed=streamed
    )
    fetched = await feed.source.fetch(plan.requests, now) if plan.requests else FetchResult()
    live = _stream_bars(feed.stream, now)
    _pause_if_rate_limited(rt, feed, fetched, now)

    for listing in listings:
        ticker = listing.ticker
        requested = plan.requested(ticker)
        if ticker in plan.waiting and not live.get(ticker):
            outcomes[ticker] = TickerOutcome(ticker, "waiting", error=plan.waiting[ticker])
            continue
        if not requested and not live.get(ticker):
            outcomes[ticker] = TickerOutcome(ticker, "idle")
            continue
        try:
            outcomes[ticker] = await rt.db(
                _store_ticker, rt, feed, listing, fetched, requested, live.get(ticker, []), now
            )
        except Exception as exc:  # a bug or a database hiccup costs one ticker one cycle
            log.exception("internal error while storing prices for %s", ticker)
            outcomes[ticker] = TickerOutcome(
                ticker, "failed", error=f"internal error: {type(exc).__name__}: {exc}"
            )
    report = _report(feed, outcomes, stream_live)
    report.rate_limited = fetched.rate_limited
    # Judged on what is stored, whatever this cycle fetched: a ticker that failed has old bars,
    # and its rules say they cannot judge rather than that nothing moved.
    if judge:
        report.fired = await raise_price_alerts(rt, listings, now, queue=alert)
    return report


def plan_fetches(
    listings: Sequence[Listing],
    states: Mapping[str, TickerState],
    now: datetime,
    *,
    intraday_interval: str = "5m",
    streamed: frozenset[str] = frozenset(),
) -> FetchPlan:
    """Which tickers need intraday bars (their exchange is trading) and which need daily bars.

    Intraday: while the session runs and a little after the close, unless a live stream is
    delivering the ticker. Daily: once per session, after its close has settled, and the whole
    history for a new ticker. A ticker backing off after failures waits.
    """
    intraday: list[Listing] = []
    intraday_since: datetime | None = None
    daily: list[Listing] = []
    daily_since: datetime | None = None
    waiting: dict[str, str] = {}
    for listing in listings:
        state = states.get(listing.ticker)
        if state is not None and state.next_attempt_at is not None and state.next_attempt_at > now:
            waiting[listing.ticker] = (
                f"retrying at {state.next_attempt_at:%Y-%m-%d %H:%M} UTC after "
                f"{state.consecutive_failures} failure{'s' if state.consecutive_failures != 1 else ''}"
            )
            continue
        session = current_session(listing.exchange, now) or current_session(
            listing.exchange, now - AFTER_CLOSE
        )
        if session is not None and listing.ticker not in streamed:
            intraday.append(listing)
            intraday_since = min(intraday_since or session.open, session.open)
        settled = last_completed_session(listing.exchange, now - DAILY_SETTLE)
        checked = state.daily_checked_at if state is not None else None
        if checked is None or checked < settled.close + DAILY_SETTLE:
            daily.append(listing)
            since = now - DAILY_HISTORY if checked is None else checked - timedelta(days=7)
            daily_since = min(daily_since or since, since)
    requests = []
    if intraday and intraday_since is not None:
        requests.append(BarRequest(intraday_interval, intraday_since, tuple(intraday)))
    if daily and daily_since is not None:
        requests.append(BarRequest(DAILY, daily_since, tuple(daily)))
    return FetchPlan(requests, waiting)


def watchlist_tickers(rt: Runtime) -> list[str]:
    """Every ticker in the watchlists, as last loaded (a saved edit takes effect at the next cycle)."""
    return rt.rules.current.watched_tickers


async def run_watchlist_cycle(rt: Runtime, *, judge: bool = True) -> PriceCycleReport:
    """One price cycle for every watchlist ticker with the configured source, without the stream."""
    async with open_price_feed(rt.settings) as feed:
        return await run_price_cycle(rt, feed, watchlist_tickers(rt), judge=judge)


async def judge_price_rules(rt: Runtime, report: PriceCycleReport) -> PriceCycleReport:
    """Judge the price rules on the tickers of a cycle run with `judge=False`, as of now."""
    listings, _ = listings_for([outcome.ticker for outcome in report.outcomes])
    report.fired = await raise_price_alerts(rt, listings, rt.clock())
    return report


async def follow_on_stream(feed: PriceFeed, tickers: Sequence[str]) -> None:
    """Subscribe the live stream to tickers added to the watchlists, and drop those removed."""
    stream = feed.stream
    if stream is None:
        return
    listings, _ = listings_for(tickers)
    wanted = {listing.ticker for listing in listings}
    current = set(stream.tickers)
    if wanted - current:
        await stream.subscribe(sorted(wanted - current))
    if current - wanted:
        await stream.unsubscribe(sorted(current - wanted))


async def poll_prices_once(
    settings: Settings, tickers: Sequence[str], *, at: datetime | None = None
) -> PriceCycleReport:
    """Migrate, then run one price cycle for `tickers` with the configured source (no stream).

    `at` runs the cycle as of another instant: with the replay source, a point in a backtest. The
    price rules are judged either way, but only a cycle as of now queues their alerts: a backtest
    must not send a trader last year's moves.
    """
    migrate.upgrade(settings.database_url)
    async with open_runtime(settings) as rt, open_price_feed(settings, stream_tickers=()) as feed:
        if at is not None:
            rt.clock = lambda: at
        return await run_price_cycle(rt, feed, tickers, alert=at is None)


def _stream_bars(stream: LiveBars | None, now: datetime) -> dict[str, list[Bar]]:
    bars: dict[str, list[Bar]] = {}
    if stream is not None:
        for bar in stream.take_bars(now):
            bars.setdefault(bar.ticker, []).append(bar)
    return bars


def _pause_if_rate_limited(rt: Runtime, feed: PriceFeed, fetched: FetchResult, now: datetime) -> None:
    if not fetched.rate_limited:
        if fetched.bars:
            feed.rate_limit_strikes = 0
        return
    feed.rate_limit_strikes += 1
    pause = rate_limit_pause(feed.rate_limit_strikes, jitter=rt.rng.random())
    feed.paused_until = now + timedelta(seconds=pause)
    log.warning(
        "%s rate-limited us (%d in a row); pausing it until %s",
        feed.source.name,
        feed.rate_limit_strikes,
        feed.paused_until.isoformat(timespec="seconds"),
    )


def _report(
    feed: PriceFeed, outcomes: dict[str, TickerOutcome], stream_live: bool | None
) -> PriceCycleReport:
    ordered = [outcomes[t] for t in sorted(outcomes)]
    return PriceCycleReport(
        feed.source.name, ordered, paused_until=feed.paused_until, stream_live=stream_live
    )


def _sync_states(
    rt: Runtime, listings: Sequence[Listing], unplaced: Mapping[str, str], source: str
) -> dict[str, TickerState]:
    with open_session(rt.engine) as session:
        states = sync_ticker_states(session, listings, unplaced, source)
        session.commit()
        return states


def _record_unplaced(rt: Runtime, failure: TickerFailure, now: datetime) -> TickerOutcome:
    with open_session(rt.engine) as session:
        state = _locked_state(session, failure.ticker)
        _mark_failure(rt, state, failure, now, paused_until=None)
        session.commit()
    return TickerOutcome(failure.ticker, "failed", error=failure.reason)


def _store_ticker(
    rt: Runtime,
    feed: PriceFeed,
    listing: Listing,
    fetched: FetchResult,
    requested: list[BarRequest],
    streamed: list[Bar],
    now: datetime,
) -> TickerOutcome:
    """In one transaction: check and store a ticker's bars, then record how its fetch went."""
    ticker = listing.ticker
    polled = check_bars(fetched.bars.get(ticker, []), now)
    live = check_bars(streamed, now)
    warnings = fetched.notes.get(ticker, []) + polled.problems + live.problems
    failure = fetched.failures.get(ticker) if requested else None
    with open_session(rt.engine) as session:
        state = _locked_state(session, ticker)
        stored = upsert_bars(session, polled.bars, feed.source.name, now)
        stored += upsert_bars(session, live.bars, "stream", now)
        state.last_attempt_at = now
        state.source = feed.source.name if requested else "stream"
        state.data_warning = "; ".join(warnings) or None
        newest = max(polled.bars + live.bars, key=lambda b: b.end, default=None)
        if newest is not None and (state.last_bar_at is None or newest.start >= state.last_bar_at):
            state.last_bar_at = newest.start
            state.last_bar_interval = newest.interval
            state.last_price = newest.close
        if failure is not None:
            _mark_failure(rt, state, failure, now, paused_until=feed.paused_until)
        elif requested:  # stream bars alone say nothing about the source's health
            state.consecutive_failures = 0
            state.last_success_at = now
            state.next_attempt_at = None
            if any(r.interval == DAILY for r in requested):
                state.daily_checked_at = now
        state.stale_reason = _staleness(rt, session, listing, now)
        session.commit()
        return TickerOutcome(
            ticker,
            "failed" if failure is not None else "ok",
            bars=stored,
            error=failure.reason if failure is not None else None,
            warnings=warnings,
            stale=state.stale_reason,
        )


def _staleness(rt: Runtime, session: Session, listing: Listing, now: datetime) -> str | None:
    sessions = rt.settings.price_stale_sessions
    expected = completed_sessions(listing.exchange, now - DAILY_SETTLE, sessions)
    if not expected:
        return None
    since = expected[0].open - timedelta(days=1)
    daily = load_bars(session, listing, since, intervals=(DAILY,))
    return stale_reason(daily, [s.day for s in expected], sessions=sessions)


def _mark_failure(
    rt: Runtime, state: TickerState, failure: TickerFailure, now: datetime, *, paused_until: datetime | None
) -> None:
    state.consecutive_failures += 1
    state.last_attempt_at = now
    state.last_error = scrub(failure.reason)
    state.last_error_at = now
    if failure.kind == "rate_limited" and paused_until is not None:
        state.next_attempt_at = paused_until
        return
    state.next_attempt_at = next_poll_after_failure(
        now,
        rt.settings.price_poll_seconds,
        state.consecutive_failures,
        max_backoff=rt.settings.max_backoff_seconds,
        jitter=rt.rng.random(),
    )


def _locked_state(session: Session, ticker: str) -> TickerState:
    query = select(TickerState).where(TickerState.ticker == ticker)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    state = session.exec(query).first()
    if state is None:
        raise LookupError(f"ticker {ticker} vanished while its prices were stored")
    return state
