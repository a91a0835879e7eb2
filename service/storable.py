"""Text every database we support accepts: no NUL, no lone surrogates, bounded length.

PostgreSQL refuses NUL in `text` and `varchar` (and `\\u0000` in JSONB); its driver cannot encode
a lone UTF-16 surrogate, which a feed can smuggle in as a character reference. SQLite takes both,
so a test on SQLite alone never sees the failure: one such field in one item used to fail the
whole feed's transaction on every poll. Whatever comes from outside is passed through
`storable` before it reaches a statement.
"""

from __future__ import annotations

import re

_NUL_AND_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable(text: str | None, limit: int | None = None, *, ellipsis: str = "") -> str:
    """`text` without NUL and other C0 controls (tabs and newlines kept), surrogate pairs joined
    and lone surrogates replaced by U+FFFD, cut to `limit` characters (ending in `ellipsis`)."""
    if not text:
        return ""
    text = _NUL_AND_CONTROLS.sub("", text)
    if _SURROGATE.search(text):
        # Two surrogates in a row may be one character sent as a pair of references: join them.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - len(ellipsis))] + ellipsis
    return text
