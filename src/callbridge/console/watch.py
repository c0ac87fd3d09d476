"""Push streams end with their session: signed out, expired, or the agent's password changed.

The session lives in the database, so every process's streams re-check it there, before sending events or a
heartbeat, when the last check is older than ``CHECK_SECONDS`` (at most one query a second per stream; an idle
stream checks at each heartbeat). A sign-out in this process also ends its streams at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import datetime

from callbridge.console.errors import SessionEnded, SessionExpired
from callbridge.console.sessions import still_signed_in
from callbridge.errors import CallbridgeError
from callbridge.kit.state import AppState

CHECK_SECONDS = 1.0

_signed_out: dict[str, set[asyncio.Event]] = {}


def signed_out_here(token_sha256: str) -> None:
    """Tell this process's streams of the session that it has ended (after the sign-out committed)."""
    for ended in _signed_out.get(token_sha256, ()):
        ended.set()


@contextlib.contextmanager
def _listening(token_sha256: str) -> Iterator[asyncio.Event]:
    ended = asyncio.Event()
    _signed_out.setdefault(token_sha256, set()).add(ended)
    try:
        yield ended
    finally:
        waiting = _signed_out.get(token_sha256)
        if waiting is not None:
            waiting.discard(ended)
            if not waiting:
                del _signed_out[token_sha256]


class SessionWatch:
    """One stream's view of its session."""

    def __init__(self, state: AppState, token_sha256: str, expires_at: datetime | None = None) -> None:
        self.state = state
        self.token_sha256 = token_sha256
        self.expires_at = expires_at
        self.checked_at = time.monotonic()
        self._stack = contextlib.ExitStack()
        self.signed_out = self._stack.enter_context(_listening(token_sha256))

    def close(self) -> None:
        self._stack.close()

    def seconds_left(self) -> float | None:
        """Until the session expires (a stream waits no longer than that), if its expiry is known."""
        if self.expires_at is None:
            return None
        return max(0.0, (self.expires_at - self.state.clock.now()).total_seconds())

    async def ended(self) -> CallbridgeError | None:
        """None while the session stands (checked in the database when the last check is ``CHECK_SECONDS`` old)."""
        if self.signed_out.is_set():
            return SessionEnded()
        if self.expires_at is not None and self.expires_at <= self.state.clock.now():
            return SessionExpired()
        now = time.monotonic()
        if now - self.checked_at < CHECK_SECONDS:
            return None
        self.checked_at = now
        async with self.state.database.read_session() as session:
            return await still_signed_in(session, self.token_sha256, self.state.clock.now())
