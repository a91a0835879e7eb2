"""`reewatch digest preview` and `digest send` as operators run them: real subprocesses."""

from __future__ import annotations

import datetime as dt
import signal
import ssl
import threading
import time
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import trustme

from service.demo.server import Route
from service.rules import load_ruleset
from service.store import migrate
from service.store.db import make_engine
from service.store.db import session as open_session
from service.store.digests import runs_for_status
from service.store.instances import instances, lease_holder
from service.store.models import DigestRun
from tests.digest_store import FUNDING, GENEVA, GENEVA_RETOLD, HOSTILE, add_feed, store_article
from tests.e2e.cli import cli_env, reewatch, start
from tests.sample_feeds import rss
from tests.integration.smtp import MailServer

RECIPIENTS = """\
recipients:
  - address: trader@desk.example
    name: Jane Trader
    time: "00:00"
    timezone: UTC
    weekdays: daily
  - address: risk@desk.example
    time: "00:00"
    timezone: Asia/Tokyo
    weekdays: daily
"""


def write_rules(tmp_path, digests: str = RECIPIENTS) -> None:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "digests.yaml").write_text(digests, encoding="utf-8")
    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    (rules / "calendar.yaml").write_text(
        f"deadlines:\n  - id: ban-ends\n    date: {soon.isoformat()}\n    title: Export ban suspension <ends>\n"
        "    ends: the suspension\n    source: MOFCOM\n",
        encoding="utf-8",
    )


def test_preview_writes_html_without_recording_a_run(tmp_path):
    """`digest preview --out` writes a viewable page for one recipient and sends nothing."""
    write_rules(tmp_path)
    env = cli_env(tmp_path)
    out = tmp_path / "preview" / "digest.html"
    result = reewatch("digest", "preview", "--recipient", "TRADER@desk.example", "--out", str(out), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "digest for trader@desk.example on " in result.stdout and str(out) in result.stdout.replace("\n", "")
    page = out.read_text(encoding="utf-8")
    assert "Export ban suspension &lt;ends&gt;" in page and "In 7 days" in page
    # An empty store: no alerts, and every followed ticker says it has no prices yet.
    assert "No alerts at or above score 0 since the last digest." in page
    assert page.count("no prices stored yet") == 28
    assert not (tmp_path / "var" / "outbox").exists()
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        assert runs_for_status(s) == []
    engine.dispose()


def test_send_without_smtp_writes_the_outbox_once(tmp_path):
    """With no SMTP_HOST, `digest send` writes .eml and .html files, prints where, and never twice."""
    write_rules(tmp_path)
    env = cli_env(tmp_path)
    before = dt.datetime.now(dt.UTC).date()
    first = reewatch("digest", "send", env=env, cwd=tmp_path)
    after = dt.datetime.now(dt.UTC).date()
    assert first.returncode == 0, first.stderr
    outbox = tmp_path / "var" / "outbox"
    # The command's "today": the day it ran, which midnight UTC may have ended since.
    today = next(d for d in (before, after) if (outbox / f"{d.isoformat()}_trader@desk.example.eml").is_file())
    eml = outbox / f"{today.isoformat()}_trader@desk.example.eml"
    flat = first.stdout.replace("\n", "")
    assert f"trader@desk.example {today}: sent ({eml})" in flat
    assert eml.is_file() and eml.with_suffix(".html").is_file()
    assert message_from_bytes(eml.read_bytes(), policy=policy.default)["To"].addresses[0].display_name == "Jane Trader"

    again = reewatch("digest", "send", "--date", today.isoformat(), "--recipient", "trader@desk.example", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"trader@desk.example {today}: already sent" in again.stdout
    status = reewatch("digest", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0 and "trader@desk.exam" in status.stdout and "sent" in status.stdout


def test_a_bad_recipients_file_is_reported_with_its_place(tmp_path):
    """A mistake in digests.yaml stops `digest send` with file:line:column and exit code 1."""
    write_rules(tmp_path, RECIPIENTS.replace("timezone: UTC", "timezone: Europe/Londn"))
    result = reewatch("digest", "send", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        f"{tmp_path}/rules/digests.yaml:5:5: recipients.0.timezone: unknown time zone 'Europe/Londn'; "
        "did you mean 'Europe/London'?" in result.stderr.replace("\n", "")
    )
    assert not (tmp_path / "var" / "outbox").exists()


def test_an_unknown_recipient_or_date_is_refused(tmp_path):
    """--recipient must name someone in the file and --date must be a date."""
    write_rules(tmp_path)
    env = cli_env(tmp_path)
    nobody = reewatch("digest", "send", "--recipient", "nobody@desk.example", env=env, cwd=tmp_path)
    assert nobody.returncode == 1 and "no recipient 'nobody@desk.example'" in nobody.stderr
    bad_date = reewatch("digest", "send", "--date", "27/11/2026", env=env, cwd=tmp_path)
    assert bad_date.returncode == 1 and "--date must be YYYY-MM-DD or 'today'" in bad_date.stderr


def test_the_smtp_password_never_reaches_output_logs_or_the_ledger(tmp_path):
    """Even a server that quotes the password back in its refusal does not get it into our output."""
    password = "hunter2-digest-secret"
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    write_rules(tmp_path, RECIPIENTS.split("  - address: risk")[0])
    with MailServer(tls_context=server_tls, logins={"reewatch": "the-right-one"}, echo_credentials=True) as server:
        env = cli_env(
            tmp_path,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(server.port),
            SMTP_USER="reewatch",
            SMTP_PASSWORD=password,
            SMTP_STARTTLS="true",
            SSL_CERT_FILE=str(ca_file),
            DIGEST_FROM="reewatch <reewatch@fund.example>",
            REEWATCH_LOG_LEVEL="DEBUG",
        )
        result = reewatch("digest", "send", "--date", "today", env=env, cwd=tmp_path)
    assert result.returncode == 1  # refused, to be retried
    assert "login refused: 535 5.7.8 Bad credentials reewatch:[redacted]" in result.stdout.replace("\n", "")
    assert password not in result.stdout and password not in result.stderr
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        [run] = runs_for_status(s)
    engine.dispose()
    assert run.status == "pending" and "[redacted]" in run.last_error and password not in run.last_error
    assert server.messages == []


NEWS_DAY = "2025-10-10"
DESK = """\
recipients:
  - address: desk@fund.example
    name: US desk
    time: "07:30"
    timezone: America/New_York
    watchlists: [us_allied_producers, etf]
    weekdays: daily
"""


def store_a_day_of_news(tmp_path, env) -> None:
    """The day before 2025-10-10 07:30 in New York, stored as the service stores it: scored
    articles (one event told by two outlets, a funding story, a hostile headline) and the replayed
    sample's bars up to that morning."""
    migrate.upgrade(env["DATABASE_URL"])
    ruleset = load_ruleset(tmp_path / "rules")
    seen = dt.datetime(2025, 10, 9, 14, 0, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        wire, mining = add_feed(s, "wire", "wire"), add_feed(s, "mining-wire")
        store_article(s, ruleset, wire, *GENEVA, fetched_at=seen, published=seen, link="https://wire.example/geneva")
        store_article(s, ruleset, mining, *GENEVA_RETOLD, fetched_at=seen + hour, published=seen + hour)
        store_article(s, ruleset, mining, *FUNDING, fetched_at=seen + 2 * hour, link="https://mining.example/mp")
        store_article(s, ruleset, wire, *HOSTILE, fetched_at=seen + 3 * hour)
        s.commit()
    engine.dispose()
    prices = reewatch(
        "prices", "poll", "--at", "2025-10-10T11:30:00Z", "MP", "USAR", "LYC.AX", "REMX",
        env={**env, "PRICE_SOURCE": "replay"}, cwd=tmp_path,
    )
    assert prices.returncode == 0, prices.stderr


def test_preview_shows_the_stored_alerts_ranked_and_grouped_and_the_prices(tmp_path):
    """A day with stored alerts and bars: stories ranked, one event's two write-ups shown as one
    story with both sources (the other listed under the lead), the watchlist numbers from the
    bars, the hostile headline escaped."""
    write_rules(tmp_path, DESK)
    env = cli_env(tmp_path)
    store_a_day_of_news(tmp_path, env)
    out = tmp_path / "digest.html"
    result = reewatch("digest", "preview", "--date", NEWS_DAY, "--out", str(out), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    hostile, funding, geneva = (page.index(title) for title in ("&lt;!channel&gt;", FUNDING[0].replace("'", "&#39;"), GENEVA[0]))
    assert hostile < funding < geneva  # scores 78, 74, 65: strongest story (and its section) first
    # The retelling is listed under the story's lead with its source, never dropped.
    assert geneva < page.index(f"mining-wire: {GENEVA_RETOLD[0]}") and "wire, mining-wire (2 sources)" in page
    assert page.count(GENEVA_RETOLD[0]) == 1
    assert "<!channel>" not in page and "<script>" not in page
    # MP as of that morning: Thursday's close 69.13, from 64.55 a day and 69.23 five sessions before.
    mp = page[page.index(">MP</td>"):]
    assert "69.13" in mp[:400] and "+7.1%" in mp[:800] and "-0.1%" in mp[:1000]
    # Followed but never polled: the row says so rather than showing a blank.
    uuuu = page[page.index(">UUUU</td>"):]
    assert "no prices stored yet" in uuuu[:600]
    assert 'src="data:image/png;base64,' in page
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        assert runs_for_status(s) == []
    engine.dispose()


def test_send_with_stored_data_reaches_smtp_once(tmp_path):
    """`digest send` delivers the day's digest to a real SMTP server once; the second run says
    `already sent` and the server receives nothing more."""
    write_rules(tmp_path, DESK)
    with MailServer() as server:
        env = cli_env(
            tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_STARTTLS="false",
            DIGEST_FROM="reewatch <reewatch@fund.example>",
        )
        store_a_day_of_news(tmp_path, env)
        first = reewatch("digest", "send", "--date", NEWS_DAY, env=env, cwd=tmp_path)
        second = reewatch("digest", "send", "--date", NEWS_DAY, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"desk@fund.example {NEWS_DAY}: sent (smtp 127.0.0.1:{server.port})" in first.stdout.replace("\n", "")
    assert second.returncode == 0, second.stderr
    assert f"desk@fund.example {NEWS_DAY}: already sent" in second.stdout
    [received] = server.messages
    assert received.rcpt_tos == ["desk@fund.example"]
    message = message_from_bytes(received.content, policy=policy.default)
    assert message["Subject"] == "Rare-earth digest Fri 10 Oct 2025: 3 stories"
    text, related = message.get_payload()
    html, image = related.get_payload()
    assert (html.get_content_type(), image.get_content_type()) == ("text/html", "image/png")
    assert HOSTILE[0] in text.get_content() and "(2 sources)" in text.get_content()
    assert "&lt;!channel&gt; &lt;script&gt;" in html.get_content()


def test_the_running_service_sends_due_digests_and_follows_edits(tmp_path, feed_server):
    """Restarted by a service that has been watching for days, `reewatch run` sends a digest that
    is due at start, picks up a recipient added to digests.yaml, and keeps the last good
    recipients (logging the error) on a broken edit."""
    feed_server.routes["/empty"] = Route(rss())
    first = RECIPIENTS.split("  - address: risk")[0]
    write_rules(tmp_path, first)
    (tmp_path / "rules" / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_server.url('/empty')}\n", encoding="utf-8")
    env = cli_env(tmp_path, REEWATCH_TICK_SECONDS="0.2")
    # Watching for two days already: a quiet day's digest is news too ("nothing happened").
    migrate.upgrade(env["DATABASE_URL"])
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        feed = add_feed(s, "wire", "wire")
        feed.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        s.commit()
    engine.dispose()
    outbox = tmp_path / "var" / "outbox"
    log_file = tmp_path / "service.log"
    digests = tmp_path / "rules" / "digests.yaml"

    def written(address: str, zone: str) -> bool:
        # Today in the reader's zone, or yesterday if midnight passed since it was sent.
        today = dt.datetime.now(ZoneInfo(zone)).date()
        return any((outbox / f"{day.isoformat()}_{address}.eml").is_file() for day in (today, today - dt.timedelta(days=1)))

    with log_file.open("w") as log:
        process = start("run", env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        # Due since midnight UTC, so the sweep sends it at start, as after a restart.
        assert wait_for(lambda: written("trader@desk.example", "UTC")), log_file.read_text()
        digests.write_text(RECIPIENTS, encoding="utf-8")
        assert wait_for(lambda: written("risk@desk.example", "Asia/Tokyo")), log_file.read_text()
        digests.write_text(RECIPIENTS.replace("timezone: Asia/Tokyo", "timezone: Asia/Tokio"), encoding="utf-8")
        # The watcher may catch the file half written (empty) first and keep the last good
        # version for that too: wait for the mistake itself.
        assert wait_for(lambda: "unknown time zone 'Asia/Tokio'" in log_file.read_text()), log_file.read_text()
        assert "keeping the last good version" in log_file.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = log_file.read_text()
    assert process.returncode == 0, text
    assert f"{digests}:9:5: recipients.1.timezone: unknown time zone 'Asia/Tokio'" in text
    assert "digest for risk@desk.example rescheduled: next on" in text
    assert sorted(p.suffix for p in outbox.iterdir()) == [".eml", ".eml", ".html", ".html"]


def test_a_first_start_that_has_seen_nothing_sends_no_digest(tmp_path, feed_server):
    """Started inside the digest's window with nothing stored, the service sends no empty digest
    for time it never watched; `digest status` says it was skipped and why."""
    feed_server.routes["/empty"] = Route(rss())
    write_rules(tmp_path, RECIPIENTS.split("  - address: risk")[0])
    (tmp_path / "rules" / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_server.url('/empty')}\n", encoding="utf-8")
    env = cli_env(tmp_path, REEWATCH_TICK_SECONDS="0.2")
    log_file = tmp_path / "service.log"
    with log_file.open("w") as log:
        process = start("run", env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        assert wait_for(lambda: "not sent: nothing seen yet" in log_file.read_text()), log_file.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    outbox = tmp_path / "var" / "outbox"
    assert not outbox.exists() or list(outbox.iterdir()) == []
    status = reewatch("digest", "status", env=env, cwd=tmp_path)
    assert "skipped" in status.stdout and "nothing seen yet" in status.stdout.replace("\n", " ")


def wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_calendar_lists_the_dates_ahead_and_their_reminders(tmp_path):
    """`digest calendar` shows each date still ahead, where its reminders go and their state;
    it needs no digests.yaml and sends nothing."""
    env = cli_env(tmp_path)
    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
    (tmp_path / "rules" / "calendar.yaml").write_text(
        f"deadlines:\n  - id: soon-rule\n    date: {soon.isoformat()}\n    timezone: Asia/Shanghai\n"
        "    title: Rule <b>takes</b> effect\n    starts: it\n    source: MOFCOM\n    channel: '#desk'\n"
        "  - id: old-rule\n    date: 2020-01-01\n    title: Old rule\n    starts: it\n    source: s\n",
        encoding="utf-8",
    )
    result = reewatch("digest", "calendar", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "soon-rule" in flat and "Rule <b>takes</b> effect" in flat and "#desk" in flat
    assert "old-rule" not in flat and "upcoming in" in flat
    past = reewatch("digest", "calendar", "--past", env=env, cwd=tmp_path)
    assert "old-rule" in " ".join(past.stdout.split()) and "missed" in past.stdout


def test_send_keeps_its_claim_alive_while_a_slow_server_takes_the_mail(tmp_path):
    """`digest send` beats as a running instance does: while the mail server holds the message
    past the claim's first lease, the lease is renewed (no instance may take the send over and
    mail it again), and once sent the command leaves no heartbeat or lease behind."""
    write_rules(tmp_path, RECIPIENTS.split("  - address: risk")[0])
    with MailServer() as server:
        server.handler.hold = threading.Event()
        env = cli_env(
            tmp_path,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(server.port),
            SMTP_STARTTLS="false",
            DIGEST_FROM="reewatch <reewatch@fund.example>",
            REEWATCH_HEARTBEAT_SECONDS="0.5",
            REEWATCH_INSTANCE_TIMEOUT="1",  # a claim's lease is twice this: 2 s
        )
        proc = start("digest", "send", "--date", "today", env=env, cwd=tmp_path)
        try:
            assert server.handler.in_data.wait(60), "the digest never reached the mail server"
            first, _ = _claim_and_instances(env)
            # Past the lease the claim was taken with, still held: only a heartbeat renews it.
            # (The minute is a bound for a stalled machine, not a timing under test.)
            deadline = time.monotonic() + 60
            while True:
                held, beating = _claim_and_instances(env)
                renewed = held.lease_until is not None and held.lease_until > first.lease_until
                if (renewed and dt.datetime.now(dt.UTC) > first.lease_until) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            server.handler.hold.set()
            returncode = proc.wait(timeout=120)
    assert returncode == 0
    assert renewed and held.lease_owner == first.lease_owner
    assert beating == [lease_holder(first.lease_owner)]
    assert len(server.messages) == 1
    after, beating = _claim_and_instances(env)
    assert after.status == "sent" and after.lease_owner is None
    assert beating == []


def _claim_and_instances(env) -> tuple[DigestRun, list[str]]:
    """The one digest run (its lease), and the instances with a heartbeat row."""
    engine = make_engine(env["DATABASE_URL"])
    try:
        with open_session(engine) as s:
            [run] = runs_for_status(s)
            return run, [row.instance_id for row in instances(s)]
    finally:
        engine.dispose()
