"""The newest telephony endpoints' state: routable-number leases, voice-call contexts and the voicemail drop an
agent picked for a call. Rows live in the database so that every process answers alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, UTCDateTime


class RoutableNumberLease(Base):
    """One reservation of a pooled number. ``active_number`` holds the number while the lease is live and is
    cleared once it expired or a call arrived on it: the unique constraint on it is what keeps two concurrent
    reservations (in any process) from getting the same number."""

    __tablename__ = "routable_number_leases"
    __table_args__ = (
        UniqueConstraint("call_center_id", "active_number"),
        Index("ix_routable_number_leases_arrival", "call_center_id", "routable_number", "from_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, comment="handle.uid")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"))
    routable_number: Mapped[str] = mapped_column(String(16))
    active_number: Mapped[str | None] = mapped_column(String(16), comment="set while the lease holds the number")
    country_code: Mapped[str] = mapped_column(String(2))
    from_number: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    original_from_number: Mapped[str | None] = mapped_column(String(16))
    scrt2_domain: Mapped[str | None] = mapped_column(String(255))
    call_id: Mapped[str | None] = mapped_column(String(255), comment="context.callId")
    transaction_id: Mapped[str | None] = mapped_column(String(255), comment="context.transactionId")
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voice_call_id: Mapped[str | None] = mapped_column(String(18), comment="the call that arrived on it")
    correlated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VoiceCallContext(Base):
    """A context made by ``createVoiceCallContext``, until a create is correlated with it or it expires."""

    __tablename__ = "voice_call_contexts"
    __table_args__ = (Index("ix_voice_call_contexts_arrival", "call_center_id", "to_number", "from_number"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="handle.correlationId")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"))
    from_number: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    scrt2_domain: Mapped[str | None] = mapped_column(String(255))
    call_id: Mapped[str | None] = mapped_column(String(255), comment="context.callId")
    transaction_id: Mapped[str | None] = mapped_column(String(255), comment="context.transactionId")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    voice_call_id: Mapped[str | None] = mapped_column(String(18), comment="the call correlated with it")
    correlated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VoicemailDropPick(Base):
    """The voicemail drop an agent picked for a call (at most one per VoiceCall; a new pick replaces it)."""

    __tablename__ = "voicemail_drop_picks"

    voice_call_id: Mapped[str] = mapped_column(ForeignKey("voice_calls.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(255))
    recording_url: Mapped[str] = mapped_column(String(2048))
    picked_by: Mapped[str] = mapped_column(String(18), comment="005 user id")
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime())
