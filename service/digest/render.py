"""Drawing a digest: HTML and plain text from the same data, and the MIME message holding both.

Feed text is hostile: the HTML template autoescapes everything, and links are kept only when
they are http(s).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from functools import cache
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from service.digest.content import Digest, Unavailable, tickers_at_stake
from service.sources.text import safe_link

if TYPE_CHECKING:
    from jinja2 import Environment

UP_COLOUR = "#1a7f37"
DOWN_COLOUR = "#cf222e"


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    chart_png: bytes | None
    #: The chart's Content-ID with its angle brackets; the HTML refers to it as cid:<inside>.
    chart_cid: str | None


@cache
def _environment() -> Environment:
    # jinja2 loads with the first digest, not with every process that could send one.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("service.digest", "templates"),
        # Every template is escaped except the plain-text one, which no client interprets.
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=_pct, price=_price, arrow=_arrow, colour=_colour, link=safe_link)
    env.globals.update(at_stake=tickers_at_stake)
    env.tests["unavailable"] = lambda value: isinstance(value, Unavailable)
    return env



def subject_of(digest: Digest) -> str:
    """A subject that says at a glance whether to open it now."""
    parts = [f"Rare-earth digest {digest.day:%a %d %b %Y}"]
    details = []
    if isinstance(digest.sections, Unavailable):
        details.append("alerts unavailable")
    else:
        count = digest.story_count
        details.append(f"{count} {'story' if count == 1 else 'stories'}")
    reminders = [u for u in digest.deadlines if u.reminder]
    if reminders:
        soonest = reminders[0].days_left
        details.append("deadline today" if soonest == 0 else f"deadline in {soonest} day{'s' if soonest != 1 else ''}")
    if digest.failing_feeds:
        n = len(digest.failing_feeds)
        details.append(f"{n} feed{'s' if n != 1 else ''} failing")
    return f"{parts[0]}: {', '.join(details)}"


def render_digest(digest: Digest, chart_png: bytes | None, *, chart_src: str | None = None) -> RenderedDigest:
    """The HTML (chart referenced by `chart_src`, or by a fresh Content-ID) and the plain text."""
    chart_cid = None
    if chart_png is not None and chart_src is None:
        chart_cid = make_msgid(idstring="chart")
        chart_src = f"cid:{chart_cid[1:-1]}"
    subject = subject_of(digest)
    context = {
        "d": digest,
        "subject": subject,
        "zone": digest.recipient.timezone,
        "chart_src": chart_src if chart_png is not None else None,
        "local": lambda moment, fmt="%a %d %b %H:%M": moment.astimezone(digest.recipient.zone).strftime(fmt),
        "UP": UP_COLOUR,
        "DOWN": DOWN_COLOUR,
    }
    html = _environment().get_template("digest.html.j2").render(context)
    text = _environment().get_template("digest.txt.j2").render(context)
    return RenderedDigest(subject, text, html, chart_png, chart_cid)


def preview_html(digest: Digest, chart_png: bytes | None) -> str:
    """The HTML with the chart inlined as a data: URI, so a browser shows it from a file."""
    src = None
    if chart_png is not None:
        src = "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii")
    return render_digest(digest, chart_png, chart_src=src).html


def compose_message(rendered: RenderedDigest, digest: Digest, *, sender: Address, message_id: str, now: dt.datetime) -> EmailMessage:
    """multipart/alternative: the text, then multipart/related with the HTML and its chart."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = Address(display_name=digest.recipient.name or "", addr_spec=digest.recipient.address)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    # Vacation responders and ticket systems must not answer a machine's mail (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.chart_png is not None and rendered.chart_cid is not None:
        html_part = message.get_payload()[1]
        html_part.add_related(rendered.chart_png, "image", "png", cid=rendered.chart_cid, filename="chart.png")
    return message


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f}%"


def _price(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if value >= 1 else f"{value:.4g}"


def _arrow(value: float | None) -> str:
    if value is None or abs(value) < 0.0005:
        return ""
    return "▲" if value > 0 else "▼"


def _colour(value: float | None) -> str:
    if value is None or abs(value) < 0.0005:
        return "#57606a"
    return UP_COLOUR if value > 0 else DOWN_COLOUR
