"""Pure rules of telling the desk: what is too old or backfill, how long ago, which tickers an alert
names, when a ticker's market has traded long enough for a follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.alerts.card import pick_tickers
from service.alerts.queue import follow_up_times, rule_tickers
from service.config import parse_duration
from service.domain.markets import after_trading
from service.domain.scoring import Assessment, Source
from service.pipeline.stories import BACKFILL, TOO_OLD, quiet_reason
from service.rules import load_ruleset
from tests.conftest import SHIPPED_RULES

NOW = datetime(2025, 11, 10, 16, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("3600", timedelta(hours=1)),
        (" 1.5H ", timedelta(minutes=90)),
        ("0", None),
        ("", None),
        ("off", None),
    ],
)
def test_durations(text, expected):
    """REEWATCH_MAX_ALERT_AGE and `stories --since` take a number with s, m, h or d; 0 means no limit."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["a day", "-5m", "5w", "nan"])
def test_a_bad_duration_says_what_is_wrong(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("published", "backfill", "max_age", "expected"),
    [
        (NOW - timedelta(hours=1), False, timedelta(hours=24), None),
        (NOW - timedelta(hours=25), False, timedelta(hours=24), TOO_OLD),
        (NOW - timedelta(days=365), False, None, None),  # no limit
        (None, False, timedelta(hours=24), None),  # undated items count as new
        (NOW - timedelta(minutes=5), True, timedelta(hours=24), BACKFILL),  # even a fresh one on a first poll
        (NOW + timedelta(hours=2), False, timedelta(hours=24), None),
    ],
)
def test_what_must_not_alert(published, backfill, max_age, expected):
    """A feed's first poll (quiet backfill) and items older than the age limit are held back."""
    assert quiet_reason(published, NOW, backfill=backfill, max_age=max_age) == expected


@pytest.mark.parametrize(
    ("impacts", "relevance", "rule_tickers_", "shown", "more"),
    [
        # Named companies first (most relevant first), then the rule's own, neutral ones left out.
        (
            {"MP": "bullish", "USAR": "bullish", "F": "bearish", "600111.SS": "neutral", "LYC.AX": "bullish"},
            {"LYC.AX": 100, "F": 40},
            None,
            ["LYC.AX", "F", "MP", "USAR"],
            0,
        ),
        # A rule for UAMY shows UAMY, not the other rule's default groups.
        (
            {"MP": "bullish", "USAR": "bullish", "UAMY": "bullish", "PPTA": "bullish"},
            {},
            ["UAMY"],
            ["UAMY"],
            0,
        ),
        # At most six, then a count of the rest.
        ({f"T{i}": "bullish" for i in range(9)}, {}, None, [f"T{i}" for i in range(6)], 3),
        # A neutral company the article names is still shown.
        ({"GM": "neutral", "MP": "bullish"}, {"GM": 100}, None, ["GM", "MP"], 0),
    ],
)
def test_the_tickers_an_alert_names(impacts, relevance, rule_tickers_, shown, more):
    assert pick_tickers(impacts, relevance, rule_tickers=rule_tickers_) == (shown, more)


def test_the_shipped_rules_name_their_own_tickers_before_default_groups():
    """Through the shipped rules: a rule that names tickers or groups shows those; one that names
    none shows its event types' default groups, at most six."""
    ruleset = load_ruleset(SHIPPED_RULES)
    choose = rule_tickers(ruleset)
    verdict = ruleset.assess(
        "China widens rare earth export controls to foreign-made magnets",
        "The commerce ministry said foreign companies will need a licence to export products containing rare earths.",
        Source("wire", "wire", 0.9),
    )
    shown, more = choose(verdict)
    assert len(shown) == 6 and more == len([t for t, d in verdict.impacts.items() if d != "neutral"]) - 6
    own = Assessment(event_types=("corporate",), score=60, severity="medium", alert=True, rules=("nonexistent",), matched=(),
                     impacts={"MP": "bullish"}, relevance={})
    assert choose(own) == (["MP"], 0)  # a rule the ruleset no longer has: every moved ticker


@pytest.mark.parametrize(
    ("code", "start", "minutes", "expected"),
    [
        # New York, trading: fifteen minutes later.
        ("US", datetime(2025, 11, 10, 16, 5, tzinfo=UTC), 15, datetime(2025, 11, 10, 16, 20, tzinfo=UTC)),
        # After the close: the next session's first fifteen minutes.
        ("US", datetime(2025, 11, 10, 22, 0, tzinfo=UTC), 15, datetime(2025, 11, 11, 14, 45, tzinfo=UTC)),
        # Five minutes before the close: five today, ten tomorrow.
        ("US", datetime(2025, 11, 10, 20, 55, tzinfo=UTC), 15, datetime(2025, 11, 11, 14, 40, tzinfo=UTC)),
        # Five minutes before the close, an hour: five today, fifty-five tomorrow.
        ("US", datetime(2025, 11, 10, 20, 55, tzinfo=UTC), 60, datetime(2025, 11, 11, 15, 25, tzinfo=UTC)),
        # A Saturday: Monday's open.
        ("US", datetime(2025, 11, 8, 12, 0, tzinfo=UTC), 15, datetime(2025, 11, 10, 14, 45, tzinfo=UTC)),
        # Shanghai's lunch break does not count.
        ("SSE", datetime(2025, 11, 11, 3, 20, tzinfo=UTC), 15, datetime(2025, 11, 11, 5, 5, tzinfo=UTC)),
        # Sydney, while New York trades: Sydney's next open.
        ("ASX", datetime(2025, 11, 10, 16, 5, tzinfo=UTC), 15, datetime(2025, 11, 10, 23, 15, tzinfo=UTC)),
    ],
)
def test_after_trading(code, start, minutes, expected):
    """Follow-ups count the ticker's own trading minutes: closed hours, lunch and weekends do not."""
    assert after_trading(code, start, minutes) == expected


def test_follow_ups_group_the_tickers_that_trade_together():
    """One follow-up per instant: the New York tickers share one, Lynas has its own; an unknown
    exchange gets none rather than a line saying nothing."""
    tickers = (("MP", "bullish"), ("F", "bearish"), ("LYC.AX", "bullish"), ("VOD.L", "bearish"))
    groups = follow_up_times(tickers, 15, NOW)
    assert groups == {
        NOW + timedelta(minutes=15): [("MP", "bullish"), ("F", "bearish")],
        datetime(2025, 11, 10, 23, 15, tzinfo=UTC): [("LYC.AX", "bullish")],
    }
