"""Drawing a digest: escaped HTML for mail clients, the same content as text, the MIME layout."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import struct
from email import message_from_bytes, policy
from email.headerregistry import Address

import pytest

from service.digest.calendar import Deadline, UpcomingDeadline
from service.digest.chart import price_chart
from service.digest.content import FailingFeed, Unavailable, build_digest
from service.digest.render import compose_message, preview_html, render_digest, subject_of
from service.digest.schedule import Window
from tests.digest_data import HOSTILE, day_of_alerts, price_series, recipient, ticker_moves

END = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)
WINDOW = Window(END - dt.timedelta(days=3), END)
NOV27 = Deadline(id="ga-ge-sb-ban", date=dt.date(2026, 11, 27), title="Ga/Ge/Sb ban suspension ends", ends="the suspension", source="MOFCOM")
FEEDS = (FailingFeed("ustr", 4, "HTTP 503 Service Unavailable", None, None),)


def make_digest(**changes):
    values = dict(
        alerts=day_of_alerts(END),
        tickers=ticker_moves(END.date()),
        series=price_series(END),
        deadlines=[UpcomingDeadline(NOV27, 4, True)],
        failing_feeds=FEEDS,
    )
    values.update(changes)
    return build_digest(recipient(), END.date(), WINDOW, **values)


@pytest.fixture(scope="module")
def rendered():
    digest = make_digest()
    return digest, render_digest(digest, price_chart(digest))


def test_hostile_feed_text_is_escaped_in_html(rendered):
    """Markup, Slack-style mentions and script links from a feed arrive as inert text."""
    _, out = rendered
    assert "<script>" not in out.html and "<b>soar</b>" not in out.html and "<!channel>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; MP Materials &amp; Lynas &lt;b&gt;soar&lt;/b&gt;" in out.html
    assert "<img src=x" not in out.html and "&lt;img src=x onerror=alert(2)&gt;" in out.html
    assert "javascript:" not in out.html


def test_html_uses_no_external_resources(rendered):
    """Mail clients block remote content: the only image is the inline chart, styles are inline."""
    _, out = rendered
    sources = re.findall(r'src="([^"]*)"', out.html)
    assert sources == [f"cid:{out.chart_cid[1:-1]}"]
    assert "<link" not in out.html and "<style" not in out.html and "<script" not in out.html
    assert 'role="presentation"' in out.html  # layout by tables


def test_text_carries_the_same_content_as_html(rendered):
    """Every headline, ticker, deadline and failing feed is in both alternatives."""
    digest, out = rendered
    html_text = html.unescape(re.sub(r"<[^>]+>", " ", out.html))  # tags off first: escaped text has none
    facts = [st.lead.title for s in digest.sections for st in s.stories]
    facts += ["MP", "LYC.AX", "ARU.AX", "no bar since 2026-11-18", "-12.5%", "+10.7%"]
    facts += ["Ga/Ge/Sb ban suspension ends", "In 4 days", "ustr", "HTTP 503 Service Unavailable"]
    facts += ["bis-rules, markets-aggregator (2 sources)"]
    for fact in facts:
        assert fact in out.text, fact
        assert fact in html_text, fact
    assert "https://news.example/pause" in out.text and 'href="https://news.example/pause"' in out.html
    assert HOSTILE in out.text  # plain text is not interpreted, so it is shown as written


def test_the_watchlist_is_coloured_by_direction(rendered):
    """Falls are red with a down arrow, rises green with an up arrow."""
    _, out = rendered
    assert re.search(r'color:#cf222e;">▼ -12.5%', out.html)
    assert re.search(r'color:#1a7f37;">▲ \+10.7%', out.html)


def test_message_is_alternative_of_text_and_related_html_with_inline_chart(rendered):
    """multipart/alternative holds text/plain and multipart/related (HTML plus the cid: image)."""
    digest, out = rendered
    now = END + dt.timedelta(minutes=1)
    message = compose_message(
        out, digest, sender=Address("reewatch", addr_spec="reewatch@fund.example"), message_id="<d.1@fund.example>", now=now
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text, related = parsed.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == out.chart_cid
    assert f'src="cid:{out.chart_cid[1:-1]}"' in html_part.get_content()
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert parsed["Message-ID"] == "<d.1@fund.example>"
    assert parsed["Date"].datetime == now.replace(microsecond=0)
    assert parsed["To"].addresses[0].addr_spec == "trader@desk.example"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Subject"] == out.subject


def test_without_prices_there_is_no_chart_and_no_related_part():
    """No series, no image: the HTML is the second alternative itself."""
    digest = make_digest(series={}, tickers=Unavailable("price store timed out"))
    out = render_digest(digest, price_chart(digest))
    assert out.chart_png is None and "<img" not in out.html
    message = compose_message(out, digest, sender=Address(addr_spec="r@fund.example"), message_id="<x@y>", now=END)
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]
    assert "Prices could not be read: price store timed out" in out.text
    assert "Prices could not be read: price store timed out" in out.html


def test_unavailable_alerts_are_said_not_hidden():
    """When alerts cannot be read the digest says so, in the subject too; it never looks calm."""
    digest = make_digest(alerts=Unavailable("alert store unreachable"))
    out = render_digest(digest, None)
    assert "Alerts could not be read: alert store unreachable" in out.text
    assert "Alerts could not be read: alert store unreachable" in out.html
    assert "alerts unavailable" in out.subject


def test_a_quiet_day_says_so():
    """No alerts above the recipient's score is said in words."""
    out = render_digest(make_digest(alerts=[]), None)
    assert "No alerts at or above score 30 since the last digest." in out.text


def test_preview_inlines_the_chart_as_a_data_uri(rendered):
    """The preview file shows the chart in a browser, which cannot resolve cid: links."""
    digest, _ = rendered
    page = preview_html(digest, price_chart(digest))
    assert 'src="data:image/png;base64,iVBORw0KGgo' in page and "cid:" not in page


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Rare-earth digest Mon 23 Nov 2026: 3 stories, deadline in 4 days, 1 feed failing"),
        ({"alerts": day_of_alerts(END)[3:4], "deadlines": [], "failing_feeds": []}, "Rare-earth digest Mon 23 Nov 2026: 1 story"),
        ({"deadlines": [UpcomingDeadline(NOV27, 0, True)], "failing_feeds": FEEDS * 2}, "Rare-earth digest Mon 23 Nov 2026: 3 stories, deadline today, 2 feeds failing"),
        ({"deadlines": [UpcomingDeadline(NOV27, 1, True)], "failing_feeds": []}, "Rare-earth digest Mon 23 Nov 2026: 3 stories, deadline in 1 day"),
        ({"deadlines": [UpcomingDeadline(NOV27, 4, False)], "failing_feeds": []}, "Rare-earth digest Mon 23 Nov 2026: 3 stories"),
    ],
)
def test_subject(changes, expected):
    """The subject says how much happened and what needs attention."""
    assert subject_of(make_digest(**changes)) == expected


def _png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def test_chart_is_a_png_with_markers_where_alerts_fired():
    """The chart is a PNG of the followed tickers; alert markers change the picture."""
    digest = make_digest()
    with_markers = price_chart(digest)
    without = price_chart(dataclasses.replace(digest, markers={}))
    assert with_markers.startswith(b"\x89PNG") and _png_size(with_markers) == (620, 300)
    assert with_markers != without
    assert price_chart(make_digest(series={})) is None
