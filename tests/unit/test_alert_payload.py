"""The alert frozen in an outbox row: it round-trips through JSON and names its throttle key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.domain.alerts import Alert
from service.domain.scoring import Assessment, Source


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


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        ({}, "us_china_truce|GM,MP,USAR"),
        # The companies the article names define the story; group-wide impacts do not.
        ({"relevance": {"MP": 90}}, "us_china_truce|MP"),
        ({"relevance": {}}, "us_china_truce|GM,MP,USAR"),
        ({"impacts": {}, "relevance": {}}, "us_china_truce|"),
        ({"rules": ()}, None),
    ],
)
def test_throttle_key_is_top_rule_and_sorted_tickers(verdict, expected):
    """Repeats are recognised by the strongest rule and the named (else impacted) tickers, sorted."""
    assert an_alert(**verdict).throttle_key == expected


def test_a_long_throttle_key_fits_its_column_and_stays_distinct():
    """Hundreds of tickers make a key past 300 characters: it is shortened with a digest of the whole."""
    many = {f"TICKER{i}": "bullish" for i in range(100)}
    one_more = {**many, "ZZZ": "bearish"}
    key = an_alert(impacts=many, relevance={}).throttle_key
    other = an_alert(impacts=one_more, relevance={}).throttle_key
    assert len(key) == len(other) == 300
    assert key.startswith("us_china_truce|TICKER0,TICKER1,") and key != other
    assert an_alert(impacts=many, relevance={}).throttle_key == key  # stable
