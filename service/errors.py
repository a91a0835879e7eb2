"""Every error reewatch raises on purpose, so callers can catch exactly what they mean.

ReewatchError
 ├── ConfigError                  a YAML file or a setting is wrong (carries every problem found)
 ├── ReplayFileError              a price replay CSV cannot be read at all (file:line: reason)
 ├── LeaseLost                    another instance took this work over (this one looked dead):
 │                                its result is dropped, the new holder does the work
 ├── MailError                    a digest could not be handed over; recorded on its run, retried
 │    ├── MailServerUnreachable   DNS failure, refused or dropped connection, timeout, TLS failure
 │    └── MailRefused             the SMTP server answered 4xx (temporary) or 5xx (permanent)
 ├── FeedError                    one feed failed this cycle; stored on the feed, never fatal
 │    ├── FetchError              the transport or the server said no
 │    │    ├── HostUnreachable    DNS failure, connection refused or reset
 │    │    ├── TLSFailure         the TLS handshake or certificate check failed
 │    │    ├── FetchTimeout       connect or read took longer than allowed
 │    │    ├── TooManyRedirects   a redirect loop or chain longer than allowed
 │    │    ├── BodyTooLarge       the body passed the size cap before it ended
 │    │    └── HTTPStatusError    any status other than 2xx and 304
 │    │         ├── RateLimited   429, with the server's Retry-After if it gave one
 │    │         └── FeedGone      410: the feed is disabled until an operator re-enables it
 │    └── ParseError              the body is not a usable feed
 │         ├── EmptyBody          zero bytes, or only whitespace
 │         └── NotAFeed           HTML or other content where a feed was expected
 └── DeliveryError                one attempt to deliver an alert failed; stored on its outbox row
      ├── DeliveryRejected        Slack said no for a reason retrying cannot fix: the row fails
      └── DeliveryDeferred        try again later (connection refused, DNS)
           ├── SlackRateLimited   429: wait for Retry-After, and hold the channel until then
           └── OutcomeUnknown     timeout, dropped connection or 5xx after the request went out:
                                  Slack may have posted it, so look before posting again
"""

from __future__ import annotations

from dataclasses import dataclass

from service.redaction import scrub


class ReewatchError(Exception):
    """Base class for errors raised on purpose by reewatch."""


class LeaseLost(ReewatchError):
    """The lease on a piece of work is no longer ours: another instance took it over."""

    def __init__(self, what: str):
        super().__init__(f"{what}: its lease was taken over by another instance; leaving the work to it")
        self.what = what


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file, located so an editor can jump to it."""

    file: str
    line: int | None
    column: int | None
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        rule = f" [rule {self.rule_id}]" if self.rule_id else ""
        return f"{where}:{rule} {self.message}"


class ConfigError(ReewatchError):
    """A configuration file or setting is invalid; `problems` lists every issue found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ReplayFileError(ReewatchError):
    """The price replay file is unusable as a whole: missing, unreadable, or a bad header."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class FeedError(ReewatchError):
    """A feed failed this cycle. `reason` is what operators read in `reewatch feeds status`;
    like every stored reason it is scrubbed of secrets and shortened."""

    #: Whether the next attempt should wait for the back-off (False disables the feed).
    retryable: bool = True

    def __init__(self, reason: str):
        reason = scrub(reason)
        self.reason = reason
        super().__init__(reason)


class FetchError(FeedError):
    """The request failed before a usable body arrived."""


class HostUnreachable(FetchError):
    """DNS failed, or the host refused or reset the connection."""


class TLSFailure(FetchError):
    """The TLS handshake or the certificate check failed."""


class FetchTimeout(FetchError):
    """Connecting or reading took longer than the configured timeout."""


class TooManyRedirects(FetchError):
    """The server redirected in a loop or more times than allowed."""


class BodyTooLarge(FetchError):
    """The body grew past the configured size cap."""


class HTTPStatusError(FetchError):
    """The server answered with a status that carries no feed."""

    def __init__(self, status: int, reason: str):
        self.status = status
        super().__init__(reason)


class RateLimited(HTTPStatusError):
    """429 Too Many Requests; `retry_after` is in seconds when the server said."""

    def __init__(self, reason: str, retry_after: float | None):
        self.retry_after = retry_after
        super().__init__(429, reason)


class FeedGone(HTTPStatusError):
    """410 Gone: polling again is pointless until someone changes the URL."""

    retryable = False

    def __init__(self, reason: str):
        super().__init__(410, reason)


class ParseError(FeedError):
    """The body arrived but is not a feed we can read."""


class EmptyBody(ParseError):
    """The server sent nothing, or only whitespace."""


class NotAFeed(ParseError):
    """The body is HTML or something else that holds no feed entries."""


class MailError(ReewatchError):
    """A digest could not be handed to the mail server. `reason` is stored on the digest run."""

    #: A temporary failure is retried until the digest's day ends; a permanent one a few times.
    temporary: bool = True

    def __init__(self, reason: str):
        reason = scrub(reason)
        self.reason = reason
        super().__init__(reason)


class MailServerUnreachable(MailError):
    """No SMTP conversation happened: DNS, refused or dropped connection, timeout, TLS."""


class MailRefused(MailError):
    """The SMTP server answered with an error code; 4xx is temporary, 5xx permanent."""

    def __init__(self, code: int, reason: str):
        self.code = code
        self.temporary = 400 <= code < 500
        super().__init__(reason)


class DeliveryError(ReewatchError):
    """An attempt to deliver an alert failed. `reason` is what `reewatch alerts status` shows."""

    retryable: bool = False
    #: Whether Slack may have posted the message despite the error.
    maybe_delivered: bool = False

    def __init__(self, reason: str):
        reason = scrub(reason)
        self.reason = reason
        super().__init__(reason)


class DeliveryRejected(DeliveryError):
    """Slack refused the message (invalid_auth, channel_not_found, msg_too_long...): the row fails."""


class DeliveryDeferred(DeliveryError):
    """The message did not get through this time; the row is retried with back-off."""

    retryable = True


class SlackRateLimited(DeliveryDeferred):
    """429 Too Many Requests; `retry_after` is how long Slack asked us to wait, in seconds."""

    def __init__(self, reason: str, retry_after: float):
        self.retry_after = retry_after
        super().__init__(reason)


class OutcomeUnknown(DeliveryDeferred):
    """The request went out but no usable answer came back: the message may be in the channel."""

    maybe_delivered = True
