"""The ingestion path against a real loopback HTTP server and real databases.

Every bad input the foundation issue lists is served for real; each must end up recorded on its
feed with a readable reason while good feeds in the same cycle are stored.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from service.demo.server import FeedServer, Route
from service.domain.feeds import FeedSpec
from service.pipeline.parsing import FeedParserPool
from tests.hostile.workers import parser_workers
from tests.sample_feeds import good_feed, item, rss
from tests.integration.harness import Ingestion, later

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def spec(name: str, url: str, interval: int = 60) -> FeedSpec:
    return FeedSpec(name=name, url=url, interval=interval)


@pytest.fixture
def ingestion(make_settings):
    created: list[Ingestion] = []

    def make(specs, database_url=None, **overrides) -> Ingestion:
        run = Ingestion(make_settings(database_url, **overrides), specs)
        created.append(run)
        return run

    yield make
    for run in created:
        run.close()


def due_after(due, polled_at, interval) -> bool:
    """Whether a healthy feed's next poll is its interval after `polled_at`, plus at most the 5% jitter."""
    return later(polled_at, interval) <= due <= later(polled_at, interval * 1.05)


def test_new_entries_are_stored_then_polled_conditionally(feed_server, ingestion, database_url):
    """First poll stores every entry; the next sends ETag/Last-Modified, gets 304 and parses nothing."""
    feed_server.routes["/rss"] = Route(good_feed(count=4))
    run = ingestion([spec("wire", feed_server.url("/rss"))], database_url)

    first = run.cycle(T0)
    assert [(o.feed, o.status, o.new) for o in first.outcomes] == [("wire", "new", 4)]
    assert len(run.articles("wire")) == 4
    feed = run.feed("wire")
    assert feed.etag == feed_server.routes["/rss"].etag
    assert feed.last_status == 200 and feed.last_success_at == T0
    assert due_after(feed.next_poll_at, T0, 60)

    assert run.cycle(later(T0, 30)).outcomes == []  # not due yet

    second = run.cycle(later(T0, 64))
    assert [(o.feed, o.status) for o in second.outcomes] == [("wire", "not_modified")]
    conditional = feed_server.hits("/rss")[-1].headers
    assert conditional["if-none-match"] == feed_server.routes["/rss"].etag
    assert conditional["if-modified-since"] == feed_server.routes["/rss"].last_modified
    assert len(run.articles("wire")) == 4
    assert run.feed("wire").last_status == 304


def test_unchanged_body_is_not_parsed_again(feed_server, ingestion):
    """A server without validators that sends the same bytes costs a hash, not a parse."""
    feed_server.routes["/rss"] = Route(good_feed(), conditional=False)
    run = ingestion([spec("plain", feed_server.url("/rss"))])
    assert run.cycle(T0).outcomes[0].status == "new"
    assert run.cycle(later(T0, 64)).outcomes[0].status == "unchanged"
    feed_server.routes["/rss"] = Route(good_feed(count=5), conditional=False)
    third = run.cycle(later(T0, 128)).outcomes[0]
    assert (third.status, third.new, third.seen) == ("new", 2, 3)


def test_a_cycle_of_unchanged_feeds_records_every_one(feed_server, ingestion, database_url):
    """Feeds that answer 304 or send the same bytes are written in shared transactions: each
    still gets its own status, success time, next poll and a released lease, and a slow feed
    in the same cycle does not hold the others' records back from being right at the end."""
    specs = []
    for n in range(6):
        feed_server.routes[f"/c{n}"] = Route(good_feed(count=2, prefix=f"c{n}"))
        specs.append(spec(f"cond{n}", feed_server.url(f"/c{n}")))
    feed_server.routes["/plain"] = Route(good_feed(count=2, prefix="plain"), conditional=False)
    feed_server.routes["/slow"] = Route(good_feed(count=2, prefix="slow"), delay=0.3)
    feed_server.routes["/fresh"] = Route(good_feed(count=2, prefix="fresh"))
    specs += [spec("plain", feed_server.url("/plain")), spec("slow", feed_server.url("/slow"), interval=300)]
    specs += [spec("fresh", feed_server.url("/fresh"), interval=120)]
    run = ingestion(specs, database_url)
    assert {o.status for o in run.cycle(T0).outcomes} == {"new"}

    feed_server.routes["/fresh"] = Route(good_feed(count=3, prefix="fresh"))
    at = later(T0, 316)  # the 300 s feed's interval and its jitter (at most 5%) have passed
    second = {o.feed: o.status for o in run.cycle(at).outcomes}
    assert second == {**{f"cond{n}": "not_modified" for n in range(6)}, "plain": "unchanged", "slow": "not_modified", "fresh": "new"}
    for name, status, interval in [*((f"cond{n}", 304, 60) for n in range(6)), ("plain", 200, 60), ("slow", 304, 300)]:
        feed = run.feed(name)
        assert (feed.last_status, feed.last_success_at, feed.last_polled_at) == (status, at, at), name
        assert due_after(feed.next_poll_at, at, interval), name
        assert (feed.lease_owner, feed.lease_until, feed.consecutive_failures) == (None, None, 0), name
    assert len(run.articles("fresh")) == 3
    # Recorded, so the next cycle polls only what is due again.
    assert {o.feed for o in run.cycle(later(at, 64)).outcomes} == {*(f"cond{n}" for n in range(6)), "plain"}


def test_unchanged_feeds_that_cannot_be_recorded_are_polled_again(feed_server, ingestion, database_url, caplog):
    """When the database refuses the batch that records 304s, the cycle still ends, the error
    is logged with the feeds' names, and the feeds stay leased until the lease runs out, after
    which they are polled again and recorded."""
    for n in range(3):
        feed_server.routes[f"/c{n}"] = Route(good_feed(count=2, prefix=f"c{n}"))
    run = ingestion([spec(f"cond{n}", feed_server.url(f"/c{n}")) for n in range(3)], database_url)
    run.cycle(T0)
    refuse = (
        "CREATE TRIGGER refuse_304 BEFORE UPDATE ON feeds WHEN NEW.last_status = 304 "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        if database_url.startswith("sqlite")
        else "ALTER TABLE feeds ADD CONSTRAINT refuse_304 CHECK (last_status IS DISTINCT FROM 304)"
    )
    with run.engine.begin() as connection:
        connection.exec_driver_sql(refuse)

    at = later(T0, 64)
    with caplog.at_level("ERROR", logger="service.pipeline.poll"):
        second = run.cycle(at)
    assert {o.status for o in second.outcomes} == {"not_modified"}
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("could not record")]
    assert refused and all(any(f"cond{n}" in m for m in refused) for n in range(3)), refused
    for n in range(3):
        feed = run.feed(f"cond{n}")
        assert (feed.last_status, feed.last_success_at) == (200, T0)  # nothing half-written
        assert feed.lease_owner is not None and feed.lease_until > at

    with run.engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TRIGGER refuse_304" if database_url.startswith("sqlite") else "ALTER TABLE feeds DROP CONSTRAINT refuse_304"
        )
    lease = run.settings.lease.total_seconds()
    assert run.cycle(later(at, lease / 2)).outcomes == []  # still leased
    after_lease = later(at, lease + 1)
    third = run.cycle(after_lease)
    assert {(o.feed, o.status) for o in third.outcomes} == {(f"cond{n}", "not_modified") for n in range(3)}
    assert run.feed("cond0").last_success_at == after_lease and run.feed("cond0").lease_owner is None


def test_requests_name_the_service_and_a_contact(feed_server, ingestion):
    """EDGAR refuses anonymous clients: the User-Agent names reewatch and the operator contact."""
    feed_server.routes["/rss"] = Route(good_feed())
    ingestion([spec("ua", feed_server.url("/rss"))], contact="desk-ops@fund.example").cycle(T0)
    agent = feed_server.hits("/rss")[0].headers["user-agent"]
    assert agent.startswith("reewatch/") and "desk-ops@fund.example" in agent


def _tls_server() -> FeedServer:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return FeedServer(tls=context)


FAILURES = {
    "unreachable": ("http://127.0.0.1:9/rss", None, "connection refused"),
    "dns": ("http://feeds.reewatch.invalid/rss", None, "DNS lookup failed for feeds.reewatch.invalid"),
    "timeout": ("/slow", Route(good_feed(), delay=3), "timed out waiting for the server"),
    "404": ("/missing", None, "HTTP 404 Not Found"),
    "500": ("/broken", Route(b"oops", status=500, content_type="text/plain"), "HTTP 500 Internal Server Error"),
    "redirect-loop": ("/loop", Route(redirect_to="/loop"), "too many redirects"),
    "html": ("/page", Route(b"<!DOCTYPE html><html><body>Log in</body></html>", content_type="text/html"), "HTML page"),
    "empty": ("/empty", Route(b""), "empty body"),
    "too-big": ("/big", Route(b"<rss>" + b" " * 300_000 + b"</rss>"), "over the 200,000-byte cap"),
    "too-big-unframed": ("/stream", Route(b"<rss>" + b" " * 300_000, no_length=True), "passed the 200,000-byte cap"),
    "dropped": ("/drop", Route(drop=True), "the server broke the connection"),
    "not-xml": ("/text", Route(b"\x00\x01\x02 binary junk \xff\xfe", content_type="application/octet-stream"), "no RSS or Atom feed"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_each_failure_is_recorded_and_the_cycle_goes_on(feed_server, ingestion, case):
    """A failing feed gets a readable reason and a back-off; the good feed beside it is stored."""
    where, route, reason = FAILURES[case]
    feed_server.routes["/good"] = Route(good_feed())
    if route is not None:
        feed_server.routes[where] = route
    url = where if where.startswith("http") else feed_server.url(where)
    run = ingestion(
        [spec("good", feed_server.url("/good")), spec("bad", url)],
        read_timeout=0.5,
        max_body_bytes=200_000,
        max_redirects=3,
    )
    report = run.cycle(T0)
    outcomes = {o.feed: o for o in report.outcomes}
    assert outcomes["good"].new == 3
    assert outcomes["bad"].status == "failed"
    assert reason in outcomes["bad"].error
    bad = run.feed("bad")
    assert reason in bad.last_error
    assert bad.consecutive_failures == 1 and bad.last_error_at == T0
    assert bad.next_poll_at >= later(T0, 60)
    assert bad.disabled_reason is None
    assert not run.articles("bad")



def test_untrusted_certificate_is_a_tls_failure(ingestion):
    """A certificate we do not trust is a TLS failure with the verifier's reason."""
    with _tls_server() as server:
        server.routes["/rss"] = Route(good_feed())
        run = ingestion([spec("tls", server.url("/rss"))])
        outcome = run.cycle(T0).outcomes[0]
    assert outcome.status == "failed"
    assert "TLS certificate rejected for 127.0.0.1" in outcome.error
    assert "certificate" in run.feed("tls").last_error


def test_gone_feed_is_disabled_with_a_reason(feed_server, ingestion):
    """410 disables the feed (no more polling) and says what to do; enabling polls it again."""
    feed_server.routes["/gone"] = Route(b"", status=410, content_type="text/plain")
    run = ingestion([spec("gone", feed_server.url("/gone"))])
    run.cycle(T0)
    feed = run.feed("gone")
    assert feed.disabled_reason.startswith("HTTP 410 Gone: the feed was removed")
    assert feed.last_status == 410
    assert run.cycle(later(T0, 86400)).outcomes == []
    assert len(feed_server.hits("/gone")) == 1


def test_rate_limit_honours_retry_after(feed_server, ingestion):
    """429 with Retry-After waits exactly as long as the server asked."""
    feed_server.routes["/busy"] = Route(b"slow down", status=429, headers={"Retry-After": "900"}, content_type="text/plain")
    run = ingestion([spec("busy", feed_server.url("/busy"))])
    outcome = run.cycle(T0).outcomes[0]
    assert "HTTP 429 Too Many Requests; retry after 900s" == outcome.error
    assert run.feed("busy").next_poll_at == later(T0, 900)
    assert run.cycle(later(T0, 899)).outcomes == []


def test_failing_feed_backs_off_then_recovers(feed_server, ingestion):
    """Each failure in a row waits longer; the next success resets the streak."""
    feed_server.routes["/flaky"] = Route(b"down", status=503, content_type="text/plain")
    run = ingestion([spec("flaky", feed_server.url("/flaky"), interval=60)])
    now, waits = T0, []
    for expected_failures in (1, 2, 3, 4):
        run.cycle(now)
        feed = run.feed("flaky")
        assert feed.consecutive_failures == expected_failures
        waits.append((feed.next_poll_at - now).total_seconds())
        now = feed.next_poll_at
    assert waits[0] >= 60 and waits[1] > waits[0] * 1.1 and waits[3] > waits[2] * 1.1
    assert waits[3] >= 60 * 8 * 0.75

    feed_server.routes["/flaky"] = Route(good_feed())
    outcome = run.cycle(now).outcomes[0]
    feed = run.feed("flaky")
    assert outcome.status == "new"
    assert feed.consecutive_failures == 0 and feed.last_success_at == now
    assert due_after(feed.next_poll_at, now, 60)
    assert "HTTP 503" in feed.last_error  # history stays visible in `feeds status`


def test_redirects_are_followed(feed_server, ingestion):
    """A moved feed is read from where it moved to."""
    feed_server.routes["/old"] = Route(redirect_to="/new")
    feed_server.routes["/new"] = Route(good_feed())
    run = ingestion([spec("moved", feed_server.url("/old"))])
    assert run.cycle(T0).outcomes[0].new == 3


WARNINGS = {
    "undecodable": (
        rss(item(guid="u1", title="Caf\u00e9 ok", link="https://example.test/u1"), item(guid="u2", title="Fine")).replace("Caf\u00e9".encode(), b"Caf\xe9\xff"),
        2,
        None,
    ),
    "bad-dates": (rss(item(guid="d1", date="32 Foo 2025", link="https://example.test/d1"), item(guid="d2")), 2, "date that could not be read"),
    "duplicate-entries": (rss(item(guid="same", title="one"), item(guid="same", title="one")), 1, "repeated an earlier entry"),
    "shared-guids": (rss(item(guid="same", title="one"), item(guid="same", title="two", link="https://example.test/2")), 2, "shared a guid"),
    "no-guid-no-link": (rss(item(guid=None, link=None, title="orphan"), item(guid="k")), 2, "neither guid nor link"),
    "entity-bomb": (
        (
            '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "A" * 20_000 + '">]>'
            '<rss version="2.0"><channel><title>x</title>'
            "<item><guid>e1</guid><title>" + "&big;" * 2_000 + "</title><link>https://example.test/e1</link></item>"
            "<item><guid>e2</guid><title>Neighbour</title><link>https://example.test/e2</link></item>"
            "</channel></rss>"
        ).encode(),
        2,
        "DOCTYPE declared its own entities",
    ),
}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_flawed_feeds_keep_their_good_entries(feed_server, ingestion, case):
    """Flaws inside a feed are recorded as a warning on it; its good entries are stored."""
    body, stored, warning = WARNINGS[case]
    feed_server.routes["/f"] = Route(body)
    run = ingestion([spec("flawed", feed_server.url("/f"))])
    outcome = run.cycle(T0).outcomes[0]
    assert outcome.status == "new" and outcome.new == stored
    articles = run.articles("flawed")
    assert len(articles) == stored
    assert all(len(a.title) <= 1000 for a in articles)
    if warning:
        assert warning in run.feed("flawed").last_warning


def test_one_story_from_two_feeds_is_stored_once(feed_server, ingestion, database_url):
    """Cross-feed dedup: the same article URL (tracking parameters aside) is one article."""
    feed_server.routes["/a"] = Route(rss(item(guid="a1", link="https://news.example.test/s?utm_source=a")))
    feed_server.routes["/b"] = Route(rss(item(guid="b1", link="https://news.example.test/s#top"), item(guid="b2", link="https://news.example.test/t")))
    run = ingestion([spec("a", feed_server.url("/a")), spec("b", feed_server.url("/b"))], database_url)
    report = run.cycle(T0)
    assert report.new_articles == 2
    assert sum(o.duplicates for o in report.outcomes) == 1
    assert sorted(a.canonical_link for a in run.articles()) == ["https://news.example.test/s", "https://news.example.test/t"]


def test_items_linking_to_one_page_are_each_stored_and_alerted(feed_server, ingestion, database_url):
    """A feed that links every item to its front page or to one listing page loses none of them:
    the link is no item's key, so each is stored, judged and alerted as its own story."""
    today = "Sat, 21 Nov 2026 11:30:00 GMT"
    feed_server.routes["/ministry"] = Route(
        rss(
            item("n1", "China bans gallium and germanium exports to the US", "https://ministry.example.test/", today),
            item("n2", "China suspends its antimony export ban for a year", "https://ministry.example.test/", today),
            item("n3", "China adds tungsten to its export licence list", "https://ministry.example.test/news#n3", today),
            item("n4", "Graphite exports now need a licence, China says", "https://ministry.example.test/news#n4", today),
        )
    )
    feed = FeedSpec(name="ministry", url=feed_server.url("/ministry"), interval=60, kind="official", backfill="alert")
    run = ingestion([feed], database_url)
    outcome = run.cycle(T0).outcomes[0]
    assert (outcome.new, outcome.duplicates, outcome.alerts) == (4, 0, 4)
    stored = {a.guid: a for a in run.articles("ministry")}
    assert sorted(stored) == ["n1", "n2", "n3", "n4"]
    assert len({a.story_id for a in stored.values()}) == 4
    # The first item under the listing page holds it; the front page is no item's key.
    assert [stored[g].canonical_link for g in ("n1", "n2", "n3", "n4")] == [None, None, "https://ministry.example.test/news", None]
    assert run.cycle(later(T0, 64)).outcomes[0].new == 0  # and the next poll stores none again


def test_big_cycles_parse_in_worker_processes(feed_server, ingestion):
    """With many changed feeds the parse runs in worker processes, with the same results."""
    specs = []
    for n in range(10):
        feed_server.routes[f"/f{n}"] = Route(good_feed(prefix=f"f{n}", count=5))
        specs.append(spec(f"f{n}", feed_server.url(f"/f{n}")))
    feed_server.routes["/empty"] = Route(b"  ")
    specs.append(spec("empty", feed_server.url("/empty")))
    run = ingestion(specs, parse_workers=2)
    report = run.cycle(T0)
    assert report.new_articles == 50
    assert {o.feed: o.error for o in report.failed} == {"empty": "the server sent an empty body"}


def test_parser_workers_hold_the_parser_and_not_the_rest_of_the_service():
    """A parse worker (forked from the forkserver) has loaded the XML parser, and none of pydantic,
    SQLAlchemy or NumPy: each would cost the forkserver and every worker megabytes for nothing."""
    pool = FeedParserPool(1)
    try:
        parsed = asyncio.run(pool.parse(good_feed(count=2), url="https://example.test/feed", content_type="application/rss+xml", now=T0))
        (worker,) = parser_workers()
        libraries = Path(f"/proc/{worker}/maps").read_text()
    finally:
        pool.close()
    assert [entry.guid for entry in parsed.entries] == ["good-0", "good-1"]
    assert "/pyexpat." in libraries
    assert [package for package in ("pydantic_core", "sqlalchemy", "numpy") if f"/{package}/" in libraries] == []
