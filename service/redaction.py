"""Scrubbing text that comes from outside before it is stored, printed or logged.

Slack's error strings, SMTP replies, database errors and exception messages are written by
someone else, and some quote what we sent them: the bearer token, the base64 AUTH PLAIN blob
(which holds the password), a whole SQL statement with its parameters. `scrub` is the one
function every such text goes through (the errors reewatch raises call it on their reason, the
CLI on what it prints, the log filter on every record): it removes the secrets this process
knows in any of the forms they travel in (plain, URL-encoded, base64, inside a base64 blob),
anything shaped like a credential (Slack tokens, bearer and basic credentials, passwords in
URLs and query strings, AUTH PLAIN blobs), SQL statements and their parameters; then it makes
the text one clean line and shortens it.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from urllib.parse import quote, quote_plus

from service.storable import storable

REDACTED = "[redacted]"
#: What a stored or printed reason may hold; a person reads it in one glance.
MAX_OUTSIDE_TEXT = 500
#: Shorter values would redact ordinary words.
MIN_SECRET_LENGTH = 4

_CREDENTIAL_SHAPES = (
    # Slack tokens (bot, user, app, refresh...), also with their dashes percent-encoded.
    (re.compile(r"\bx(?:ox[a-z]|app)(?:-|%2[dD])[A-Za-z0-9%-]{6,}"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/%=-]{6,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2)\s+)\S+"), rf"\1{REDACTED}"),
    # user:password@ in any URL (postgresql://, smtp://, https://).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*):[^\s/@]+@"), rf"\1:{REDACTED}@"),
    (
        re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)(=|%3[dD]|:\s*)([^\s&;,'\"]+)"),
        rf"\1\2{REDACTED}",
    ),
)
# SQLAlchemy appends the statement, its parameters and a link to every database error.
_SQL_DETAIL = re.compile(r"\s*\[(?:SQL|parameters): .*", re.S)
_SQL_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
# What AUTH PLAIN carries: [authzid] NUL authcid NUL password.
_AUTH_PLAIN = re.compile(rb"^[^\x00]*\x00[^\x00]+\x00[^\x00]+$")
_SPACES = re.compile(r"\s+")


class Redactor:
    """The secrets one process knows, in every form they may be quoted back, and the scrubbing."""

    def __init__(self, secrets: tuple[str, ...] | list[str] = ()):
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: list[str] = []
        self.add(*secrets)

    def add(self, *values: str | None) -> None:
        """Remember secret values (tokens, passwords); short or empty ones are ignored."""
        with self._lock:
            fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self._secrets
            if not fresh:
                return
            self._secrets |= fresh
            forms = set(self._forms)
            for secret in fresh:
                forms.update(_encoded_forms(secret))
            self._forms = sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def scrub(self, text: object, *, limit: int | None = MAX_OUTSIDE_TEXT, keep_lines: bool = False) -> str:
        """`text` without secrets, credentials or SQL; one line (unless `keep_lines`), at most
        `limit` characters (None: any length)."""
        if text is None:
            return ""
        text = str(text)
        if not keep_lines:
            text = _SQL_DETAIL.sub("", text)
            text = _SQL_BACKGROUND.sub("", text)
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        text = _BASE64_RUN.sub(self._scrub_blob, text)
        for pattern, replacement in _CREDENTIAL_SHAPES:
            text = pattern.sub(replacement, text)
        text = storable(text)
        if not keep_lines:
            text = _SPACES.sub(" ", text).strip()
        if limit is not None and len(text) > limit:
            text = text[: limit - 1].rstrip() + "\u2026"
        return text

    def _scrub_blob(self, match: re.Match) -> str:
        """A base64 run that decodes to a credential, or to text holding a known secret, goes."""
        run = match.group(0)
        decoded = _b64decode(run)
        if decoded is None:
            return run
        if _AUTH_PLAIN.match(decoded):
            return REDACTED
        if any(secret.encode() in decoded for secret in self._secrets):
            return REDACTED
        return run


def _encoded_forms(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)}
    forms |= {f.lower() for f in forms if "%" in f} | {f.replace("%2D", "-") for f in forms}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        blob = encode(raw).decode()
        forms |= {blob, blob.rstrip("=")}
    return forms


def _b64decode(run: str) -> bytes | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


_PROCESS = Redactor()


def remember_secrets(*values: str | None) -> None:
    """Tell the process-wide scrubber about secret values (the settings do, when loaded)."""
    _PROCESS.add(*values)


def scrub(text: object, *, limit: int | None = MAX_OUTSIDE_TEXT, keep_lines: bool = False) -> str:
    """Outside text made safe to store, print or log: see the module's docstring."""
    return _PROCESS.scrub(text, limit=limit, keep_lines=keep_lines)
