"""A calendar reminder as a Slack message and on the console: the parts a trader needs, escaped,
within Block Kit's limits, and the payload the outbox keeps read back unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from rich.console import Console

from service.alerts.console import render_console_notice
from service.alerts.message import render_notice
from service.domain.alerts import REMINDER, Reminder, notice_from_row
from tests.fakes.slack_api import block_kit_problems

REMINDER_CARD = Reminder(
    deadline_id="ban-ends",
    slot="1d",
    title="China's suspension of its export ban runs out",
    date=dt.date(2026, 12, 13),
    time=dt.time(0, 1),
    timezone="Asia/Shanghai",
    days_left=1,
    ends="The suspension of the ban",
    source="MOFCOM announcement No. 72",
    link="https://mofcom.example/notice?a=1&b=2",
    moves=(("us_allied_producers", "bullish"), ("downstream_users", "bearish")),
    event_types=("export_control_new",),
)


def test_the_payload_reads_back_as_written():
    """What the outbox keeps is what the dispatcher renders."""
    assert notice_from_row(REMINDER, REMINDER_CARD.to_payload()) == REMINDER_CARD


@pytest.mark.parametrize(
    "broken",
    [{"v": 2}, {"moves": [["MP", "sideways"]]}, {"date": "2026-13-01"}],
)
def test_an_unreadable_payload_is_an_error_not_a_guess(broken):
    """A payload from another version or with bad values fails the row instead of posting nonsense."""
    with pytest.raises(ValueError):
        Reminder.from_payload({**REMINDER_CARD.to_payload(), **broken})


@pytest.mark.parametrize(
    ("days_left", "countdown"),
    [(7, "In 7 days"), (5, "In 5 days"), (1, "Tomorrow"), (0, "Today")],
)
def test_the_header_counts_down(days_left, countdown):
    """The header says how far off the date is, then what it is."""
    message = render_notice(Reminder(**{**REMINDER_CARD.__dict__, "days_left": days_left}))
    assert message.blocks[0]["text"]["text"] == f"📅 {countdown}: China's suspension of its export ban runs out"


def test_the_card_shows_when_what_changes_what_it_may_move_and_the_source():
    """Date with time and zone, the title linked, what ends, the moves, the source and which reminder."""
    message = render_notice(REMINDER_CARD)
    assert block_kit_problems(message.blocks) == []
    body = message.blocks[1]["text"]["text"]
    assert body.startswith("*<https://mofcom.example/notice?a=1&amp;b=2|China's suspension of its export ban runs out>*")
    assert "*When:* Sun 13 Dec 2026 00:01 (Asia/Shanghai) · tomorrow" in body
    assert "*Ends:* The suspension of the ban" in body
    assert [f["text"] for f in message.blocks[2]["fields"]] == ["▲ *us_allied_producers* bullish", "▼ *downstream_users* bearish"]
    assert [e["text"] for e in message.blocks[3]["elements"]] == ["Source: MOFCOM announcement No. 72", "reminder 1 day before · ban-ends"]
    assert message.text == "Reminder, tomorrow (Sun 13 Dec 2026 00:01 (Asia/Shanghai)): China's suspension of its export ban runs out"


def test_hostile_and_huge_calendar_text_stays_inert_and_in_bounds():
    """Mentions, links and control characters in the calendar are escaped or dropped, and a
    calendar entry far over Slack's limits is cut to fit."""
    hostile = Reminder(
        **{
            **REMINDER_CARD.__dict__,
            "title": "<!channel> ban\u2028ends <https://evil.example|bank> & " + "x" * 400,
            "ends": "<@U1> " * 2000,
            "source": "\x1b[31m<b>MOFCOM</b>",
            "link": "javascript:alert(1)",
            "moves": tuple((f"<!here>{i}", "bullish") for i in range(14)),
        }
    )
    message = render_notice(hostile)
    assert block_kit_problems(message.blocks) == []
    everything = message.text + repr(message.blocks)
    for raw in ("<!channel>", "<https://evil", "<@U1>", "<!here>", "<b>", "\x1b", "\u2028", "javascript:"):
        assert raw not in everything
    assert "&lt;!channel&gt; ban ends &lt;https://evil.example|bank&gt; &amp;" in message.blocks[1]["text"]["text"]
    assert len(message.blocks[2]["fields"]) == 10 and message.blocks[2]["fields"][-1]["text"] == "+5 more"


def test_the_console_shows_the_same_parts_without_markup():
    """Without Slack, the reminder prints with its countdown, dates and moves; markup in the
    calendar stays text."""
    console = Console(record=True, width=120, color_system=None)
    console.print(render_console_notice(Reminder(**{**REMINDER_CARD.__dict__, "title": "[bold]Ban[/bold] ends"}), channel="#alerts"))
    shown = console.export_text()
    assert "📅 Tomorrow" in shown and "[bold]Ban[/bold] ends" in shown
    assert "When: Sun 13 Dec 2026 00:01 (Asia/Shanghai) · tomorrow" in shown
    assert "▲ us_allied_producers bullish" in shown and "#alerts" in shown
