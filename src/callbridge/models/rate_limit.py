"""Per-org rate-limit counters shared by every process serving one PostgreSQL database (callbridge.limits.stores).

On PostgreSQL the migration creates the table UNLOGGED: its rows are worth nothing after a crash."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    org_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    limit_name: Mapped[str] = mapped_column(String(64), primary_key=True, comment="e.g. new_voice_calls")
    window_start: Mapped[int] = mapped_column(BigInteger, comment="epoch seconds the current window began")
    used: Mapped[int] = mapped_column(BigInteger, comment="what the current window has taken")
