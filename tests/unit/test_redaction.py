"""Outside text loses every secret, in whatever form it was quoted back, before anyone sees it."""

import base64
from urllib.parse import quote

import pytest

from service.redaction import MAX_OUTSIDE_TEXT, REDACTED, Redactor, scrub

TOKEN = "xoxb-4242-9191-hostileTESTtoken"
PASSWORD = "s3cr3t/p@ss+word"
USER = "digest@fund.example"


def redactor() -> Redactor:
    return Redactor([TOKEN, PASSWORD])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


PLAIN_BLOB = _b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
UNKNOWN_BLOB = _b64(b"\0someone\0an-unknown-password")
LOGIN_BLOB = _b64(PASSWORD.encode())

LEAKS = {
    "token in a Slack error": (f"invalid_auth: token {TOKEN} is revoked", TOKEN),
    "bearer header echoed": (f"Authorization: Bearer {TOKEN}", TOKEN),
    "token URL-encoded": (f"https://slack.test/api?token={quote(TOKEN, safe='')}", TOKEN),
    "token with encoded dashes": ("token%3D" + TOKEN.replace("-", "%2D"), TOKEN.split("-")[-1]),
    "an unknown Slack token": ("bad token xoxp-1234-5678-abcdefABCDEF", "abcdefABCDEF"),
    "AUTH PLAIN blob, known password": (f"535 5.7.8 bad credentials for AUTH PLAIN {PLAIN_BLOB}", PLAIN_BLOB),
    "AUTH PLAIN blob quoted alone": (f"535 rejected {UNKNOWN_BLOB}", UNKNOWN_BLOB),
    "AUTH LOGIN password": (f"334 UGFzc3dvcmQ6 got {LOGIN_BLOB}", LOGIN_BLOB),
    "password URL-encoded": (f"login failed: pw={quote(PASSWORD, safe='')}", quote(PASSWORD, safe="")),
    "password in a database URL": ("could not connect to postgresql://app:hunter2hunter2@db.internal/x", "hunter2hunter2"),
    "password in a query string": ("GET /feed?user=a&password=opensesame42 failed", "opensesame42"),
}


@pytest.mark.parametrize("case", sorted(LEAKS))
def test_secrets_are_scrubbed_in_every_form(case):
    """Plain, URL-encoded, base64 or inside an AUTH blob: the secret never survives."""
    text, secret = LEAKS[case]
    scrubbed = redactor().scrub(text)
    assert secret not in scrubbed
    assert PASSWORD not in scrubbed and TOKEN not in scrubbed
    assert REDACTED in scrubbed


def test_what_is_not_a_secret_stays_readable():
    """Slack's error codes and ordinary words are left as they are."""
    text = "channel_not_found: the channel #desk-alerts does not exist (HTTP 404 NotFound)"
    assert redactor().scrub(text) == text


def test_database_errors_lose_their_sql_and_parameters():
    """A SQLAlchemy error keeps its first words, not the statement, its values or the link."""
    text = (
        "(psycopg.errors.StringDataRightTruncation) value too long for type character varying(512)\n"
        "[SQL: INSERT INTO articles (feed_id, guid) VALUES (%(feed_id)s, %(guid)s)]\n"
        "[parameters: {'feed_id': 1, 'guid': 'private text'}]\n"
        "(Background on this error at: https://sqlalche.me/e/20/9h9h)"
    )
    scrubbed = redactor().scrub(text)
    assert scrubbed == "(psycopg.errors.StringDataRightTruncation) value too long for type character varying(512)"


def test_outside_text_becomes_one_short_clean_line():
    """Newlines, NUL and lone surrogates go; a long text is cut to the cap with an ellipsis."""
    scrubbed = redactor().scrub("first\nsecond\x00\ud800 " + "x" * 5_000)
    assert "\n" not in scrubbed and "\x00" not in scrubbed and "\ud800" not in scrubbed
    assert len(scrubbed) == MAX_OUTSIDE_TEXT and scrubbed.endswith("\u2026")
    assert scrubbed.startswith("first second")


def test_logs_keep_their_lines_and_length():
    """The log filter's form keeps a traceback's lines and length, and still scrubs."""
    text = f"Traceback:\n  line one\nRuntimeError: {TOKEN}\n" + "y" * 2_000
    scrubbed = redactor().scrub(text, limit=None, keep_lines=True)
    assert scrubbed.count("\n") == 3 and TOKEN not in scrubbed and len(scrubbed) > 2_000


def test_settings_teach_the_process_wide_scrubber(make_settings):
    """Loading settings is enough: every later scrub knows the bot token and the SMTP password."""
    make_settings(slack_bot_token="xoxb-1-2-settingsTokenValue", smtp_password="mail-pass-from-settings")
    blob = _b64(b"mail-pass-from-settings")
    scrubbed = scrub(f"echo: xoxb-1-2-settingsTokenValue / {blob} / mail-pass-from-settings")
    assert "settingsTokenValue" not in scrubbed and "mail-pass" not in scrubbed and blob not in scrubbed
