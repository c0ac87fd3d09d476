"""Push latency: from the commit of an utterance to its receipt on a connected console WebSocket, at 2,000
utterances/s (target p99 <= 25 ms).

NOT MEASURED YET. The console push channel (``/console/v1/stream``) is being built; until it exists this
scenario reports "not available" instead of a number. When the channel lands, this module connects a console
(agent sign-in, then the stream), drives utterances at a fixed rate with wrk, stamps each one, and reports the
commit-to-receipt percentiles.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

STREAM_PATH = "/console/v1/stream"


def stream_route_exists() -> bool:
    from callbridge.app import create_app

    routes: list[BaseRoute] = create_app().routes
    return any(getattr(route, "path", None) == STREAM_PATH for route in routes)


def measure() -> dict[str, Any]:
    if not stream_route_exists():
        return {"status": "not available", "reason": f"the console push channel ({STREAM_PATH}) does not exist yet"}
    return {
        "status": "not available",
        "reason": f"{STREAM_PATH} exists, but bench/push.py does not drive it yet: write the scenario",
    }
