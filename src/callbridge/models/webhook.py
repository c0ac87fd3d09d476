"""Webhook subscriptions (declared in the contact-centre file) and every delivery attempt made for them.

The timeline is the outbox: a subscription keeps only its cursor (the last timeline id settled: delivered,
dead-lettered or not wanted) and a lease naming the process that delivers for it now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, BigIntegerPK, UTCDateTime


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (UniqueConstraint("org_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[Any]] = mapped_column(default=list, comment="event types wanted; * for all")
    secret_env: Mapped[str] = mapped_column(String(255), comment="the environment variable holding the secret")
    call_centers: Mapped[list[Any]] = mapped_column(default=list, comment="call-center api_names; empty: all")
    status: Mapped[str] = mapped_column(String(16), default="active", comment="active or disabled")
    status_reason: Mapped[str | None] = mapped_column(String(1024))
    cursor: Mapped[int] = mapped_column(BigInteger, default=0, comment="the last timeline id settled")
    attempts: Mapped[int] = mapped_column(default=0, comment="failed attempts of the event after the cursor")
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0, comment="failed attempts, all events")
    dead: Mapped[int] = mapped_column(BigInteger, default=0, comment="events given up on (dead-lettered)")


class WebhookAttempt(Base):
    """One delivery attempt; ``outcome`` is delivered, retrying, dead (given up: dead-lettered) or gone (410)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription_id_id", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    webhook_id: Mapped[str] = mapped_column(String(128))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None]
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(1024))
    outcome: Mapped[str] = mapped_column(String(16))
