"""The append-only timeline of every call: what arrived, when, what happened and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, BigIntegerPK, UTCDateTime


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_voice_call_id_id", "voice_call_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True, comment="monotonic: the resume point")
    call_center_id: Mapped[str] = mapped_column(String(18), index=True)
    voice_call_id: Mapped[str | None] = mapped_column(String(18))
    conversation_id: Mapped[str | None] = mapped_column(String(18), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64), comment="e.g. voice_call.created, transcript.dropped")
    actor: Mapped[str] = mapped_column(String(255), comment="who caused it, e.g. telephony:amazon-connect")
    request: Mapped[str | None] = mapped_column(String(512), comment="method and path of the request")
    outcome: Mapped[str] = mapped_column(String(32), comment="created, updated, accepted, dropped, ...")
    reason: Mapped[str | None] = mapped_column(String(1024))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
