"""Authorizing a bearer token: verification, then the replay memory. The server's one entry point."""

from __future__ import annotations

from callbridge.auth.context import CallCenterContext
from callbridge.auth.replay import Sighting, look_up, replay_memory
from callbridge.auth.verify import verify_token
from callbridge.config import Settings
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database


async def authorize_token(raw: str, *, settings: Settings, database: Database, clock: Clock) -> CallCenterContext:
    """The call center an accepted token acts for; raises the ``Unauthorized`` subclass naming the reason.

    A first-seen ``jti`` is recorded in a short transaction of its own, separate from the request's unit of
    work, so a request that later fails still used up its token id.
    """
    now = clock.now()
    async with database.read_session() as session:
        verified = await verify_token(raw, settings=settings, session=session, now=now)
        sighting = await look_up(session, verified, settings, now)
    if sighting is Sighting.first:
        await replay_memory(database).record(verified, settings, now)
    return verified.context
