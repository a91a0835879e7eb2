"""Logging set-up, with secrets scrubbed from every record whatever code logged them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    """Replaces known secret values (tokens, passwords) in log messages and arguments."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.scrub(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            elif record.exc_text:
                record.exc_text = self.scrub(record.exc_text)
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that chat at INFO about every request.
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler.executors.default", "yfinance", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # yfinance logs each ticker's failure at ERROR, several lines apiece; the price source reads
    # them from its own handler and logs one summary per cycle, so they stop there.
    logging.getLogger("yfinance").propagate = False
