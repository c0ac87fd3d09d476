"""Telling long-lived connections that the server is stopping, before the server closes them.

uvicorn, on SIGTERM or SIGINT, stops accepting and then closes open WebSockets at once (code 1012) and waits
for running responses (an SSE stream never ends by itself). Chaining its signal handlers lets the push
streams send ``stream.reconnect`` and end first: the stop event is set at once and uvicorn's own handler
runs a moment later."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 0.25


def notify_on_exit_signals(stopping: asyncio.Event) -> Callable[[], None]:
    """Chain a handler that sets ``stopping`` before the current SIGINT/SIGTERM handlers; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def handle(sig: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stopping.set)
        handler = previous.get(sig)
        if callable(handler):
            loop.call_soon_threadsafe(loop.call_later, GRACE_SECONDS, handler, sig, frame)

    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current in (signal.SIG_DFL, signal.SIG_IGN, None) or getattr(current, "__self__", None) is None:
            continue  # not served by uvicorn (tests, or the default handlers): leave it alone
        previous[sig] = current
        signal.signal(sig, handle)

    def undo() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)

    return undo
