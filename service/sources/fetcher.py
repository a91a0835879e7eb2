"""HTTP for feeds: conditional GET, a size cap, and every failure turned into one typed FeedError."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from service.config import Settings
from service.errors import (
    BodyTooLarge,
    FeedGone,
    FetchError,
    FetchTimeout,
    HostUnreachable,
    HTTPStatusError,
    RateLimited,
    TLSFailure,
    TooManyRedirects,
)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
MAX_RETRY_AFTER_SECONDS = 86_400


@dataclass(frozen=True)
class FetchResult:
    """A completed fetch: 200 with a body, or 304 with none."""

    status: int
    url: str
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one client every feed fetch shares (connection pooling, limits, identity)."""
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent, "Accept": ACCEPT},
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.connect_timeout,
            pool=settings.connect_timeout + settings.read_timeout,
        ),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        limits=httpx.Limits(
            max_connections=settings.fetch_concurrency,
            max_keepalive_connections=settings.fetch_concurrency,
        ),
    )


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    deadline: float,
) -> FetchResult:
    """GET a feed with the stored validators, all of it (connect, headers, body) within
    `deadline` seconds. Raises a FetchError subclass on any failure.

    httpx's timeouts are per operation: a server that sends a byte a second never trips the
    read timeout. Past the deadline the request is cancelled and its connection closed.
    """
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(client, url, etag=etag, last_modified=last_modified, max_bytes=max_bytes)
    except TimeoutError:
        raise FetchTimeout(
            f"the fetch took longer than the {deadline:g}s deadline (connect, headers and body); stopped"
        ) from None


async def _fetch(
    client: httpx.AsyncClient, url: str, *, etag: str | None, last_modified: str | None, max_bytes: int
) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.perf_counter()
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(
                    304,
                    str(response.url),
                    None,
                    response.headers.get("etag") or etag,
                    response.headers.get("last-modified") or last_modified,
                    None,
                    time.perf_counter() - started,
                )
            _raise_for_status(response)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise BodyTooLarge(f"body of {int(declared):,} bytes is over the {max_bytes:,}-byte cap")
            chunks: list[bytes] = []
            size = 0
            # aiter_bytes decompresses, so the cap also stops gzip bombs.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BodyTooLarge(f"body passed the {max_bytes:,}-byte cap; stopped reading")
                chunks.append(chunk)
            return FetchResult(
                response.status_code,
                str(response.url),
                b"".join(chunks),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
                response.headers.get("content-type"),
                time.perf_counter() - started,
            )
    except FetchError:
        raise
    except httpx.TooManyRedirects as exc:
        raise TooManyRedirects(f"too many redirects ({exc})") from None
    except httpx.TimeoutException as exc:
        raise FetchTimeout(_timeout_reason(exc)) from None
    except httpx.ConnectError as exc:
        raise _connect_failure(exc, url) from None
    except httpx.RemoteProtocolError as exc:
        raise HostUnreachable(f"the server broke the connection: {exc}") from None
    except httpx.ReadError as exc:
        raise HostUnreachable(f"the connection failed while reading: {exc or type(exc).__name__}") from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"unsupported URL or redirect target: {exc}") from None
    except httpx.DecodingError as exc:
        raise FetchError(f"the body could not be decompressed: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    phrase = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        hint = f"; retry after {retry_after:.0f}s" if retry_after is not None else ""
        raise RateLimited(f"{phrase}{hint}", retry_after)
    if status == 410:
        raise FeedGone(f"{phrase}: the feed was removed; fix its URL in feeds.yaml")
    raise HTTPStatusError(status, phrase)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now (delta-seconds or HTTP-date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def _timeout_reason(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting to the server"
    if isinstance(exc, httpx.ReadTimeout):
        return "timed out waiting for the server to send data"
    if isinstance(exc, httpx.PoolTimeout):
        return "timed out waiting for a free connection"
    return f"timed out ({type(exc).__name__})"


def _connect_failure(exc: httpx.ConnectError, url: str) -> FetchError:
    host = httpx.URL(url).host
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TLSFailure(f"TLS certificate rejected for {host}: {cause.verify_message or cause}")
        if isinstance(cause, ssl.SSLError):
            return TLSFailure(f"TLS handshake with {host} failed: {cause.reason or cause}")
        if isinstance(cause, socket.gaierror):
            return HostUnreachable(f"DNS lookup failed for {host}: {cause.strerror or cause}")
        if isinstance(cause, ConnectionRefusedError):
            return HostUnreachable(f"connection refused by {host}")
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return HostUnreachable(f"no route to {host}")
    text = str(exc)
    if "SSL" in text or "TLS" in text or "certificate" in text:
        return TLSFailure(f"TLS with {host} failed: {text}")
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return HostUnreachable(f"DNS lookup failed for {host}: {text}")
    if "refused" in text.lower():
        return HostUnreachable(f"connection refused by {host}")
    return HostUnreachable(f"cannot connect to {host}: {text or type(exc).__name__}")


def _causes(exc: BaseException):
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
