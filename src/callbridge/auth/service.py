"""Authorizing a bearer token: verification, then the replay memory. The server's one entry point.

The hot path: a token already verified is served from the process's cache (``callbridge.auth.cache``) unless
the jti policy is ``single-use``; otherwise the call center's certificates come from that cache, the signature
is checked, and a first-seen ``jti`` is recorded: by the replay memory's group-commit writer
(``authorize_token``), or inside the transaction of the writer that stores the request's own work
(``authorize_deferred``, then ``DeferredAuthorization.sighting``), so that a request costs one commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from callbridge.auth.cache import auth_cache
from callbridge.auth.context import CallCenterContext
from callbridge.auth.replay import PendingSighting, replay_memory
from callbridge.auth.repository import CallCenterLookup
from callbridge.auth.verify import VerifiedToken, verify_with
from callbridge.config import Settings
from callbridge.errors import CallbridgeError
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database


@dataclass(frozen=True)
class DeferredAuthorization:
    """A token that passed verification, its jti not recorded yet.

    Exactly one of these must follow: the request's writer judges and records ``sighting`` in its transaction
    and then ``recorded()`` is called, or the request fails before reaching its writer and ``record_alone()``
    uses the jti up anyway (a refused request still spends its token id).
    """

    context: CallCenterContext
    sighting: PendingSighting | None  # None: nothing to record (a token served from memory, or without a jti)
    raw: str
    verified: VerifiedToken | None  # None when served from memory
    database: Database
    settings: Settings
    now: datetime

    def recorded(self) -> None:
        """The sighting was committed: the very same token may now be served from memory."""
        if self.verified is not None:
            auth_cache(self.database).remember(self.raw, self.verified, self.settings)

    async def record_alone(self) -> None:
        """Record the sighting in a transaction of its own; raises ``TokenReplayed`` as the writer would."""
        if self.verified is None:
            return
        await replay_memory(self.database).record(self.verified, self.settings, self.now)
        self.recorded()


@asynccontextmanager
async def spent_if_refused(auth: DeferredAuthorization) -> AsyncIterator[None]:
    """Around what a request does before its writer: a refusal there still uses the token's jti up (and a
    replayed token is refused as such, before the request's own reason)."""
    try:
        yield
    except CallbridgeError:
        await auth.record_alone()
        raise


async def authorize_deferred(
    raw: str, *, settings: Settings, database: Database, clock: Clock
) -> DeferredAuthorization:
    """Verify a token (raising the ``Unauthorized`` subclass naming the reason) without recording its jti."""
    now = clock.now()
    cache = auth_cache(database)
    context = cache.verified(raw, settings, now)
    if context is not None:
        return DeferredAuthorization(context, None, raw, None, database, settings, now)

    async def find(iss: str, sub: str) -> CallCenterLookup:
        return await cache.call_center(iss, sub, settings)

    verified = await verify_with(raw, settings=settings, find=find, now=now)
    sighting = replay_memory(database).sighting(verified, settings, now)
    return DeferredAuthorization(verified.context, sighting, raw, verified, database, settings, now)


async def authorize_token(raw: str, *, settings: Settings, database: Database, clock: Clock) -> CallCenterContext:
    """The call center an accepted token acts for; raises the ``Unauthorized`` subclass naming the reason.

    A first-seen ``jti`` is recorded in a transaction of its own (shared with other requests' jtis), separate
    from the request's unit of work, so a request that later fails still used up its token id.
    """
    deferred = await authorize_deferred(raw, settings=settings, database=database, clock=clock)
    await deferred.record_alone()
    return deferred.context
