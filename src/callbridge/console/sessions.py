"""Console sessions: a random token handed to the agent once; the database keeps only its SHA-256.

A session ends when the agent signs out (its row is deleted), when it expires, or when the agent's password
changes (``callbridge apply`` or ``callbridge agent set-password``): each session remembers a stamp of the
password hash it signed in with, and a different stamp means a new password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.console.errors import SessionEnded, SessionExpired, SessionInvalid, SessionPasswordChanged
from callbridge.errors import CallbridgeError
from callbridge.models import Agent, AgentSession

COOKIE = "callbridge_session"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_stamp(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The agent a console request acts as."""

    agent: Agent
    token_sha256: str
    expires_at: datetime | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.agent.role == "supervisor"


def open_session(session: AsyncSession, agent: Agent, now: datetime, ttl_seconds: int) -> tuple[str, AgentSession]:
    token = secrets.token_urlsafe(32)
    row = AgentSession(
        token_sha256=digest(token),
        user_id=agent.user_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        password_stamp=password_stamp(agent.password_hash),
    )
    session.add(row)
    return token, row


async def _check(session: AsyncSession, key: str, now: datetime) -> SignedIn | CallbridgeError:
    found = (
        await session.execute(
            select(AgentSession, Agent)
            .join(Agent, Agent.user_id == AgentSession.user_id)
            .where(AgentSession.token_sha256 == key)
        )
    ).first()
    if found is None:
        return SessionInvalid()
    row, agent = found
    if row.expires_at <= now:
        return SessionExpired()
    # A session opened before stamps existed (None) lives out its expiry.
    if row.password_stamp is not None and row.password_stamp != password_stamp(agent.password_hash):
        return SessionPasswordChanged()
    return SignedIn(agent, key, row.expires_at)


async def signed_in(session: AsyncSession, token: str, now: datetime) -> SignedIn:
    """The agent of a session token; 401 SESSION_INVALID, SESSION_EXPIRED or SESSION_PASSWORD_CHANGED otherwise."""
    outcome = await _check(session, digest(token), now)
    if isinstance(outcome, CallbridgeError):
        raise outcome
    return outcome


async def still_signed_in(session: AsyncSession, token_sha256: str, now: datetime) -> CallbridgeError | None:
    """None while the session stands; the error that ends it otherwise (a stream's periodic check)."""
    outcome = await _check(session, token_sha256, now)
    if isinstance(outcome, SessionInvalid):
        return SessionEnded()  # it was valid when the stream began: signed out (or the agent removed)
    return outcome if isinstance(outcome, CallbridgeError) else None


async def close_session(session: AsyncSession, token_sha256: str) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.token_sha256 == token_sha256))


async def forget_expired(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
