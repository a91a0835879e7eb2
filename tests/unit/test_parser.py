"""Feed bodies -> entries: hostile and broken input yields a reason, never a crash or a blow-up."""

from datetime import UTC, datetime

import pytest

from service.errors import EmptyBody, NotAFeed
from service.sources.parser import MAX_TITLE_CHARS, neutralise_entity_declarations, parse_feed, resolve_named_references
from tests.sample_feeds import item, rss

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
URL = "https://feeds.example.test/rss"


def parse(body: bytes, content_type: str | None = "application/rss+xml"):
    return parse_feed(body, url=URL, content_type=content_type, now=NOW)


def test_entries_are_normalised():
    """Titles and summaries become plain text, dates UTC, links canonical."""
    parsed = parse(
        rss(
            item(
                title="China&amp;#8217;s &lt;b&gt;curbs&lt;/b&gt;",
                link="https://example.test/a?utm_source=rss#top",
                date="Mon, 06 Oct 2025 10:00:00 +0200",
                body="&lt;p&gt;MOFCOM &amp;amp; BIS&lt;/p&gt;",
            )
        )
    )
    (entry,) = parsed.entries
    assert entry.title == "China\u2019s curbs"
    assert entry.summary == "MOFCOM & BIS"
    assert entry.published == datetime(2025, 10, 6, 8, 0, tzinfo=UTC)
    assert entry.link == "https://example.test/a?utm_source=rss#top"
    assert entry.canonical_link == "https://example.test/a"
    assert entry.guid == "g1"
    assert parsed.title == "Loopback feed"
    assert parsed.warnings == []


def test_empty_body_is_an_error():
    """Zero bytes or whitespace is a failure with a reason, not an empty success."""
    with pytest.raises(EmptyBody, match="empty"):
        parse(b"  \n\t ")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in</body></html>", "text/html"),
        (b"<html><body>Oops</body></html>", None),
        (b"<!-- cdn --><!doctype html><html><body>x</body></html>", "application/octet-stream"),
    ],
)
def test_html_page_is_not_a_feed(body, content_type):
    """An HTML page where a feed was expected is named as such."""
    with pytest.raises(NotAFeed, match="HTML page"):
        parse(body, content_type)


def test_random_text_is_not_a_feed():
    """A body with no feed in it says so, with the parser's reason."""
    with pytest.raises(NotAFeed, match="no RSS or Atom feed"):
        parse(b"just some words, no xml", "text/plain")


def test_the_same_entry_twice_is_kept_once():
    """A feed that repeats an entry (guid and content) yields it once, and a warning."""
    parsed = parse(rss(item(guid="same", title="First") + item(guid="other") + item(guid="same", title="First")))
    assert [(e.guid, e.title) for e in parsed.entries] == [("same", "First"), ("other", "A headline")]
    assert any("repeated an earlier entry" in w for w in parsed.warnings)


def test_different_entries_under_one_guid_are_each_kept():
    """A feed that gives every item one guid loses none of them: each is keyed by the guid and
    its content, the same key on every poll, and the feed is told."""
    body = rss(item(guid="chan", title="First", link="https://x.test/1") + item(guid="chan", title="Second", link="https://x.test/2"))
    parsed = parse(body)
    assert [e.title for e in parsed.entries] == ["First", "Second"]
    keys = [e.guid for e in parsed.entries]
    assert all(k.startswith("chan#") for k in keys) and keys[0] != keys[1]
    assert [e.guid for e in parse(body).entries] == keys
    assert any("shared a guid" in w for w in parsed.warnings)
    huge = "g" * 600  # longer than a stored key: the shortened guid, then the content key
    parsed = parse(rss(item(guid=huge, title="First") + item(guid=huge, title="Second")))
    assert len({e.guid for e in parsed.entries}) == 2 and all(len(e.guid) <= 512 for e in parsed.entries)


def test_entries_without_guid_or_link_are_keyed_by_content():
    """Neither guid nor link: the entry is kept under a content hash, and the feed is told."""
    parsed = parse(rss(item(guid=None, link=None, title="Orphan one") + item(guid=None, link=None, title="Orphan two")))
    keys = [e.guid for e in parsed.entries]
    assert len(keys) == 2 and all(k.startswith("sha256:") for k in keys) and keys[0] != keys[1]
    assert any("neither guid nor link" in w for w in parsed.warnings)


def test_guid_falls_back_to_link():
    """Without a guid the link identifies the entry."""
    (entry,) = parse(rss(item(guid=None, link="https://example.test/x"))).entries
    assert entry.guid == "https://example.test/x"


@pytest.mark.parametrize("date", ["not a date", "Mon, 99 Foo 2025 25:61:00 GMT", "Sun, 01 Jan 2090 00:00:00 GMT"])
def test_unreadable_or_future_dates_are_dropped_not_fatal(date):
    """A bad date leaves the entry undated, with a warning; the entry is still stored."""
    parsed = parse(rss(item(date=date) + item(guid="g2", date="Fri, 04 Apr 2025 09:00:00 GMT")))
    assert [e.published for e in parsed.entries] == [None, datetime(2025, 4, 4, 9, 0, tzinfo=UTC)]
    assert any("date that could not be read" in w for w in parsed.warnings)


def test_entries_with_nothing_are_skipped():
    """An entry with no title, text or link is dropped and counted."""
    parsed = parse(rss(item(guid="empty", title=None, link=None, body=None, date=None) + item()))
    assert len(parsed.entries) == 1
    assert any("no title, text or link" in w for w in parsed.warnings)


def test_javascript_links_are_dropped():
    """A javascript: link never reaches an alert."""
    (entry,) = parse(rss(item(link="javascript:alert(document.cookie)"))).entries
    assert entry.link is None and entry.canonical_link is None


def test_ill_formed_feed_still_yields_entries():
    """bozo is a warning: good entries of a broken feed are kept."""
    body = rss(item(guid="ok", title="Fine entry") + "<item><title>Broken &nbsp; <b>tag</title></item>")
    parsed = parse(body)
    assert any(e.title == "Fine entry" for e in parsed.entries)
    assert any("not well-formed" in w for w in parsed.warnings)


def _entity_bomb(encoding: str = "utf-8") -> bytes:
    payload = "A" * 20_000
    refs = "&big;" * 2_000
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<!DOCTYPE rss [<!ENTITY big "{payload}">]>'
        f'<rss version="2.0"><channel><title>bomb</title>'
        f"<item><guid>b1</guid><title>{refs}</title><link>https://example.test/b</link></item>"
        f"<item><guid>b2</guid><title>Good neighbour</title><link>https://example.test/c</link></item>"
        f"</channel></rss>"
    )
    return doc.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_internal_entity_expansion_is_defused(encoding):
    """A DOCTYPE entity referenced thousands of times does not become a 40-million-character title."""
    body = _entity_bomb(encoding)
    assert len(body) < 120_000
    parsed = parse(body, "application/xml")
    assert all(len(e.title) <= MAX_TITLE_CHARS for e in parsed.entries)
    assert sum(len(e.title) + len(e.summary) for e in parsed.entries) < 50_000
    assert any(e.title == "Good neighbour" for e in parsed.entries)
    assert any("DOCTYPE declared its own entities" in w for w in parsed.warnings)


PAYLOAD = "Q" * 5_000


def _declaring(prolog: str, root: str = "rss", refs: int = 200, encoding: str = "utf-8") -> bytes:
    """A feed whose prolog is `prolog` (which declares `big`), referencing &big; `refs` times."""
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?>{prolog}'
        f'<{root} version="2.0"><channel><title>declares</title>'
        f"<item><guid>b1</guid><title>{'&big;' * refs}</title><link>https://example.test/b</link></item>"
        f"<item><guid>b2</guid><title>Good neighbour</title><link>https://example.test/c</link></item>"
        f"</channel></{root}>"
    )
    return doc.encode(encoding)


ENTITY = f'<!ENTITY big "{PAYLOAD}">'
HOSTILE_PROLOGS = {
    "plain internal subset": f"<!DOCTYPE rss [{ENTITY}]>",
    "after 9 KB of comments": "<!--" + "c" * 9_000 + "-->" + f"<!DOCTYPE rss [{ENTITY}]>",
    "after many comments and PIs": "<!-- x -->\n" * 2_000 + "<?pi data?>" + f"<!DOCTYPE rss [{ENTITY}]>",
    "]> inside an entity value": f'<!DOCTYPE rss [<!ENTITY trap "a]>b">\n{ENTITY}\n]>',
    "declaration on its own line": f"<!DOCTYPE rss [\n  <!ENTITY trap 'x'>\n{ENTITY}\n]>",
    "external id and internal subset": f'<!DOCTYPE rss PUBLIC "-//x//EN" "http://x.test/[a].dtd" [{ENTITY}]>',
    "parameter entity": f"<!DOCTYPE rss [<!ENTITY % pe '{ENTITY}'> %pe;]>",
    # feedparser's own DOCTYPE handling revives a declaration it finds in a comment before the
    # root element when the document has one DOCTYPE: it must never see one.
    "declaration inside a comment": f"<!--\n{ENTITY}\n-->\n<!DOCTYPE rss>",
    "a prolog expat cannot read": f"<!DOCTYPE rss [\n{ENTITY}\n<!bogus>\n]>",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PROLOGS))
def test_no_declared_entity_is_ever_expanded(case):
    """Wherever the DOCTYPE sits and however it is dressed, its entities stay unexpanded."""
    parsed = parse(_declaring(HOSTILE_PROLOGS[case]), "application/xml")
    assert all(PAYLOAD[:100] not in e.title + e.summary for e in parsed.entries)
    assert any(e.title == "Good neighbour" for e in parsed.entries)
    assert any("DOCTYPE declared its own entities" in w for w in parsed.warnings)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "iso-8859-1"])
def test_declarations_are_found_in_any_encoding(encoding):
    """The check reads the body as the parser does, so a wide or single-byte encoding hides nothing."""
    body = _declaring("<!--" + "c" * 9_000 + "-->" + f"<!DOCTYPE rss [{ENTITY}]>", encoding=encoding)
    if encoding == "utf-16-le":
        body = body.replace('encoding="utf-16-le"'.encode(encoding), 'encoding="utf-16"'.encode(encoding))
        body = b"\xff\xfe" + body
    parsed = parse(body, "application/xml")
    assert all(PAYLOAD[:100] not in e.title for e in parsed.entries)
    assert any(e.title == "Good neighbour" for e in parsed.entries)


@pytest.mark.parametrize(
    ("body", "changed"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>', True),
        (b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//x" "http://x.dtd"><rss/>', False),
        (b'<?xml version="1.0"?><rss/>', False),
        (b"<rss><description><![CDATA[<!ENTITY in text>]]></description></rss>", True),
    ],
)
def test_neutralise_entity_declarations(body, changed):
    """Only bodies that declare (or spell) an entity are touched, and then no `<!ENTITY` is left."""
    neutralised, did = neutralise_entity_declarations(body)
    assert did is changed
    assert (neutralised != body) is changed
    assert b"<!ENTITY" not in neutralised


def test_a_well_formed_subset_is_blanked_in_place():
    """Expat finds the subset's bounds: it is blanked to spaces, lines and offsets unchanged."""
    body = b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "x]>y">\n]>\n<rss>&a;</rss>'
    neutralised, _ = neutralise_entity_declarations(body)
    assert len(neutralised) == len(body) and neutralised.count(b"\n") == body.count(b"\n")
    assert b"<!DOCTYPE rss [\n" in neutralised and b"x]>y" not in neutralised


def test_undecodable_bytes_keep_the_entries():
    """Bytes that are not valid in the declared encoding do not lose the feed."""
    body = rss(item(title="Caf\u00e9 news")).replace("Caf\u00e9".encode(), b"Caf\xe9\xff\xfe")
    parsed = parse(body)
    assert len(parsed.entries) == 1
    assert parsed.entries[0].title.startswith("Caf")


def test_fields_are_capped():
    """A huge title or summary is cut to size rather than stored whole."""
    parsed = parse(rss(item(title="T" * 50_000, body="S" * 100_000)))
    (entry,) = parsed.entries
    assert len(entry.title) == MAX_TITLE_CHARS
    assert len(entry.summary) == 20_000


def test_atom_content_is_used_when_there_is_no_summary():
    """Atom entries with only <content> still get a summary."""
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<id>urn:a</id><updated>2025-10-09T08:00:00Z</updated>'
        b'<entry><id>urn:e1</id><title>Entry</title><updated>2025-10-09T08:00:00Z</updated>'
        b'<link href="/e1"/><content type="html">&lt;p&gt;Licensing rules &lt;i&gt;expand&lt;/i&gt;&lt;/p&gt;</content>'
        b"</entry></feed>"
    )
    (entry,) = parse(body, "application/atom+xml").entries
    assert entry.summary == "Licensing rules expand"
    assert entry.link == "https://feeds.example.test/e1"
    assert entry.published == datetime(2025, 10, 9, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;", "&#x110000;", "&#99999999999;", "&#0;", "&#xFFFE;"])
def test_references_to_no_character_do_not_crash_the_parser(reference):
    """A reference to a surrogate, NUL or a number past Unicode becomes U+FFFD; the feed is read."""
    parsed = parse(rss(item(guid=f"g{reference}", title=f"Before{reference}after") + item(guid="ok", title="Neighbour")))
    assert [e.title for e in parsed.entries] == ["Before\ufffdafter", "Neighbour"]
    assert "\ufffd" in parsed.entries[0].guid


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<t>a&nbsp;b &amp; &lt;c&gt; &quot;&apos;</t>", b"<t>a&#160;b &amp; &lt;c&gt; &quot;&apos;</t>"),
        (b"<t>&b;&b;&eacute;&undeclared;x</t>", b"<t>&#233;x</t>"),
        (b"<t>no references</t>", b"<t>no references</t>"),
    ],
)
def test_named_references_are_resolved_or_dropped(body, expected):
    """HTML's named characters become numeric references, XML's five stay, other names go."""
    assert resolve_named_references(body) == expected


def test_a_flood_of_undeclared_references_reads_as_a_feed():
    """A million references to a name nothing declares neither stalls nor loses the feed."""
    flood = "&gone;" * 1_000_000
    parsed = parse(rss(item(guid="f", title=f"Flood{flood}ed") + item(guid="n", title="Neighbour")))
    assert [e.title for e in parsed.entries] == ["Flooded", "Neighbour"]
    assert parsed.warnings == []
