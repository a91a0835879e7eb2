"""The port the dispatcher sends through: Slack in production, the console without a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from service.domain.alerts import Notice


@dataclass(frozen=True)
class Delivery:
    """One alert to post: where, under which thread, and the key that identifies it in Slack."""

    key: str
    #: A news alert, a price alert, or a follow-up with its moves measured.
    alert: Notice
    #: The channel as routed: a name ("#alerts") or an id ("C0123").
    channel: str
    #: The channel's id when known (a reply's parent, or an earlier post); needed to read history.
    channel_id: str | None
    #: The parent's ts when this is a reply in a thread.
    thread_ts: str | None
    #: When the alert was queued: a message for it cannot be older.
    queued_at: datetime
    #: Edit the message at `thread_ts` in place (a story's first alert, now with more sources)
    #: instead of posting a new one.
    edit: bool = False


@dataclass(frozen=True)
class Posted:
    """Where a message landed."""

    channel_id: str
    ts: str


class Notifier(Protocol):
    """Posts alerts. Errors are `service.errors.DeliveryError`s; nothing else escapes."""

    #: Shown in logs; "slack" or "console".
    name: str
    #: Whether the dispatcher must pace posts per channel.
    paced: bool

    async def post(self, delivery: Delivery) -> Posted:
        """Post the alert (or, with `delivery.edit`, rewrite the message at `thread_ts`); raises
        DeliveryError when it did not (or may not have) got through."""
        ...

    async def find_posted(self, delivery: Delivery) -> Posted | None:
        """The message an earlier attempt left in the channel, or None if there is none to find."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
