"""`reewatch digest preview` and `digest send` as operators run them: real subprocesses."""

from __future__ import annotations

import datetime as dt
import ssl
from email import message_from_bytes, policy

import trustme

from service.store.db import make_engine
from service.store.db import session as open_session
from service.store.digests import runs_for_status
from tests.e2e.cli import cli_env, reewatch
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
        f"deadlines:\n  - date: {soon.isoformat()}\n    title: Export ban suspension <ends>\n"
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
    assert "Alerts could not be read" in page  # no alert store is wired in yet: said, not hidden
    assert not (tmp_path / "var" / "outbox").exists()
    engine = make_engine(env["DATABASE_URL"])
    with open_session(engine) as s:
        assert runs_for_status(s) == []
    engine.dispose()


def test_send_without_smtp_writes_the_outbox_once(tmp_path):
    """With no SMTP_HOST, `digest send` writes .eml and .html files, prints where, and never twice."""
    write_rules(tmp_path)
    env = cli_env(tmp_path)
    first = reewatch("digest", "send", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    outbox = tmp_path / "var" / "outbox"
    today = dt.datetime.now(dt.UTC).date()
    eml = outbox / f"{today.isoformat()}_trader@desk.example.eml"
    flat = first.stdout.replace("\n", "")
    assert f"trader@desk.example {today}: sent ({eml})" in flat
    assert eml.is_file() and eml.with_suffix(".html").is_file()
    assert message_from_bytes(eml.read_bytes(), policy=policy.default)["To"].addresses[0].display_name == "Jane Trader"

    again = reewatch("digest", "send", "--date", "today", "--recipient", "trader@desk.example", env=env, cwd=tmp_path)
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
