"""The port every price source implements, and what a fetch hands back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from service.domain.prices import Bar, Listing

FailureKind = Literal["unknown_ticker", "no_data", "rate_limited", "source_error", "bad_data"]


@dataclass(frozen=True)
class BarRequest:
    """Bars of one interval for several tickers, from `since` on: one batched call per request."""

    interval: str
    since: datetime
    listings: tuple[Listing, ...]

    @property
    def tickers(self) -> list[str]:
        return [listing.ticker for listing in self.listings]


@dataclass(frozen=True)
class TickerFailure:
    """Why a ticker got no usable bars from a source this time."""

    ticker: str
    kind: FailureKind
    reason: str


@dataclass
class FetchResult:
    """Per ticker: the bars a source delivered (unchecked), or why it delivered none."""

    bars: dict[str, list[Bar]] = field(default_factory=dict)
    failures: dict[str, TickerFailure] = field(default_factory=dict)
    #: Problems that cost a ticker some rows but not the fetch (a bad line in a replay file).
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: The source refused us as a whole (HTTP 429): the caller pauses it, not just the tickers.
    rate_limited: bool = False

    def add_bars(self, ticker: str, bars: Sequence[Bar]) -> None:
        self.bars.setdefault(ticker, []).extend(bars)

    def fail(self, ticker: str, kind: FailureKind, reason: str) -> None:
        if ticker not in self.failures:  # the first reason is the cause; later ones follow from it
            self.failures[ticker] = TickerFailure(ticker, kind, reason)

    def note(self, ticker: str, problem: str) -> None:
        self.notes.setdefault(ticker, []).append(problem)

    def merge(self, other: FetchResult) -> None:
        for ticker, bars in other.bars.items():
            self.add_bars(ticker, bars)
        for failure in other.failures.values():
            self.fail(failure.ticker, failure.kind, failure.reason)
        for ticker, problems in other.notes.items():
            self.notes.setdefault(ticker, []).extend(problems)
        self.rate_limited = self.rate_limited or other.rate_limited


class PriceSource(Protocol):
    """Fetches bars for batches of tickers; never raises for a ticker's failure, reports it."""

    name: str

    async def fetch(self, requests: Sequence[BarRequest], now: datetime) -> FetchResult: ...

    async def aclose(self) -> None: ...


class LiveBars(Protocol):
    """A live stream as the price cycle sees it: up or not, and the bars it built meanwhile."""

    is_live: bool

    @property
    def tickers(self) -> list[str]: ...

    async def subscribe(self, symbols: list[str]) -> None: ...

    async def unsubscribe(self, symbols: list[str]) -> None: ...

    def covered(self, now: datetime) -> frozenset[str]: ...

    def take_bars(self, now: datetime) -> list[Bar]: ...

    async def stop(self) -> None: ...
