"""Building a digest from alerts and prices: filtering, stories, ranking, and the watchlist rows."""

from __future__ import annotations

import datetime as dt

import pytest

from service.digest.calendar import Deadline, UpcomingDeadline
from service.digest.content import DailyClose, FailingFeed, TickerMove, Unavailable, build_digest, tickers_at_stake
from service.domain.scoring import Assessment
from service.digest.schedule import Window
from tests.digest_data import HOSTILE, day_of_alerts, price_series, recipient, ticker_moves

END = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)
WINDOW = Window(END - dt.timedelta(days=3), END)


def digest(**changes):
    values = dict(
        alerts=day_of_alerts(END),
        tickers=ticker_moves(END.date()),
        series=price_series(END),
        deadlines=[],
        failing_feeds=[],
    )
    values.update(changes)
    r = values.pop("recipient", recipient())
    return build_digest(r, END.date(), WINDOW, **values)


def test_alerts_become_ranked_stories_grouped_by_event_type():
    """Each story once with its sources, under its lead's event type, strongest first."""
    d = digest()
    assert [(s.event_type, [st.lead.title for st in s.stories]) for s in d.sections] == [
        ("export_control_eased", ["China suspends rare earth export curbs for a year"]),
        ("gov_funding", [HOSTILE]),
        ("tariff_up", ["Section 232 probe into processed critical minerals"]),
    ]
    story = d.sections[0].stories[0]
    assert story.sources == ("bis-rules", "markets-aggregator")
    assert d.story_count == 3
    assert d.alert_count == 4  # the score-10 item is below the recipient's 30


@pytest.mark.parametrize(
    ("changes", "followed", "titles"),
    [
        ({"min_score": 70}, None, ["China suspends", "<script>"]),
        ({"min_score": 0}, None, ["China suspends", "<script>", "Section 232", "Magnet school"]),
        # Following only GM: the MP/Lynas funding story goes; ticker-less policy news stays.
        ({"min_score": 0}, {"GM"}, ["China suspends", "Section 232", "Magnet school"]),
    ],
)
def test_alerts_are_filtered_by_score_and_followed_tickers(changes, followed, titles):
    """Alerts below the minimum score or only about unfollowed tickers are left out."""
    d = digest(recipient=recipient(**changes), followed_tickers=followed)
    shown = [st.lead.title for s in d.sections for st in s.stories]
    assert len(shown) == len(titles)
    assert all(any(t.startswith(prefix) for t in shown) for prefix in titles)


def test_alerts_outside_the_window_are_left_out():
    """An alert raised after the digest's window ended belongs to the next digest."""
    later = day_of_alerts(END + dt.timedelta(hours=4, minutes=30))  # only the first is before END
    d = digest(alerts=later)
    assert d.story_count == 1
    assert d.sections[0].stories[0].sources == ("bis-rules",)


def test_markers_follow_the_kept_alerts():
    """The chart marks each followed ticker where a kept alert about it was raised."""
    d = digest()
    assert d.markers["MP"] == tuple(sorted(a.raised_at for a in day_of_alerts(END)[:3]))
    assert d.markers["LYC.AX"] == (day_of_alerts(END)[2].raised_at,)
    assert "GM" not in d.markers  # no price series for GM: nothing to mark


def test_unavailable_parts_stay_unavailable():
    """A source that failed is carried as Unavailable, never as an empty (calm) section."""
    d = digest(alerts=Unavailable("alert store down"), tickers=Unavailable("prices down"))
    assert d.sections == Unavailable("alert store down")
    assert d.tickers == Unavailable("prices down")
    assert d.story_count == 0 and d.markers == {}


def test_failing_feeds_put_disabled_ones_first():
    """Disabled feeds need a person: they are listed before feeds that are merely failing."""
    feeds = [
        FailingFeed("b-wire", 3, "HTTP 500", None, None),
        FailingFeed("z-gone", 1, "HTTP 410", None, "HTTP 410 Gone (since 2026-11-20 10:00 UTC)"),
        FailingFeed("a-wire", 1, "timeout", None, None),
    ]
    assert [f.name for f in digest(failing_feeds=feeds).failing_feeds] == ["z-gone", "a-wire", "b-wire"]


def test_deadlines_pass_through_in_order():
    """Deadlines are shown as the calendar computed them."""
    nov27 = Deadline(id="ban-ends", date=dt.date(2026, 11, 27), title="t", ends="e", source="s")
    shown = [UpcomingDeadline(nov27, 4, False)]
    assert digest(deadlines=shown).deadlines == tuple(shown)


D = dt.date


@pytest.mark.parametrize(
    ("closes", "last", "one_day", "five_day"),
    [
        ([(D(2026, 11, 16), 100.0), (D(2026, 11, 17), 110.0)], 110.0, 0.10, None),
        (
            [(D(2026, 11, 13 + i), 100.0 + 10 * i) for i in range(6)],  # in order, 6 sessions
            150.0,
            150 / 140 - 1,
            0.5,
        ),
        (
            [(D(2026, 11, 20), 90.0), (D(2026, 11, 19), 100.0)],  # out of order
            90.0,
            -0.10,
            None,
        ),
        ([(D(2026, 11, 19), 100.0), (D(2026, 11, 20), float("nan"))], 100.0, None, None),  # NaN bar dropped
        ([], None, None, None),
    ],
)
def test_ticker_move_from_closes(closes, last, one_day, five_day):
    """A watchlist row from daily closes: the last close and its change over 1 and 5 sessions."""
    move = TickerMove.from_closes("MP", "g", [DailyClose(d, c) for d, c in closes])
    assert move.last_close == last
    assert move.change_1d == (pytest.approx(one_day) if one_day is not None else None)
    assert move.change_5d == (pytest.approx(five_day) if five_day is not None else None)
    assert (move.note == "no prices") == (last is None)


@pytest.mark.parametrize(
    ("impacts", "relevance", "followed", "limit", "shown", "more"),
    [
        # Named companies first, most relevant first, then moved tickers in watchlist order.
        (
            {"MP": "bullish", "USAR": "bullish", "LYC.AX": "bullish", "F": "bearish"},
            {"LYC.AX": 90, "MP": 40},
            None,
            6,
            [("LYC.AX", "bullish"), ("MP", "bullish"), ("USAR", "bullish"), ("F", "bearish")],
            0,
        ),
        # Group-wide neutral entries are noise; a named company stays even when neutral.
        (
            {"600111.SS": "neutral", "MP": "bullish", "GM": "neutral"},
            {"GM": 80},
            None,
            6,
            [("GM", "neutral"), ("MP", "bullish")],
            0,
        ),
        # Only what the reader follows, and a count of what did not fit.
        (
            {"MP": "bullish", "USAR": "bullish", "UUUU": "bullish", "F": "bearish"},
            {},
            {"MP", "USAR", "UUUU"},
            2,
            [("MP", "bullish"), ("USAR", "bullish")],
            1,
        ),
        ({}, {}, None, 6, [], 0),
    ],
)
def test_tickers_at_stake(impacts, relevance, followed, limit, shown, more):
    """A story lists the tickers a reader cares about first, and counts the rest."""
    assessment = Assessment(
        event_types=("truce",), score=70, severity="high", alert=True, rules=("r",), matched=(),
        impacts=impacts, relevance=relevance,
    )
    assert tickers_at_stake(assessment, followed, limit) == (shown, more)
