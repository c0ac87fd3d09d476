"""Fan-out to this process's subscribers in timeline-id order, whatever order events arrive in.

Timeline ids follow commit order (``callbridge.kit.db.lock_timeline``), yet events reach a process out of that
order: two units of work publish after their commits in whichever order they finish, and other processes'
events come over a shared broker later still. A console stream drops anything at or below the last id it sent,
so every subscriber here must see ids in increasing order, none left out.

What makes this cheap: once id N is known to be committed, every id below N is committed too, or never will be.
So events are passed on at once while they continue the sequence (``last + 1``, the usual case); a gap is filled
by reading ``(last, N]`` from storage. What a transport lost (a notification sent while nobody listened, a
process that died between its commit and its publish) is found the same way: the newest stored id is read
whenever nothing else made this process look for a while (``sweep_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence

import structlog

from callbridge.events import replay
from callbridge.events.broker import InProcessBroker
from callbridge.events.schemas import AnyEvent
from callbridge.kit.db import Database

log = structlog.get_logger()

PAGE = 500
# A catch-up longer than this is not replayed through the broker: every subscriber is told it missed events
# and resumes from storage itself (its own filter, its own limit), and only the newest page is passed on.
CATCH_UP_MAX = 10_000


async def drain_then_stop(drained: asyncio.Event, tasks: Sequence[asyncio.Task[None]]) -> None:
    """A shared broker's stop: hand over what the last commits published (briefly), then end its tasks."""
    if tasks:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await drained.wait()
    await stop_tasks(tasks)


async def stop_tasks(tasks: Sequence[asyncio.Task[None]], *, patience: float = 10.0) -> None:
    """Cancel the tasks and wait until they end. A cancellation that a client library swallowed (redis-py turns
    one that races its read timeout into a plain timeout on Python 3.11) is repeated until it takes."""
    pending = {task for task in tasks if not task.done()}
    deadline = time.monotonic() + patience
    while pending and time.monotonic() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    if pending:
        log.warning("broker: tasks did not stop", tasks=[task.get_name() for task in pending])
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("broker: a task had failed", task=task.get_name(), error=_describe(task.exception()))


def backoff(attempt: int, *, base: float = 0.1, cap: float = 2.0) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0, 1, ...): doubling up to ``cap``, with jitter."""
    return float(min(cap, base * 2**attempt) * random.uniform(0.5, 1.0))


class OrderedBroker:
    """The in-process broker of a database whose writers may publish out of commit order (PostgreSQL), and the
    base of the shared brokers: ``publish`` hands events to ``_send`` (the transport; nothing here) and to the
    sequence, which a transport also feeds with what other processes committed (``arrived``,
    ``committed_through``)."""

    def __init__(self, database: Database, *, sweep_seconds: float = 1.0) -> None:
        self._database = database
        self._fanout = InProcessBroker()
        self._published_here = InProcessBroker()  # subscribe_local: this process's own events
        self.sweep_seconds = sweep_seconds
        self._last: int | None = None  # every id up to here was passed on (or never existed)
        self._target = 0  # the highest id known to be committed
        self._held: dict[int, AnyEvent] = {}  # events above a gap, waiting for it to be filled
        self._filling = False
        self._swept_at = time.monotonic()
        self._sweep_due = False
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.gap_fills = 0  # reads of events from storage, for tests and metrics

    @property
    def last_id(self) -> int | None:
        """The id up to which events were passed on (None until storage was first read)."""
        return self._last

    async def start(self) -> None:
        try:
            await self._begin()
        except Exception as exc:  # storage is down: the task keeps trying
            log.warning("broker: reading the newest event id failed; retrying", error=_describe(exc))
        self._task = asyncio.create_task(self._run(), name="broker:order")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])
            self._task = None

    async def publish(self, events: Sequence[AnyEvent]) -> None:
        """Never fails: the events are committed, so whatever a transport loses is found in storage."""
        self.arrived(events)
        self._published_here.fan_out(events)
        self._send(events)

    def _send(self, events: Sequence[AnyEvent]) -> None:
        """Hand published events to the transport (a shared broker); in process, there is none."""

    def subscribe(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        return self._fanout.subscribe(max_queued)

    def subscribe_local(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        return self._published_here.subscribe(max_queued)

    def unsubscribe(self, queue: asyncio.Queue[AnyEvent]) -> None:
        self._fanout.unsubscribe(queue)
        self._published_here.unsubscribe(queue)

    def overflowed(self, queue: asyncio.Queue[AnyEvent]) -> bool:
        return self._fanout.overflowed(queue) or self._published_here.overflowed(queue)

    async def ping(self) -> None:
        """In process: always reachable (a transport overrides this)."""

    # The sequence.

    def arrived(self, events: Sequence[AnyEvent]) -> None:
        """Committed events, published here or read from a shared broker: passed on now while they continue
        the sequence, held for the gap to be filled otherwise."""
        last = self._last
        if last is None or self._filling or self._held:
            self._hold(events)
            return
        fresh = sorted((event for event in events if event.id > last), key=lambda event: event.id)
        run = 0
        while run < len(fresh) and fresh[run].id == last + 1 + run:
            run += 1
        if run:
            self._fanout.fan_out(fresh[:run])
            self._last = fresh[run - 1].id
        if run < len(fresh):
            self._hold(fresh[run:])

    def committed_through(self, event_id: int) -> None:
        """Id ``event_id`` is committed (a notification that names ids): pass on everything up to it."""
        if self._last is None or event_id > self._last:
            self._target = max(self._target, event_id)
            self._wakeup.set()

    def sweep_now(self) -> None:
        """Read the newest stored id soon (a transport reconnected: what it missed is in storage)."""
        self._sweep_due = True
        self._wakeup.set()

    def _hold(self, events: Sequence[AnyEvent]) -> None:
        for event in events:
            if self._last is None or event.id > self._last:
                self._target = max(self._target, event.id)
                if len(self._held) < CATCH_UP_MAX:  # past that, storage holds them anyway
                    self._held[event.id] = event
        self._wakeup.set()

    async def _begin(self) -> None:
        async with self._database.read_session() as session:
            newest = await replay.last_event_id(session)
        # Anything held meanwhile was committed before that read, so it is at or below ``newest``.
        self._last = newest
        self._swept_at = time.monotonic()
        if self._task is not None:  # storage was down at start: subscribers may have missed events
            self._fanout.overflow_all()
        self._drop_passed()

    async def _run(self) -> None:
        attempt = 0
        while True:
            wait = 0.0 if self._sweep_due else max(0.0, self._swept_at + self.sweep_seconds - time.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wakeup.wait()
            self._wakeup.clear()
            try:
                if self._last is None:
                    await self._begin()
                if self._sweep_due or time.monotonic() >= self._swept_at + self.sweep_seconds:
                    async with self._database.read_session() as session:
                        self._target = max(self._target, await replay.last_event_id(session))
                    self._sweep_due = False
                    self._swept_at = time.monotonic()
                await self._fill()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # storage is away: keep what is held, try again
                log.warning("broker: reading events from storage failed; retrying", error=_describe(exc))
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                self._wakeup.set()

    async def _fill(self) -> None:
        """Pass on everything up to the target, in id order: held events while they continue the sequence,
        storage for the gaps."""
        assert self._last is not None
        self._filling = True
        try:
            while self._last < self._target:
                run: list[AnyEvent] = []
                while (event := self._held.pop(self._last + 1 + len(run), None)) is not None:
                    run.append(event)
                if run:
                    self._fanout.fan_out(run)
                    self._last = run[-1].id
                    continue
                if self._target - self._last > CATCH_UP_MAX:
                    async with self._database.read_session() as session:
                        newest = await replay.last_event_id(session)
                    if newest < self._target:  # an id past the newest stored is none of ours
                        self._target = newest
                        for event_id in [event_id for event_id in self._held if event_id > newest]:
                            del self._held[event_id]
                    if self._target - self._last > CATCH_UP_MAX:
                        log.warning(
                            "broker: too many events missed; subscribers resume from storage",
                            missed=self._target - self._last,
                        )
                        self._fanout.overflow_all()
                        self._last = self._target - PAGE
                    continue
                goal = self._target
                async with self._database.read_session() as session:
                    page = await replay.events_between(session, self._last, goal, limit=PAGE)
                self.gap_fills += 1
                if not page:  # nothing stored up to the goal: not this database's events (a misconfiguration)
                    log.warning("broker: event ids not found in storage were ignored", after=self._last, upto=goal)
                    for event_id in [event_id for event_id in self._held if event_id <= goal]:
                        del self._held[event_id]
                    if self._target == goal:
                        self._target = self._last
                    continue
                self._fanout.fan_out(page)
                self._last = page[-1].id
                self._drop_passed()
        finally:
            self._filling = False
        self._drop_passed()

    def _drop_passed(self) -> None:
        last = self._last
        if last is not None:
            for event_id in [event_id for event_id in self._held if event_id <= last]:
                del self._held[event_id]
            self._target = max(self._target, last)


def _describe(exc: BaseException | None) -> str:
    original = getattr(exc, "orig", None)
    return f"{type(exc).__name__}: {original if original is not None else exc}"
