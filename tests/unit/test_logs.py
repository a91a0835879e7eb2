"""Secrets never reach the logs, whatever code logs them."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from service.logs import (
    REDACTED,
    SecretFilter,
    bind_log_context,
    configure_logging,
    current_log_context,
    log_context,
)


def test_secret_values_are_scrubbed_from_messages_args_and_tracebacks():
    """A token in a message, in %-args or in an exception text is replaced before output."""
    token = "xoxb-1234-secret-token"
    secret_filter = SecretFilter([token, "", "abc"])
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "posting with %s to %s", (token, "#desk"), None)
    try:
        raise RuntimeError(f"auth failed for {token}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert secret_filter.filter(record) is True
    text = logging.Formatter().format(record)
    assert token not in text
    assert f"posting with {REDACTED} to #desk" in text
    assert f"auth failed for {REDACTED}" in text


def test_short_values_are_not_treated_as_secrets():
    """Empty or tiny values would redact ordinary words; they are ignored."""
    secret_filter = SecretFilter(["", "ab"])
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "about a tab", None, None)
    secret_filter.filter(record)
    assert record.getMessage() == "about a tab"


def test_yfinance_failures_reach_the_price_source_not_the_log(capsys):
    """yfinance's per-ticker ERROR lines stay with the handler that reads them, off stderr."""
    from service.logs import configure_logging

    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO")
    collector = Collect()
    logging.getLogger("yfinance").addHandler(collector)
    try:
        logging.getLogger("yfinance").error("$MP: possibly delisted; no price data found")
    finally:
        logging.getLogger("yfinance").removeHandler(collector)
        logging.getLogger("yfinance").propagate = True
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    assert seen == ["$MP: possibly delisted; no price data found"]
    assert "possibly delisted" not in capsys.readouterr().err


@pytest.fixture
def stderr_logging(capsys):
    """configure_logging for one test, the root logger restored afterwards; returns a reader of stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("apscheduler", "httpx", "yfinance")}

    def configure(fmt: str, secrets=()) -> None:
        configure_logging("INFO", secrets, fmt=fmt)

    yield configure, lambda: capsys.readouterr().err
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.getLogger("yfinance").propagate = True


def test_json_lines_carry_the_context_ids_as_fields(stderr_logging):
    """LOG_FORMAT=json: one object a line; ids come from the context, not from the message."""
    configure, read = stderr_logging
    configure("json")
    log = logging.getLogger("service.test")
    with log_context(feed="wire", feed_id=3):
        log.info("polled")
        with log_context(article_id=41, story_id=7):
            log.warning("stored %d", 1)
    log.info("outside")
    log.info("explicit", extra={"alert_id": 9})
    lines = [json.loads(line) for line in read().splitlines()]
    assert [(line["message"], line["level"], line["logger"]) for line in lines] == [
        ("polled", "INFO", "service.test"),
        ("stored 1", "WARNING", "service.test"),
        ("outside", "INFO", "service.test"),
        ("explicit", "INFO", "service.test"),
    ]
    assert {k: lines[0][k] for k in ("feed", "feed_id")} == {"feed": "wire", "feed_id": 3}
    assert {k: lines[1][k] for k in ("feed", "feed_id", "article_id", "story_id")} == {
        "feed": "wire",
        "feed_id": 3,
        "article_id": 41,
        "story_id": 7,
    }
    assert not {"feed", "article_id"} & set(lines[2])
    assert lines[3]["alert_id"] == 9
    assert datetime.fromisoformat(lines[0]["time"]).utcoffset() == timedelta(0)


def test_json_tracebacks_are_scrubbed_of_secrets(stderr_logging):
    """A token inside an exception's text is redacted in the JSON traceback field too."""
    configure, read = stderr_logging
    token = "xoxb-1234-secret-token"
    configure("json", [token])
    try:
        raise RuntimeError(f"auth failed for {token}")
    except RuntimeError:
        logging.getLogger("service.test").exception("posting with %s failed", token)
    text = read()
    assert token not in text
    (line,) = [json.loads(x) for x in text.splitlines()]
    assert line["message"] == f"posting with {REDACTED} failed"
    assert f"RuntimeError: auth failed for {REDACTED}" in line["traceback"]


def test_plain_lines_show_the_context_after_the_message(stderr_logging):
    configure, read = stderr_logging
    configure("text")
    with log_context(feed="wire", alert_id=5):
        logging.getLogger("service.test").info("sent")
    assert read().rstrip().endswith("service.test: sent [feed=wire alert_id=5]")


def test_bound_context_replaces_the_previous_items_ids():
    """A loop binding each item's ids in turn never leaves the last item's article on the next."""

    async def lane() -> list[dict]:
        seen = []
        for alert_id, article_id in ((1, 10), (2, None)):
            bind_log_context(alert_id=alert_id, article_id=article_id)
            seen.append(current_log_context())
        return seen

    assert asyncio.run(lane()) == [{"alert_id": 1, "article_id": 10}, {"alert_id": 2}]
    assert current_log_context() == {}  # the task's binding stayed in the task


def test_unknown_context_fields_are_refused():
    with pytest.raises(ValueError, match="feed_name"):
        with log_context(feed_name="wire"):
            pass


def test_scheduler_chatter_stays_below_info(stderr_logging):
    """APScheduler's "Adding job tentatively" and "Added job" lines do not reach an INFO log."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    configure, read = stderr_logging
    configure("text")

    async def start_and_stop() -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(print, "interval", seconds=60)
        scheduler.start()
        scheduler.add_job(print, "interval", seconds=60)
        scheduler.shutdown(wait=False)

    asyncio.run(start_and_stop())
    assert "apscheduler" not in read()
