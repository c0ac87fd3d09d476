"""Agents' console sessions (only a hash of each token is stored, with its expiry), and the failed sign-ins
that throttle guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, BigIntegerPK, UTCDateTime


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("agents.user_id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    password_stamp: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of the password hash it signed in with: a new password ends the session"
    )


class SignInAttempt(Base):
    """A console sign-in being checked or refused, once per username and once per client address (as hashes:
    any text may be typed as a username); counted over a sliding window to throttle guessing."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_subject_at", "subject", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), comment="SHA-256 of 'username:...' or 'address:...'")
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
