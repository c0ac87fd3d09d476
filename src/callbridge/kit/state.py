"""The long-lived parts of a running server, built once in the lifespan and shared by requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from callbridge.config import Settings
from callbridge.events.broker import Broker
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.kit.writer import BatchWriter

if TYPE_CHECKING:
    from callbridge.limits.limiter import Limiter


@dataclass
class AppState:
    settings: Settings
    database: Database
    broker: Broker
    clock: Clock
    # The transcript writer (callbridge.transcripts.writer), started by the lifespan; typed loosely so that
    # kit does not depend on a domain package.
    transcripts: BatchWriter[Any, Any] | None = None
    # The create writer of POST /voiceCalls (callbridge.voice_calls.creator), likewise.
    voice_call_creates: BatchWriter[Any, Any] | None = None
    # The routing timer (callbridge.routing.timers): expires offers, releases scheduled callbacks, retries.
    routing_timer: asyncio.Task[None] | None = None
    # CALLBRIDGE_LIMITS (callbridge.limits.limiter): None when limits are off.
    limiter: Limiter | None = None
    # Set when the server begins to stop: push streams tell their clients to reconnect and end.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def unit_of_work(self, actor: Actor) -> UnitOfWork:
        return UnitOfWork(self.database, self.broker, self.clock, actor)


def app_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.callbridge
    return state
