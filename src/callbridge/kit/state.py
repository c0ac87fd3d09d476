"""The long-lived parts of a running server, built once in the lifespan and shared by requests."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from callbridge.config import Settings
from callbridge.events.broker import Broker
from callbridge.kit.clock import Clock
from callbridge.kit.db import Database
from callbridge.kit.uow import Actor, UnitOfWork


@dataclass
class AppState:
    settings: Settings
    database: Database
    broker: Broker
    clock: Clock

    def unit_of_work(self, actor: Actor) -> UnitOfWork:
        return UnitOfWork(self.database, self.broker, self.clock, actor)


def app_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.callbridge
    return state
