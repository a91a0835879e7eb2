"""Price rules judged on bars: each kind fires, stays quiet, or says it cannot judge, never guessing."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.alerts import NewsRef
from service.domain.price_moves import PriceHistory
from service.rules.price import NewsTrigger, PriceRule, judge
from tests.unit.test_price_moves import OPEN, at, daily, five_minute


def rule(check="move", threshold=5.0, direction="either", window=timedelta(hours=1), lookback=5, after_news=None):
    return PriceRule(
        id=f"test-{check}",
        description="test",
        where="test.yaml:1",
        tickers=("MP",),
        check=check,
        threshold=threshold,
        direction=direction,
        severity="high",
        channel=None,
        throttle=0,
        window=window if check == "move" and after_news is None else None,
        lookback=lookback,
        after_news=after_news,
    )


def news(when, *event_types):
    return NewsRef(1, "US and China agree a truce", None, event_types or ("truce",), when)


def history(*parts):
    return PriceHistory.of("MP", [bar for part in parts for bar in part])


# Yesterday closed at 100. Today: 101, 102, 103, then a jump to 110, 111, 112 (5-minute closes).
JUMP = history(daily([98.0, 99.0, 100.0]), five_minute([101.0, 102.0, 103.0, 110.0, 111.0, 112.0], first_open=101.0))
# Opened at 104 on a close of 100, then 104, 105, 103, 101, 99, 98.
GAP_UP = history(daily([98.0, 99.0, 100.0]), five_minute([104.0, 105.0, 103.0, 101.0, 99.0, 98.0], first_open=104.0))
# Five quiet sessions of 1,000 shares, then 2,000 shares in each 5-minute bar today.
VOLUME = history(daily([100.0] * 5, volumes=[1000] * 5), five_minute([100.0] * 3, volume=2000))
ONLY_DAILY = history(daily([98.0, 99.0, 100.0]))
AFTER_CLOSE = datetime(2025, 10, 9, 22, 0, tzinfo=UTC)
TRUCE = NewsTrigger(frozenset({"truce", "export_control_eased"}), timedelta(hours=2))

CASES = {
    # move: X% over a window
    "move fires": (rule(), JUMP, at(20), (), "fired", "+10.00% over 1h"),
    "move over a short window": (rule(window=timedelta(minutes=10)), JUMP, at(20), (), "fired", "+7.84% over 10m"),
    "move too small": (rule(threshold=15.0), JUMP, at(20), (), "quiet", "+10.00% over 1h"),
    "move in the wrong direction": (rule(direction="down"), JUMP, at(20), (), "quiet", "+10.00% over 1h"),
    "move with bars missing": (rule(window=timedelta(minutes=10)), JUMP, at(60), (), "blocked", "no bar ended between 2025-10-09 14:20Z and 2025-10-09 14:30Z"),
    "move at the open, bars not in yet": (rule(), ONLY_DAILY, at(3), (), "closed", "waiting for the session's first bars"),
    "move with the market closed": (rule(), JUMP, AFTER_CLOSE, (), "closed", "market closed"),
    # gap: the open against the previous close
    "gap fires": (rule("gap", 3.0, "up"), GAP_UP, at(10), (), "fired", "+4.00% at the open"),
    "gap too small": (rule("gap", 5.0), GAP_UP, at(10), (), "quiet", "+4.00% at the open"),
    "gap without today's bars": (rule("gap", 3.0), ONLY_DAILY, at(20), (), "blocked", "no bar of the 2025-10-09 session yet"),
    # volume: k times the average
    "volume fires": (rule("volume", 3.0), VOLUME, at(15), (), "fired", "volume 6.0x its 5-session average"),
    "volume too low": (rule("volume", 10.0), VOLUME, at(15), (), "quiet", "volume 6.0x its 5-session average"),
    "volume without enough history": (rule("volume", 3.0, lookback=20), VOLUME, at(15), (), "blocked", "5 earlier sessions of volume; need 20"),
    # combined: news, then a move within the window after it
    "news then the move": (rule(threshold=3.0, direction="up", after_news=TRUCE), JUMP, at(20), (news(at(5)),), "fired", "+8.91% after 2025-10-09 13:35Z"),
    "news of another kind": (rule(threshold=3.0, after_news=TRUCE), JUMP, at(20), (news(at(5), "tariff_up"),), "closed", "no news alert of its event types in the window"),
    "news too long ago": (rule(threshold=3.0, after_news=TRUCE), JUMP, at(20), (news(at(20) - timedelta(hours=2, minutes=1)),), "closed", "no news alert of its event types in the window"),
    "news, the move the other way": (rule(threshold=3.0, direction="down", after_news=TRUCE), JUMP, at(20), (news(at(5)),), "quiet", "+8.91% after 2025-10-09 13:35Z"),
    "news before the open, the gap counts": (rule(threshold=3.0, direction="up", after_news=TRUCE), GAP_UP, at(10), (news(OPEN - timedelta(minutes=30)),), "fired", "+4.00% after 2025-10-09 13:00Z"),
    "news after the close, market shut since": (rule(threshold=3.0, after_news=TRUCE), JUMP, AFTER_CLOSE + timedelta(minutes=30), (news(AFTER_CLOSE),), "closed", "market closed since the news"),
    "news, then no bars while open": (rule(threshold=3.0, after_news=TRUCE), JUMP, at(70), (news(at(40)),), "blocked", "no bar ended between 2025-10-09 14:10Z and 2025-10-09 14:40Z"),
}


@pytest.mark.parametrize("case", CASES)
def test_judge(case):
    """Each rule kind fires on a move, stays quiet without one, and says why when bars cannot tell."""
    price_rule, bars, when, recent, outcome, reason = CASES[case]
    verdict = judge(price_rule, bars, "US", when, recent)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_a_fired_verdict_names_its_session_and_news():
    """A fired verdict carries its session (the alert's once-per-session slot) and the news it followed."""
    truce = news(at(5))
    verdict = judge(rule(threshold=3.0, after_news=TRUCE), JUMP, "US", at(20), [truce])
    assert verdict.session == OPEN.date() and verdict.news == truce
    assert verdict.check is not None and verdict.check.move.end.price == 110.0


@pytest.mark.parametrize("price_rule", [rule(), rule("gap", 1.0), rule("volume", 1.0), rule(threshold=1.0, after_news=TRUCE)])
def test_a_stale_ticker_never_fires(price_rule):
    """Whatever its bars show, a stale ticker's rules say they cannot judge, with the reason."""
    verdict = judge(price_rule, JUMP, "US", at(20), [news(at(5))], stale="zero volume for 3 sessions (since 2025-10-06)")
    assert (verdict.outcome, verdict.reason) == ("blocked", "stale: zero volume for 3 sessions (since 2025-10-06)")
