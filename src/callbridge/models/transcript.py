"""Transcripts: the entries of a conversation, and the status of each conversation upload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbridge.kit.db import Base, BigIntegerPK, UTCDateTime
from callbridge.models.voice_call import Conversation


class ConversationEntry(Base):
    """One utterance of a conversation (Salesforce's ConversationEntry), ordered by when it was received."""

    __tablename__ = "conversation_entries"
    __table_args__ = (
        # Named explicitly: the conventional names pass PostgreSQL's 63-character limit.
        UniqueConstraint("conversation_id", "identifier", name="uq_conversation_entries_identifier"),
        UniqueConstraint("conversation_id", "server_received_timestamp", name="uq_conversation_entries_received"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(255), comment="the client's messageId, unique per conversation")
    message_text: Mapped[str] = mapped_column(Text)
    sender_role: Mapped[str] = mapped_column(String(36), comment="EndUser, Agent, Supervisor, VirtualAgent, ...")
    sender_id: Mapped[str] = mapped_column(String(300), comment="the participantId after rewriting")
    participant_id: Mapped[str] = mapped_column(String(18), comment="the ConversationParticipant (0dx) who spoke")
    client_timestamp: Mapped[int] = mapped_column(BigInteger, comment="startTime, epoch ms")
    client_duration: Mapped[int] = mapped_column(BigInteger, comment="endTime - startTime, ms")
    server_received_timestamp: Mapped[int] = mapped_column(
        BigInteger, comment="epoch ms, strictly increasing per conversation: the ordering key"
    )
    voice_call_id: Mapped[str | None] = mapped_column(String(18), comment="the leg that was current on arrival")
    version: Mapped[int] = mapped_column(default=1, comment="1 + how many times the content was replaced")
    is_redacted: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), comment="realtime or upload")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    conversation: Mapped[Conversation] = relationship(lazy="raise")


class ConversationUpload(Base):
    """One part of a ``connect/conversations/upload`` request: what became of one conversation's file."""

    __tablename__ = "conversation_uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, comment="the uploadId")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    conversation_identifier: Mapped[str] = mapped_column(String(255), comment="the part's name, as sent")
    conversation_id: Mapped[str | None] = mapped_column(String(18), comment="0dw id, when it was found")
    status: Mapped[str] = mapped_column(String(32), comment="InProgress, Completed or Failed")
    error_detail: Mapped[str | None] = mapped_column(String(1024))
    success_entry_count: Mapped[int] = mapped_column(default=0)
    failed_entry_count: Mapped[int] = mapped_column(default=0)
    failed_entry_ids: Mapped[list[Any]] = mapped_column(default=list, comment="at most the first 10,000")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
