"""Bytes of a feed -> normalised entries. Pure: no network, no database, safe in a worker process."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import feedparser

from service.domain.feeds import Entry
from service.errors import EmptyBody, NotAFeed
from service.sources.text import canonical_link, clean_html, clean_text, safe_link

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 20_000
MAX_GUID_CHARS = 512
MAX_LINK_CHARS = 2_000
#: Dates further ahead than this are typos or broken clocks, not scheduled news.
FUTURE_TOLERANCE = timedelta(days=2)
NOTE_NO_KEY = "no guid or link: keyed by content"
NOTE_DATE = "date "

_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE([^\[>]*)\[.*?\]\s*>", re.S | re.I)
_DOCTYPE_SUBSET_BYTES = re.compile(rb"<!DOCTYPE([^\[>]*)\[.*?\]\s*>", re.S | re.I)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)


@dataclass
class ParsedFeed:
    """What one feed body held: its entries, and anything odd worth telling the operator."""

    title: str | None
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)


def parse_feed(body: bytes, *, url: str, content_type: str | None, now: datetime | None = None) -> ParsedFeed:
    """Parse and normalise one feed body. Raises EmptyBody or NotAFeed; anything else is a warning."""
    now = now or datetime.now(UTC)
    if not body.strip():
        raise EmptyBody("the server sent an empty body")
    body, stripped = strip_internal_subset(body)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # Never hand feedparser raw bytes or a str: it may treat them as a URL or a file path.
    # Its HTML sanitizer and URI rewriting inside markup cost ~40% of parse time and are work
    # we would throw away: every field is reduced to plain text below (scripts dropped), and
    # each output channel escapes that text for itself.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    warnings: list[str] = []
    if stripped:
        warnings.append("the DOCTYPE declared its own entities; they were ignored")
    if not parsed.entries and not parsed.version:
        if _looks_like_html(body, content_type):
            raise NotAFeed(f"the server sent an HTML page, not a feed (content-type {content_type or 'unknown'})")
        detail = _describe_bozo(parsed.get("bozo_exception"))
        raise NotAFeed(f"no RSS or Atom feed in the body{': ' + detail if detail else ''}")
    if parsed.bozo:
        detail = _describe_bozo(parsed.get("bozo_exception"))
        warnings.append(f"feed is not well-formed ({detail}); {len(parsed.entries)} entries read anyway")

    entries: list[Entry] = []
    seen_guids: set[str] = set()
    empty = repeated = no_key = bad_dates = 0
    for raw in parsed.entries:
        entry = normalise_entry(raw, now=now)
        if entry is None:
            empty += 1
            continue
        if entry.guid in seen_guids:
            repeated += 1
            continue
        seen_guids.add(entry.guid)
        no_key += NOTE_NO_KEY in entry.notes
        bad_dates += any(note.startswith(NOTE_DATE) for note in entry.notes)
        entries.append(entry)
    if repeated:
        warnings.append(f"{repeated} entries repeated a guid earlier in the feed; the first was kept")
    if no_key:
        warnings.append(f"{no_key} entries had neither guid nor link; they are keyed by their content")
    if bad_dates:
        warnings.append(f"{bad_dates} entries had a date that could not be read; stored without one")
    if empty:
        warnings.append(f"{empty} entries had no title, text or link and were skipped")
    title = clean_text(parsed.feed.get("title"))[:MAX_TITLE_CHARS] or None
    return ParsedFeed(title=title, entries=entries, warnings=warnings)


def normalise_entry(raw: dict, *, now: datetime) -> Entry | None:
    """One feedparser entry -> Entry, or None when it carries nothing to show."""
    notes: list[str] = []
    title = _text_of(raw, "title")[:MAX_TITLE_CHARS]
    summary = _summary_of(raw)[:MAX_SUMMARY_CHARS]
    raw_link = raw.get("link") or ""
    link = safe_link(raw_link) if len(raw_link) <= MAX_LINK_CHARS else None
    canonical = canonical_link(link)
    if not (title or summary or link):
        return None
    published, date_note = _published_of(raw, now)
    if date_note:
        notes.append(date_note)
    content_hash = hashlib.sha256(f"{title}\n{summary}\n{canonical or ''}".encode()).hexdigest()
    guid = (raw.get("id") or "").strip()
    if not guid:
        if link:
            guid = link
        else:
            guid = f"sha256:{content_hash}"
            notes.append(NOTE_NO_KEY)
    if len(guid) > MAX_GUID_CHARS:
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    return Entry(
        guid=guid,
        link=link,
        canonical_link=canonical,
        title=title or _first_words(summary),
        summary=summary,
        published=published,
        content_hash=content_hash,
        notes=tuple(notes),
    )


def _text_of(raw: dict, key: str) -> str:
    value = raw.get(key)
    if not value:
        return ""
    detail = raw.get(f"{key}_detail") or {}
    if detail.get("type") in ("text/html", "application/xhtml+xml"):
        return clean_html(value)
    return clean_text(value)


def _summary_of(raw: dict) -> str:
    # feedparser copies Atom <content> into `summary` without a type: read the content instead.
    if raw.get("summary_detail"):
        return _text_of(raw, "summary")
    for content in raw.get("content") or ():
        value = content.get("value")
        if value:
            if content.get("type") in ("text/html", "application/xhtml+xml"):
                return clean_html(value)
            return clean_text(value)
    return clean_html(raw.get("summary") or "")


def _published_of(raw: dict, now: datetime) -> tuple[datetime | None, str | None]:
    for key in ("published", "updated", "created"):
        text = raw.get(key)
        if not text:
            continue
        parsed = raw.get(f"{key}_parsed")
        if not parsed:
            return None, f"{NOTE_DATE}{str(text)[:40]!r} could not be read"
        # struct_time from feedparser is UTC: timegm, never mktime (which assumes local time).
        moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        if moment > now + FUTURE_TOLERANCE:
            return None, f"{NOTE_DATE}{str(text)[:40]!r} is in the future"
        return moment, None
    return None, None


def _first_words(text: str, limit: int = 120) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


def strip_internal_subset(body: bytes) -> tuple[bytes, bool]:
    """Remove a DOCTYPE's internal subset (entity definitions) before parsing.

    feedparser's lenient fallback expands internal entities even when expat refuses them, so a
    26 KB feed can become a 40-million-character title. Real feeds never need them.
    """
    codec = _wide_codec(body[:4])
    if codec is None:
        head = body[:8192]
        if b"<!DOCTYPE" not in head and b"<!doctype" not in head.lower():
            return body, False
        stripped, count = _DOCTYPE_SUBSET_BYTES.subn(rb"<!DOCTYPE\1>", body, count=1)
        return stripped, bool(count)
    text = body.decode(codec, errors="replace")
    if "<!doctype" not in text[:8192].lower():
        return body, False
    stripped, count = _DOCTYPE_SUBSET.subn(r"<!DOCTYPE\1>", text, count=1)
    return (stripped.encode(codec), True) if count else (body, False)


def _wide_codec(head: bytes) -> str | None:
    """The UTF-16/32 codec a body starts in (BOM or the '<' pattern), else None."""
    if head.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        return "utf-32"
    if head.startswith((b"\xfe\xff", b"\xff\xfe")):
        return "utf-16"
    if head == b"\x00\x00\x00<":
        return "utf-32-be"
    if head == b"<\x00\x00\x00":
        return "utf-32-le"
    if head.startswith(b"\x00<"):
        return "utf-16-be"
    if head.startswith(b"<\x00"):
        return "utf-16-le"
    return None


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"):
        return True
    return bool(_HTML_START.match(body[:2048]))


def _describe_bozo(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    name = type(exc).__name__
    message = str(exc).strip() or name
    if name == "CharacterEncodingOverride":
        return f"encoding: {message}"
    if name == "NonXMLContentType":
        return f"content type: {message}"
    if hasattr(exc, "getLineNumber"):
        try:
            return f"line {exc.getLineNumber()}: {exc.getMessage()}"
        except Exception:  # noqa: BLE001 - a SAX detail is a nicety, never a reason to fail
            pass
    return message[:300]
