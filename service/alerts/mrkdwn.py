"""Feed text made safe for Slack's mrkdwn: escaping, links that cannot break out, truncation.

Slack's rule: in text from outside, replace exactly `&`, `<` and `>` with `&amp;`, `&lt;` and
`&gt;`. That makes `<!channel>`, `<@U1>` and `<url|label>` inert. Nothing else is encoded, since
Slack decodes only those three (`&#39;` would show literally).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ELLIPSIS = "…"

#: Longer links are shown without a link: cutting a URL would send readers somewhere else.
MAX_URL_LENGTH = 2000

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL = re.compile(r"[&<>]")
# Control characters (C0, DEL, C1) and line/paragraph separators: nothing a headline needs,
# and a terminal would obey an escape sequence.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WHITESPACE_RUN = re.compile(r"\s+")
# Characters that end or split `<url|label>`, or that a URL never holds unencoded.
_URL_BREAKERS = {"|": "%7C", "<": "%3C", ">": "%3E", '"': "%22", "`": "%60"}


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` and nothing else."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], text)


def one_line(text: str) -> str:
    """Control characters dropped and whitespace runs collapsed, so a field stays one line."""
    return _WHITESPACE_RUN.sub(" ", _CONTROL.sub(" ", text)).strip()


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    if limit < 1:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def escape_within(text: str, limit: int) -> str:
    """`text` escaped and cut so the escaped form fits `limit`, never splitting an `&amp;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if limit < 1:
        return ""
    budget = limit - 1  # room for the ellipsis
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces).rstrip() + ELLIPSIS


def link_target(url: str | None) -> str | None:
    """A feed's URL made safe to sit inside `<url|label>`, or None if it is not a usable http(s) link.

    `|` and `>` would end the URL early and let the rest pose as a label (`<http://evil|bank.com>`),
    so they are percent-encoded; `&` is escaped as everywhere else.
    """
    if not url:
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or _CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    for char, encoded in _URL_BREAKERS.items():
        url = url.replace(char, encoded)
    return url.replace("&", "&amp;")


def link(url: str | None, label: str, *, limit: int) -> str:
    """`<url|label>` with the label escaped, or just the escaped label when the URL is unusable.

    The result fits `limit` characters; the label is cut first, and the link dropped if even a
    one-character label would not fit.
    """
    target = link_target(url)
    if target is None:
        return escape_within(label, limit)
    room = limit - len(target) - 3  # "<", "|", ">"
    if room < 1:
        return escape_within(label, limit)
    return f"<{target}|{escape_within(label, room)}>"
