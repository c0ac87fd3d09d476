"""Simulated agents: each signs in to the console API, goes Available, listens on its push stream and accepts
the offers it receives there (after a human's ring time). Work a simulated call is waiting for is handed to
that call through the ``Switchboard``; other work (a voicemail, a callback, an abandoned call's) the agent
handles alone for a moment, then closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callbridge.client import NO_RETRY, AsyncConsoleClient, CallbridgeClientError, Presence
from callbridge.client.stream import ConsoleStream
from callbridge.events.schemas import (
    AnyEvent,
    RoutingOffered,
    RoutingOfferEnded,
    RoutingWorkClosed,
    TranscriptAccepted,
    TranscriptReplaced,
)
from callbridge.simulator.stats import Route, RoutingOutcome, Stats

log = logging.getLogger("callbridge.simulator")

RING_SECONDS = (1.5, 3.0)  # how long an agent takes to accept an offer (speech-time seconds)
HANDLING_SECONDS = (2.0, 5.0)  # how long an agent spends on work no simulated call drives


@dataclass
class Assignment:
    """Work an agent accepted: the call's leg, the AgentWork, and when it was offered and accepted."""

    agent: SimulatedAgent
    work_id: str
    voice_call_id: str
    queue_name: str | None
    offered_at: float  # monotonic: when the routing.offered event arrived
    accepted_at: float  # monotonic: when the accept was answered
    accepted_wall: datetime

    def mark(self, route: Route) -> None:
        """Record on the route that this acceptance answered it."""
        route.offered_at, route.accepted_at = self.offered_at, self.accepted_at
        route.outcome = RoutingOutcome.ACCEPTED


class Switchboard:
    """Where a call waits for the agent who accepts its leg (or callback request).

    A call that stops waiting (the caller hung up) leaves its ``Route`` behind: an agent whose accept crossed the
    hang-up still marks it accepted, so the summary counts the AgentWork the server opened."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[asyncio.Future[Assignment], Route]] = {}
        self._given_up: dict[str, Route] = {}

    def expect(self, voice_call_id: str, route: Route) -> asyncio.Future[Assignment]:
        """Register before routing, so that no acceptance can come first."""
        future: asyncio.Future[Assignment] = asyncio.get_running_loop().create_future()
        self._waiting[voice_call_id] = (future, route)
        return future

    def forget(self, voice_call_id: str) -> None:
        waiting = self._waiting.pop(voice_call_id, None)
        if waiting is not None and not waiting[0].done():
            waiting[0].cancel()
            self._given_up[voice_call_id] = waiting[1]

    def deliver(self, assignment: Assignment) -> bool:
        """True when a call was waiting for this work and now has it."""
        waiting = self._waiting.pop(assignment.voice_call_id, None)
        if waiting is not None and not waiting[0].done():
            waiting[0].set_result(assignment)
            return True
        late = self._given_up.pop(assignment.voice_call_id, None)
        if late is not None:
            assignment.mark(late)
        return False


class SimulatedAgent:
    """One agent at the console. ``pace`` speeds the agent's human delays up as it speeds speech up."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        org_id: str | None,
        switchboard: Switchboard,
        stats: Stats,
        pace: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url
        self.username = username
        self.user_id = ""
        self.console = AsyncConsoleClient(base_url, retry=NO_RETRY)
        self._password = password
        self._org_id = org_id
        self._switchboard = switchboard
        self._stats = stats
        self._pace = pace
        self._rng = rng or random.Random()
        self._stream: ConsoleStream | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rings: dict[str, asyncio.Task[None]] = {}  # offer id -> the ring before accepting
        self._open: set[str] = set()  # work ids accepted and not closed yet
        self._closed: set[str] = set()  # work ids the server says are closed

    @property
    def busy(self) -> bool:
        """Ringing for an offer or holding open work."""
        return bool(self._rings or self._open)

    async def start(self) -> None:
        """Sign in, open the push stream (before going Available, so no offer is missed), go Available."""
        session = await self._stats.checked(self.console.sign_in(self.username, self._password, org_id=self._org_id))
        self.user_id = session.agent.user_id
        self._stream = ConsoleStream(self.base_url, session.token)
        await self._stream.connect()
        self._spawn(self._listen())
        await self._stats.checked(self.console.set_presence(Presence.AVAILABLE))

    async def abort(self) -> None:
        """After a failed start: let go of whatever was opened, without counting errors."""
        if self._stream is not None:
            await self._stream.aclose()
        if self.console.session_token is not None:
            with contextlib.suppress(CallbridgeClientError):
                await self.console.sign_out()
        await self.console.aclose()

    async def stop(self) -> None:
        """Stop taking offers, close what is still open, go Offline and sign out."""
        for ring in list(self._rings.values()):
            ring.cancel()
        with contextlib.suppress(CallbridgeClientError):
            await self._stats.checked(self.console.set_presence(Presence.OFFLINE))
        for work_id in list(self._open):
            await self.close_work(work_id)
        with contextlib.suppress(CallbridgeClientError):
            await self._stats.checked(self.console.sign_out())
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._stream is not None:
            await self._stream.aclose()
        await self.console.aclose()

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self._pace)

    async def close_work(self, work_id: str) -> None:
        """Close the work unless the server already did (the call ended); a failure is counted, not raised."""
        self._open.discard(work_id)
        if work_id in self._closed:
            return
        with contextlib.suppress(CallbridgeClientError):
            await self._stats.checked(self.console.close_work(work_id))

    async def control(self, voice_call_id: str, action: str) -> None:
        """``hold``, ``resume``, ``pause_recording`` or ``resume_recording`` on a call the agent holds."""
        await self._stats.checked(getattr(self.console, action)(voice_call_id))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _listen(self) -> None:
        assert self._stream is not None
        try:
            async for event in self._stream:
                self._on(event)
        except CallbridgeClientError as exc:
            log.warning("%s: the push stream ended: %s", self.username, exc)

    def _on(self, event: AnyEvent) -> None:
        if isinstance(event, TranscriptAccepted | TranscriptReplaced):
            self._stats.utterance_pushed(event.message_id)
        elif isinstance(event, RoutingOffered) and event.user_id == self.user_id:
            self._rings[event.offer_id] = self._spawn(self._ring(event, time.monotonic()))
        elif isinstance(event, RoutingOfferEnded) and event.user_id == self.user_id and event.outcome != "accepted":
            ring = self._rings.pop(event.offer_id, None)
            if ring is not None:
                ring.cancel()
        elif isinstance(event, RoutingWorkClosed) and event.user_id == self.user_id:
            self._closed.add(event.work_id)
            self._open.discard(event.work_id)

    async def _ring(self, offer: RoutingOffered, offered_at: float) -> None:
        try:
            await self.pause(self._rng.uniform(*RING_SECONDS))
            try:
                accepted = await self._stats.checked(self.console.accept_offer(offer.offer_id))
            except CallbridgeClientError:
                return  # withdrawn or expired meanwhile: the server offers it elsewhere
        finally:
            self._rings.pop(offer.offer_id, None)
        self._open.add(accepted.work_id)
        assignment = Assignment(
            agent=self,
            work_id=accepted.work_id,
            voice_call_id=accepted.voice_call_id,
            queue_name=offer.queue_name,
            offered_at=offered_at,
            accepted_at=time.monotonic(),
            accepted_wall=datetime.now(UTC),
        )
        if not self._switchboard.deliver(assignment):
            await self.pause(self._rng.uniform(*HANDLING_SECONDS))
            await self.close_work(accepted.work_id)
