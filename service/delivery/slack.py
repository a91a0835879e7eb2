"""Posting to Slack with slack-sdk's AsyncWebClient, and finding what an earlier attempt posted.

The SDK's own retry handlers are switched off on purpose. Its connection-error handler posts
again when the server dropped the connection, which may be after Slack accepted the message: a
duplicate. Here every failure goes back to the dispatcher, which retries through the outbox and
searches the channel first whenever the last attempt's outcome is unknown.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from service.alerts.message import METADATA_EVENT_TYPE, render_notice
from service.delivery.notifier import Delivery, Posted
from service.domain.alerts import Alert
from service.delivery.retry import classify_answer
from service.errors import DeliveryDeferred, DeliveryRejected, OutcomeUnknown

log = logging.getLogger(__name__)

#: Slack's ts come from Slack's clock: search a little before we queued the alert.
HISTORY_MARGIN = timedelta(minutes=5)
HISTORY_PAGE_SIZE = 200
HISTORY_PAGES = 5
CHANNEL_LIST_PAGES = 20
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class SlackNotifier:
    """Posts Block Kit alerts with `chat.postMessage`; the message metadata carries the outbox key."""

    name = "slack"
    paced = True

    def __init__(self, *, token: str, base_url: str, timeout: float):
        self._token = token
        self._base_url = base_url
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        #: Channel names resolved to ids by earlier posts or by conversations.list.
        self._channel_ids: dict[str, str] = {}

    async def post(self, delivery: Delivery) -> Posted:
        """Post the alert (in its thread when it is a reply) and return where it landed; an edit
        rewrites the story's first alert with `chat.update` instead."""
        if delivery.edit:
            return await self._edit(delivery)
        reply = delivery.thread_ts is not None
        message = render_notice(delivery.alert, reply=reply)
        broadcast = reply and isinstance(delivery.alert, Alert) and delivery.alert.broadcast
        response = await self._call(
            "chat_postMessage",
            # A reply must go to the parent's channel id; a top-level post may use the name.
            channel=delivery.channel_id if delivery.thread_ts and delivery.channel_id else delivery.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=delivery.thread_ts,
            # An official confirmation of a press story: in its thread and in the channel.
            reply_broadcast=True if broadcast else None,
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"alert_key": delivery.key}},
            # The link is the feed's: Slack must not fetch it and show a preview we did not vet.
            unfurl_links=False,
            unfurl_media=False,
        )
        channel_id, ts = response.get("channel"), response.get("ts")
        if not channel_id or not ts:
            # Slack said ok, so the message is there; only its address is missing.
            raise OutcomeUnknown("Slack answered ok without channel and ts")
        self._channel_ids[_bare(delivery.channel)] = channel_id
        return Posted(channel_id=channel_id, ts=ts)

    async def _edit(self, delivery: Delivery) -> Posted:
        if not delivery.channel_id or not delivery.thread_ts:
            raise DeliveryRejected("no posted message to update")
        message = render_notice(delivery.alert)
        await self._call(
            "chat_update",
            channel=delivery.channel_id,
            ts=delivery.thread_ts,
            text=message.text,
            blocks=message.blocks,
        )
        return Posted(channel_id=delivery.channel_id, ts=delivery.thread_ts)

    async def find_posted(self, delivery: Delivery) -> Posted | None:
        """Search the channel (or the thread) for a message whose metadata holds this alert's key.

        Returns None when there is none, or when the channel cannot be read (a missing scope):
        the alert is then posted again, since a duplicate costs less than a lost alert.
        """
        channel_id = delivery.channel_id or await self._channel_id(delivery.channel)
        if channel_id is None:
            log.warning(
                "cannot find the id of channel %s to check whether alert %s was posted; posting it again",
                delivery.channel,
                delivery.key,
            )
            return None
        query: dict[str, Any] = {
            "channel": channel_id,
            "oldest": f"{(delivery.queued_at - HISTORY_MARGIN).timestamp():.6f}",
            "include_all_metadata": True,
            "limit": HISTORY_PAGE_SIZE,
        }
        method = "conversations_history"
        if delivery.thread_ts:
            method, query["ts"] = "conversations_replies", delivery.thread_ts
        cursor = None
        try:
            for _ in range(HISTORY_PAGES):
                response = await self._call(method, cursor=cursor, **query)
                for message in response.get("messages") or []:
                    if _carries_key(message, delivery.key):
                        return Posted(channel_id=channel_id, ts=message["ts"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except DeliveryRejected as exc:
            log.warning(
                "cannot read %s to check whether alert %s was posted (%s); posting it again",
                delivery.channel,
                delivery.key,
                exc.reason,
            )
            return None
        log.warning("alert %s not among the %d latest messages of %s; posting it again", delivery.key, HISTORY_PAGES * HISTORY_PAGE_SIZE, delivery.channel)
        return None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._client = None

    async def _channel_id(self, channel: str) -> str | None:
        """The id of a routed channel: itself if it is one, else learned, else from conversations.list."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = _bare(channel)
        if name in self._channel_ids:
            return self._channel_ids[name]
        cursor = None
        try:
            for _ in range(CHANNEL_LIST_PAGES):
                response = await self._call(
                    "conversations_list",
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=HISTORY_PAGE_SIZE,
                    cursor=cursor,
                )
                for found in response.get("channels") or []:
                    self._channel_ids[found["name"]] = found["id"]
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        except DeliveryRejected as exc:
            log.warning("cannot list channels to resolve %s: %s", channel, exc.reason)
        return self._channel_ids.get(name)

    def _web(self) -> AsyncWebClient:
        if self._client is None:
            # One session for every call: a new TLS connection per message would cost more than the post.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                session=self._session,
                retry_handlers=[],
            )
        return self._client

    async def _call(self, method: str, **arguments: Any) -> Any:
        """Call a Web API method; every failure comes out as a DeliveryError saying whether to retry."""
        arguments = {k: v for k, v in arguments.items() if v is not None}
        try:
            return await getattr(self._web(), method)(**arguments)
        except SlackApiError as exc:
            response = exc.response
            data = response.data if isinstance(response.data, dict) else {}
            raise classify_answer(response.status_code, data.get("error"), response.headers.get("Retry-After")) from None
        except aiohttp.ConnectionTimeoutError:
            raise DeliveryDeferred(f"could not connect to Slack within {self._timeout:g}s") from None
        except TimeoutError:
            raise OutcomeUnknown(f"no answer from Slack within {self._timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            # Refused, unreachable or a failed TLS handshake: nothing was sent.
            raise DeliveryDeferred(f"cannot connect to Slack: {exc.os_error.strerror or type(exc.os_error).__name__}") from None
        except aiohttp.ClientError as exc:
            raise OutcomeUnknown(f"connection to Slack failed: {type(exc).__name__}") from None


def _carries_key(message: dict, key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == METADATA_EVENT_TYPE and payload.get("alert_key") == key


def _bare(channel: str) -> str:
    return channel.lstrip("#")
