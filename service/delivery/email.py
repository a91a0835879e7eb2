"""Handing a digest over: to an SMTP server, or as files under var/outbox/ when none is set.

Both are blocking and meant for a worker thread. Every SMTP failure becomes a MailError that
says whether it is temporary, so the caller can retry without guessing.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from service.errors import ConfigError, MailError, MailRefused, MailServerUnreachable, Problem
from service.redaction import remember_secrets, scrub


class Mailer(Protocol):
    """Something that delivers a composed message, or raises MailError."""

    def deliver(self, message: EmailMessage, *, preview_html: str, name: str) -> str:
        """Deliver `message`; return where it went (host:port, or the file written)."""


@dataclass
class SmtpMailer:
    """Sends through an SMTP server: STARTTLS when asked, AUTH when a user is set, with timeouts."""

    host: str
    port: int
    envelope_from: str
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 30.0
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)

    def deliver(self, message: EmailMessage, *, preview_html: str, name: str) -> str:
        recipients = [a.addr_spec for a in message["To"].addresses]
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password.get_secret_value() if self.password else "")
                smtp.send_message(message, from_addr=self.envelope_from, to_addrs=recipients)
            finally:
                _quit(smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise MailRefused(code, f"recipient refused: {code} {self._reply(text)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            # A server that offers no STARTTLS will not start to; it needs an operator.
            raise MailRefused(530, f"{self.host}:{self.port} does not support what was asked: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            raise MailRefused(exc.smtp_code, f"{_stage(exc)}: {exc.smtp_code} {self._reply(exc.smtp_error)}") from None
        except ssl.SSLError as exc:
            raise MailServerUnreachable(f"TLS with {self.host}:{self.port} failed: {exc.reason or exc}") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise MailServerUnreachable(f"{self.host}:{self.port} dropped the connection: {exc}") from None
        except TimeoutError:
            raise MailServerUnreachable(f"{self.host}:{self.port} timed out after {self.timeout:g}s") from None
        except socket.gaierror as exc:
            raise MailServerUnreachable(f"cannot resolve {self.host}: {exc.strerror}") from None
        except OSError as exc:
            raise MailServerUnreachable(f"cannot reach {self.host}:{self.port}: {exc.strerror or exc}") from None
        return f"smtp {self.host}:{self.port}"

    def _reply(self, raw: bytes | str) -> str:
        """A server's reply as text, scrubbed: some servers echo what they got, AUTH blob and all."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if self.password:
            remember_secrets(self.password.get_secret_value())
        return scrub(text)


def _quit(smtp: smtplib.SMTP) -> None:
    # Once the server has accepted the message, a failed QUIT must not turn into a retry
    # (and a second copy in the reader's inbox).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _stage(exc: smtplib.SMTPResponseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "login refused"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "sender refused"
    if isinstance(exc, smtplib.SMTPDataError):
        return "message refused"
    return "server refused"


_UNSAFE = re.compile(r"[^A-Za-z0-9._+@-]+")


@dataclass
class OutboxMailer:
    """Writes each digest as `<name>.eml` (the message) and `<name>.html` (a browser preview)."""

    folder: Path

    def deliver(self, message: EmailMessage, *, preview_html: str, name: str) -> str:
        safe = _UNSAFE.sub("_", name).strip("._") or "digest"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.folder / f"{safe}.html", preview_html.encode("utf-8"))
            eml = self.folder / f"{safe}.eml"
            _write_atomically(eml, message.as_bytes(policy=SMTP_POLICY))
        except OSError as exc:
            raise MailError(f"cannot write to {self.folder}: {exc.strerror or exc}") from None
        return str(eml)


def _write_atomically(path: Path, data: bytes) -> None:
    # A crash mid-write must not leave half a message where a reader (or the demo) looks.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def sender_address(digest_from: str) -> Address:
    """DIGEST_FROM ('reewatch <reewatch@fund.example>' or a bare address) as a header Address."""
    display, addr = parseaddr(digest_from)
    if not addr or "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise ConfigError([Problem("DIGEST_FROM", None, None, f"{digest_from!r} is not an e-mail address")])
    return Address(display_name=display, addr_spec=addr)

