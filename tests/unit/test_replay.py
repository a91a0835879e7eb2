"""The replay source: the CSV format, located errors, and bars handed out only once final."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from service.errors import ReplayFileError
from service.sources.prices.listings import listing_for
from service.sources.prices.replay import SAMPLE_FILE, ReplayPriceSource, read_replay_file
from service.sources.prices.source import BarRequest

HEADER = "ticker,interval,timestamp,open,high,low,close,volume\n"
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 1, 1, tzinfo=UTC)


def write(tmp_path, text: str):
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return path


def fetch(path, tickers, interval="1d", now=LATER, since=LONG_AGO):
    request = BarRequest(interval, since, tuple(listing_for(t) for t in tickers))
    return asyncio.run(ReplayPriceSource(path).fetch([request], now))


def test_the_shipped_sample_is_synthetic_and_covers_the_demo_tickers():
    """The sample says it is synthetic and has daily and 5-minute bars for every demo ticker."""
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in text.splitlines()[0]
    replay = read_replay_file(SAMPLE_FILE)
    assert replay.problems == {}
    for ticker in ("MP", "USAR", "LYC.AX", "600111.SS", "REMX", "F"):
        intervals = {row.interval for row in replay.rows[ticker]}
        assert intervals == {"1d", "5m"}, ticker
    days = {row.start for row in replay.rows["MP"] if row.interval == "1d"}
    assert {date(2025, 7, 10), date(2025, 10, 9), date(2025, 10, 10)} <= days


def test_bars_are_handed_out_only_once_final(tmp_path):
    """At instant `now` the replay yields only bars that had ended: a backtest sees no future."""
    path = write(
        tmp_path,
        HEADER
        + "MP,5m,2025-10-09T09:30:00-04:00,10,11,9,10.5,100\n"
        + "MP,5m,2025-10-09T09:35:00-04:00,10.5,11,10,10.8,100\n"
        + "MP,1d,2025-10-09,10,11,9,10.8,200\n",
    )
    at_0938 = datetime(2025, 10, 9, 13, 38, tzinfo=UTC)
    assert [b.close for b in fetch(path, ["MP"], "5m", now=at_0938).bars["MP"]] == [10.5]
    assert [b.close for b in fetch(path, ["MP"], "5m").bars["MP"]] == [10.5, 10.8]
    assert fetch(path, ["MP"], "1d", now=at_0938).bars["MP"] == []  # final at the 16:00 close
    since = fetch(path, ["MP"], "5m", since=datetime(2025, 10, 9, 13, 35, tzinfo=UTC))
    assert [b.close for b in since.bars["MP"]] == [10.8]


def test_daily_dates_are_sessions_of_the_ticker_exchange(tmp_path):
    """A daily row's date is the session on the ticker's own exchange (Sydney's here)."""
    path = write(tmp_path, HEADER + "LYC.AX,1d,2025-10-10,16,17,15,16.5,1000\n")
    (bar,) = fetch(path, ["LYC.AX"]).bars["LYC.AX"]
    assert bar.session == date(2025, 10, 10)
    assert bar.start == datetime(2025, 10, 9, 13, 0, tzinfo=UTC)
    assert bar.end == datetime(2025, 10, 10, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# a comment\n\nticker,interval,timestamp,open,high,low,close\nMP,1d,2025-10-09,1,1,1,1\n",
            ":3: missing column 'volume'; the header must name ticker,interval,timestamp,open,high,low,close,volume",
        ),
        ("ticker,interval,timestamp,open,high,low,close,volume,note\n", ":1: unknown column 'note'"),
        ("ticker,interval,timestamp,open,high,low,close,close,volume\n", ":1: column 'close' appears twice"),
        ("# only comments\n", ": no header line: the file is empty"),
    ],
)
def test_a_bad_header_fails_every_ticker_with_a_located_reason(tmp_path, text, message):
    """A missing or unknown column makes the file unusable: each ticker fails naming file and line."""
    path = write(tmp_path, text)
    with pytest.raises(ReplayFileError) as raised:
        read_replay_file(path)
    assert str(raised.value) == f"{path}{message}"
    result = fetch(path, ["MP", "LYC.AX"])
    assert set(result.failures) == {"MP", "LYC.AX"}
    assert result.failures["MP"].kind == "source_error"
    assert result.failures["MP"].reason == f"replay file unusable: {path}{message}"


def test_a_missing_file_fails_every_ticker(tmp_path):
    """A replay file that is not there fails each ticker with the path in the reason."""
    result = fetch(tmp_path / "nope.csv", ["MP"])
    assert "cannot read the replay file" in result.failures["MP"].reason
    assert str(tmp_path / "nope.csv") in result.failures["MP"].reason


def test_bad_lines_cost_only_their_ticker_those_lines(tmp_path):
    """Each bad line is reported for its ticker as file:line: reason; other lines and tickers load."""
    path = write(
        tmp_path,
        HEADER
        + "MP,1d,2025-10-08,10,11,9,10.5,100\n"
        + "MP,1d,2025-10-09,10,11,9\n"
        + "MP,5m,2025-10-09T09:30:00,10,11,9,10.5,100\n"
        + "MP,1d,2025-10-10,10,eleven,9,10.5,100\n"
        + "MP,1w,2025-10-10,10,11,9,10.5,100\n"
        + "MP,1d,10/13/2025,10,11,9,10.5,100\n"
        + "LYC.AX,1d,2025-10-09,16,17,15,16.5,1000\n",
    )
    result = fetch(path, ["MP", "LYC.AX"])
    assert [b.session for b in result.bars["MP"]] == [date(2025, 10, 8)]
    assert result.notes["MP"] == [
        f"{path}:3: expected 8 fields, found 6",
        f"{path}:4: timestamp '2025-10-09T09:30:00' has no time zone (add Z or an offset like -04:00)",
        f"{path}:5: high 'eleven' is not a number",
        f"{path}:6: unknown interval '1w'; use one of 1m, 2m, 5m, 15m, 30m, 60m, 1d",
        f"{path}:7: timestamp '10/13/2025' is not a date (YYYY-MM-DD)",
    ]
    assert result.failures == {}
    assert len(result.bars["LYC.AX"]) == 1 and "LYC.AX" not in result.notes


def test_empty_values_are_gaps_for_the_bar_check(tmp_path):
    """An empty or NaN price loads as NaN, for the bar check to drop and report."""
    path = write(tmp_path, HEADER + "MP,1d,2025-10-09,10,11,9,,100\nMP,1d,2025-10-10,10,11,9,NaN,100\n")
    closes = [b.close for b in fetch(path, ["MP"]).bars["MP"]]
    assert len(closes) == 2 and all(c != c for c in closes)


def test_tickers_not_in_the_file_fail_as_unknown(tmp_path):
    """A ticker the file never mentions fails as unknown; one whose every line is bad, as bad data."""
    path = write(tmp_path, HEADER + "MP,1d,2025-10-09,10,11,9,10.5,100\nUSAR,1d,yesterday,1,1,1,1,1\n")
    result = fetch(path, ["MP", "UUUU", "USAR"])
    assert result.failures["UUUU"].kind == "unknown_ticker"
    assert result.failures["UUUU"].reason == f"UUUU is not in the replay file {path}"
    assert result.failures["USAR"].kind == "bad_data"
    assert result.notes["USAR"] == [f"{path}:3: timestamp 'yesterday' is not ISO 8601"]
    assert "MP" not in result.failures


def test_an_edited_file_is_read_again(tmp_path):
    """The source notices when the file changes between cycles."""
    path = write(tmp_path, HEADER + "MP,1d,2025-10-09,10,11,9,10.5,100\n")
    source = ReplayPriceSource(path)
    request = [BarRequest("1d", LONG_AGO, (listing_for("MP"),))]
    assert len(asyncio.run(source.fetch(request, LATER)).bars["MP"]) == 1
    path.write_text(HEADER + "MP,1d,2025-10-09,10,11,9,10.5,100\nMP,1d,2025-10-10,10,11,9,10.7,100\n")
    assert len(asyncio.run(source.fetch(request, LATER + timedelta(days=1))).bars["MP"]) == 2
