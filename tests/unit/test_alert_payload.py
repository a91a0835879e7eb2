"""The alert frozen in an outbox row: it round-trips through JSON, old versions still read."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from service.domain.alerts import Alert, FollowUp, NewsRef, PriceAlert, StoryNote, notice_from_row
from service.domain.quotes import Quote
from service.domain.scoring import Assessment, Source

QUOTES = {
    "MP": Quote("MP", "USD", 63.55, datetime(2025, 10, 30, 15, 0, tzinfo=UTC), date(2025, 10, 30), -4.2, live=True),
    "USAR": Quote("USAR", "USD", missing="stale 3 sessions (last price 2025-10-27)"),
}


def an_alert(**verdict) -> Alert:
    values = dict(
        event_types=("truce",),
        score=71,
        severity="high",
        alert=True,
        rules=("us_china_truce", "tariff_cut"),
        matched=("one-year pause",),
        impacts={"USAR": "bearish", "MP": "bearish", "GM": "bullish"},
        relevance={"USAR": 60, "MP": 75, "GM": 30},
        channels=("#desk",),
        throttle_seconds=900,
        novelty=75,
    )
    values.update(verdict)
    return Alert(
        article_id=42,
        title="Busan: one-year pause",
        link="https://wire.example/busan",
        source=Source("Wire", kind="wire", weight=0.9),
        published=datetime(2025, 10, 30, 3, 15, tzinfo=UTC),
        assessment=Assessment(**values),
    )


def test_payload_round_trips_through_json():
    """What is stored is what is rendered later, field for field."""
    alert = an_alert()
    assert Alert.from_payload(json.loads(json.dumps(alert.to_payload()))) == alert


def test_payload_with_prices_round_trips_through_json():
    """The prices snapshotted with the alert come back as they were stored, a missing one with its reason."""
    alert = replace(an_alert(), quotes=QUOTES)
    payload = json.loads(json.dumps(alert.to_payload()))
    assert payload["v"] == 3 and payload["quotes"]["USAR"] == {"currency": "USD", "missing": "stale 3 sessions (last price 2025-10-27)"}
    assert Alert.from_payload(payload) == alert


def test_a_story_reply_round_trips_with_its_story_and_what_it_adds():
    """The named tickers, the story's sources and severity, and what a reply adds come back as stored."""
    alert = replace(
        an_alert(),
        shown=("MP", "USAR"),
        more=3,
        story=StoryNote(7, ("wire", "federal-register-bis"), 2, "critical"),
        adds=("official source", "tickers USAR"),
        broadcast=True,
    )
    assert Alert.from_payload(json.loads(json.dumps(alert.to_payload()))) == alert


def test_a_version_2_payload_is_still_readable():
    """Rows queued before stories name no tickers of their own: the message picks from the impacts."""
    payload = replace(an_alert(), quotes=QUOTES).to_payload()
    payload["v"] = 2
    for key in ("shown", "more", "story", "adds", "broadcast"):
        del payload[key]
    alert = Alert.from_payload(payload)
    assert alert.shown is None and alert.story is None and alert == replace(an_alert(), quotes=QUOTES)


def test_a_version_1_payload_is_still_readable():
    """Rows queued before prices were recorded render as before: no quotes, nothing invented."""
    payload = an_alert().to_payload()
    payload["v"] = 1
    for key in ("quotes", "shown", "more", "story", "adds", "broadcast"):
        del payload[key]
    alert = Alert.from_payload(payload)
    assert alert.quotes == {} and alert == an_alert()


def test_price_alerts_and_follow_ups_round_trip_by_kind():
    """Each outbox kind reads back into its own notice, whatever JSON did to it."""
    price = PriceAlert(
        rule_id="producers-fall-after-easing",
        description="After a truce, a producer fell 3%",
        severity="high",
        check="move",
        ticker="MP",
        session=date(2025, 10, 30),
        reason="-4.61% after 2025-10-30 13:35Z",
        raised_at=datetime(2025, 10, 30, 14, 0, tzinfo=UTC),
        change_pct=-4.61,
        start_price=66.0,
        start_at=datetime(2025, 10, 30, 13, 35, tzinfo=UTC),
        end_price=62.96,
        end_at=datetime(2025, 10, 30, 13, 55, tzinfo=UTC),
        window_seconds=7200,
        quote=QUOTES["MP"],
        news=NewsRef(42, "Busan: one-year pause", "https://wire.example/busan", ("truce",), datetime(2025, 10, 30, 13, 35, tzinfo=UTC)),
    )
    at = datetime(2025, 10, 30, 13, 35, tzinfo=UTC)
    follow_up = FollowUp(42, "Busan: one-year pause", at, 15, (("MP", "bearish"), ("GM", "bullish")), due=at.replace(minute=50))
    for kind, notice in (("price", price), ("followup", follow_up), ("news", an_alert()), ("update", an_alert())):
        assert notice_from_row(kind, json.loads(json.dumps(notice.to_payload()))) == notice


@pytest.mark.parametrize(
    ("payload", "due"),
    [
        # Version 1 counted wall-clock minutes from the alert.
        (
            {"v": 1, "alert_at": "2025-10-31T20:30:00+00:00", "minutes": 15, "tickers": [["MP", "bearish"]]},
            datetime(2025, 10, 31, 20, 45, tzinfo=UTC),
        ),
        # Version 2 carries the instant the ticker's market had traded that long.
        (
            {"v": 2, "alert_at": "2025-10-31T20:30:00+00:00", "minutes": 15, "due": "2025-11-03T14:45:00+00:00",
             "tickers": [["MP", "bearish"]]},
            datetime(2025, 11, 3, 14, 45, tzinfo=UTC),
        ),
    ],
)
def test_a_follow_up_is_due_when_its_payload_says(payload, due):
    """Old follow-ups stay due in wall-clock time; new ones in the ticker's trading time."""
    follow_up = notice_from_row("followup", payload)
    assert follow_up.due_at == due and follow_up.in_trading_time is (payload["v"] == 2)


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("digest", {"v": 1}, "unknown outbox kind 'digest'"),
        ("price", {"v": 2}, "unknown price alert payload version 2"),
        ("followup", {"v": 1, "alert_at": "2025-10-30T13:35:00+00:00", "minutes": 15, "tickers": [["MP", "up"]]}, "unknown direction 'up'"),
        ("followup", {"v": 1, "alert_at": "2025-10-30T13:35:00", "minutes": 15, "tickers": []}, "has no zone"),
    ],
)
def test_an_outbox_row_that_is_not_ours_is_refused(kind, payload, message):
    """An unknown kind, version or direction raises ValueError, which fails the row with the reason."""
    with pytest.raises(ValueError, match=message):
        notice_from_row(kind, payload)


def test_payload_without_a_published_time_round_trips():
    """Articles without a date keep None."""
    alert = Alert(article_id=1, title="t", link=None, source=Source("s"), published=None, assessment=an_alert().assessment)
    assert Alert.from_payload(alert.to_payload()).published is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 99}, "unknown alert payload version"),
        ({"assessment": {"impacts": {"MP": "sideways"}}}, "unknown direction"),
    ],
)
def test_a_payload_that_is_not_ours_is_refused(change, message):
    """An unknown version or direction raises ValueError rather than rendering nonsense."""
    payload = an_alert().to_payload()
    if "assessment" in change:
        payload["assessment"].update(change["assessment"])
    else:
        payload.update(change)
    with pytest.raises(ValueError, match=message):
        Alert.from_payload(payload)


