"""Settings from the environment and `.env`; read when asked for, never at import time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.redaction import remember_secrets

DEFAULT_DATABASE_URL = "sqlite:///var/reewatch.db"
#: A follow-up later than a day would report on another session's news.
MAX_FOLLOWUP_MINUTES = 24 * 60


def parse_followup_minutes(text: str) -> tuple[int, ...]:
    """'15,60' -> (15, 60); blank means no follow-ups. ValueError names what is wrong."""
    delays: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= MAX_FOLLOWUP_MINUTES:
            raise ValueError(
                f"follow-up delays are whole minutes from 1 to {MAX_FOLLOWUP_MINUTES}, like 15,60; not {part!r}"
            )
        delays.add(int(part))
    return tuple(sorted(delays))


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta | None:
    """'24h', '90m', '2d', '3600s' or a number of seconds -> a timedelta; '0' or blank -> None
    (no limit). ValueError names what is wrong."""
    value = text.strip().lower()
    if value in ("", "0", "off", "none"):
        return None
    unit = value[-1] if value[-1] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1] in _DURATION_UNITS else value
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f"a duration is a number with s, m, h or d, like 24h or 90m; not {text!r}") from None
    if amount < 0 or amount != amount:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    return timedelta(seconds=amount * _DURATION_UNITS[unit]) or None


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    rules_dir: Path = Field(Path("rules"), validation_alias="REEWATCH_RULES_DIR")
    var_dir: Path = Field(Path("var"), validation_alias="REEWATCH_VAR_DIR")
    log_level: str = Field("INFO", validation_alias="REEWATCH_LOG_LEVEL")
    #: `json`: one JSON object a line, with the feed, article, story and alert ids as fields.
    log_format: Literal["text", "json"] = Field("text", validation_alias="LOG_FORMAT")

    # Operations: /healthz, /readyz and /metrics on this port (unset: no HTTP server).
    http_port: int | None = Field(None, ge=1, le=65535, validation_alias="REEWATCH_HTTP_PORT")
    http_host: str = Field("127.0.0.1", validation_alias="REEWATCH_HTTP_HOST")
    #: Articles and price bars older than this many days are deleted (0 keeps everything).
    retention_days: int = Field(180, ge=0, le=36500, validation_alias="REEWATCH_RETENTION_DAYS")

    # Feed fetching. EDGAR and other official sites refuse anonymous clients: name a contact.
    contact: str = Field("ops@reewatch.invalid", validation_alias="REEWATCH_CONTACT")
    fetch_concurrency: int = Field(20, ge=1, le=500, validation_alias="REEWATCH_FETCH_CONCURRENCY")
    connect_timeout: float = Field(5.0, gt=0, validation_alias="REEWATCH_CONNECT_TIMEOUT")
    read_timeout: float = Field(20.0, gt=0, validation_alias="REEWATCH_READ_TIMEOUT")
    max_body_bytes: int = Field(5_000_000, ge=1024, validation_alias="REEWATCH_MAX_BODY_BYTES")
    #: The whole fetch (connect, headers and body) must end within this; it stays under the lease.
    fetch_deadline: float = Field(60.0, gt=0, le=240, validation_alias="REEWATCH_FETCH_DEADLINE")
    max_redirects: int = Field(5, ge=0, le=20, validation_alias="REEWATCH_MAX_REDIRECTS")
    max_backoff_seconds: int = Field(6 * 3600, ge=60, validation_alias="REEWATCH_MAX_BACKOFF")
    #: Processes that parse feeds in big cycles: unset = one per CPU, 0 = parse inline.
    parse_workers: int | None = Field(None, ge=0, le=32, validation_alias="REEWATCH_PARSE_WORKERS")
    #: One parse may take this long, and this much memory beyond what its worker holds at start.
    parse_deadline: float = Field(30.0, gt=0, le=240, validation_alias="REEWATCH_PARSE_DEADLINE")
    parse_memory_mb: int = Field(200, ge=16, le=8192, validation_alias="REEWATCH_PARSE_MEMORY_MB")
    #: The longest the service sleeps without looking for work another process may have changed
    #: (feeds.yaml and rules edits, feeds enabled, alerts queued elsewhere). Each feed is polled
    #: at its own due time whatever this is.
    scheduler_tick_seconds: float = Field(5.0, gt=0, validation_alias="REEWATCH_TICK_SECONDS")
    instance_id: str = Field("", max_length=80, validation_alias="REEWATCH_INSTANCE_ID")
    #: How often a running instance records that it is alive (and renews the leases of its work in
    #: flight); past REEWATCH_INSTANCE_TIMEOUT without one, others take its work over.
    heartbeat_seconds: float = Field(5.0, gt=0, le=300, validation_alias="REEWATCH_HEARTBEAT_SECONDS")
    instance_timeout: float = Field(15.0, gt=0, le=3600, validation_alias="REEWATCH_INSTANCE_TIMEOUT")

    # Slack (delivery issue) and SMTP (digest issue).
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_default_channel: str = Field("#rare-earth-alerts", validation_alias="SLACK_DEFAULT_CHANNEL")
    #: Seconds to wait for Slack's answer; past it the outcome is unknown and the channel is searched.
    slack_timeout: float = Field(10.0, gt=0, le=120, validation_alias="SLACK_TIMEOUT")
    #: Messages per second per channel (Slack allows about one), and how many may go at once.
    slack_channel_rate: float = Field(1.0, gt=0, le=100, validation_alias="SLACK_CHANNEL_RATE")
    slack_channel_burst: int = Field(3, ge=1, le=50, validation_alias="SLACK_CHANNEL_BURST")
    #: Back-off after a failed post: doubles from the base up to the cap, with jitter.
    slack_retry_base: float = Field(2.0, gt=0, validation_alias="SLACK_RETRY_BASE")
    slack_retry_max: float = Field(600.0, gt=0, validation_alias="SLACK_RETRY_MAX")
    smtp_host: str | None = Field(None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(587, validation_alias="SMTP_PORT")
    smtp_user: str | None = Field(None, validation_alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(None, validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(True, validation_alias="SMTP_STARTTLS")
    smtp_timeout: float = Field(30.0, gt=0, validation_alias="SMTP_TIMEOUT")
    digest_from: str = Field("reewatch <reewatch@localhost>", validation_alias="DIGEST_FROM")

    # Prices (see docs/prices.md). `replay` reads bars from a CSV file instead of Yahoo.
    price_source: Literal["yfinance", "replay"] = Field("yfinance", validation_alias="PRICE_SOURCE")
    #: The replay CSV; required with PRICE_SOURCE=replay.
    price_replay_file: Path | None = Field(None, validation_alias="REEWATCH_PRICE_REPLAY_FILE")
    price_poll_seconds: int = Field(120, ge=15, le=3600, validation_alias="REEWATCH_PRICE_POLL_SECONDS")
    price_intraday_interval: Literal["1m", "2m", "5m", "15m", "30m", "60m"] = Field(
        "5m", validation_alias="REEWATCH_PRICE_INTERVAL"
    )
    #: Also listen to Yahoo's live stream (unofficial); polling covers whatever it misses.
    price_stream: bool = Field(False, validation_alias="REEWATCH_PRICE_STREAM")
    price_stream_url: str = Field(
        "wss://streamer.finance.yahoo.com/?version=2", validation_alias="REEWATCH_PRICE_STREAM_URL"
    )
    #: Sessions without trading (zero volume, or no bars) before a ticker is flagged stale.
    price_stale_sessions: int = Field(3, ge=1, le=30, validation_alias="REEWATCH_PRICE_STALE_SESSIONS")
    #: Minutes after a news alert at which a thread reply reports the tickers' moves since; empty for none.
    followup_minutes: str = Field("15,60", validation_alias="REEWATCH_FOLLOWUP_MINUTES")

    @model_validator(mode="after")
    def _timeout_spans_heartbeats(self) -> Settings:
        # One late heartbeat (a slow database, a pause) must not make others take the work over.
        if self.instance_timeout < 2 * self.heartbeat_seconds:
            raise ValueError(
                f"REEWATCH_INSTANCE_TIMEOUT ({self.instance_timeout:g}s) must be at least twice "
                f"REEWATCH_HEARTBEAT_SECONDS ({self.heartbeat_seconds:g}s)"
            )
        return self

    @property
    def lease(self) -> timedelta:
        """How long a claim on a feed, an alert or a digest lasts unless renewed. Renewed at every
        heartbeat, it only ever lapses for a process that stopped beating (or never beat)."""
        return timedelta(seconds=2 * self.instance_timeout)

    @model_validator(mode="after")
    def _replay_needs_a_file(self) -> Settings:
        # Without a file the source would have no bars to give: every ticker would look silent.
        if self.price_source == "replay" and self.price_replay_file is None:
            raise ValueError(
                "PRICE_SOURCE=replay needs REEWATCH_PRICE_REPLAY_FILE, the CSV file of bars to replay"
            )
        return self

    def model_post_init(self, _context: object) -> None:
        # Whatever prints or stores outside text scrubs these values from it (service.redaction).
        remember_secrets(
            *(s.get_secret_value() for s in (self.slack_bot_token, self.smtp_password) if s),
            _database_password(self.database_url),
        )

    @field_validator("followup_minutes")
    @classmethod
    def _followup_minutes(cls, value: str) -> str:
        parse_followup_minutes(value)
        return value

    #: An item published longer ago than this never alerts (it is stored, grouped into its story
    #: and listed in digests); "0" alerts whatever the age.
    max_alert_age: str = Field("24h", validation_alias="REEWATCH_MAX_ALERT_AGE")

    @field_validator("max_alert_age")
    @classmethod
    def _max_alert_age(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def alert_age_limit(self) -> timedelta | None:
        """REEWATCH_MAX_ALERT_AGE as a timedelta; None when items of any age may alert."""
        return parse_duration(self.max_alert_age)

    @property
    def followup_delays(self) -> tuple[int, ...]:
        """REEWATCH_FOLLOWUP_MINUTES as whole minutes, ascending, each once."""
        return parse_followup_minutes(self.followup_minutes)

    @property
    def user_agent(self) -> str:
        from service import __version__

        return f"reewatch/{__version__} (rare-earth policy news monitor; contact {self.contact})"

    @property
    def feeds_file(self) -> Path:
        return self.rules_dir / "feeds.yaml"

    @property
    def yfinance_cache_dir(self) -> Path:
        return self.var_dir / "yfinance"

    @property
    def exchange_calendars_dir(self) -> Path:
        """Where exchanges' sessions are kept once built (service/domain/markets.py)."""
        return self.var_dir / "calendars"

    @property
    def digests_file(self) -> Path:
        return self.rules_dir / "digests.yaml"

    @property
    def calendar_file(self) -> Path:
        return self.rules_dir / "calendar.yaml"

    @property
    def watchlists_file(self) -> Path:
        return self.rules_dir / "watchlists.yaml"

    @property
    def outbox_dir(self) -> Path:
        """Where digests go as .eml and .html files when no SMTP host is set."""
        return self.var_dir / "outbox"


def _database_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # an unparsable URL fails later, where it is used
        return None


def load_settings(**overrides: object) -> Settings:
    """Read settings now (environment, then `.env`), with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
