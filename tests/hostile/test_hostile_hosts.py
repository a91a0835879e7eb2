"""Hostile hosts against the real commands, on SQLite and PostgreSQL: a feed host that trickles,
a Slack that quotes the token back, an SMTP server that quotes the AUTH PLAIN blob back, and a
headline dressed in bidi controls. Each runs `reewatch` as operators do, in a subprocess."""

from __future__ import annotations

import base64
import json
import ssl
import unicodedata

import trustme
from sqlmodel import select

from service.demo.server import Route
from service.store.db import make_engine
from service.store.db import session as open_session
from service.store.models import Feed, OutboxAlert
from tests.e2e.cli import ROOT, cli_env, reewatch
from tests.fakes.slack_api import TEST_TOKEN, Fault, SlackAPI
from tests.integration.smtp import MailServer
from tests.sample_feeds import good_feed, rss

NEWS = (ROOT / "service" / "demo" / "feeds" / "bis-rules.xml").read_bytes()
REVERSED = (
    '<item><guid isPermaLink="false">rlo-1</guid>'
    "<title>China \u202ebans gallium and germanium exports\u202c to the US\u2066\u2069</title>"
    "<link>https://bidi.test/1</link><pubDate>Fri, 04 Apr 2025 09:00:00 GMT</pubDate>"
    "<description>Beijing announced an export ban on gallium and germanium, MOFCOM\u200d said.</description></item>"
)


def write_feeds(tmp_path, feeds: dict[str, str]) -> None:
    (tmp_path / "rules" / "feeds.yaml").write_text(
        "".join(f"- name: {name}\n  url: {url}\n  interval: 1h\n  kind: official\n" for name, url in feeds.items()),
        encoding="utf-8",
    )


def stored(database_url: str, model) -> list:
    engine = make_engine(database_url)
    try:
        with open_session(engine) as session:
            return list(session.exec(select(model)))
    finally:
        engine.dispose()


def test_a_trickling_host_cannot_hold_run_once_or_scan(tmp_path, feed_server, database_url):
    """Headers, then a byte a second: each fetch ends at REEWATCH_FETCH_DEADLINE with a counted
    failure, `run --once` returns with the good feed's alerts delivered even with one fetch at a
    time, and `scan` of that host returns with the reason."""
    feed_server.routes["/trickle-1"] = Route(good_feed("t1"), trickle=1.0)
    feed_server.routes["/trickle-2"] = Route(good_feed("t2"), trickle=1.0)
    feed_server.routes["/news"] = Route(NEWS)
    env = cli_env(
        tmp_path,
        DATABASE_URL=database_url,
        REEWATCH_FETCH_DEADLINE="2",
        REEWATCH_FETCH_CONCURRENCY="1",
        REEWATCH_READ_TIMEOUT="20",
    )
    write_feeds(tmp_path, {n: feed_server.url(f"/{n}") for n in ("trickle-1", "trickle-2", "news")})

    result = reewatch("run", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    feeds = {f.name: f for f in stored(database_url, Feed)}
    for name in ("trickle-1", "trickle-2"):
        assert feeds[name].consecutive_failures == 1
        assert feeds[name].last_error == "the fetch took longer than the 2s deadline (connect, headers and body); stopped"
        assert feeds[name].lease_owner is None  # released, not held until the lease lapses
    alerts = stored(database_url, OutboxAlert)
    assert feeds["news"].consecutive_failures == 0 and alerts
    assert {a.status for a in alerts if a.kind == "news"} == {"sent"}

    scan = reewatch("scan", feed_server.url("/trickle-1"), env=env, cwd=tmp_path)
    assert scan.returncode == 1 and "deadline" in scan.stderr and "Traceback" not in scan.stderr


def test_slack_quoting_the_token_back_never_stores_or_prints_it(tmp_path, feed_server, database_url):
    """A Slack error string with the bearer token in it (plain and URL-encoded) is scrubbed
    before it reaches the outbox, `alerts status` or the log."""
    feed_server.routes["/news"] = Route(NEWS)
    encoded = TEST_TOKEN.replace("-", "%2D")
    with SlackAPI() as slack:
        slack.fault("chat.postMessage", *[Fault.slack_error(f"invalid_auth: Bearer {TEST_TOKEN} (token={encoded})")] * 50)
        env = cli_env(tmp_path, DATABASE_URL=database_url, SLACK_BOT_TOKEN=TEST_TOKEN, SLACK_API_URL=slack.url)
        write_feeds(tmp_path, {"news": feed_server.url("/news")})
        run = reewatch("run", "--once", env=env, cwd=tmp_path)
        status = reewatch("alerts", "status", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    failed = [a for a in stored(database_url, OutboxAlert) if a.status == "failed"]
    assert failed and all(a.last_error.startswith("invalid_auth: Bearer [redacted]") for a in failed)
    secret_part = TEST_TOKEN.split("-")[-1]
    for text in [a.last_error for a in failed] + [run.stdout, run.stderr, status.stdout, status.stderr]:
        assert secret_part not in text
    assert "invalid_auth" in status.stdout


def test_an_smtp_server_quoting_the_auth_blob_back_never_gets_it_stored_or_printed(tmp_path, database_url):
    """The SMTP refusal quotes the password and the base64 AUTH PLAIN blob that holds it: neither
    reaches the digest run, `digest send` or `digest status`."""
    password = "correct-horse-digest"
    blob = base64.b64encode(b"\0reewatch\0" + password.encode()).decode()
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with MailServer(tls_context=server_tls, logins={"reewatch": "another-one"}, echo_credentials=True) as server:
        env = cli_env(
            tmp_path,
            DATABASE_URL=database_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(server.port),
            SMTP_USER="reewatch",
            SMTP_PASSWORD=password,
            SSL_CERT_FILE=str(ca_file),
            REEWATCH_LOG_LEVEL="DEBUG",
        )
        (tmp_path / "rules" / "digests.yaml").write_text(
            "recipients:\n  - address: desk@fund.example\n    time: '07:30'\n    timezone: UTC\n    weekdays: daily\n",
            encoding="utf-8",
        )
        send = reewatch("digest", "send", "--date", "today", env=env, cwd=tmp_path)
        status = reewatch("digest", "status", env=env, cwd=tmp_path)
    assert send.returncode == 1 and "login refused: 535" in send.stdout
    from service.store.models import DigestRun

    (run,) = stored(database_url, DigestRun)
    assert run.status == "pending" and run.last_error.startswith("login refused: 535")
    for text in (run.last_error, send.stdout, send.stderr, status.stdout, status.stderr):
        assert password not in text and blob not in text and blob[:24] not in text
    assert server.messages == []


def test_bidi_controls_never_reach_slack(tmp_path, feed_server, database_url):
    """A headline wrapped in a right-to-left override reaches Slack in its own order, with no
    invisible format character in the message text or its blocks."""
    feed_server.routes["/bidi"] = Route(rss(REVERSED))
    with SlackAPI() as slack:
        env = cli_env(tmp_path, DATABASE_URL=database_url, SLACK_BOT_TOKEN=TEST_TOKEN, SLACK_API_URL=slack.url)
        write_feeds(tmp_path, {"bidi": feed_server.url("/bidi")})
        run = reewatch("run", "--once", env=env, cwd=tmp_path)
        (message,) = [m for m in slack.posted() if m.thread_ts is None]
    assert run.returncode == 0, run.stderr
    posted = message.text + json.dumps(message.blocks, ensure_ascii=False)
    assert "China bans gallium and germanium exports to the US" in posted
    assert not [c for c in posted if unicodedata.category(c) == "Cf"]
