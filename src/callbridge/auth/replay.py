"""The replay memory: which ``jti`` each call center has already presented, kept in the database (so it
survives restarts) until the token that carried it expires.

The very same token may come again (Salesforce's own token rotator reuses one token for an hour) unless the
policy is ``single-use``; the same ``jti`` in a *different* token is a replay. Tokens without a ``jti``
are never recorded.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.errors import TokenReplayed
from callbridge.auth.repository import (
    delete_expired_seen_token_ids,
    forget_seen_token_id_if_expired,
    get_seen_token_id,
)
from callbridge.auth.token import show
from callbridge.auth.verify import VerifiedToken
from callbridge.config import JtiPolicy, Settings
from callbridge.kit.db import Database
from callbridge.models import SeenTokenId

PURGE_INTERVAL = timedelta(minutes=1)


class Sighting(StrEnum):
    """What the replay memory knew about a token's jti before this presentation."""

    no_jti = "no-jti"  # nothing to remember
    first = "first"  # not seen before (now remembered, on the server path)
    same_token = "same-token"  # this very token was presented before


def judge(seen: SeenTokenId | None, verified: VerifiedToken, policy: JtiPolicy, now: datetime) -> Sighting:
    """Whether a token may pass given what the memory holds for its jti; raises ``TokenReplayed`` if not."""
    jti = verified.claims.jti
    if jti is None:
        return Sighting.no_jti
    if seen is None or seen.expires_at <= now:
        return Sighting.first
    if seen.token_sha256 != verified.token.sha256:
        raise TokenReplayed(
            f"The jti {show(jti)} was already used by another token of call center "
            f"{show(verified.call_center.api_name)}; every token needs its own jti."
        )
    if policy is JtiPolicy.single_use:
        raise TokenReplayed(
            f"This token (jti {show(jti)}) was already presented, "
            "and each token is accepted only once (jti policy single-use)."
        )
    return Sighting.same_token


async def look_up(session: AsyncSession, verified: VerifiedToken, settings: Settings, now: datetime) -> Sighting:
    """Judge the token against the memory without recording anything (``explain-token`` stops here)."""
    if verified.claims.jti is None:
        return Sighting.no_jti
    seen = await get_seen_token_id(session, verified.call_center.call_center_id, verified.claims.jti)
    return judge(seen, verified, settings.jti_policy, now)


class ReplayMemory:
    """The replay memory of one database, as seen from this process (which purges expired rows at most
    once per ``PURGE_INTERVAL``)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._next_purge: datetime | None = None

    async def record(self, verified: VerifiedToken, settings: Settings, now: datetime) -> Sighting:
        """Record the first sighting of a token's jti, in a short transaction of its own.

        Two requests racing with the same new jti both try to insert; the primary key lets one win and the
        other is judged against the winner's row (``TOKEN_REPLAYED`` unless it carried the very same token).
        """
        call_center_id, jti = verified.call_center.call_center_id, verified.claims.jti
        if jti is None:
            return Sighting.no_jti
        # Remembered until the token can no longer pass anyway: exp plus the clock-skew leeway.
        expires_at = datetime.fromtimestamp(verified.claims.exp, UTC) + timedelta(seconds=settings.clock_skew_seconds)
        try:
            async with self._database.write_session() as session:
                await forget_seen_token_id_if_expired(session, call_center_id, jti, now)
                session.add(
                    SeenTokenId(
                        call_center_id=call_center_id,
                        jti=jti,
                        token_sha256=verified.token.sha256,
                        expires_at=expires_at,
                    )
                )
                await session.flush()
                if self._next_purge is None or now >= self._next_purge:
                    self._next_purge = now + PURGE_INTERVAL
                    await delete_expired_seen_token_ids(session, now)
                await session.commit()
        except IntegrityError:
            async with self._database.read_session() as session:
                return await look_up(session, verified, settings, now)
        return Sighting.first


_memories: weakref.WeakKeyDictionary[Database, ReplayMemory] = weakref.WeakKeyDictionary()


def replay_memory(database: Database) -> ReplayMemory:
    """The one ``ReplayMemory`` of this process for ``database``."""
    memory = _memories.get(database)
    if memory is None:
        memory = _memories[database] = ReplayMemory(database)
    return memory
