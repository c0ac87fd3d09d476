"""Which broker a process uses, from ``CALLBRIDGE_BROKER_URL`` (``Settings.broker_url``).

==============================================  =========================================================
unset, empty or ``memory://``                   in this process only: one process (``--workers 1``)
``postgresql://…`` or ``postgresql+asyncpg://…``  PostgreSQL LISTEN/NOTIFY (``callbridge.events.postgres``)
``redis://…`` or ``rediss://…``                 a Redis Stream (``callbridge.events.redis``)
==============================================  =========================================================
"""

from __future__ import annotations

from callbridge.config import check_broker_url
from callbridge.events.broker import Broker, InProcessBroker
from callbridge.events.ordered import OrderedBroker
from callbridge.events.postgres import PostgresBroker
from callbridge.events.redis import RedisBroker
from callbridge.kit.db import Database, is_sqlite


def broker_from_url(url: str | None, database: Database) -> Broker:
    """The broker ``url`` names. In this process only, on SQLite, events leave in commit order already (one
    writer at a time, publishing before it lets go); on PostgreSQL they are put in id order first."""
    url = check_broker_url(url)
    scheme = (url or "memory://").partition("://")[0].lower()
    if scheme == "memory":
        return InProcessBroker() if is_sqlite(database.url) else OrderedBroker(database)
    if scheme.startswith("redis"):
        return RedisBroker(url or "", database)
    return PostgresBroker(url or "", database)
