"""Prices in messages: quotes on news alerts, price alerts and follow-ups, in Block Kit, text and console."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from service.alerts.console import render_console, render_console_notice
from service.alerts.message import render_alert, render_notice
from service.domain.alerts import FollowUp, NewsRef, PriceAlert
from service.domain.quotes import Quote
from service.domain.reactions import Reaction
from tests.fakes.slack_api import block_kit_problems
from tests.unit.test_message import HOSTILE, OUR_ANGLE_BRACKETS, alert, texts

AT = datetime(2025, 11, 10, 16, 5, tzinfo=UTC)
LIVE = Quote("MP", "USD", 63.55, AT, date(2025, 11, 10), 5.21, live=True)


def console_text(renderable) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=False, color_system=None).print(renderable)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        (LIVE, "63.55 USD · +5.2% today"),
        (Quote("LYC.AX", "AUD", 15.234, AT, date(2025, 11, 10), -0.04), "15.23 AUD · 0.0% on Nov 10"),
        (Quote("NTU.AX", "AUD", 0.0345, AT, date(2025, 11, 7), -3.0), "0.0345 AUD · -3.0% on Nov 7"),
        (Quote("600111.SS", "CNY", 1234.5, AT, date(2025, 11, 10), None), "1,234.50 CNY · day's change unknown"),
    ],
)
def test_each_ticker_field_shows_its_price(quote, expected):
    """Under the ticker's direction: the price, currency and day's change at the alert."""
    ticker = quote.ticker
    message = render_alert(alert(assessment={"impacts": {ticker: "bullish"}, "relevance": {ticker: 90}}, quotes={ticker: quote}))
    field = message.blocks[2]["fields"][0]["text"]
    assert field == f"▲ *{ticker}* bullish · relevance 90\n{expected}"
    assert f"{ticker} ▲ {expected}" in message.text
    assert f"{ticker} bullish · 90  {expected}" in console_text(render_console(alert(
        assessment={"impacts": {ticker: "bullish"}, "relevance": {ticker: 90}}, quotes={ticker: quote}), channel="#desk"))


MISSING = {
    "NB": Quote("NB", "USD", missing="stale 3 sessions (last price 2025-11-04)"),
    "USAR": Quote("USAR", "USD", missing="no prices stored yet"),
    "UUUU": Quote("UUUU", "USD", missing="no prices stored yet"),
}


@pytest.mark.parametrize(
    ("quotes", "note"),
    [
        # Every named ticker without a price for one reason: one line says why, none per ticker.
        ({"USAR": MISSING["USAR"], "UUUU": MISSING["UUUU"]}, "No prices: no prices stored yet"),
        # Different reasons are each given once, with their ticker.
        (
            {"NB": MISSING["NB"], "USAR": MISSING["USAR"]},
            "No prices: NB: stale 3 sessions (last price 2025-11-04); USAR: no prices stored yet",
        ),
        # Some priced, some not: the line names the ones without.
        ({"MP": LIVE, "USAR": MISSING["USAR"], "UUUU": MISSING["UUUU"]}, "No price for USAR, UUUU: no prices stored yet"),
    ],
)
def test_tickers_without_prices_get_one_line_that_says_why(quotes, note):
    """Missing prices are one context line under the tickers, in Slack and on the console."""
    impacts = {ticker: "bullish" for ticker in quotes}
    message = render_alert(alert(assessment={"impacts": impacts, "relevance": {}}, quotes=quotes))
    fields = [f["text"] for f in message.blocks[2]["fields"]]
    assert not any("no price" in f.lower() for f in fields)
    assert message.blocks[3] == {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    printed = console_text(render_console(alert(assessment={"impacts": impacts, "relevance": {}}, quotes=quotes), channel="#desk"))
    assert note in printed
    for quote in quotes.values():
        assert quote.missing is None or printed.count(quote.missing) == 1


def test_an_alert_without_recorded_prices_renders_as_before():
    """A payload from before prices were recorded shows no price line, rather than a false `no price`."""
    fields = render_alert(alert()).blocks[2]["fields"]
    assert all("\n" not in f["text"] for f in fields)


def price_alert(**changes) -> PriceAlert:
    values = dict(
        rule_id="producer-swing",
        description="A producer moved 6% or more within an hour.",
        severity="high",
        check="move",
        ticker="MP",
        session=date(2025, 11, 10),
        reason="-6.40% over 1h",
        raised_at=AT,
        change_pct=-6.4,
        start_price=67.9,
        start_at=datetime(2025, 11, 10, 15, 5, tzinfo=UTC),
        end_price=63.55,
        end_at=AT,
        window_seconds=3600,
        quote=LIVE,
    )
    values.update(changes)
    return PriceAlert(**values)


TRUCE = NewsRef(7, "US, China agree one-year pause", "https://wire.example/busan", ("truce", "export_control_eased"), datetime(2025, 11, 10, 15, 55, tzinfo=UTC))

PRICE_CASES = {
    "move": (
        price_alert(),
        "🟠 HIGH · Price move · MP",
        "*MP down 6.4% within 1h*\n67.90 → 63.55 USD, 15:05 → 16:05 UTC",
    ),
    "gap": (
        price_alert(check="gap", reason="+5.60% at the open", change_pct=5.6, start_price=60.18, end_price=63.55, window_seconds=None),
        "🟠 HIGH · Opening gap · MP",
        "*MP opened up 5.6% from the previous close*\nprevious close 60.18 → open 63.55 USD",
    ),
    "volume": (
        price_alert(check="volume", severity="medium", reason="volume 3.4x its 20-session average", change_pct=None,
                    start_price=None, end_price=None, start_at=None, end_at=None, ratio=3.4, window_seconds=None),
        "🟡 MEDIUM · Volume surge · MP",
        "*MP: volume 3.4x its 20-session average*\nvolume 3.4x its 20-session average",
    ),
    "after news": (
        price_alert(rule_id="producers-fall-after-easing", reason="-3.90% after 2025-11-10 15:55Z", change_pct=-3.9,
                    start_price=66.13, start_at=TRUCE.at, window_seconds=7200, news=TRUCE),
        "🟠 HIGH · Price move after news · MP",
        "*MP down 3.9% within 10 min of the news*\n66.13 → 63.55 USD, 15:55 → 16:05 UTC",
    ),
}


@pytest.mark.parametrize("case", PRICE_CASES)
def test_a_price_alert_reads_at_a_glance(case):
    """Header names the kind and ticker; the headline states the move; prices, time and rule follow."""
    notice, header, headline = PRICE_CASES[case]
    message = render_notice(notice)
    assert message.blocks[0]["text"]["text"] == header
    assert message.blocks[1]["text"]["text"] == headline
    assert message.blocks[2]["text"]["text"] == "*Now:* 63.55 USD · +5.2% today"
    why = message.blocks[-1]["elements"][0]["text"]
    assert why.startswith(f"*Why:* `{notice.rule_id}` · ")
    assert message.text.startswith(f"{header}: {headline.split(chr(10))[0].strip('*')}")
    assert block_kit_problems(message.blocks) == []
    printed = console_text(render_console_notice(notice, channel="#prices"))
    assert header in printed and headline.split("\n")[0].strip("*") in printed and "Now: 63.55 USD · +5.2% today" in printed


def test_a_combined_alert_links_the_news_it_followed():
    """The news is linked and its event types named; the fallback text names it too."""
    message = render_notice(PRICE_CASES["after news"][0])
    assert message.blocks[3]["text"]["text"] == (
        "*After:* <https://wire.example/busan|US, China agree one-year pause> (Truce, Export control eased)"
    )
    assert message.text.endswith("· after “US, China agree one-year pause”")


def test_a_price_alert_in_its_thread_says_so():
    """A later price alert on the same ticker, posted in the first one's thread, is marked as a follow-up."""
    assert render_notice(price_alert(), reply=True).blocks[0]["text"]["text"] == "🟠 Follow-up · HIGH · Price move · MP"


def follow_up(*reactions: Reaction, title: str = "US, China agree one-year pause") -> FollowUp:
    return FollowUp(7, title, AT, 15, tuple((r.ticker, r.direction) for r in reactions), reactions)


REACTIONS = [
    (Reaction("MP", "bearish", "USD", 63.55, 60.7, AT, -4.48, "as_expected"), "▼ *MP* bearish · 63.55 → 60.70 USD (-4.5%) ✓ as expected"),
    (Reaction("F", "bullish", "USD", 11.42, 11.3, AT, -1.05, "against"), "▲ *F* bullish · 11.42 → 11.30 USD (-1.1%) ✗ against the call"),
    (Reaction("USAR", "bearish", "USD", 47.43, 47.42, AT, -0.02, "flat"), "▼ *USAR* bearish · 47.43 → 47.42 USD (0.0%) – flat"),
    (Reaction("REMX", "neutral", "USD", 71.2, 72.0, AT, 1.12, "no_expectation"), "● *REMX* neutral · 71.20 → 72.00 USD (+1.1%) no call (neutral)"),
    (Reaction("LYC.AX", "bearish", "AUD", note="market closed since the alert"), "*LYC.AX*: market closed since the alert"),
    (Reaction("6680.HK", "bullish", note="no prices stored for this ticker"), "*6680.HK*: no prices stored for this ticker"),
]


@pytest.mark.parametrize(("reaction", "expected"), REACTIONS)
def test_a_follow_up_line_per_ticker(reaction, expected):
    """Each line: the move since the alert and the verdict on the rule's direction, or plainly why there is none."""
    message = render_notice(follow_up(reaction))
    section = message.blocks[0]["text"]["text"]
    assert section == f"*⏱ 15 min after the alert*\n{expected}"
    assert message.blocks[1]["elements"][1]["text"].startswith("prices up to <!date^")
    plain = expected.replace("*", "")
    assert plain.split(" · ")[-1] in message.text
    assert plain.replace("▼ ", "").replace("▲ ", "").replace("● ", "") in console_text(
        render_console_notice(follow_up(reaction), channel="#desk", reply=True)
    ).replace("▼ ", "").replace("▲ ", "").replace("● ", "")


def test_a_follow_up_an_hour_later_says_so():
    """The title names the delay as configured."""
    later = replace(follow_up(REACTIONS[0][0]), minutes=60)
    assert render_notice(later).blocks[0]["text"]["text"].startswith("*⏱ 1h after the alert*")


@pytest.mark.parametrize("where", ["ticker", "title", "news"])
def test_hostile_text_in_prices_reaches_slack_inert(where):
    """A headline or ticker that tries to ping a channel is escaped in price alerts and follow-ups alike."""
    if where == "ticker":
        notice = follow_up(Reaction(HOSTILE, "bullish", "USD", note="market closed since the alert"))
    elif where == "title":
        notice = follow_up(REACTIONS[0][0], title=HOSTILE)
    else:
        notice = price_alert(news=replace(TRUCE, title=HOSTILE, link="http://evil.example>|<!channel>bank.com"))
    message = render_notice(notice)
    for text in [message.text, *texts(message.blocks)]:
        for live in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<http://evil|", "<#C999>"):
            assert live not in text
        assert "<" not in OUR_ANGLE_BRACKETS.sub("", text) and ">" not in OUR_ANGLE_BRACKETS.sub("", text)


def test_extreme_prices_content_stays_within_block_kit_limits():
    """Long titles, tickers and many reactions still make messages Slack accepts."""
    huge_ticker = "T" * 300
    reactions = [Reaction(f"{huge_ticker}{i}", "bearish", "X" * 50, 1e9, 1e-9, AT, -99.99, "as_expected") for i in range(40)]
    notices = [
        follow_up(*reactions, title="Export & <curbs> " * 500),
        price_alert(ticker=huge_ticker, description="d " * 3000, news=replace(TRUCE, title="<t> " * 3000, event_types=("x" * 500,) * 20)),
        alert(quotes={"MP": Quote("MP", "Y" * 500, 1e12, AT, date(2025, 11, 10), 1e6, live=True)}),
    ]
    for notice in notices:
        message = render_notice(notice)
        assert block_kit_problems(message.blocks) == [], notice
        assert len(message.text) <= 1000
        assert len(json.dumps(message.blocks, ensure_ascii=False)) < 12000
