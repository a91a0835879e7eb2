"""The live stream against a local server speaking Yahoo's streamer protocol: ticks, drops, reconnects."""

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import yfinance as yf

from service.domain.price_moves import PriceHistory, window_move
from service.sources.prices.listings import listing_for
from service.sources.prices.stream import YahooStream
from tests.fakes.yahoo_stream import FakeYahooStreamer

T0 = datetime(2025, 10, 9, 14, 0, tzinfo=UTC)  # New York is trading
LISTINGS = [listing_for("MP"), listing_for("LYC.AX")]


def run(scenario, timeout: float = 20):
    return asyncio.run(asyncio.wait_for(scenario, timeout))


def ms(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)


def stream_to(server: FakeYahooStreamer, ticks: list, **options) -> YahooStream:
    options = {"first_delay": 0.05, "max_delay": 0.2, "rng": random.Random(1), **options}
    return YahooStream(LISTINGS, url=server.url, on_tick=ticks.append, **options)


async def until(condition, timeout: float = 5.0) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def test_subclasses_yfinance_and_decodes_with_it():
    """The stream is yfinance's AsyncWebSocket with our loop; it decodes frames with yfinance's code."""
    assert issubclass(YahooStream, yf.AsyncWebSocket)
    assert YahooStream._decode_message is yf.AsyncWebSocket._decode_message
    assert YahooStream.listen is not yf.AsyncWebSocket.listen


def test_ticks_become_bars_and_a_move_is_detected():
    """Ticks from the streamer become one-minute bars in which a 5% move is detected."""

    async def scenario():
        ticks = []
        async with FakeYahooStreamer() as server:
            async with stream_to(server, ticks) as stream:
                await server.wait_for_subscribers(["MP", "LYC.AX"])
                assert stream.is_live
                for seconds, price, volume in (
                    (5, 60.0, 1000),
                    (40, 60.2, 1500),
                    (70, 62.0, 2500),
                    (125, 63.5, 4000),
                ):
                    await server.send_tick(
                        id="MP", price=price, time=ms(seconds), day_volume=volume, market_hours=1
                    )
                await until(lambda: len(ticks) == 4)
                return ticks, stream.take_bars(T0 + timedelta(minutes=3)), server.received

    ticks, bars, received = run(scenario())
    assert [t.price for t in ticks] == [60.0, 60.2, 62.0, 63.5]
    assert received[0]["subscribe"] == ["LYC.AX", "MP"]
    assert [(b.start, b.close) for b in bars] == [
        (T0, 60.2),
        (T0 + timedelta(minutes=1), 62.0),
        (T0 + timedelta(minutes=2), 63.5),
    ]
    check = window_move(
        PriceHistory.of("MP", bars), T0 + timedelta(minutes=3), timedelta(minutes=2), 5.0, "up"
    )
    assert check.outcome == "moved"
    assert check.move.change_pct == pytest.approx(5.48, abs=0.01)


@pytest.mark.parametrize("abrupt", [False, True], ids=["clean-close", "abrupt-drop"])
def test_reconnects_and_resubscribes_after_a_drop(abrupt):
    """After a clean close or an abrupt drop the stream goes down, reconnects, resubscribes; ticks flow again.

    yfinance's own listen() never reconnects after either, and spins the event loop after a clean
    close; the heartbeat task here would starve and the test time out if ours did too.
    """

    async def scenario():
        beats = 0

        async def heartbeat():
            nonlocal beats
            while True:
                beats += 1
                await asyncio.sleep(0.01)

        ticks, seen_down = [], []
        pulse = asyncio.create_task(heartbeat())
        async with FakeYahooStreamer() as server:
            stream = stream_to(server, ticks, first_delay=0.3, max_delay=0.3)
            async with stream:
                await server.wait_for_subscribers(["MP", "LYC.AX"])
                await server.send_tick(id="MP", price=61.0, time=ms(5))
                await until(lambda: len(ticks) == 1)
                await server.drop_all(abrupt=abrupt)
                await until(lambda: not stream.is_live)
                seen_down.append((stream.last_error, beats))
                await asyncio.sleep(0.1)  # inside the back-off: the loop must keep running
                seen_down.append((stream.is_live, beats))
                await server.wait_for_subscribers(["MP", "LYC.AX"])
                await until(lambda: stream.is_live)
                await server.send_tick(id="LYC.AX", price=7.5, time=ms(10))
                await until(lambda: len(ticks) == 2)
                total = server.connections_total
        pulse.cancel()
        return ticks, seen_down, total, stream

    ticks, seen_down, total, stream = run(scenario())
    assert [t.ticker for t in ticks] == ["MP", "LYC.AX"]
    assert total == 2 and stream.connections == 2
    (error, beats_at_drop), (live_in_backoff, beats_later) = seen_down
    assert live_in_backoff is False
    assert beats_later > beats_at_drop + 3
    if abrupt:
        assert error.startswith("ConnectionClosedError")
    else:
        assert error == "closed by the server (code 1000)"


def test_heartbeat_resends_the_whole_set():
    """Every heartbeat re-sends the whole subscription set, as Yahoo expects."""

    async def scenario():
        async with FakeYahooStreamer() as server:
            async with stream_to(server, [], heartbeat=0.05):
                await server.wait_until(lambda s: len(s.received) >= 3)
                return server.received

    received = run(scenario())
    assert all(message == {"subscribe": ["LYC.AX", "MP"]} for message in received[:3])


def test_bad_frames_are_skipped_and_the_stream_goes_on():
    """Frames that are not JSON, not base64 or not protobuf are counted and skipped."""

    async def scenario():
        ticks = []
        async with FakeYahooStreamer() as server:
            async with stream_to(server, ticks) as stream:
                await server.wait_for_subscribers(["MP"])
                await server.send_raw("not json")
                await server.send_raw(json.dumps({"type": "pricing"}))
                await server.send_raw(json.dumps({"type": "pricing", "message": "%%%"}))
                await server.send_raw(json.dumps({"type": "pricing", "message": "//8="}))  # b"\xff\xff"
                await server.send_tick(id="MP", price=61.0, time=ms(5))
                await server.send_tick(id="MP", time=ms(6))  # price 0 is absent after decoding: no tick
                await until(lambda: len(ticks) == 1 and stream.bad_frames >= 3)
                await asyncio.sleep(0.05)
                return ticks, stream.bad_frames, stream.is_live

    ticks, bad_frames, live = run(scenario())
    assert [t.price for t in ticks] == [61.0]
    assert bad_frames == 4
    assert live is True


def test_an_unreachable_streamer_keeps_retrying_until_stopped():
    """With nothing listening the stream stays down, says why, and stops promptly when asked."""

    async def scenario():
        async with FakeYahooStreamer() as server:
            url = server.url
        stream = YahooStream(LISTINGS, url=url, first_delay=0.02, max_delay=0.05)
        stream.start()
        # Until it has tried and failed at least once, however slow the machine.
        deadline = asyncio.get_running_loop().time() + 30
        while stream.last_error is None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        state = (stream.is_live, stream.last_error, stream.connections)
        await asyncio.wait_for(stream.stop(), 2)
        return state

    live, error, connections = run(scenario())
    assert (live, connections) == (False, 0)
    assert error is not None and ("Connect" in error or "refused" in error)


def test_subscribe_while_connected_sends_the_new_set():
    """Adding a ticker while connected sends the whole new set at once."""

    async def scenario():
        async with FakeYahooStreamer() as server:
            async with stream_to(server, []) as stream:
                await server.wait_for_subscribers(["MP"])
                await stream.subscribe("600111.SS")
                await server.wait_for_subscribers(["MP", "LYC.AX", "600111.SS"])
                await stream.unsubscribe(["LYC.AX"])
                await server.wait_until(lambda s: {"unsubscribe": ["LYC.AX"]} in s.received)
                return server.received, stream.tickers

    received, tickers = run(scenario())
    assert received[1] == {"subscribe": ["600111.SS", "LYC.AX", "MP"]}
    assert tickers == ["600111.SS", "MP"]
