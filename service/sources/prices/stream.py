"""Yahoo's live quote stream for real-time moves between polls, on a connection loop of our own.

yfinance 1.7.0's `AsyncWebSocket.listen()` cannot be left running on its own:

- after an abrupt drop (no close frame) it logs "Attempting to reconnect..." every 3 s forever,
  but its `_connect()` does nothing because `self._ws` still holds the dead connection;
- after a clean close (1000/1001, sent by the server or by our own `close()` while it listens),
  `async for` ends normally, `while True` re-enters it on the closed socket, and `recv()` raises
  `ConnectionClosedOK` without ever suspending: a busy loop that freezes the whole event loop;
- its heartbeat task stops at the first send error and is never restarted.

So `YahooStream` keeps what yfinance gets right (the URL, the subscription set, the
`{"subscribe": [...]}` protocol and `_decode_message`: base64 `PricingData` protobuf to a dict)
and owns the loop: connect, subscribe to the whole set, read until the connection ends either
way, then reconnect after a jittered, capped back-off and subscribe again. It connects with
`websockets` itself rather than yfinance's `_connect()`, to bound the handshake and to log one
line per failed attempt instead of a traceback. While it is down, `is_live` is False and the
price cycle polls instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import yfinance as yf
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from service.domain.markets import build_bar, is_open
from service.domain.prices import Bar, Listing, Tick
from service.sources.prices.listings import listing_for

log = logging.getLogger(__name__)

YAHOO_STREAM_URL = "wss://streamer.finance.yahoo.com/?version=2"
#: Yahoo drops subscribers that stay silent; yfinance re-sends the whole set every 15 s.
HEARTBEAT_SECONDS = 15.0
#: A ticker counts as streamed while its last tick is this recent; otherwise it is polled.
COVERAGE = timedelta(minutes=5)


def reconnect_delay(attempt: int, *, first: float, cap: float, jitter: float) -> float:
    """Seconds before reconnect attempt `attempt` (1 = the first after a drop).

    Doubles from `first` up to `cap`; `jitter` in [0, 1) picks a point in the upper half, so many
    instances dropped together do not reconnect in step, and no wait is shorter than half.
    """
    exponent = min(max(attempt - 1, 0), 30)
    nominal = min(cap, first * 2**exponent)
    return nominal * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))


def tick_from_message(message: dict) -> Tick | None:
    """A tick from a decoded `PricingData` dict, or None when it lacks a symbol, price or time.

    The dict comes from protobuf's MessageToDict: 64-bit integers arrive as strings (`time` in
    epoch milliseconds) and fields equal to zero are absent.
    """
    try:
        ticker = str(message["id"]).upper()
        price = float(message["price"])
        at = datetime.fromtimestamp(int(message["time"]) / 1000, UTC)
        volume = message.get("day_volume")
        day_volume = int(volume) if volume is not None else None
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if not ticker or price <= 0:
        return None
    return Tick(ticker, price, at, day_volume)


@dataclass
class _Building:
    listing: Listing
    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def bar(self) -> Bar:
        return build_bar(
            self.listing.exchange,
            self.listing.ticker,
            "1m",
            self.start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )


class MinuteBars:
    """Folds live ticks into one-minute bars, keeping only ticks inside a trading session.

    Polled bars cover regular hours only, so pre- and post-market ticks would make the two kinds
    of bars disagree. A bar's volume is how much the stream's day volume grew during the minute.
    """

    def __init__(self) -> None:
        self._building: dict[str, _Building] = {}
        self._finished: list[Bar] = []
        self._day_volume: dict[str, int] = {}
        self.ignored = 0

    def add(self, listing: Listing, tick: Tick) -> None:
        if not is_open(listing.exchange, tick.at):
            self.ignored += 1
            return
        added = self._volume_added(tick)
        minute = tick.at.replace(second=0, microsecond=0)
        bar = self._building.get(tick.ticker)
        if bar is not None and minute < bar.start:
            self.ignored += 1  # a late tick for a minute already handed on
            return
        if bar is not None and minute > bar.start:
            self._finished.append(bar.bar())
            bar = None
        if bar is None:
            self._building[tick.ticker] = _Building(
                listing, minute, tick.price, tick.price, tick.price, tick.price, added
            )
            return
        bar.high = max(bar.high, tick.price)
        bar.low = min(bar.low, tick.price)
        bar.close = tick.price
        bar.volume += added

    def take(self, now: datetime) -> list[Bar]:
        """The bars whose minute has ended by `now`, each handed out once."""
        for ticker, bar in list(self._building.items()):
            if bar.start + timedelta(minutes=1) <= now:
                self._finished.append(bar.bar())
                del self._building[ticker]
        finished, self._finished = self._finished, []
        return finished

    def _volume_added(self, tick: Tick) -> float:
        if tick.day_volume is None:
            return 0.0
        before = self._day_volume.get(tick.ticker)
        self._day_volume[tick.ticker] = tick.day_volume
        if before is None or tick.day_volume < before:  # first tick, or a new session's count
            return 0.0
        return float(tick.day_volume - before)


class YahooStream(yf.AsyncWebSocket):
    """Live quotes for the watched tickers from Yahoo's streamer; reconnects until stopped."""

    def __init__(
        self,
        listings: Sequence[Listing],
        *,
        url: str = YAHOO_STREAM_URL,
        on_tick: Callable[[Tick], None] | None = None,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        heartbeat: float = HEARTBEAT_SECONDS,
        open_timeout: float = 10.0,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        super().__init__(url=url, verbose=False)  # verbose=True print()s every event to stdout
        self._listings = {listing.ticker: listing for listing in listings}
        self._subscriptions.update(self._listings)
        self._subscription_interval = heartbeat
        self.on_tick = on_tick
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.open_timeout = open_timeout
        self.rng = rng or random.Random()
        self.clock = clock
        self.bars = MinuteBars()
        self.is_live = False
        self.down_since: datetime | None = clock()
        self.last_error: str | None = None
        self.connections = 0
        self.bad_frames = 0
        self._last_tick: dict[str, datetime] = {}
        self._task: asyncio.Task | None = None

    @property
    def tickers(self) -> list[str]:
        return sorted(self._subscriptions)

    def start(self) -> asyncio.Task:
        """Run the connection loop in the background (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.listen(), name="yahoo-stream")
        return self._task

    async def stop(self) -> None:
        """Cancel the connection loop and wait for it to close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._went_down("stopped")

    async def close(self) -> None:
        await self.stop()

    async def __aenter__(self) -> YahooStream:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def subscribe(self, symbols: str | list[str]) -> None:
        """Add tickers; sent at once when connected, else at the next (re)connect."""
        added = [listing_for(s) for s in ([symbols] if isinstance(symbols, str) else symbols)]
        for listing in added:
            self._listings[listing.ticker] = listing
            self._subscriptions.add(listing.ticker)
        await self._send({"subscribe": self.tickers})

    async def unsubscribe(self, symbols: str | list[str]) -> None:
        """Drop tickers from the stream."""
        removed = [s.upper() for s in ([symbols] if isinstance(symbols, str) else symbols)]
        self._subscriptions.difference_update(removed)
        for ticker in removed:
            self._listings.pop(ticker, None)
        await self._send({"unsubscribe": removed})

    async def listen(self, message_handler: Callable[[dict], object] | None = None) -> None:
        """Connect, subscribe and read quotes; after any drop back off and reconnect, until cancelled."""
        attempt = 0
        while True:
            try:
                async with connect(self.url, open_timeout=self.open_timeout) as ws:
                    self._ws = ws
                    await ws.send(json.dumps({"subscribe": self.tickers}))
                    self.connections += 1
                    self._went_live()
                    attempt = 0
                    heartbeat = asyncio.create_task(self._resubscribe(ws))
                    try:
                        async for frame in ws:  # ends on a clean close, raises on an abrupt one
                            await self._receive(frame, message_handler)
                    finally:
                        heartbeat.cancel()
                reason = f"closed by the server (code {ws.close_code})"
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._ws = None
            self._went_down(reason)
            attempt += 1
            delay = reconnect_delay(
                attempt, first=self.first_delay, cap=self.max_delay, jitter=self.rng.random()
            )
            log.warning("price stream down (%s); reconnecting in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    def take_bars(self, now: datetime) -> list[Bar]:
        """Minute bars completed by `now` since the last call."""
        return self.bars.take(now)

    def covered(self, now: datetime) -> frozenset[str]:
        """Tickers the stream is delivering: live, with a tick in the last few minutes.

        Yahoo's streamer does not carry every symbol, and a quiet name may not tick for a while;
        those stay with polling.
        """
        if not self.is_live:
            return frozenset()
        return frozenset(
            t for t, at in self._last_tick.items() if at > now - COVERAGE and t in self._subscriptions
        )

    async def _receive(self, frame: str | bytes, message_handler: Callable[[dict], object] | None) -> None:
        try:
            encoded = json.loads(frame)["message"]
            message = self._decode_message(encoded)
        except Exception as exc:  # not JSON, no "message", or yfinance raising on a bad payload
            self._bad_frame(f"{type(exc).__name__}: {exc}")
            return
        if "error" in message:  # yfinance's way of saying the base64 or protobuf was bad
            self._bad_frame(message["error"])
            return
        if not message:  # base64 of nothing: yfinance drops characters outside the alphabet
            self._bad_frame("empty message")
            return
        if message_handler is not None:
            handled = message_handler(message)
            if asyncio.iscoroutine(handled):
                await handled
        tick = tick_from_message(message)
        listing = self._listings.get(tick.ticker) if tick is not None else None
        if tick is None or listing is None:
            return
        self.bars.add(listing, tick)
        self._last_tick[tick.ticker] = max(tick.at, self._last_tick.get(tick.ticker, tick.at))
        if self.on_tick is not None:
            self.on_tick(tick)

    async def _resubscribe(self, ws) -> None:
        while True:
            await asyncio.sleep(self._subscription_interval)
            await ws.send(json.dumps({"subscribe": self.tickers}))

    async def _send(self, message: dict) -> None:
        if self._ws is None:
            return
        try:
            await self._ws.send(json.dumps(message))
        except ConnectionClosed:
            pass  # the loop notices the drop and re-sends the whole set on reconnect

    def _bad_frame(self, detail: str) -> None:
        self.bad_frames += 1
        log.warning("price stream: unreadable frame (%s)", detail)

    def _went_live(self) -> None:
        self.is_live = True
        self.down_since = None
        log.info("price stream live: %d tickers", len(self._subscriptions))

    def _went_down(self, reason: str) -> None:
        if self.is_live or self.down_since is None:
            self.down_since = self.clock()
        self.is_live = False
        self.last_error = reason
