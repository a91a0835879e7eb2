"""Price rules after each price cycle, top to bottom: the news alerts combined rules wait for, then
per ticker in one transaction: its recent bars, each rule's verdict, an outbox row for each rule
that fired (once per rule, ticker and session), and what could not be judged and why.

A rule that cannot judge (stale ticker, missing bars) never fires and never passes for calm: its
reason is stored on the ticker and shown by `reewatch prices status`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from service.alerts.queue import queue_price_alert
from service.bootstrap import Runtime
from service.domain.alerts import NewsRef, PriceAlert
from service.domain.prices import Listing
from service.domain.quotes import Quote, quote_at
from service.rules.price import PriceRule, PriceVerdict, judge
from service.store.articles import alerted_since
from service.store.db import session as open_session
from service.store.models import TickerState
from service.store.prices import load_recent_history

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleOutcome:
    """One fired verdict, and whether it queued an alert (False: it alerted earlier this session)."""

    ticker: str
    rule: str
    reason: str
    queued: bool


async def raise_price_alerts(
    rt: Runtime, listings: Sequence[Listing], now: datetime, *, queue: bool = True
) -> list[RuleOutcome]:
    """Judge every price rule on every listed ticker at `now`; queue the alerts (unless `queue` is
    False: a dry run that records the verdicts only); wake the dispatcher."""
    rules = rt.rules.current.price_rules
    news = await rt.db(_recent_news, rt, rules, now) if any(r.after_news for r in rules) else []
    outcomes: list[RuleOutcome] = []
    for listing in listings:
        watching = [rule for rule in rules if rule.watches(listing.ticker)]
        try:
            outcomes += await rt.db(_judge_ticker, rt, listing, watching, news, now, queue)
        except Exception:  # a bug or a database hiccup costs one ticker its rules this cycle
            log.exception("internal error while judging the price rules of %s", listing.ticker)
    if any(o.queued for o in outcomes):
        rt.outbox_wakeup.set()  # the dispatcher claims the new rows now, not at its next poll
    return outcomes


def _recent_news(rt: Runtime, rules: Sequence[PriceRule], now: datetime) -> list[NewsRef]:
    longest = max((r.after_news.within for r in rules if r.after_news is not None), default=timedelta(0))
    with open_session(rt.engine) as session:
        articles = alerted_since(session, now - longest, now)
    return [
        NewsRef(a.id, a.title, a.link, tuple(a.event_types or ()), a.fetched_at)
        for a in articles
        if a.id is not None
    ]


def _judge_ticker(
    rt: Runtime,
    listing: Listing,
    rules: Sequence[PriceRule],
    news: Sequence[NewsRef],
    now: datetime,
    queue: bool,
) -> list[RuleOutcome]:
    """In one transaction: verdicts for one ticker, its alerts, and what its status shows."""
    settings = rt.settings
    with open_session(rt.engine) as session:
        state = session.exec(select(TickerState).where(TickerState.ticker == listing.ticker)).first()
        if state is None:
            return []
        if not rules:
            if state.rules_checked_at is not None:  # its rules were removed: so is what they said
                state.rules_checked_at = state.rules_firing = state.rules_blocked = None
                session.commit()
            return []
        span = max(rule.span for rule in rules)
        history = load_recent_history(
            session, listing, now, intraday=settings.price_intraday_interval, span=span
        )
        verdicts = [judge(rule, history, listing.exchange, now, news, stale=state.stale_reason) for rule in rules]
        fired = [v for v in verdicts if v.fired]
        outcomes = []
        if fired:
            quote = quote_at(history, listing, now, stale_sessions=settings.price_stale_sessions)
            for verdict in fired:
                rows = []
                if queue:
                    rows = queue_price_alert(
                        session,
                        price_alert(verdict, quote, now),
                        channel=verdict.rule.channel or settings.slack_default_channel,
                        throttle_seconds=verdict.rule.throttle,
                        now=now,
                    )
                outcomes.append(RuleOutcome(listing.ticker, verdict.rule.id, verdict.reason, bool(rows)))
        state.rules_checked_at = now
        state.rules_firing = "; ".join(f"{v.rule.id} ({v.reason})" for v in fired) or None
        state.rules_blocked = blocked_summary(verdicts)
        session.commit()
        return outcomes


def price_alert(verdict: PriceVerdict, quote: Quote | None, now: datetime) -> PriceAlert:
    """The outbox payload of a fired verdict."""
    rule, check = verdict.rule, verdict.check
    move = check.move if check is not None else None
    news = verdict.news
    window = rule.after_news.within if rule.after_news is not None else rule.window
    assert verdict.session is not None
    return PriceAlert(
        rule_id=rule.id,
        description=rule.description,
        severity=rule.severity,
        check=rule.check,
        ticker=verdict.ticker,
        session=verdict.session,
        reason=verdict.reason,
        raised_at=now,
        change_pct=move.change_pct if move is not None else None,
        start_price=move.start.price if move is not None else None,
        start_at=move.start.at if move is not None else None,
        end_price=move.end.price if move is not None else None,
        end_at=move.end.at if move is not None else None,
        ratio=check.ratio if check is not None else None,
        window_seconds=int(window.total_seconds()) if window is not None else None,
        quote=quote,
        news=news,
    )


def blocked_summary(verdicts: Sequence[PriceVerdict]) -> str | None:
    """`rule-a: reason; rule-b: reason`, or `all 3 rules: reason` when they share one; None if none."""
    blocked = [v for v in verdicts if v.outcome == "blocked"]
    if not blocked:
        return None
    if len(blocked) > 1 and len({v.reason for v in blocked}) == 1:
        who = f"all {len(blocked)} rules" if len(blocked) == len(verdicts) else ", ".join(v.rule.id for v in blocked)
        return f"{who}: {blocked[0].reason}"
    return "; ".join(f"{v.rule.id}: {v.reason}" for v in blocked)
