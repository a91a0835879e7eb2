"""Entries as the pipeline hands them on, from the parser to scoring and the store.

Plain dataclasses only: the parser builds these in worker processes, which import this module
and nothing of the configuration models (pydantic costs each process about 10 MB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    """One feed entry after normalisation: plain text, repaired, with a canonical link."""

    guid: str
    link: str | None
    canonical_link: str | None
    title: str
    summary: str
    published: datetime | None
    content_hash: str
    #: Why this entry was taken with reservations (e.g. "no guid or link: keyed by content").
    notes: tuple[str, ...] = field(default=())
