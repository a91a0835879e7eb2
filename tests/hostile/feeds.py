"""Feed bodies an attacker would serve, written for the hostile tests and the benchmark."""

from __future__ import annotations

from tests.sample_feeds import item, rss


def entity_bomb(*, padding: int = 9_000, entity: int = 50_000, references: int = 10_000) -> bytes:
    """One entity of `entity` characters referenced `references` times, its DOCTYPE behind
    `padding` bytes of comment (past any check of the first 8 KB). The defaults make the 90 KB
    feed that took 1.5 GB and 45 s to parse; references=60_000 the 240 KB one (3.1 GB)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!-- {'p' * padding} -->\n"
        "<!DOCTYPE rss [\n"
        f'<!ENTITY b "{"B" * entity}">\n'
        "]>\n"
        '<rss version="2.0"><channel><title>Bomb</title><link>https://bomb.test/</link>'
        f"<item><guid isPermaLink='false'>bomb-1</guid><title>Bomb {'&b;' * references}</title><link>https://bomb.test/1</link></item>"
        "<item><guid isPermaLink='false'>bomb-2</guid><title>Good neighbour</title><link>https://bomb.test/2</link></item>"
        "</channel></rss>"
    ).encode()


def poisoned_feed() -> bytes:
    """NUL bytes and lone surrogates (as character references) in every field a database stores."""
    return rss(
        item(guid="nul-\x00-guid", title="Gallium\x00 curbs", link="https://poison.test/a\x00b", body="NUL\x00 body"),
        item(guid="surrogate-&#xD800;-guid", title="Lone &#xDC00; surrogate", link="https://poison.test/c"),
        item(guid="clean-1", title="A clean neighbour", link="https://poison.test/d"),
        title="Poisoned\x00 feed &#xD83D;",
    ).replace(b'encoding="utf-8"?>', b'encoding="utf-8"?>', 1)


def reversed_headline_feed() -> bytes:
    """A headline that a right-to-left override would show reversed, and other invisible characters."""
    return rss(
        item(
            guid="rlo-1",
            title="China \u202ebans gallium exports\u202c to the US\u2066 \u2069",
            link="https://bidi.test/1",
            body="Zero\u200dwidth join\u2060ers and a \ufeffBOM.",
        )
    )
