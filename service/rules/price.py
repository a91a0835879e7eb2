"""Price rules, compiled, and their verdict on one ticker's bars at one instant. No I/O.

A price rule watches live markets: it is judged while the ticker's exchange is trading (and for
a few minutes after the close, while the last bars come in). A combined rule is judged only
after a news alert of its event types, for the time it allows. A verdict is one of

    fired    the condition holds (an alert, once per rule, ticker and session)
    quiet    the bars answer, and the answer is no
    closed   nothing to judge: the market is shut, or no news of the rule's kind
    blocked  the bars cannot answer (stale, missing): never read as "no move", shown in `prices status`
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from service.domain.alerts import NewsRef
from service.domain.markets import current_session, traded_between
from service.domain.price_moves import (
    Direction,
    MoveCheck,
    PriceHistory,
    last_price,
    move_after,
    opening_gap,
    volume_surge,
    window_move,
)

Check = Literal["move", "gap", "volume"]
Outcome = Literal["fired", "quiet", "closed", "blocked"]

#: The last bars of a session arrive up to this long after its close (the price cycle polls them).
CLOSE_GRACE = timedelta(minutes=15)
#: A session's first bars take this long to end and be fetched: missing bars are not a fault yet.
OPENING_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class NewsTrigger:
    """The news a combined rule waits for, and how long after it the move may come."""

    event_types: frozenset[str]
    within: timedelta


@dataclass(frozen=True)
class PriceRule:
    """One price rule, compiled: its tickers resolved from groups."""

    id: str
    description: str
    where: str  # file:line, for messages
    tickers: tuple[str, ...]
    check: Check
    #: Percent for move and gap rules; a multiple of the average for volume rules.
    threshold: float
    direction: Direction
    severity: str
    channel: str | None
    throttle: int
    #: Move rules: the window the move must happen in (None in combined rules).
    window: timedelta | None = None
    #: Volume rules: sessions in the average.
    lookback: int = 20
    after_news: NewsTrigger | None = None

    def watches(self, ticker: str) -> bool:
        return ticker in self.tickers

    @property
    def span(self) -> timedelta:
        """How far back a verdict may look at intraday bars."""
        return self.after_news.within if self.after_news is not None else self.window or timedelta(0)


@dataclass(frozen=True)
class PriceVerdict:
    """A rule's answer for one ticker at one instant, with the reason in words."""

    rule: PriceRule
    ticker: str
    outcome: Outcome
    reason: str
    #: The session it fired in (the alert's slot); None unless fired.
    session: date | None = None
    check: MoveCheck | None = None
    news: NewsRef | None = None

    @property
    def fired(self) -> bool:
        return self.outcome == "fired"


def judge(
    rule: PriceRule,
    history: PriceHistory,
    exchange: str,
    at: datetime,
    news: Sequence[NewsRef] = (),
    *,
    stale: str | None = None,
) -> PriceVerdict:
    """The rule's verdict on `history` (one ticker on `exchange`) at `at`, using bars final by then."""
    ticker = history.ticker
    if stale:
        return PriceVerdict(rule, ticker, "blocked", f"stale: {stale}")
    if rule.after_news is not None:
        return _judge_after_news(rule, rule.after_news, history, exchange, at, news)
    session = current_session(exchange, at) or current_session(exchange, at - CLOSE_GRACE)
    if session is None:
        return PriceVerdict(rule, ticker, "closed", "market closed")
    if rule.check == "move":
        assert rule.window is not None
        check = window_move(history, at, rule.window, rule.threshold, rule.direction)
    elif rule.check == "gap":
        check = _today(opening_gap(history, at, rule.threshold, rule.direction), history, at, session.day)
    else:
        check = _today(volume_surge(history, at, rule.threshold, rule.lookback), history, at, session.day)
    if check.outcome == "no_data" and at - session.open < OPENING_GRACE:
        return PriceVerdict(rule, ticker, "closed", "waiting for the session's first bars")
    return _verdict(rule, ticker, check, session.day)


def _judge_after_news(
    rule: PriceRule,
    trigger: NewsTrigger,
    history: PriceHistory,
    exchange: str,
    at: datetime,
    news: Sequence[NewsRef],
) -> PriceVerdict:
    ticker = history.ticker
    recent = sorted(
        (n for n in news if trigger.event_types.intersection(n.event_types) and at - trigger.within <= n.at <= at),
        key=lambda n: n.at,
    )
    if not recent:
        return PriceVerdict(rule, ticker, "closed", "no news alert of its event types in the window")
    blocked: PriceVerdict | None = None
    judged: PriceVerdict | None = None
    for item in recent:
        until = min(item.at + trigger.within, at)
        if not traded_between(exchange, item.at, until):
            continue  # the market has not traded since the news: nothing to judge yet
        check = move_after(history, item.at, trigger.within, rule.threshold, rule.direction, at)
        if check.moved:
            assert check.move is not None
            return PriceVerdict(rule, ticker, "fired", check.reason, check.move.end.session, check, item)
        if check.outcome == "no_data":
            session = current_session(exchange, at)
            if session is not None and at - session.open < OPENING_GRACE:
                continue
            blocked = blocked or PriceVerdict(rule, ticker, "blocked", check.reason, news=item)
        else:
            judged = PriceVerdict(rule, ticker, "quiet", check.reason, check=check, news=item)
    if blocked is not None:
        return blocked
    return judged or PriceVerdict(rule, ticker, "closed", "market closed since the news")


def _today(check: MoveCheck, history: PriceHistory, at: datetime, day: date) -> MoveCheck:
    """A gap or volume check answers for today's session only; yesterday's is not news."""
    latest = last_price(history, at)
    if check.outcome != "no_data" and (latest is None or latest.session != day):
        return MoveCheck("no_data", f"no bar of the {day.isoformat()} session yet")
    return check


def _verdict(rule: PriceRule, ticker: str, check: MoveCheck, day: date) -> PriceVerdict:
    if check.outcome == "moved":
        return PriceVerdict(rule, ticker, "fired", check.reason, day, check)
    if check.outcome == "no_move":
        return PriceVerdict(rule, ticker, "quiet", check.reason, check=check)
    return PriceVerdict(rule, ticker, "blocked", check.reason, check=check)
