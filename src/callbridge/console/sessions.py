"""Console sessions: a random token handed to the agent once; the database keeps only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.console.errors import SessionExpired, SessionInvalid
from callbridge.models import Agent, AgentSession

COOKIE = "callbridge_session"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The agent a console request acts as."""

    agent: Agent
    token_sha256: str

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
    )
    session.add(row)
    return token, row


async def signed_in(session: AsyncSession, token: str, now: datetime) -> SignedIn:
    """The agent of a session token; 401 SESSION_INVALID or SESSION_EXPIRED otherwise."""
    key = digest(token)
    found = (
        await session.execute(
            select(AgentSession, Agent)
            .join(Agent, Agent.user_id == AgentSession.user_id)
            .where(AgentSession.token_sha256 == key)
        )
    ).first()
    if found is None:
        raise SessionInvalid()
    row, agent = found
    if row.expires_at <= now:
        raise SessionExpired()
    return SignedIn(agent, key)


async def close_session(session: AsyncSession, token_sha256: str) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.token_sha256 == token_sha256))


async def forget_expired(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
