"""Turn feed text into clean plain text and links into dedup keys.

Feed text is hostile and messy: HTML, entities, double-encoding, mojibake. Everything the rest
of the pipeline sees has been through `clean_html` or `clean_text` here; every output channel
still escapes it again for its own syntax.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object"})
_LOOKS_LIKE_MARKUP = re.compile(r"</?(?:p|br|a|b|i|em|strong|div|span|img|ul|li)\b[^<>]*>", re.I)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Unicode's format characters (category Cf), invisible by design: right-to-left overrides and
# isolates (a headline made to read backwards), marks, joiners, word joiners, the BOM, tags,
# interlinear annotation. None belongs in a headline, and any may hide inside a word to dodge
# a phrase. The zero-width space (U+200B) is kept out: _SPACES turns it into a space.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200c-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_LINE_SEPARATORS = re.compile("[\u2028\u2029\x85]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, entities decoded, one line per block."""
    if "<" not in markup and "&" not in markup:
        return _tidy(markup)
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = "".join(extractor.parts)
    # Some feeds encode their HTML twice; one more pass turns "&lt;p&gt;" markup into text.
    if _LOOKS_LIKE_MARKUP.search(text):
        extractor = _TextExtractor()
        extractor.feed(text)
        extractor.close()
        text = "".join(extractor.parts)
    return _tidy(text)


def _tidy(text: str) -> str:
    text = _FORMAT.sub("", _CONTROL.sub("", text))
    text = _LINE_SEPARATORS.sub("\n", text.replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# Seed 000 shows a lossy mojibake ftfy cannot undo: UTF-8 decoded as Thai (cp874) with the
# continuation bytes dropped. ' " " and the dash (E2 80 9x) each became a lone "โ" (U+0E42), a
# no-break space (C2 A0) a lone "ย" (U+0E22); pairs that kept both bytes ("ยฉ", C2 A9) decode back.
_THAI = re.compile(r"[\u0e01-\u0e7f]+")
_THAI_WORD = re.compile(r"[\u0e01-\u0e7f]{3,}")
_THAI_REPAIRS = (
    (re.compile(r"\u0e22"), " "),  # the lead byte of a no-break space
    (re.compile(r"(?<=\w)\u0e42(?=\w)"), "\u2019"),  # inside a word: Trumpโs -> Trump's
    (re.compile(r"(?:(?<=\s)|^)\u0e42(?=\s|$)"), "\u2014"),  # between spaces: a dash
    (re.compile(r"(?<![\w\u0e42])\u0e42(?=\w)"), "\u201c"),  # before a word: opening quote
    (re.compile(r"(?<=[\w.,!?;:)])\u0e42"), "\u201d"),  # after a word: closing quote
)
_MOJIBAKE_ALPHABETS = re.compile(r"[\u0080-\u024f\u0400-\u04ff\u2500-\u257f]")


def repair_mojibake(text: str) -> str:
    """Undo reversible mojibake (ftfy) and the lossy cp874 kind seen in real feeds."""
    if text.isascii():
        return text
    # Most non-ASCII text is fine (curly quotes, dashes). Mojibake shows up as characters from
    # the alphabets a wrong decoding produces; only then pay for ftfy's test and fix.
    if _MOJIBAKE_ALPHABETS.search(text) and _looks_mis_decoded(text):
        text = _fix_mis_decoded(text)
    else:
        text = unicodedata.normalize("NFC", text)
    if _THAI.search(text) and not _THAI_WORD.search(text) and _mostly_latin(text):
        text = _THAI.sub(_redecode, text)
        for pattern, replacement in _THAI_REPAIRS:
            text = pattern.sub(replacement, text)
        text = _tidy(text)
    return text


# ftfy loads with the first text that may be mis-decoded: most feeds never need it, and a
# process that never parses a feed (the service's, when workers parse) never loads it.
def _looks_mis_decoded(text: str) -> bool:
    from ftfy.badness import is_bad

    return is_bad(text)


@cache
def _ftfy_config():
    import ftfy

    return ftfy.TextFixerConfig(uncurl_quotes=False, unescape_html=False, explain=False)


def _fix_mis_decoded(text: str) -> str:
    import ftfy

    return ftfy.fix_text(text, _ftfy_config())


def _redecode(match: re.Match) -> str:
    run = match.group(0)
    try:
        return run.encode("cp874").decode("utf-8")
    except UnicodeError:
        return run


def _mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c < "\u0250")
    return bool(letters) and latin / len(letters) > 0.8


def clean_html(markup: str | None) -> str:
    """HTML fragment from a feed -> repaired plain text."""
    return repair_mojibake(html_to_text(markup or ""))


def clean_text(text: str | None) -> str:
    """Plain text from a feed -> repaired, whitespace-normalised text."""
    return repair_mojibake(_tidy(text or ""))


# Query parameters that only track the click; dropping them makes one story one key.
_TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid mc_cid mc_eid _hsenc _hsmi igshid yclid ocid cmpid "
    "mkt_tok spm ito __twitter_impression".split()
)


def canonical_link(url: str | None) -> str | None:
    """A dedup key for an article URL, or None when the URL is not http(s) or is a site's front
    page (a feed whose items all link to its home page names no article with them).

    Drops utm_* and other click-tracking parameters and the fragment, lower-cases scheme and
    host, removes default ports, treats http and https as one, and sorts the query.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if port and not (port == 80 and scheme == "http") and not (port == 443 and scheme == "https"):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_PARAMS
    ]
    query.sort()
    if parts.path in ("", "/") and not query:
        return None
    return urlunsplit(("https", host, parts.path or "/", urlencode(query, doseq=True), ""))


def safe_link(url: str | None) -> str | None:
    """The URL (less control and invisible format characters) when it is http(s); None for
    javascript:, data: and other schemes."""
    if not url:
        return None
    url = _FORMAT.sub("", _CONTROL.sub("", url)).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None
