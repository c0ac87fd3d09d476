"""The console tests share the routing tests' contact centre, frozen clock and helpers."""

from tests.routing.conftest import app, auth, clock, console, contact_center, state, telephony, tick
from tests.voice_calls.conftest import create_call, read_call

__all__ = [
    "app",
    "auth",
    "clock",
    "console",
    "contact_center",
    "create_call",
    "read_call",
    "state",
    "telephony",
    "tick",
]
