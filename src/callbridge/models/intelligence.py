"""The conversation data store of intelligence signals: post-call events and persisted real-time events, each
linked to its VoiceCall and to the transcript entries its time span overlaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbridge.kit.db import Base, BigIntegerPK, UTCDateTime
from callbridge.models.voice_call import Conversation


class ConversationEvent(Base):
    """One stored signal. ``natural_key`` makes a resent batch change nothing (see intelligence.rules)."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        # Named explicitly: the conventional names pass PostgreSQL's 63-character limit.
        UniqueConstraint("conversation_id", "natural_key", name="uq_conversation_events_natural_key"),
        Index("ix_conversation_events_conversation_start", "conversation_id", "start_time", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    call_center_id: Mapped[str] = mapped_column(String(18))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    voice_call_id: Mapped[str] = mapped_column(
        ForeignKey("voice_calls.id", ondelete="CASCADE"), index=True, comment="the VoiceCall the event is about"
    )
    source: Mapped[str] = mapped_column(String(16), comment="realtime or post_call")
    service: Mapped[str] = mapped_column(String(255), comment="e.g. AmazonConnectContactLens")
    type: Mapped[str] = mapped_column(String(64), comment="IntelligenceSignal__Category, __Sentiment, ...")
    value: Mapped[str] = mapped_column(String(1024), comment="as sent (a number is kept in its string form)")
    numeric_value: Mapped[float | None] = mapped_column(comment="the value as a number, for sentiment types")
    sentiment_score: Mapped[float | None] = mapped_column(
        comment="OverallSentimentScore on the VoiceCall's -5..5 scale (intelligence.sentiment)"
    )
    score: Mapped[float | None] = mapped_column(comment="vendor confidence 0..1000 (real-time only)")
    participant: Mapped[str | None] = mapped_column(String(16), comment="AGENT or CUSTOMER")
    start_time: Mapped[int] = mapped_column(BigInteger, comment="epoch ms, after seconds were normalised")
    end_time: Mapped[int | None] = mapped_column(BigInteger, comment="epoch ms; none for real-time events")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="real-time details, kept as given")
    natural_key: Mapped[str] = mapped_column(String(64), comment="sha256 of type, participant, times, value")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    conversation: Mapped[Conversation] = relationship(lazy="raise")


class ConversationEventEntry(Base):
    """A link from a stored event to a transcript entry whose span overlaps the event's."""

    __tablename__ = "conversation_event_entries"

    event_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("conversation_events.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    entry_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("conversation_entries.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
        index=True,
    )
