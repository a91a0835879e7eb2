"""Bytes of a feed -> normalised entries. Pure: no network, no database, safe in a worker process."""

from __future__ import annotations

import calendar
import hashlib
import io
import pyexpat
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.entities import name2codepoint

from service.domain.entries import Entry
from service.errors import EmptyBody, NotAFeed
from service.storable import storable
from service.sources.text import canonical_link, clean_html, clean_text, safe_link

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 20_000
MAX_GUID_CHARS = 512
MAX_LINK_CHARS = 2_000
#: The column's size: a longer canonical form (a query that percent-encodes long) is no dedup key.
MAX_CANONICAL_CHARS = 2_048
#: Dates further ahead than this are typos or broken clocks, not scheduled news.
FUTURE_TOLERANCE = timedelta(days=2)
NOTE_NO_KEY = "no guid or link: keyed by content"
NOTE_DATE = "date "

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.I)
_BLANK = re.compile(rb"[^\n]")
_CHARACTER_REFERENCE = re.compile(rb"&#([xX][0-9a-fA-F]+|[0-9]+);")
_NAMED_REFERENCE = re.compile(rb"&([A-Za-z_][A-Za-z0-9._-]{0,63});")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_UNUSUAL_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)[A-Za-z_][A-Za-z0-9._-]{0,63};")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)


@dataclass
class ParsedFeed:
    """What one feed body held: its entries, and anything odd worth telling the operator."""

    title: str | None
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)


def parse_feed(body: bytes, *, url: str, content_type: str | None, now: datetime | None = None) -> ParsedFeed:
    """Parse and normalise one feed body. Raises EmptyBody or NotAFeed; anything else is a warning."""
    # feedparser loads with the first parse: in the parser workers (preloaded, see
    # pipeline/parsing.py), never in a service process whose workers do the parsing.
    import feedparser

    now = now or datetime.now(UTC)
    if not body.strip():
        raise EmptyBody("the server sent an empty body")
    data, parse_as, encoding_complaint = _to_utf8(body, content_type, url)
    data, neutralised = neutralise_entity_declarations(data)
    data = replace_invalid_character_references(data)
    data = resolve_named_references(data)
    # Never hand feedparser raw bytes or a str: it may treat them as a URL or a file path.
    # Its HTML sanitizer and URI rewriting inside markup cost ~40% of parse time and are work
    # we would throw away: every field is reduced to plain text below (scripts dropped), and
    # each output channel escapes that text for itself.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": url, "content-type": parse_as},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    warnings: list[str] = []
    if neutralised:
        warnings.append("the DOCTYPE declared its own entities; they were ignored")
    if not parsed.entries and not parsed.version:
        if _looks_like_html(body, content_type):
            raise NotAFeed(f"the server sent an HTML page, not a feed (content-type {content_type or 'unknown'})")
        detail = _describe_bozo(parsed.get("bozo_exception"))
        raise NotAFeed(f"no RSS or Atom feed in the body{': ' + detail if detail else ''}")
    if parsed.bozo or encoding_complaint:
        detail = _describe_bozo(parsed.get("bozo_exception")) if parsed.bozo else encoding_complaint
        warnings.append(f"feed is not well-formed ({detail}); {len(parsed.entries)} entries read anyway")

    normalised: list[Entry] = []
    empty = repeated = shared = no_key = bad_dates = 0
    for raw in parsed.entries:
        entry = normalise_entry(raw, now=now)
        if entry is None:
            empty += 1
        else:
            normalised.append(entry)
    # A guid names one item. The same item twice is kept once; different items under one guid
    # (a feed that gives every item its channel's URL as its guid) are each kept, keyed by their
    # guid and their content, where keying them by the guid alone would keep only the first.
    contents: dict[str, set[str]] = {}
    for entry in normalised:
        contents.setdefault(entry.guid, set()).add(entry.content_hash)
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for entry in normalised:
        if (entry.guid, entry.content_hash) in seen:
            repeated += 1
            continue
        seen.add((entry.guid, entry.content_hash))
        if len(contents[entry.guid]) > 1:
            shared += 1
            entry = replace(entry, guid=_content_key(entry.guid, entry.content_hash))
        no_key += NOTE_NO_KEY in entry.notes
        bad_dates += any(note.startswith(NOTE_DATE) for note in entry.notes)
        entries.append(entry)
    if repeated:
        warnings.append(f"{repeated} entries repeated an earlier entry of the feed (guid and content); the first was kept")
    if shared:
        warnings.append(f"{shared} different entries shared a guid; each is keyed by its guid and its content")
    if no_key:
        warnings.append(f"{no_key} entries had neither guid nor link; they are keyed by their content")
    if bad_dates:
        warnings.append(f"{bad_dates} entries had a date that could not be read; stored without one")
    if empty:
        warnings.append(f"{empty} entries had no title, text or link and were skipped")
    title = storable(clean_text(parsed.feed.get("title")), MAX_TITLE_CHARS) or None
    return ParsedFeed(title=title, entries=entries, warnings=warnings)


def _content_key(guid: str, content_hash: str) -> str:
    """The key of one of several different entries under one guid: stable from poll to poll
    while the entry's title, text and link stay the same."""
    key = f"{guid}#{content_hash[:16]}"
    return key if len(key) <= MAX_GUID_CHARS else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def normalise_entry(raw: dict, *, now: datetime) -> Entry | None:
    """One feedparser entry -> Entry, or None when it carries nothing to show."""
    # Every field is made storable here, before any of it reaches a query (the dedup lookup
    # included): one NUL in one guid used to fail the feed's transaction on every poll.
    notes: list[str] = []
    title = storable(_text_of(raw, "title"), MAX_TITLE_CHARS)
    summary = storable(_summary_of(raw), MAX_SUMMARY_CHARS)
    raw_link = storable(raw.get("link") or "")
    link = safe_link(raw_link) if len(raw_link) <= MAX_LINK_CHARS else None
    canonical = canonical_link(link)
    if canonical is not None and len(canonical) > MAX_CANONICAL_CHARS:
        canonical = None
    if not (title or summary or link):
        return None
    published, date_note = _published_of(raw, now)
    if date_note:
        notes.append(date_note)
    content_hash = hashlib.sha256(f"{title}\n{summary}\n{canonical or ''}".encode()).hexdigest()
    guid = storable(raw.get("id") or "").strip()
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


def neutralise_entity_declarations(data: bytes) -> tuple[bytes, bool]:
    """Make every entity declaration in a UTF-8 feed body inert, wherever it sits.

    feedparser expands the entities a DOCTYPE declares (its lenient parser even when expat
    refuses them), so a 90 KB feed can take gigabytes to parse. Real feeds never declare
    entities. Expat, a real XML tokenizer, finds the DOCTYPE wherever it is (after kilobytes of
    comments, with `]>` inside an entity value) and its internal subset is blanked in place;
    then any `<!ENTITY` left anywhere (in a prolog expat could not read, in a comment that
    feedparser's own DOCTYPE handling would revive) is broken so that no parser reads it as a
    declaration. Returns the body and whether anything was changed.
    """
    if not _ENTITY_DECLARATION.search(data):
        return data, False
    subset = _internal_subset(data)
    if subset is not None:
        start, end = subset
        # Spaces keep every offset, and the newlines every line number, of the parser's messages.
        data = data[:start] + _BLANK.sub(b" ", data[start:end]) + data[end:]
    return _ENTITY_DECLARATION.sub(b"<!-ENTITY", data), True


def replace_invalid_character_references(data: bytes) -> bytes:
    """`&#...;` that names no XML character (a surrogate, NUL, past U+10FFFF) becomes U+FFFD.

    feedparser's lenient parser turns a reference into a character and encodes it: a lone
    surrogate, a number past U+10FFFF or one too big for C crashes it, and a feed carrying one
    would fail on every poll.
    """
    if b"&#" not in data:
        return data
    return _sub_in_chunks(_CHARACTER_REFERENCE, _valid_reference, data)


def resolve_named_references(data: bytes) -> bytes:
    """`&name;` for anything but XML's five entities: HTML's named characters become numeric
    references (`&nbsp;` -> `&#160;`), any other name is dropped.

    With every declaration neutralised, such a reference names nothing XML knows: expat stops
    at the first one and feedparser's lenient parser takes over, slowly. Millions of them (a
    bomb's references, its declaration gone) kept a worker busy for seconds and over 200 MB.
    Resolved here, the strict parser reads the feed, sloppy `&nbsp;` feeds included.
    """
    if not _UNUSUAL_REFERENCE.search(data):
        return data
    return _sub_in_chunks(_NAMED_REFERENCE, _resolved_reference, data)


def _sub_in_chunks(pattern: re.Pattern, replace, data: bytes, size: int = 256 * 1024) -> bytes:
    """`pattern.sub(replace, data)` a slice at a time, each cut just after a `;` (where no
    reference can straddle it): re.sub holds every piece of its result at once, and a body
    of a million references made that a hundred megabytes."""
    parts: list[bytes] = []
    start = 0
    while start < len(data):
        end = data.rfind(b";", start, start + size) + 1 if start + size < len(data) else len(data)
        if end <= start:
            end = min(len(data), start + size)
        parts.append(pattern.sub(replace, data[start:end]))
        start = end
    return b"".join(parts)


def _resolved_reference(match: re.Match) -> bytes:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    code = name2codepoint.get(name.decode("ascii"))
    return b"&#%d;" % code if code is not None else b""


def _valid_reference(match: re.Match) -> bytes:
    digits = match.group(1)
    if len(digits) > 8:
        return b"&#xFFFD;"
    code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return match.group(0)
    return b"&#xFFFD;"


class _PrologEnd(Exception):
    """Raised from expat's handlers: the root element starts, the prolog has been read."""


def _internal_subset(data: bytes) -> tuple[int, int] | None:
    """Byte offsets of what lies between a DOCTYPE's `[` and `]`, as expat reads the prolog;
    None when there is no internal subset or expat cannot read the prolog."""
    parser = pyexpat.ParserCreate()
    found: dict[str, int] = {}

    def doctype_start(_name, _system_id, _public_id, has_internal_subset) -> None:
        if has_internal_subset:
            found["open"] = parser.CurrentByteIndex  # at the `[`

    def doctype_end() -> None:
        found["close"] = parser.CurrentByteIndex  # at the final `>`
        raise _PrologEnd

    def root_start(_name, _attributes) -> None:
        raise _PrologEnd

    parser.StartDoctypeDeclHandler = doctype_start
    parser.EndDoctypeDeclHandler = doctype_end
    parser.StartElementHandler = root_start
    # Declarations are read, never used: nothing is expanded while the prolog is scanned.
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except _PrologEnd:
        pass
    except pyexpat.ExpatError:
        return None
    if "open" not in found or "close" not in found:
        return None
    opening, closing = found["open"], data.rfind(b"]", found["open"], found["close"])
    if data[opening : opening + 1] != b"[" or closing < 0:
        return None
    return opening + 1, closing


def _to_utf8(body: bytes, content_type: str | None, url: str) -> tuple[bytes, str, str | None]:
    """The body as feedparser itself decodes it, re-encoded as UTF-8 (the XML declaration too),
    so the entity check reads exactly what the parser will; plus the content type to parse it
    with, and feedparser's complaint about the encoding, if any."""
    from feedparser.encodings import convert_to_utf8

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result: dict = {}
    data = convert_to_utf8(headers, body, result)
    complaint = _describe_bozo(result.get("bozo_exception")) if result.get("bozo") else None
    mime = (content_type or "application/xml").split(";", 1)[0].strip() or "application/xml"
    return data, f"{mime}; charset=utf-8", complaint


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
