"""Escaping feed text for Slack, links that cannot break out, and cutting text to a budget."""

import pytest

from service.alerts.mrkdwn import escape, escape_within, link, link_target, one_line, truncate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("AT&T", "AT&amp;T"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here> <!everyone> <@U123>", "&lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt;"),
        ("<http://evil|bank.com>", "&lt;http://evil|bank.com&gt;"),
        ("&amp; already", "&amp;amp; already"),  # feed text is text: its entities show as typed
        ("It's \"quoted\" *bold* _it_ ~s~ `c`", "It's \"quoted\" *bold* _it_ ~s~ `c`"),  # nothing else
        ("", ""),
    ],
)
def test_escape_replaces_exactly_ampersand_and_angle_brackets(text, expected):
    """Only &, < and > are replaced, by &amp; &lt; &gt;; quotes and apostrophes stay as they are."""
    assert escape(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  China\n\tcurbs   exports  ", "China curbs exports"),
        ("bell\x07 escape\x1b[2J done", "bell escape [2J done"),
        ("line\u2028separator", "line separator"),
        ("\x85C1 next line", "C1 next line"),
    ],
)
def test_one_line_drops_control_characters_and_collapses_space(text, expected):
    """A field is one line of visible text: no control characters, no runs of space."""
    assert one_line(text) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven char", 10, "eleven ch…"),
        ("word and space", 10, "word and…"),  # no space before the ellipsis
        ("abc", 1, "…"),
        ("abc", 0, ""),
    ],
)
def test_truncate(text, limit, expected):
    """Text longer than the limit is cut to fit with an ellipsis."""
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= max(limit, 0)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("a & b", 20, "a &amp; b"),
        ("a & b", 9, "a &amp; b"),
        ("a & b", 8, "a &amp;…"),
        ("a & b", 7, "a…"),  # "&amp;" is never split
        ("<<<<", 9, "&lt;&lt;…"),
        ("x" * 10, 5, "xxxx…"),
        ("&", 4, "…"),
    ],
)
def test_escape_within_fits_the_escaped_form_and_never_splits_an_entity(text, limit, expected):
    """The budget counts escaped characters, and a cut never leaves half an entity behind."""
    result = escape_within(text, limit)
    assert result == expected
    assert len(result) <= limit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://wire.example/a", "https://wire.example/a"),
        ("HTTP://wire.example/a", "HTTP://wire.example/a"),
        ("https://wire.example/a?x=1&y=2", "https://wire.example/a?x=1&amp;y=2"),
        ("http://evil.example|bank.com", "http://evil.example%7Cbank.com"),
        ("http://evil.example>|bank.com", "http://evil.example%3E%7Cbank.com"),
        ("http://evil.example/<!channel>", "http://evil.example/%3C!channel%3E"),
        ("  https://wire.example/a  ", "https://wire.example/a"),
        ("javascript:alert(1)", None),
        ("ftp://files.example/a", None),
        ("mailto:desk@example.com", None),
        ("/relative/path", None),
        ("https://", None),
        ("https://wire.example/a b", None),
        ("https://wire.example/\nnext", None),
        ("https://wire.example/" + "a" * 2000, None),
        ("", None),
        (None, None),
    ],
)
def test_link_target_keeps_http_links_and_encodes_what_would_break_out(url, expected):
    """Only http(s) URLs are linked; `|`, `<`, `>` are percent-encoded and `&` escaped."""
    assert link_target(url) == expected


@pytest.mark.parametrize(
    ("url", "label", "limit", "expected"),
    [
        ("https://w.example/a", "Headline", 100, "<https://w.example/a|Headline>"),
        ("https://w.example/a", "<!channel> & co", 100, "<https://w.example/a|&lt;!channel&gt; &amp; co>"),
        ("https://w.example/a", "a|b", 100, "<https://w.example/a|a|b>"),  # Slack splits at the first |
        ("http://evil|bank.com", "Read", 100, "<http://evil%7Cbank.com|Read>"),
        ("javascript:alert(1)", "<click>", 100, "&lt;click&gt;"),
        (None, "No link", 100, "No link"),
        ("https://w.example/a", "Long headline here", 30, "<https://w.example/a|Long he…>"),
        ("https://w.example/a", "Headline", 20, "Headline"),  # no room for the link: the label alone
    ],
)
def test_link(url, label, limit, expected):
    """`<url|label>` with an escaped label, within the limit; the plain label when the URL is unusable."""
    result = link(url, label, limit=limit)
    assert result == expected
    assert len(result) <= limit
