"""Logging set-up, with secrets scrubbed from every record whatever code logged them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from service.redaction import REDACTED, remember_secrets, scrub

__all__ = ["REDACTED", "SecretFilter", "configure_logging"]


class SecretFilter(logging.Filter):
    """Scrubs every record (message, arguments, traceback) with `service.redaction.scrub`: known
    secrets in any encoding, and anything shaped like a credential, whatever code logged it."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        remember_secrets(*secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), limit=None, keep_lines=True)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), limit=None, keep_lines=True)
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, limit=None, keep_lines=True)
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
