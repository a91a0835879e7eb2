"""Digests through a real SMTP server on loopback, with the ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from email import message_from_bytes, policy
from email.headerregistry import Address

import pytest
import trustme
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from service.bootstrap import open_runtime
from service.delivery.email import OutboxMailer, SmtpMailer
from service.digest.schedule import next_send
from service.errors import ConfigError
from service.pipeline.digest import (
    MAX_PERMANENT_ATTEMPTS,
    DigestSetup,
    load_digest_setup,
    schedule_digests,
    send_digest,
    send_due_digests,
    serve_digests,
)
from service.store.db import make_engine
from service.store.db import session as open_session
from service.store.digests import get_run, run_key
from service.store.models import Feed
from tests import databases
from tests.digest_data import HOSTILE, HandBuiltMarket, recipient
from tests.integration.smtp import MailServer, free_port

DAY = dt.date(2026, 11, 23)  # a Monday
DUE = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)  # 07:30 in New York
SENDER = Address("reewatch", addr_spec="reewatch@fund.example")
TRADER = recipient()
KEY = run_key(TRADER.key, DAY)


def smtp(port: int, **changes) -> SmtpMailer:
    values = dict(host="127.0.0.1", port=port, envelope_from=SENDER.addr_spec, starttls=False, timeout=5.0)
    values.update(changes)
    return SmtpMailer(**values)


def setup_for(mailer, *recipients) -> DigestSetup:
    return DigestSetup(list(recipients or [TRADER]), [], mailer, SENDER, HandBuiltMarket(DUE))


def run(coro_factory, settings):
    """Run an async step with a fresh runtime, as a restarted process would."""

    async def main():
        async with open_runtime(settings) as rt:
            return await coro_factory(rt)

    return asyncio.run(main())


def ledger(database_url: str, key: str = KEY):
    engine = make_engine(database_url)
    try:
        with open_session(engine) as s:
            return get_run(s, key)
    finally:
        engine.dispose()


@pytest.fixture
def settings(database_url, make_settings):
    databases.upgrade(database_url)
    return make_settings(database_url)


def test_digest_arrives_once_parses_and_escapes(settings, database_url):
    """One message arrives: text and HTML alternatives, the inline chart, the hostile headline escaped."""
    with MailServer() as server:
        setup = setup_for(smtp(server.port))
        first = run(lambda rt: send_due_digests(rt, setup, now=DUE + dt.timedelta(minutes=1)), settings)
        again = run(lambda rt: send_due_digests(rt, setup, now=DUE + dt.timedelta(minutes=20)), settings)
    assert [o.status for o in first] == ["sent"]
    assert [o.status for o in again] == ["already_sent"]
    [received] = server.messages
    assert received.mail_from == "reewatch@fund.example" and received.rcpt_tos == ["trader@desk.example"]

    message = message_from_bytes(received.content, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    html, image = related.get_payload()
    assert (text.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    assert (html.get_content_type(), image.get_content_type()) == ("text/html", "image/png")
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html.get_content()
    assert image.get_content().startswith(b"\x89PNG")
    assert "<script>" not in html.get_content() and "&lt;script&gt;alert(1)&lt;/script&gt;" in html.get_content()
    assert HOSTILE in text.get_content()
    row = ledger(database_url)
    assert message["Message-ID"] == row.message_id
    assert (row.status, row.attempts, row.delivered_via) == ("sent", 1, f"smtp 127.0.0.1:{server.port}")


def test_smtp_down_is_retried_later_not_lost_not_doubled(settings, database_url):
    """With nothing listening the digest waits and retries; once the server is up it goes out once."""
    port = free_port()
    setup = setup_for(smtp(port))
    [down] = run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
    assert down.status == "retrying" and "Connection refused" in down.detail
    row = ledger(database_url)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error
    retry_at = row.next_attempt_at
    assert DUE + dt.timedelta(seconds=45) <= retry_at <= DUE + dt.timedelta(seconds=75)

    with MailServer(port) as server:
        [early] = run(lambda rt: send_due_digests(rt, setup, now=retry_at - dt.timedelta(seconds=1)), settings)
        assert early.status == "waiting" and server.messages == []
        [sent] = run(lambda rt: send_due_digests(rt, setup, now=retry_at), settings)
        [again] = run(lambda rt: send_due_digests(rt, setup, now=retry_at + dt.timedelta(hours=1)), settings)
    assert (sent.status, again.status) == ("sent", "already_sent")
    assert len(server.messages) == 1
    assert ledger(database_url).attempts == 2


def test_a_temporary_refusal_is_retried(settings, database_url):
    """A 4xx answer keeps the digest pending; the next attempt delivers it once."""
    with MailServer() as server:
        setup = setup_for(smtp(server.port))
        server.handler.data_reply = "451 4.3.0 Mailbox busy, try again later"
        [refused] = run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
        assert refused.status == "retrying" and "451 4.3.0 Mailbox busy" in refused.detail
        server.handler.data_reply = None
        later = DUE + dt.timedelta(hours=2)
        [sent] = run(lambda rt: send_due_digests(rt, setup, now=later), settings)
        [again] = run(lambda rt: send_due_digests(rt, setup, now=later + dt.timedelta(minutes=5)), settings)
    assert (sent.status, again.status) == ("sent", "already_sent")
    assert len(server.messages) == 1


@pytest.mark.parametrize(
    ("where", "reply", "reason"),
    [
        ("data_reply", "554 5.7.1 Message rejected as spam", "message refused: 554 5.7.1 Message rejected as spam"),
        ("rcpt_reply", "550 5.1.1 No such user", "recipient refused: 550 5.1.1 No such user"),
    ],
)
def test_a_permanent_refusal_is_tried_a_few_times_then_failed_not_lost(settings, database_url, where, reply, reason):
    """A 5xx answer is retried a few times, then the run is failed with the reason; an operator's send recovers it."""
    with MailServer() as server:
        setup = setup_for(smtp(server.port))
        setattr(server.handler, where, reply)
        statuses = []
        now = DUE
        for _ in range(MAX_PERMANENT_ATTEMPTS + 1):
            [outcome] = run(lambda rt, now=now: send_due_digests(rt, setup, now=now), settings)
            statuses.append(outcome.status)
            now += dt.timedelta(hours=1)
        assert statuses == ["retrying"] * (MAX_PERMANENT_ATTEMPTS - 1) + ["failed", "failed"]
        row = ledger(database_url)
        assert (row.status, row.attempts, row.last_error) == ("failed", MAX_PERMANENT_ATTEMPTS, reason)
        assert server.messages == []

        setattr(server.handler, where, None)
        forced = run(lambda rt: send_digest(rt, setup, TRADER, DAY, now=now, force=True), settings)
        again = run(lambda rt: send_digest(rt, setup, TRADER, DAY, now=now, force=True), settings)
    assert (forced.status, again.status) == ("sent", "already_sent")
    assert len(server.messages) == 1


def test_a_second_instance_does_not_send_again(settings, database_url, make_settings):
    """Two instances on one database reach the same digest at once: exactly one message goes out."""
    other = make_settings(database_url, instance_id="second")
    with MailServer() as server:
        server.handler.data_delay = 0.5  # the first is still talking to SMTP when the second arrives
        setup = setup_for(smtp(server.port))

        async def both():
            async with open_runtime(settings) as a, open_runtime(other) as b:
                return await asyncio.gather(
                    send_due_digests(a, setup, now=DUE), send_due_digests(b, setup, now=DUE)
                )

        first, second = asyncio.run(both())
        restarted = run(lambda rt: send_due_digests(rt, setup, now=DUE + dt.timedelta(minutes=3)), settings)
    assert sorted([first[0].status, second[0].status]) == ["in_flight", "sent"]
    assert [o.status for o in restarted] == ["already_sent"]
    assert len(server.messages) == 1


def test_a_digest_missed_while_down_goes_out_the_same_day_only(settings, database_url):
    """Back at 23:00 New York time: today's digest goes out; a day already over is not sent late."""
    with MailServer() as server:
        setup = setup_for(smtp(server.port))
        late_evening = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # 23:00 Monday in New York
        [caught_up] = run(lambda rt: send_due_digests(rt, setup, now=late_evening), settings)
        next_morning = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)  # 06:00 Wednesday: Tuesday's missed
        [not_yet] = run(lambda rt: send_due_digests(rt, setup, now=next_morning), settings)
    assert (caught_up.status, caught_up.day) == ("sent", DAY)
    assert (not_yet.status, not_yet.day) == ("not_due", dt.date(2026, 11, 25))
    assert len(server.messages) == 1
    assert ledger(database_url, run_key(TRADER.key, dt.date(2026, 11, 24))) is None


def test_a_digest_still_failing_when_its_day_ends_expires(settings, database_url):
    """Retries stop at the end of the recipient's day, and the run says why it was not sent."""
    setup = setup_for(smtp(free_port()))
    run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
    after_midnight = dt.datetime(2026, 11, 24, 5, 1, tzinfo=dt.UTC)
    run(lambda rt: send_due_digests(rt, setup, now=after_midnight), settings)
    row = ledger(database_url)
    assert row.status == "failed" and "not delivered before the digest's day ended" in row.last_error


def test_failing_feeds_reach_the_digest(settings, database_url):
    """Feeds failing or disabled in the feeds table are listed in the message that goes out."""
    engine = make_engine(database_url)
    with open_session(engine) as s:
        s.add(Feed(name="ustr", url="https://ustr.example/rss", consecutive_failures=3, last_error="HTTP 503 Service Unavailable"))
        s.add(Feed(name="sec-mp", url="https://sec.example/a", disabled_reason="HTTP 410 Gone"))
        s.add(Feed(name="healthy", url="https://ok.example/rss"))
        s.add(Feed(name="retired", url="https://old.example/rss", enabled=False, consecutive_failures=9))
        s.commit()
    engine.dispose()
    with MailServer() as server:
        setup = setup_for(smtp(server.port))
        run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
    message = message_from_bytes(server.messages[0].content, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "2 feeds failing" in message["Subject"]
    assert "sec-mp: disabled: HTTP 410 Gone" in text and "ustr: 3 failures in a row" in text
    assert "healthy" not in text and "retired" not in text


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


def test_starttls_and_login(settings, database_url, certificate_authority):
    """With SMTP_STARTTLS and SMTP_USER the mailer upgrades to TLS, logs in, and the message arrives."""
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    certificate_authority.configure_trust(client_tls)
    with MailServer(tls_context=server_tls, logins={"reewatch": "s3cret-pass"}) as server:
        wrong = setup_for(smtp(server.port, starttls=True, tls_context=client_tls, user="reewatch", password=_secret("nope")))
        [refused] = run(lambda rt: send_due_digests(rt, wrong, now=DUE), settings)
        good = setup_for(smtp(server.port, starttls=True, tls_context=client_tls, user="reewatch", password=_secret("s3cret-pass")))
        [sent] = run(lambda rt: send_due_digests(rt, good, now=DUE + dt.timedelta(hours=1)), settings)
    assert refused.status == "retrying" and "login refused: 535" in refused.detail
    assert sent.status == "sent"
    [received] = server.messages
    assert received.login == "reewatch"


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def test_without_smtp_the_digest_is_written_to_the_outbox(settings, database_url, tmp_path):
    """With no SMTP host the digest becomes an .eml and an .html file, once."""
    setup = setup_for(OutboxMailer(tmp_path / "outbox"))
    [written] = run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
    [again] = run(lambda rt: send_due_digests(rt, setup, now=DUE + dt.timedelta(minutes=5)), settings)
    eml = tmp_path / "outbox" / "2026-11-23_trader@desk.example.eml"
    assert (written.status, written.detail, again.status) == ("sent", str(eml), "already_sent")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    page = (tmp_path / "outbox" / "2026-11-23_trader@desk.example.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "&lt;!channel&gt;" in page
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [eml.name, eml.with_suffix(".html").name]


def test_scheduled_jobs_fire_at_the_recipients_times_and_send_their_digest(settings, database_url):
    """One cron job per recipient in their zone plus the sweep; a job sends only its recipient's digest."""
    sydney = recipient(address="apac@desk.example", time="08:00", timezone="Australia/Sydney")
    with MailServer() as server:
        setup = setup_for(smtp(server.port), TRADER, sydney)

        async def scheduled():
            async with open_runtime(settings) as rt:
                rt.clock = lambda: DUE + dt.timedelta(minutes=1)
                scheduler = AsyncIOScheduler(timezone=dt.UTC)
                ids = schedule_digests(scheduler, rt, setup)
                scheduler.start(paused=True)
                try:
                    jobs = {job.id: job for job in scheduler.get_jobs()}
                    real_now = dt.datetime.now(dt.UTC)
                    fires = {
                        job_id: job.trigger.get_next_fire_time(None, real_now) for job_id, job in jobs.items() if job_id != "digest-sweep"
                    }
                    job = jobs[f"digest:{TRADER.key}"]
                    outcomes = await job.func(*job.args, **job.kwargs)
                finally:
                    scheduler.shutdown(wait=False)
                return ids, fires, outcomes, real_now

        ids, fires, outcomes, real_now = asyncio.run(scheduled())
    assert ids == [f"digest:{TRADER.key}", "digest:apac@desk.example", "digest-sweep"]
    assert fires[f"digest:{TRADER.key}"] == next_send(TRADER, real_now)[1]
    assert fires["digest:apac@desk.example"] == next_send(sydney, real_now)[1]
    assert [(o.recipient, o.status) for o in outcomes] == [(TRADER.address, "sent")]
    assert len(server.messages) == 1


def test_a_server_without_starttls_or_with_an_untrusted_certificate_gets_nothing(settings, database_url, certificate_authority):
    """STARTTLS never silently falls back to plain text: no STARTTLS offered, or a certificate we
    do not trust, and the digest is not sent but kept for a retry."""
    with MailServer() as plain:
        setup = setup_for(smtp(plain.port, starttls=True))
        [no_tls] = run(lambda rt: send_due_digests(rt, setup, now=DUE), settings)
    assert no_tls.status == "retrying" and "does not support what was asked" in no_tls.detail
    assert plain.messages == []

    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    with MailServer(tls_context=server_tls) as server:
        setup = setup_for(smtp(server.port, starttls=True, tls_context=ssl.create_default_context()))
        [untrusted] = run(lambda rt: send_due_digests(rt, setup, now=DUE + dt.timedelta(hours=1)), settings)
    assert untrusted.status == "retrying" and "TLS with 127.0.0.1" in untrusted.detail
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.detail
    assert server.messages == []


TWO_DESKS = """\
recipients:
  - address: us@desk.example
    time: "07:30"
    timezone: America/New_York
    watchlists: [us_allied_producers, etf]
  - address: apac@desk.example
    time: "08:00"
    timezone: Australia/Sydney
"""


APAC_EARLIER = """\
recipients:
  - address: apac@desk.example
    time: "06:45"
    timezone: Australia/Sydney
"""


ONE_DEADLINE = """\
deadlines:
  - id: ga-ge-sb-ban
    date: 2026-11-27
    title: Ga/Ge/Sb ban suspension ends
    ends: the suspension
    source: MOFCOM
"""


def test_unknown_watchlists_are_located_errors_checked_against_the_rules(settings):
    """A digests.yaml group the rules' watchlists do not have is an error with its place and a suggestion."""
    settings.digests_file.write_text(TWO_DESKS.replace("etf]", "etfs]"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_digest_setup(settings)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(settings.digests_file), 5, 39)
    assert problem.message == "unknown watchlist 'etfs'; did you mean 'etf'?"
    settings.digests_file.write_text(TWO_DESKS, encoding="utf-8")
    assert [r.watchlists for r in load_digest_setup(settings).recipients] == [("us_allied_producers", "etf"), ()]


def test_the_service_reschedules_when_digests_or_calendar_change(settings):
    """Edits take effect without a restart: a removed recipient loses its job, a new time moves
    one, a new deadline reaches the sweep's set-up; a broken edit leaves all as it was."""
    settings.digests_file.write_text(TWO_DESKS, encoding="utf-8")

    async def main():
        async with open_runtime(settings) as rt:
            scheduler = AsyncIOScheduler(timezone=dt.UTC)
            watched = serve_digests(scheduler, rt)
            scheduler.start(paused=True)
            try:
                before = {job.id: str(job.trigger) for job in scheduler.get_jobs()}
                reload = scheduler.get_job("digest-reload")
                settings.digests_file.write_text(APAC_EARLIER, encoding="utf-8")
                settings.calendar_file.write_text(ONE_DEADLINE, encoding="utf-8")
                await reload.func()
                after = {job.id: str(job.trigger) for job in scheduler.get_jobs()}
                sweep_setup = scheduler.get_job("digest-sweep").args[1]
                settings.digests_file.write_text("recipients:\n  - address: nobody\n", encoding="utf-8")
                await reload.func()
                broken = {job.id: str(job.trigger) for job in scheduler.get_jobs()}
            finally:
                scheduler.shutdown(wait=False)
            return before, after, broken, sweep_setup, watched

    before, after, broken, sweep_setup, watched = asyncio.run(main())
    assert sorted(before) == ["digest-reload", "digest-sweep", "digest:apac@desk.example", "digest:us@desk.example"]
    assert sorted(after) == ["digest-reload", "digest-sweep", "digest:apac@desk.example"]
    assert "hour='8', minute='0'" in before["digest:apac@desk.example"]
    assert "hour='6', minute='45'" in after["digest:apac@desk.example"]
    assert sweep_setup is watched.current and [d.title for d in sweep_setup.deadlines] == ["Ga/Ge/Sb ban suspension ends"]
    assert broken == after and watched.last_error is not None
