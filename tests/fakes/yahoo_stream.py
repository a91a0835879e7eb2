"""A local stand-in for Yahoo's price streamer (wss://streamer.finance.yahoo.com/?version=2).

The protocol, as yfinance 1.7.0 speaks it: the client sends `{"subscribe": [<whole set>]}` (again
every 15 s as a heartbeat); the server sends text frames `{"type": "pricing", "message": B64}`,
B64 being a serialized `yfinance.pricing_pb2.PricingData`. Yahoo's `time` is epoch milliseconds.
The fake records what clients send, pushes ticks to subscribers of the tick's symbol, and drops
connections the two ways networks do: a clean close handshake, or an abrupt TCP abort.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from yfinance.pricing_pb2 import PricingData


def pricing_frame(**fields: Any) -> str:
    """The JSON text frame Yahoo's streamer sends for one tick, e.g. pricing_frame(id="MP", price=61.2)."""
    message = base64.b64encode(PricingData(**fields).SerializeToString()).decode("ascii")
    return json.dumps({"type": "pricing", "message": message})


class FakeYahooStreamer:
    """A websocket server on 127.0.0.1 imitating Yahoo's streamer. Use `async with`."""

    def __init__(self) -> None:
        self._server: Server | None = None
        self._subscribers: dict[ServerConnection, set[str]] = {}
        self._changed = asyncio.Condition()
        self.received: list[dict] = []
        self.connections_total = 0

    async def __aenter__(self) -> FakeYahooStreamer:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    @property
    def open_connections(self) -> int:
        return len(self._subscribers)

    async def _handle(self, ws: ServerConnection) -> None:
        async with self._changed:
            self._subscribers[ws] = set()
            self.connections_total += 1
            self._changed.notify_all()
        try:
            async for raw in ws:
                message = json.loads(raw)
                async with self._changed:
                    self.received.append(message)
                    self._subscribers[ws].update(message.get("subscribe", ()))
                    self._subscribers[ws].difference_update(message.get("unsubscribe", ()))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # dropped on purpose by drop_all(abrupt=True)
        finally:
            async with self._changed:
                self._subscribers.pop(ws, None)
                self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[FakeYahooStreamer], bool], timeout: float = 5.0) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

        await asyncio.wait_for(wait(), timeout)

    async def wait_for_subscribers(
        self, symbols: Iterable[str], count: int = 1, timeout: float = 5.0
    ) -> None:
        """Until `count` open connections are subscribed to all of `symbols`."""
        wanted = set(symbols)
        await self.wait_until(
            lambda s: sum(wanted <= subs for subs in s._subscribers.values()) >= count, timeout
        )

    async def send_tick(self, **fields: Any) -> int:
        """Send one tick to every subscriber of fields["id"]; returns how many got it."""
        frame = pricing_frame(**fields)
        targets = [ws for ws, subs in self._subscribers.items() if fields["id"] in subs]
        for ws in targets:
            await ws.send(frame)
        return len(targets)

    async def send_raw(self, text: str) -> None:
        """Send any text frame to every client (malformed data)."""
        for ws in list(self._subscribers):
            await ws.send(text)

    async def drop_all(self, *, abrupt: bool) -> None:
        """Drop every client: a close handshake (code 1000) or a TCP abort with no close frame (1006)."""
        for ws in list(self._subscribers):
            if abrupt:
                ws.transport.abort()
            else:
                await ws.close(1000, "server going away")
        await self.wait_until(lambda s: s.open_connections == 0)
