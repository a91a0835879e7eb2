"""Feed text -> clean text, and links -> dedup keys."""

import unicodedata

import pytest

from service.sources.text import canonical_link, clean_html, clean_text, html_to_text, repair_mojibake, safe_link


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("plain words", "plain words"),
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("China&#8217;s <b>curbs</b> &amp; more", "China\u2019s curbs & more"),
        ("&lt;!channel&gt; please", "<!channel> please"),
        ("<script>alert(1)</script>visible<style>p{}</style>", "visible"),
        ("line<br>break", "line\nbreak"),
        ("a\u00a0\u00a0 b\t\tc", "a b c"),
        ("&lt;p&gt;double &lt;b&gt;encoded&lt;/b&gt;&lt;/p&gt;", "double encoded"),
        ("a < b and c > d", "a < b and c > d"),
        ("ctrl\x00\x07chars", "ctrlchars"),
        ('<a href="https://x">link text</a>', "link text"),
    ],
)
def test_html_to_text(markup, expected):
    """HTML fragments become visible text with entities decoded and whitespace tidied."""
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trump\u0e42s meeting", "Trump\u2019s meeting"),
        ("Busan \u0e42 A Temporary Reprieve", "Busan \u2014 A Temporary Reprieve"),
        ("his \u0e42Liberation Day\u0e42 tariff", "his \u201cLiberation Day\u201d tariff"),
        ("said.\u0e42 Then", "said.\u201d Then"),
        ("as\u0e22Rare Earth", "as Rare Earth"),  # no-break space that lost its second byte
        ("Copyright \u0e22\u0e09 2025 Example Media", "Copyright \u00a9 2025 Example Media"),  # both bytes survived: decode back
        # Real Thai text is left alone: the repair applies only to otherwise-Latin text.
        ("\u0e42\u0e04\u0e23\u0e07\u0e01\u0e32\u0e23", "\u0e42\u0e04\u0e23\u0e07\u0e01\u0e32\u0e23"),
        ("doesn\u00e2\u20ac\u2122t", "doesn\u2019t"),  # UTF-8 read as cp1252: ftfy's kind
        ("caf\u00c3\u00a9 au lait", "caf\u00e9 au lait"),
        ("already fine \u2014 \u201cquoted\u201d", "already fine \u2014 \u201cquoted\u201d"),
        ("ascii only", "ascii only"),
    ],
)
def test_repair_mojibake(text, expected):
    """Reversible mojibake and the lossy cp874 kind are both repaired."""
    assert repair_mojibake(text) == expected


def test_seed_000_mojibake_is_repaired_so_phrases_match(shared_corpora):
    """The real seed article with lossy mojibake comes out with apostrophes, quotes and dashes."""
    raw = (shared_corpora / "seed-articles" / "000_22851e2edfac39ac.txt").read_text(encoding="utf-8")
    assert "\u0e42" in raw
    fixed = clean_text(raw)
    assert "\u0e42" not in fixed
    assert "President Trump\u2019s face-to-face meeting" in fixed
    assert "\u201cLiberation Day\u201d" in fixed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTP://Example.COM:80/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed#comments", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1&fbclid=zz", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?UTM_Campaign=x&id=7", "https://example.com/a?id=7"),
        ("https://example.com/?p=42", "https://example.com/?p=42"),
        # A front page is no article's address: feeds that link every item to it lose none.
        ("https://example.com", None),
        ("https://Example.com/?utm_source=rss#today", None),
        ("https://example.com./a", "https://example.com/a"),
        ("javascript:alert(1)", None),
        ("mailto:a@b.c", None),
        ("/relative/only", None),
        ("", None),
        (None, None),
        ("http://[::1:bad", None),
    ],
)
def test_canonical_link(url, expected):
    """Tracking parameters, fragments, default ports and scheme differences do not split a story."""
    assert canonical_link(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        (" http://example.com/a ", "http://example.com/a"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        (None, None),
    ],
)
def test_safe_link(url, expected):
    """Only http(s) links survive: a feed cannot smuggle javascript: into an alert."""
    assert safe_link(url) == expected


def test_clean_html_repairs_mojibake_after_markup():
    """Markup is stripped before repair, so mojibake inside tags' text is fixed too."""
    assert clean_html("<p>China\u0e42s move</p>") == "China\u2019s move"


FORMAT_CHARACTERS = [chr(cp) for cp in range(0x110000) if unicodedata.category(chr(cp)) == "Cf" and cp != 0x200B]


def test_every_invisible_format_character_is_removed():
    """Bidi overrides and isolates, joiners, the BOM, tags: none survives into feed text."""
    text = "Gallium" + "".join(FORMAT_CHARACTERS) + " curbs"
    assert clean_text(text) == "Gallium curbs"
    assert clean_html(f"<p>{text}</p>") == "Gallium curbs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("China \u202ebans gallium\u202c exports", "China bans gallium exports"),
        ("\u2067\u05e9\u05dc\u05d5\u05dd\u2069 MP Materials", "\u05e9\u05dc\u05d5\u05dd MP Materials"),
        ("ga\u200dll\u2060ium", "gallium"),
        ("&#x202E;reversed&#8238;", "reversed"),
        ("one\u2028two", "one\ntwo"),
    ],
)
def test_bidi_controls_cannot_reorder_a_headline(text, expected):
    """A right-to-left override (raw or as a character reference) cannot make text read backwards."""
    assert clean_html(text) == expected
