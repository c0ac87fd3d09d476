"""Salesforce's per-org limits (``CALLBRIDGE_LIMITS=salesforce``; decisions.md "Limits").

==================  ===================================================  ==================================
limit               budget per org                                        over it
==================  ===================================================  ==================================
new_voice_calls     ``limit_calls_per_second`` (50) in each 1 s window    ``POST /voiceCalls``: 429
utterances          ``limit_utterances_per_second`` (5,000) x 30 in       single POST: 429; bulk: the entry
                    each 30 s window (150,000)                            is a RESOURCE_EXHAUSTED entry
==================  ===================================================  ==================================

Windows are fixed (each begins at a multiple of its length, in epoch seconds) and counted where every process
serving sees them (``callbridge.limits.stores``). A request is counted once it passed authorization and
validation, just before its work is queued: a refused one was not processed at all, and its token id is not
spent (as with a 503 from a full writer queue), so the client may retry with the same token. Every create
counts, an idempotent repeat of a vendorCallKey included: which creates are repeats is known only to the
writer, after the limit is taken. ``Retry-After`` is the whole seconds until the window ends (at least 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from callbridge.config import LimitsProfile, Settings
from callbridge.errors import TooManyRequests
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.limits.stores import CounterStore, store_for
from callbridge.ops.metrics import count_limit_refusal

log = structlog.get_logger()

RESOURCE_EXHAUSTED = "Error: io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: Rate limit exceeded"


@dataclass(frozen=True)
class Limit:
    name: str
    per_second: int
    window_seconds: int
    noun: str

    @property
    def budget(self) -> int:
        return self.per_second * self.window_seconds


@dataclass(frozen=True)
class Taken:
    granted: list[bool]
    retry_after: int  # whole seconds until the window ends, at least 1


class RateLimitExceeded(TooManyRequests):
    code = "RATE_LIMIT_EXCEEDED"

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(
            f"Over the org's limit of {limit.per_second:,} {limit.noun} per second (CALLBRIDGE_LIMITS=salesforce): "
            f"nothing was processed; retry after {retry_after} s.",
            retry_after=retry_after,
        )
        self.errors = [f"{limit.name}: at most {limit.budget:,} per org in each {limit.window_seconds} s window"]


def resource_exhausted_message(message_ids: Sequence[str]) -> str:
    """A bulk entry's message when it is over the utterance limit, as Salesforce words it."""
    return f"Error Processing Transcript with Id(s) [{', '.join(message_ids)}]. {RESOURCE_EXHAUSTED}"


class Limiter:
    def __init__(self, settings: Settings, store: CounterStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock
        self.new_voice_calls = Limit("new_voice_calls", settings.limit_calls_per_second, 1, "new VoiceCalls")
        self.utterances = Limit("utterances", settings.limit_utterances_per_second, 30, "utterances")

    async def take(self, limit: Limit, org_id: str, sizes: Sequence[int]) -> Taken:
        """Take ``sizes`` (in order, each whole or not at all) from ``org_id``'s current window of ``limit``."""
        now = self._clock.now().timestamp()
        window_start = int(now // limit.window_seconds) * limit.window_seconds
        retry_after = max(1, math.ceil(window_start + limit.window_seconds - now))
        try:
            granted = await self.store.take(org_id, limit.name, window_start, limit.window_seconds, limit.budget, sizes)
        except (DBAPIError, OSError, RedisError) as exc:
            # The limits are a testing aid: a store out of reach lets requests through rather than refuse them.
            log.warning("rate limit store unavailable; not limiting", limit=limit.name, error=str(exc)[:300])
            granted = [True] * len(sizes)
        for fitted in granted:
            if not fitted:
                count_limit_refusal(limit.name)
        return Taken(granted, retry_after)

    async def take_or_refuse(self, limit: Limit, org_id: str, size: int = 1) -> None:
        """Take ``size`` or raise ``RateLimitExceeded`` (429 with Retry-After)."""
        taken = await self.take(limit, org_id, [size])
        if not taken.granted[0]:
            raise RateLimitExceeded(limit, taken.retry_after)

    async def close(self) -> None:
        await self.store.close()


def limiter_for(settings: Settings, database: Database, clock: Clock) -> Limiter | None:
    """The limiter the settings ask for; None when limits are off."""
    if settings.limits is LimitsProfile.off:
        return None
    return Limiter(settings, store_for(settings.broker_url, database), clock)
