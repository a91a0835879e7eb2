"""Logging set-up: plain or JSON lines, the ids of what a line is about, secrets scrubbed.

Code that works on a feed, an article, a story or an alert wraps that work in `log_context(...)`;
every line logged inside it (in this task, or on the database thread the task calls) carries
those ids as fields of its own, read from the context rather than from the message. With
LOG_FORMAT=json each line is one JSON object; otherwise the ids follow the message in brackets.
Known secret values are replaced in every message and traceback, whatever code logged them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from service.redaction import REDACTED, remember_secrets, scrub

__all__ = ["REDACTED", "SecretFilter", "bind_log_context", "configure_logging", "log_context"]

#: The fields a line can carry about what it concerns, in the order the plain format shows them.
CONTEXT_FIELDS = ("feed", "feed_id", "article_id", "story_id", "alert_id", "ticker", "recipient")
LogFormat = Literal["text", "json"]

_context: ContextVar[dict[str, Any] | None] = ContextVar("reewatch_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach `fields` (see CONTEXT_FIELDS; None values are left out) to every line logged inside."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    current = _context.get() or {}
    token = _context.set({**current, **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**fields: Any) -> None:
    """Attach `fields` to every line the current task logs from now on; a None value removes one.

    For a loop that works through items one after another in its own task."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    current = dict(_context.get() or {})
    for name, value in fields.items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    _context.set(current)


def current_log_context() -> dict[str, Any]:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Copies the current log context onto each record, unless the call passed the field itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_context.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


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
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, limit=None, keep_lines=True)
            # Formatters print exc_text when there is no exc_info; with it, the JSON one would
            # format the exception afresh, secrets and all.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, limit=None, keep_lines=True)
        return True


class TextFormatter(logging.Formatter):
    """`time level logger: message [feed=... alert_id=...]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - the stdlib's name
        line = super().formatMessage(record)
        fields = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)]
        return f"{line} [{' '.join(fields)}]" if fields else line


def json_formatter() -> logging.Formatter:
    """One JSON object a line: time, level, logger, message, the context fields, any traceback."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "traceback"},
        timestamp="time",  # ISO 8601 in UTC
        json_ensure_ascii=False,
    )


def configure_logging(level: str, secrets: Iterable[str] = (), *, fmt: LogFormat = "text") -> None:
    """Log to stderr at `level`, plain or JSON, with context fields and secrets scrubbed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    # Context first, then scrubbing: the scrubbed message is what either format prints.
    handler.addFilter(ContextFilter())
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that chat at INFO about every request or job ("Adding job tentatively", "Added
    # job", "Scheduler started"); their warnings (a missed run) still come through.
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler", "yfinance", "peewee", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # yfinance logs each ticker's failure at ERROR, several lines apiece; the price source reads
    # them from its own handler and logs one summary per cycle, so they stop there.
    logging.getLogger("yfinance").propagate = False
