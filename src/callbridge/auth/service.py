"""Authorizing a bearer token: verification, then the replay memory. The server's one entry point.

The hot path: a token already verified is served from the process's cache (``callbridge.auth.cache``) unless
the jti policy is ``single-use``; otherwise the call center's certificates come from that cache, the signature
is checked, and a first-seen ``jti`` goes to the replay memory's group-commit writer.
"""

from __future__ import annotations

from callbridge.auth.cache import auth_cache
from callbridge.auth.context import CallCenterContext
from callbridge.auth.replay import replay_memory
from callbridge.auth.repository import CallCenterLookup
from callbridge.auth.verify import verify_with
from callbridge.config import Settings
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database


async def authorize_token(raw: str, *, settings: Settings, database: Database, clock: Clock) -> CallCenterContext:
    """The call center an accepted token acts for; raises the ``Unauthorized`` subclass naming the reason.

    A first-seen ``jti`` is recorded in a transaction of its own (shared with other requests' jtis), separate
    from the request's unit of work, so a request that later fails still used up its token id.
    """
    now = clock.now()
    cache = auth_cache(database)
    context = cache.verified(raw, settings, now)
    if context is not None:
        return context

    async def find(iss: str, sub: str) -> CallCenterLookup:
        return await cache.call_center(iss, sub, settings)

    verified = await verify_with(raw, settings=settings, find=find, now=now)
    await replay_memory(database).record(verified, settings, now)
    cache.remember(raw, verified, settings)
    return verified.context
