"""The replay memory: which ``jti`` each call center has already presented, kept in the database (so it
survives restarts) until the token that carried it expires.

The very same token may come again (Salesforce's own token rotator reuses one token for an hour) unless the
policy is ``single-use``; the same ``jti`` in a *different* token is a replay. Tokens without a ``jti``
are never recorded.

First sightings are recorded through a group-commit writer (``callbridge.kit.writer``): every jti that arrives
while one batch commits goes into the next transaction, and each request is answered only once the
transaction holding its jti committed. Replays across processes are still caught by the primary key: a row
inserted by another process first makes this one's insert do nothing, and the token is judged against it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.errors import TokenReplayed
from callbridge.auth.repository import (
    delete_expired_seen_token_ids,
    get_seen_token_id,
    insert_new_seen_token_ids,
    seen_token_ids,
)
from callbridge.auth.token import show
from callbridge.auth.verify import VerifiedToken
from callbridge.config import JtiPolicy, Settings
from callbridge.events.broker import InProcessBroker
from callbridge.kit.db import Database
from callbridge.kit.writer import BatchWriter, Written

PURGE_INTERVAL = timedelta(minutes=1)
# A batch holds at most this many first sightings; at most this many wait (then 503 with Retry-After).
MAX_BATCH = 1000
MAX_QUEUED = 20_000


class Sighting(StrEnum):
    """What the replay memory knew about a token's jti before this presentation."""

    no_jti = "no-jti"  # nothing to remember
    first = "first"  # not seen before (now remembered, on the server path)
    same_token = "same-token"  # this very token was presented before


class Seen(Protocol):
    """A remembered jti: which token carried it first, and until when it is remembered."""

    @property
    def token_sha256(self) -> str: ...

    @property
    def expires_at(self) -> datetime: ...


def judge(seen: Seen | None, verified: VerifiedToken, policy: JtiPolicy, now: datetime) -> Sighting:
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


@dataclass(frozen=True)
class PendingSighting:
    """One presentation of a token with a jti, to judge and (if first) record: by the replay memory's own
    writer, or inside another writer's transaction (``ReplayMemory.refused_sightings``)."""

    verified: VerifiedToken
    policy: JtiPolicy
    now: datetime
    expires_at: datetime  # exp plus the clock-skew leeway: until then the jti cannot come back

    @property
    def key(self) -> tuple[str, str]:
        assert self.verified.claims.jti is not None
        return self.verified.call_center.call_center_id, self.verified.claims.jti


@dataclass(frozen=True)
class _Row:
    token_sha256: str
    expires_at: datetime


SightingResult = Sighting | TokenReplayed


class _SightingsHandler:
    """Writes one batch of sightings: insert the first sighting of each new jti, or of one whose remembered
    token has expired (doing nothing where another process got there first), then judge every sighting in
    arrival order against what the memory holds."""

    def __init__(self) -> None:
        self._next_purge: datetime | None = None

    async def write(self, session: AsyncSession, jobs: Sequence[PendingSighting]) -> Written[SightingResult]:
        now = max(job.now for job in jobs)
        keys = {job.key for job in jobs}
        first_of: dict[tuple[str, str], PendingSighting] = {}
        for job in jobs:
            first_of.setdefault(job.key, job)
        rows = [
            {
                "call_center_id": key[0],
                "jti": key[1],
                "token_sha256": job.verified.token.sha256,
                "expires_at": job.expires_at,
            }
            for key, job in first_of.items()
        ]
        inserted = await insert_new_seen_token_ids(session, rows, now)
        held: dict[tuple[str, str], Seen] = {}
        missing = keys - inserted
        if missing:  # remembered before, or inserted by another process since: judge against what is stored
            held.update(await seen_token_ids(session, missing))
        if self._next_purge is None or now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL
            await delete_expired_seen_token_ids(session, now)
        results: list[SightingResult] = []
        for job in jobs:
            key = job.key
            if key in inserted and first_of[key] is job:
                results.append(Sighting.first)
                held[key] = _Row(job.verified.token.sha256, job.expires_at)
                continue
            try:
                results.append(judge(held.get(key), job.verified, job.policy, job.now))
            except TokenReplayed as refused:
                results.append(refused)
        return Written(results)


class ReplayMemory:
    """The replay memory of one database, as seen from this process (which purges expired rows at most
    once per ``PURGE_INTERVAL``)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._handler = _SightingsHandler()
        self._writer: BatchWriter[PendingSighting, SightingResult] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _running_writer(self) -> BatchWriter[PendingSighting, SightingResult]:
        """The writer task of the running event loop (started on first use)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._loop is not loop:
            self._writer = BatchWriter(
                self._database,
                InProcessBroker(),
                self._handler,
                max_batch_weight=MAX_BATCH,
                max_queued_weight=MAX_QUEUED,
                name="token ids",
            )
            self._loop = loop
            self._writer.start()
        return self._writer

    def sighting(self, verified: VerifiedToken, settings: Settings, now: datetime) -> PendingSighting | None:
        """What recording this presentation takes; None for a token without a jti (nothing to remember)."""
        if verified.claims.jti is None:
            return None
        expires_at = datetime.fromtimestamp(verified.claims.exp, UTC) + timedelta(seconds=settings.clock_skew_seconds)
        return PendingSighting(verified, settings.jti_policy, now, expires_at)

    async def refused_sightings(
        self, session: AsyncSession, sightings: Sequence[PendingSighting | None]
    ) -> dict[int, TokenReplayed]:
        """Judge and record sightings inside the caller's transaction, one per job of a writer's batch (None
        where a job has nothing to record), so the jti commits with the request's work (one transaction
        instead of two per batch); the refusal of each job whose token is replayed, by its index."""
        pending = [(index, sighting) for index, sighting in enumerate(sightings) if sighting is not None]
        if not pending:
            return {}
        judged = await self._handler.write(session, [sighting for _, sighting in pending])
        return {
            index: result
            for (index, _), result in zip(pending, judged.results, strict=True)
            if isinstance(result, TokenReplayed)
        }

    async def record(self, verified: VerifiedToken, settings: Settings, now: datetime) -> Sighting:
        """Judge a verified token against the memory and record its jti's first sighting; answers once that is
        committed. Raises ``TokenReplayed`` for the same jti in another token (or, under ``single-use``, the
        same token again).

        Two requests racing with the same new jti, here or in another process, both try to insert; the primary
        key lets one win and the other is judged against the winner's row.
        """
        job = self.sighting(verified, settings, now)
        if job is None:
            return Sighting.no_jti
        result = await self._running_writer().submit(job)
        if isinstance(result, TokenReplayed):
            raise result
        return result


_memories: weakref.WeakKeyDictionary[Database, ReplayMemory] = weakref.WeakKeyDictionary()


def replay_memory(database: Database) -> ReplayMemory:
    """The one ``ReplayMemory`` of this process for ``database``."""
    memory = _memories.get(database)
    if memory is None:
        memory = _memories[database] = ReplayMemory(database)
    return memory
