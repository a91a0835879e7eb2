"""Small feeds written for the tests."""

from __future__ import annotations


def rss(*items: str, title: str = "Loopback feed") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://example.test/</link>{''.join(items)}</channel></rss>"
    ).encode()


def item(
    guid: str | None = "g1",
    title: str | None = "A headline",
    link: str | None = "https://example.test/a",
    date: str | None = "Fri, 04 Apr 2025 09:00:00 GMT",
    body: str | None = "Some text.",
) -> str:
    parts = []
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    if body is not None:
        parts.append(f"<description>{body}</description>")
    return "<item>" + "".join(parts) + "</item>"


def good_feed(prefix: str = "good", count: int = 3) -> bytes:
    return rss(
        *(
            item(guid=f"{prefix}-{i}", title=f"{prefix} story {i}", link=f"https://example.test/{prefix}/{i}")
            for i in range(count)
        )
    )
