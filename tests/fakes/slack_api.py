"""A local Slack Web API for tests and benchmarks: loopback HTTP, Slack's answers, Slack's faults.

`with SlackAPI() as slack:` serves `auth.test`, `chat.postMessage`, `chat.update`,
`conversations.history`, `conversations.replies` and `conversations.list` on 127.0.0.1 until the
block ends. It checks the bearer token, resolves channels by id or name, records every message
(text, blocks, metadata, thread_ts, reply_broadcast) and gives it a ts, keeps every edit of a
message, and rejects what Slack rejects: Block Kit over its limits (`invalid_blocks`,
`msg_blocks_too_long`), text over 40,000 characters (`msg_too_long`), an edit of a message that
is not there (`message_not_found`) or whose channel is given by name (`channel_not_found`:
chat.update takes ids only).

Faults are queued per method and used once each, in order: `slack.fault("chat.postMessage",
Fault.stall(3))`. With `rate=` it also enforces a per-channel limit and answers 429 with
Retry-After, like Slack's "about one message per second per channel".

Its checks are written from Slack's documentation, independently of the code under test.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TEST_TOKEN = "xoxb-1111-2222-reewatchTESTtoken"

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 40_000
#: Undocumented: Slack refuses long block messages at about this many characters in all.
MAX_BLOCKS_TEXT = 12_000
_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Fault:
    """One misbehaviour for the next call of a method."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    #: Process the call (record the message), then wait this long before answering.
    stall: float = 0.0
    #: Close the connection without an answer.
    drop: bool = False
    #: With `drop`: process the call first, so the message is in the channel.
    after_accepting: bool = False

    @classmethod
    def ok(cls) -> Fault:
        """No fault: answer this call normally (to fault a later one)."""
        return cls()

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls(status=429, error="ratelimited", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status=status)

    @classmethod
    def slack_error(cls, error: str) -> Fault:
        return cls(error=error)

    @classmethod
    def timeout(cls, seconds: float) -> Fault:
        """Accept and record the message, then answer only after `seconds` (past the client's timeout)."""
        return cls(stall=seconds)

    @classmethod
    def dropped(cls, *, after_accepting: bool = False) -> Fault:
        return cls(drop=True, after_accepting=after_accepting)


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    member: bool = True


@dataclass(frozen=True)
class Message:
    """A message as posted."""

    channel: str
    ts: str
    text: str | None
    blocks: list | None
    metadata: dict | None
    thread_ts: str | None
    #: time.monotonic() when the server accepted it (benchmarks compare it with enqueue times).
    received: float
    #: A thread reply also shown in the channel.
    broadcast: bool = False
    #: How many times chat.update rewrote it (text and blocks are the latest).
    edits: int = 0

    @property
    def alert_key(self) -> str | None:
        return ((self.metadata or {}).get("event_payload") or {}).get("alert_key")


@dataclass(frozen=True)
class Call:
    method: str
    #: 0 when the connection was dropped without an answer.
    status: int
    error: str | None
    channel: str | None
    #: time.monotonic() when the call arrived.
    at: float


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a token was taken, else seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class SlackAPI:
    """A Slack Web API on loopback; `url` is what `SLACK_API_URL` should be."""

    def __init__(
        self,
        *,
        token: str = TEST_TOKEN,
        channels: list[Channel] | None = None,
        rate: float | None = None,
        burst: int = 5,
    ):
        self.token = token
        self.channels: dict[str, Channel] = {}
        for channel in channels or [Channel("C0ALERTS01", "rare-earth-alerts"), Channel("C0DESK0001", "desk")]:
            self.channels[channel.id] = channel
        self.rate = rate
        self.burst = burst
        self.messages: list[Message] = []
        #: Every chat.update accepted, in order: the message as it was rewritten.
        self.updates: list[Message] = []
        self.calls: list[Call] = []
        #: Calls held by a stall fault right now: accepted and recorded, their answer not yet sent.
        self.stalled: list[Call] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            # Stopping waits for the loop to look up: a short poll keeps stopping quick.
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-api", daemon=True
        )

    # -- set-up and inspection -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"

    def add_channel(self, name: str, *, member: bool = True) -> str:
        channel_id = f"C0{len(self.channels) + 1:08d}"
        with self._lock:
            self.channels[channel_id] = Channel(channel_id, name, member)
        return channel_id

    def fault(self, method: str, *faults: Fault) -> None:
        """Queue faults for the next calls of `method`, used once each in order."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def posted(self, channel: str | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if channel is None or m.channel == channel]

    def top_level(self, channel: str | None = None) -> list[Message]:
        """Messages posted to the channel itself, not as thread replies."""
        return [m for m in self.posted(channel) if m.thread_ts is None]

    def replies_to(self, parent: Message) -> list[Message]:
        """The thread replies under `parent`, in order."""
        return [m for m in self.posted(parent.channel) if m.thread_ts == parent.ts]

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def channel_id(self, name: str) -> str:
        return next(c.id for c in self.channels.values() if c.name == name.lstrip("#"))

    def start(self) -> SlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SlackAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the API ---------------------------------------------------------------------------------

    def _answer(self, method: str, args: dict[str, Any], authorization: str | None) -> tuple[int, dict, dict[str, str]]:
        """(HTTP status, JSON body, extra headers) for one call, faults aside."""
        if not authorization or not authorization.startswith("Bearer "):
            return 200, {"ok": False, "error": "not_authed"}, {}
        if authorization.removeprefix("Bearer ") != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
        }.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        return handler(args)

    def _auth_test(self, args: dict) -> tuple[int, dict, dict]:
        return 200, {"ok": True, "team": "reewatch-test", "team_id": "T0TEST", "user": "reewatch", "user_id": "U0BOT", "bot_id": "B0BOT"}, {}

    def _post_message(self, args: dict) -> tuple[int, dict, dict]:
        channel = self._resolve(args.get("channel"))
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not channel.member:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        text, blocks, metadata = args.get("text"), _json_arg(args.get("blocks")), _json_arg(args.get("metadata"))
        if not text and not blocks:
            return 200, {"ok": False, "error": "no_text"}, {}
        if text and len(text) > MAX_TEXT:
            return 200, {"ok": False, "error": "msg_too_long"}, {}
        if blocks is not None:
            problems = block_kit_problems(blocks)
            if problems == ["msg_blocks_too_long"]:
                return 200, {"ok": False, "error": "msg_blocks_too_long"}, {}
            if problems:
                return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}, {}
        if metadata is not None and not _valid_metadata(metadata):
            return 200, {"ok": False, "error": "invalid_metadata_format"}, {}
        if self.rate is not None:
            wait = self._bucket(channel.id).take(time.monotonic())
            if wait > 0:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(wait)))}
        with self._lock:
            ts = f"{int(time.time())}.{next(self._sequence):06d}"
            thread_ts = args.get("thread_ts") or None
            broadcast = bool(thread_ts) and _truthy(args.get("reply_broadcast"))
            message = Message(channel.id, ts, text, blocks, metadata, thread_ts, time.monotonic(), broadcast)
            self.messages.append(message)
        return 200, {"ok": True, "channel": channel.id, "ts": ts, "message": _as_slack(message, True)}, {}

    def _update_message(self, args: dict) -> tuple[int, dict, dict]:
        channel = self.channels.get(args.get("channel") or "")  # chat.update takes ids only
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        text, blocks = args.get("text"), _json_arg(args.get("blocks"))
        if not text and not blocks:
            return 200, {"ok": False, "error": "no_text"}, {}
        if text and len(text) > MAX_TEXT:
            return 200, {"ok": False, "error": "msg_too_long"}, {}
        if blocks is not None:
            problems = block_kit_problems(blocks)
            if problems == ["msg_blocks_too_long"]:
                return 200, {"ok": False, "error": "msg_blocks_too_long"}, {}
            if problems:
                return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}, {}
        with self._lock:
            index = next(
                (i for i, m in enumerate(self.messages) if m.channel == channel.id and m.ts == args.get("ts")), None
            )
            if index is None:
                return 200, {"ok": False, "error": "message_not_found"}, {}
            edited = replace(self.messages[index], text=text, blocks=blocks, edits=self.messages[index].edits + 1)
            self.messages[index] = edited
            self.updates.append(edited)
        return 200, {"ok": True, "channel": channel.id, "ts": edited.ts, "text": text or ""}, {}

    def _history(self, args: dict) -> tuple[int, dict, dict]:
        channel = self.channels.get(args.get("channel") or "")  # history takes ids only
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not channel.member:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        oldest = float(args.get("oldest") or 0)
        with self._lock:
            found = [
                m for m in reversed(self.messages)
                if m.channel == channel.id and (m.thread_ts is None or m.thread_ts == m.ts or m.broadcast)
                and float(m.ts) > oldest
            ]
        return self._page(found, args, "messages", lambda m: _as_slack(m, _truthy(args.get("include_all_metadata"))))

    def _replies(self, args: dict) -> tuple[int, dict, dict]:
        channel = self.channels.get(args.get("channel") or "")
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        parent_ts = args.get("ts")
        with self._lock:
            thread = [m for m in self.messages if m.channel == channel.id and (m.ts == parent_ts or m.thread_ts == parent_ts)]
        if not any(m.ts == parent_ts for m in thread):
            return 200, {"ok": False, "error": "thread_not_found"}, {}
        return self._page(thread, args, "messages", lambda m: _as_slack(m, _truthy(args.get("include_all_metadata"))))

    def _list(self, args: dict) -> tuple[int, dict, dict]:
        channels = list(self.channels.values())
        return self._page(channels, args, "channels", lambda c: {"id": c.id, "name": c.name, "is_member": c.member})

    def _page(self, items: list, args: dict, key: str, shape) -> tuple[int, dict, dict]:
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), 1000)
        page = items[start : start + limit]
        more = start + limit < len(items)
        body = {"ok": True, key: [shape(item) for item in page], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}
        return 200, body, {}

    def _resolve(self, channel: str | None) -> Channel | None:
        if not channel:
            return None
        if channel in self.channels:
            return self.channels[channel]
        name = channel.lstrip("#")
        return next((c for c in self.channels.values() if c.name == name), None)

    def _bucket(self, channel_id: str) -> _Bucket:
        with self._lock:
            if channel_id not in self._buckets:
                self._buckets[channel_id] = _Bucket(self.rate or 1.0, self.burst, float(self.burst), time.monotonic())
            return self._buckets[channel_id]

    def _next_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    def _record_call(self, method: str, status: int, body: dict | None, args: dict) -> None:
        with self._lock:
            self.calls.append(Call(method, status, (body or {}).get("error"), args.get("channel"), time.monotonic()))

    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "reewatch-fake-slack"

            def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self._handle()

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                self._handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                method = parts.path.rsplit("/", 1)[-1]
                args = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if raw and "json" in content_type:
                    args.update(json.loads(raw))
                elif raw:
                    args.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
                fault = api._next_fault(method)
                if fault is not None and fault.drop and not fault.after_accepting:
                    api._record_call(method, 0, None, args)
                    return self._drop()
                if fault is not None and (fault.status != 200 or fault.error):
                    body = {"ok": False, "error": fault.error} if fault.error else None
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    api._record_call(method, fault.status, body, args)
                    return self._send(fault.status, body, headers)
                status, body, headers = api._answer(method, args, self.headers.get("Authorization"))
                api._record_call(method, status, body, args)
                if fault is not None and fault.drop:
                    return self._drop()
                if fault is not None and fault.stall:
                    with api._lock:
                        held = api.calls[-1] if api.calls and api.calls[-1].method == method else None
                        if held is not None:
                            api.stalled.append(held)
                    api._stopping.wait(fault.stall)
                    if held is not None:
                        with api._lock:
                            api.stalled.remove(held)
                try:
                    self._send(status, body, headers)
                except OSError:  # the client gave up waiting, as intended
                    self.close_connection = True

            def _send(self, status: int, body: dict | None, headers: dict[str, str]) -> None:
                if body is None:
                    payload, content_type = b"<html><body>Internal Server Error</body></html>", "text/html"
                else:
                    payload, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _drop(self) -> None:
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True

        return Handler


def block_kit_problems(blocks: Any) -> list[str]:
    """What Slack would reject in `blocks`; ["msg_blocks_too_long"] when only the total is too long."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    total = 0
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text":
                problems.append(f"must be plain_text {where}/text]")
            if len(text.get("text") or "") > MAX_HEADER:
                problems.append(f"must be less than {MAX_HEADER + 1} characters {where}/text/text]")
            total += len(text.get("text") or "")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if not text and not fields:
                problems.append(f"must provide text or fields {where}]")
            if text:
                if len(text.get("text") or "") > MAX_SECTION_TEXT:
                    problems.append(f"must be less than {MAX_SECTION_TEXT + 1} characters {where}/text/text]")
                total += len(text.get("text") or "")
            if fields:
                if len(fields) > MAX_FIELDS:
                    problems.append(f"no more than {MAX_FIELDS} items allowed {where}/fields]")
                for n, item in enumerate(fields):
                    if len(item.get("text") or "") > MAX_FIELD_TEXT:
                        problems.append(f"must be less than {MAX_FIELD_TEXT + 1} characters {where}/fields/{n}/text]")
                    total += len(item.get("text") or "")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"must have 1 to {MAX_CONTEXT_ELEMENTS} elements {where}/elements]")
            total += sum(len(e.get("text") or "") for e in elements if isinstance(e, dict))
        elif kind != "divider":
            problems.append(f"unsupported block type {kind!r} {where}/type]")
    if not problems and total > MAX_BLOCKS_TEXT:
        return ["msg_blocks_too_long"]
    return problems


def _valid_metadata(metadata: Any) -> bool:
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and bool(_EVENT_TYPE.match(metadata["event_type"]))
        and isinstance(metadata.get("event_payload"), dict)
    )


def _json_arg(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _as_slack(message: Message, with_metadata: bool) -> dict:
    shaped: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text or "", "bot_id": "B0BOT"}
    if message.blocks is not None:
        shaped["blocks"] = message.blocks
    if message.thread_ts:
        shaped["thread_ts"] = message.thread_ts
    if message.broadcast:
        shaped["subtype"] = "thread_broadcast"
    if with_metadata and message.metadata is not None:
        shaped["metadata"] = message.metadata
    return shaped
