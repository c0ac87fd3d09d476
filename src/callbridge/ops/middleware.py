"""One pure-ASGI layer around every HTTP request: request metrics by route template, and the call ids of the
request's path bound to the log context while it runs.

Pure ASGI rather than ``BaseHTTPMiddleware``, which runs the app in a separate task and copies each response
through a stream: this layer adds a function call, a regular-expression match, a clock read and two metric
updates per request.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, reset_contextvars

from callbridge.kit.fastlane import TEMPLATE_KEY
from callbridge.ops.logs import call_ids
from callbridge.ops.metrics import REQUEST_DURATION, REQUESTS, UNMATCHED

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # id(route) -> its path template with the router's prefix; FastAPI puts the route as declared (without
        # the prefix it was included under) in scope["route"], and plain Starlette routes only their endpoint.
        self._templates: dict[int, str] = {}
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an exception escaped every handler

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        ids = call_ids(scope["path"])
        tokens = bind_contextvars(**ids) if ids else None
        start = perf_counter()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            elapsed = perf_counter() - start
            if tokens is not None:
                reset_contextvars(**tokens)
            self._observe(scope, status, elapsed)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        key = (method, self._template(scope), status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                REQUESTS.labels(method, key[1], str(status)),
                REQUEST_DURATION.labels(method, key[1]),
            )
        series[0].inc()
        series[1].observe(elapsed)

    def _template(self, scope: Scope) -> str:
        hot: str | None = scope.get(TEMPLATE_KEY)
        if hot is not None:
            return hot
        route = scope.get("route") or scope.get("endpoint")
        if route is None:
            return UNMATCHED
        template = self._templates.get(id(route))
        if template is None:  # first sight of this route: (re)read the app's routes, which may have grown
            self._templates.update(_templates(scope["app"].routes))
            template = self._templates.setdefault(id(route), getattr(route, "path_format", UNMATCHED))
        return template


def _templates(routes: Any) -> dict[int, str]:
    """Each route's full path template by the id of what the router puts in the scope for it; a telephony
    route's trailing-slash twin (``kit.http.slash_twins``) counts as the route. A router included twice under
    different prefixes would keep the last prefix (Callbridge includes each router once)."""
    templates: dict[int, str] = {}
    for context in iter_route_contexts(routes):
        if context.path_format is None:
            continue
        template = context.path_format.rstrip("/") or "/"
        templates[id(context.original_route)] = template
        if context.endpoint is not None:
            templates.setdefault(id(context.endpoint), template)
    return templates
