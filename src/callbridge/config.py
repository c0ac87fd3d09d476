"""Typed settings, read from ``CALLBRIDGE_*`` environment variables (and ``.env``) when asked for."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SCRT_AUDIENCE = "https://scrt.salesforce.com"


class AuthProfile(StrEnum):
    """Which generation of Salesforce's token rules to enforce."""

    current = "current"  # exp within 24 h, aud optional
    legacy = "legacy"  # the 2020-21 rules: aud required, exp within 3 minutes


class JtiPolicy(StrEnum):
    """What presenting a token with an already-seen ``jti`` means."""

    reuse_token = "reuse-token"  # the very same token may be presented again until it expires
    single_use = "single-use"  # every presentation needs a fresh jti


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBRIDGE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/callbridge.db"
    auth_profile: AuthProfile = AuthProfile.current
    jti_policy: JtiPolicy = JtiPolicy.reuse_token
    token_audience: str = SCRT_AUDIENCE
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: str = "info"

    @property
    def max_token_lifetime_seconds(self) -> int:
        return 180 if self.auth_profile is AuthProfile.legacy else 24 * 3600


@lru_cache
def get_settings() -> Settings:
    """The process's settings, built on first use (never at import time)."""
    return Settings()
