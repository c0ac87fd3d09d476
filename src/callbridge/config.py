"""Typed settings, read from ``CALLBRIDGE_*`` environment variables (and ``.env``) when asked for."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callbridge.limits.faults import parse_faults

SCRT_AUDIENCE = "https://scrt.salesforce.com"


class AuthProfile(StrEnum):
    """Which generation of Salesforce's token rules to enforce."""

    current = "current"  # exp within 24 h, aud optional
    legacy = "legacy"  # the 2020-21 rules: aud required, exp within 3 minutes


class JtiPolicy(StrEnum):
    """What presenting a token with an already-seen ``jti`` means."""

    reuse_token = "reuse-token"  # the very same token may be presented again until it expires
    single_use = "single-use"  # every presentation needs a fresh jti


class LimitsProfile(StrEnum):
    """Which of Salesforce's published per-org limits are enforced (decisions.md "Limits")."""

    off = "off"  # nothing is refused for volume; bulk requests over Salesforce's 5 x 5 are only noted
    salesforce = "salesforce"  # 50 new VoiceCalls/s, 5,000 utterances/s over 30 s, bulk 5 x 5 per org


class LogFormat(StrEnum):
    """How log lines are rendered (callbridge.ops.logs)."""

    console = "console"  # readable lines for a terminal
    json = "json"  # one JSON object per line, for log collectors


BROKER_SCHEMES = ("memory", "postgresql", "postgres", "postgresql+asyncpg", "redis", "rediss")


def check_broker_url(url: str | None) -> str | None:
    """The broker URL if its scheme names a broker Callbridge has (``ValueError`` otherwise)."""
    if url and url.partition("://")[0].lower() not in BROKER_SCHEMES:
        raise ValueError(f"expected memory://, postgresql://... or redis://..., got {url.partition('://')[0]!r}")
    return url or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBRIDGE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/callbridge.db"
    # Where events cross processes (callbridge.events.brokers): unset or memory:// for one process,
    # postgresql://... (LISTEN/NOTIFY) or redis://... (Streams) when several processes or hosts serve.
    broker_url: str | None = None
    auth_profile: AuthProfile = AuthProfile.current
    jti_policy: JtiPolicy = JtiPolicy.reuse_token
    token_audience: str = SCRT_AUDIENCE
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    # How long a call center's certificates (and a token verified with them) are served from memory before the
    # database is read again; config revisions are checked as often (callbridge.auth.cache). 0: no caching.
    auth_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # What a connection may cost before a request is even authorized (docs/deployment.md "Limits and timeouts"):
    # the request line + headers (431 over it), how long they may take to arrive (408), how long a body may
    # stall between chunks, how long an idle keep-alive connection stays open, and a WebSocket message's size.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    keep_alive_timeout_seconds: float = Field(default=5.0, gt=0)
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    log_level: str = "info"
    # None: console when stderr is a terminal, json otherwise (callbridge.ops.logs).
    log_format: LogFormat | None = None
    # How long GET /readyz waits for the database and the broker before calling them down.
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # How long a request waits for the database (connecting, a pooled connection, a statement, a lock) before it
    # is answered 503 with Retry-After: a hung database never hangs requests (docs/deployment.md).
    database_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # Transcripts (decisions.md "Transcripts"): bulk limits, content size, the group-commit writer.
    # What Salesforce's own Contact Lens processor sends (more than the documented 5 x 5, which is only noted).
    transcript_bulk_max_entries: int = Field(default=100, ge=1)
    transcript_bulk_max_messages: int = Field(default=100, ge=1)
    transcript_max_content_chars: int = Field(default=32_000, ge=1)
    transcript_writer_batch_messages: int = Field(default=2_000, ge=1)
    transcript_writer_queue_messages: int = Field(default=50_000, ge=1)
    transcript_upload_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # Limits and faults for integrators (docs/configuration.md "Limits and faults"): the `salesforce` profile
    # enforces Salesforce's published per-org limits; the two numbers override its figures. CALLBRIDGE_FAULTS
    # injects errors and delays, e.g. "429=0.05,503=0.02,delay=300ms@0.1".
    limits: LimitsProfile = LimitsProfile.off
    limit_calls_per_second: int = Field(default=50, ge=1)
    limit_utterances_per_second: int = Field(default=5_000, ge=1)
    faults: str = ""
    # Routing (docs/api.md "Routing"): the timer that expires offers and releases callbacks, offers' default
    # push timeout (0-20 s, 0: no expiry), and how long an agent's console session lasts.
    routing_tick_seconds: float = Field(default=1.0, ge=0)
    routing_push_timeout_seconds: int = Field(default=20, ge=0, le=20)
    console_session_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    # Console security (docs/security.md): the session cookie's Secure flag (set it behind TLS), origins besides
    # the Host header's that may send state-changing console requests (a proxy's public origin), and sign-in
    # throttling: failures per username and per client address within a sliding window.
    cookie_secure: bool = False
    console_allowed_origins: str = ""
    console_sign_in_failures_per_username: int = Field(default=5, ge=1)
    console_sign_in_failures_per_address: int = Field(default=20, ge=1)
    console_sign_in_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # The push channel: heartbeat when idle, a connection's life before it is told to reconnect, how many
    # missed events a resume may replay, and how many events may wait for a slow client before it resumes
    # from storage.
    console_stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    console_stream_max_life_seconds: float = Field(default=3600.0, gt=0)
    console_stream_replay_max: int = Field(default=50_000, ge=1)
    console_stream_queue_size: int = Field(default=10_000, ge=1)
    # Webhooks (docs/integrations.md): whether this process delivers, how often it looks for new events, each
    # request's timeout, the retry schedule (exponential from base to max, with jitter; an event still failing
    # after the window is dead-lettered), and how long a process's claim on a subscription lasts unrenewed.
    webhook_delivery: bool = True
    webhook_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_retry_base_seconds: float = Field(default=1.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=600.0, gt=0)
    webhook_retry_window_seconds: float = Field(default=24 * 3600.0, ge=0)
    webhook_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    webhook_max_in_flight: int = Field(default=32, ge=1, le=256)

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, url: str | None) -> str | None:
        return check_broker_url(url)

    @field_validator("faults")
    @classmethod
    def _readable_faults(cls, faults: str) -> str:
        parse_faults(faults)  # a bad item fails at start-up, named
        return faults

    @property
    def max_token_lifetime_seconds(self) -> int:
        return 180 if self.auth_profile is AuthProfile.legacy else 24 * 3600


@lru_cache
def get_settings() -> Settings:
    """The process's settings, built on first use (never at import time)."""
    return Settings()
