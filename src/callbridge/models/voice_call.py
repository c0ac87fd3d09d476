"""VoiceCall, its recording, its conversation and the conversation's participants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbridge.kit.db import Base, UTCDateTime
from callbridge.models.contact_center import CallCenter


class Conversation(Base):
    """One per first leg: every transfer leg of a call shares its first leg's conversation."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0dw id")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    conversation_identifier: Mapped[str] = mapped_column(String(255), comment="first leg's vendorCallKey")
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    call_center: Mapped[CallCenter] = relationship(lazy="raise")


class ConversationParticipant(Base):
    __tablename__ = "conversation_participants"

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0dx id")
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    participant_role: Mapped[str] = mapped_column(String(36), comment="EndUser, Agent, Supervisor, ...")
    participant_key: Mapped[str] = mapped_column(String(255), comment="END_USER for the end user (privacy)")
    participant_display_name: Mapped[str | None] = mapped_column(String(255), comment="key as the client sent it")
    app_type: Mapped[str] = mapped_column(String(255), default="telephony_integration")
    joined_time: Mapped[datetime] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    conversation: Mapped[Conversation] = relationship(lazy="raise")


class VoiceCall(Base):
    __tablename__ = "voice_calls"
    __table_args__ = (
        Index("ix_voice_calls_call_center_id_vendor_call_key", "call_center_id", "vendor_call_key"),
        # A vendorCallKey names at most one first leg per call center: the guard for idempotent create.
        Index(
            "uq_voice_calls_first_leg_key",
            "call_center_id",
            "vendor_call_key",
            unique=True,
            sqlite_where=text("previous_call_id IS NULL"),
            postgresql_where=text("previous_call_id IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0LQ id")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"))
    vendor_call_key: Mapped[str] = mapped_column(String(255))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    call_type: Mapped[str] = mapped_column(String(32), comment="Inbound, Transfer, Outbound, Callback, ...")
    call_subtype: Mapped[str | None] = mapped_column(String(16), comment="PSTN or WebRTC")
    call_origin: Mapped[str | None] = mapped_column(String(32))
    call_disposition: Mapped[str] = mapped_column(String(16), comment="new, in-progress, completed")
    from_phone_number: Mapped[str | None] = mapped_column(String(255))
    to_phone_number: Mapped[str | None] = mapped_column(String(255))
    call_start_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call_end_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call_duration_in_seconds: Mapped[int | None]
    call_accept_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call_queued_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customer_hold_duration: Mapped[int | None]
    longest_hold_duration: Mapped[int | None]
    number_of_holds: Mapped[int | None]
    agent_interaction_duration: Mapped[int | None]
    queue_name: Mapped[str | None] = mapped_column(String(255))
    owner_queue_id: Mapped[str | None] = mapped_column(String(18), comment="queue that owns a transferred call")
    agent_username: Mapped[str | None] = mapped_column(String(255))
    disconnect_reason: Mapped[str | None] = mapped_column(String(255))
    disconnect_reason_is_error: Mapped[bool | None]
    is_active_call: Mapped[bool] = mapped_column(default=True)
    is_on_hold: Mapped[bool] = mapped_column(default=False, comment="transcripts are dropped while on hold")
    is_recording_paused: Mapped[bool] = mapped_column(default=False, comment="transcripts are dropped while paused")
    call_attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    previous_call_id: Mapped[str | None] = mapped_column(String(18), index=True)
    next_call_id: Mapped[str | None] = mapped_column(String(18))
    call_recording_id: Mapped[str | None] = mapped_column(String(18))
    is_recorded: Mapped[bool] = mapped_column(default=False)
    telephony_provider_name: Mapped[str | None] = mapped_column(String(255))
    agent_sentiment_score: Mapped[float | None] = mapped_column(comment="-5..5, from post-call events")
    customer_sentiment_score: Mapped[float | None] = mapped_column(comment="-5..5, from post-call events")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    conversation: Mapped[Conversation] = relationship(lazy="raise")


class VoiceCallRecording(Base):
    """At most one per VoiceCall."""

    __tablename__ = "voice_call_recordings"

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0Lr id")
    voice_call_id: Mapped[str] = mapped_column(ForeignKey("voice_calls.id", ondelete="CASCADE"), unique=True)
    recording_location: Mapped[str] = mapped_column(String(1000))
    duration_in_seconds: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    voice_call: Mapped[VoiceCall] = relationship(lazy="raise")
