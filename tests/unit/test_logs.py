"""Secrets never reach the logs, whatever code logs them."""

import logging

from service.logs import REDACTED, SecretFilter


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
