"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and can be told to refuse."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A port nothing listens on right now (Controller(port=0) fails its own ready check)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None


@dataclass
class Handler:
    """Accepts mail unless told otherwise; records each accepted message."""

    messages: list[Received] = field(default_factory=list)
    #: Replies for the next commands, e.g. "451 4.3.0 Try again later"; None accepts.
    rcpt_reply: str | None = None
    data_reply: str | None = None
    #: Seconds to wait before answering DATA, so a second instance can arrive mid-send.
    data_delay: float = 0.0
    #: When given, DATA is answered only once it is set (`in_data` says a message is waiting).
    hold: threading.Event | None = None
    in_data: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.hold is not None:
            self.in_data.set()
            await asyncio.to_thread(self.hold.wait)
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login))
        return "250 2.0.0 Message accepted for delivery"


class MailServer:
    """aiosmtpd on 127.0.0.1: plain, or with STARTTLS and AUTH when given a TLS context and logins."""

    def __init__(
        self,
        port: int | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        logins: dict[str, str] | None = None,
        echo_credentials: bool = False,
    ):
        self.handler = Handler()
        self.port = port or free_port()
        self.logins = logins
        #: Like some real servers, quote the login and password back in the refusal.
        self.echo_credentials = echo_credentials
        kwargs: dict = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if logins is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        if ok:
            return AuthResult(success=True, handled=False, auth_data=auth_data)
        message = None
        if self.echo_credentials and isinstance(auth_data, LoginPassword):
            # Some servers quote the credentials back, in the clear and as the AUTH PLAIN blob.
            blob = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password).decode()
            message = f"535 5.7.8 Bad credentials {auth_data.login.decode()}:{auth_data.password.decode()} (AUTH PLAIN {blob})"
        return AuthResult(success=False, handled=False, message=message)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
