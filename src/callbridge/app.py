"""``create_app(settings)``: wires routers, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from callbridge import __version__
from callbridge.config import Settings, get_settings
from callbridge.console.endpoints import router as console_router
from callbridge.console.live import router as console_live_router
from callbridge.console.origin import ConsoleOriginCheck
from callbridge.console.pages import STATIC_PATH as CONSOLE_STATIC_PATH
from callbridge.console.pages import router as console_pages
from callbridge.console.pages import static_files as console_static_files
from callbridge.errors import CallbridgeError, ErrorBody, InvalidRequest, document_validation_as_400
from callbridge.events.broker import Broker, InProcessBroker
from callbridge.events.brokers import broker_from_url
from callbridge.intelligence.endpoints import router as intelligence_router
from callbridge.kit import collector, rendering
from callbridge.kit.bodies import describe, documented_body_models
from callbridge.kit.clock import Clock, SystemClock
from callbridge.kit.db import Database
from callbridge.kit.fastlane import FastLane
from callbridge.kit.limits import BodyLimit
from callbridge.kit.paths import PathKeys
from callbridge.kit.shutdown import notify_on_exit_signals
from callbridge.kit.state import AppState
from callbridge.limits.faults import parse_faults
from callbridge.limits.injection import InjectFaults
from callbridge.limits.limiter import limiter_for
from callbridge.ops import apidocs
from callbridge.ops import logs as ops_logs
from callbridge.ops.endpoints import router as ops_router
from callbridge.ops.metrics import EventMetrics
from callbridge.ops.metrics import process_exited as metrics_process_exited
from callbridge.ops.middleware import ObserveRequests
from callbridge.outbound.console import router as outbound_console_router
from callbridge.outbound.endpoints import router as outbound_router
from callbridge.routing.endpoints import router as routing_router
from callbridge.routing.timers import start_timer as start_routing_timer
from callbridge.routing.timers import stop_timer as stop_routing_timer
from callbridge.transcripts.connect import router as connect_router
from callbridge.transcripts.endpoints import hot_routes as transcript_hot_routes
from callbridge.transcripts.endpoints import router as transcripts_router
from callbridge.transcripts.writer import start_writer as start_transcript_writer
from callbridge.voice_calls.creator import start_writer as start_create_writer
from callbridge.voice_calls.endpoints import hot_routes as voice_call_hot_routes
from callbridge.voice_calls.endpoints import router as voice_calls_router
from callbridge.webhooks.dispatcher import Dispatcher
from callbridge.webhooks.endpoints import router as webhooks_router

log = structlog.get_logger()

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    broker: Broker | None = None,
    server_process: bool = False,
) -> FastAPI:
    """``server_process``: this app is the process's one server (``callbridge serve``), whose garbage collector
    may be tuned once it has started."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url, settings.database_timeout_seconds)
        # A broker given to create_app (tests) is the caller's to start and stop; the settings' one is ours.
        own_broker = broker_from_url(settings.broker_url, database) if broker is None else None
        if own_broker is not None:
            await own_broker.start()
        state = app.state.callbridge = AppState(
            settings=settings,
            database=database,
            broker=broker or own_broker or InProcessBroker(),
            clock=clock or SystemClock(),
        )
        state.limiter = limiter_for(settings, database, state.clock)
        state.transcripts = start_transcript_writer(state)
        state.voice_call_creates = start_create_writer(state)
        state.routing_timer = start_routing_timer(state)
        event_metrics = EventMetrics(state.broker)
        webhooks = Dispatcher(database, settings, state.clock) if settings.webhook_delivery else None
        if webhooks is not None:
            webhooks.start()
        forget_signals = notify_on_exit_signals(state.stopping)
        if server_process:
            collector.tune_for_server()
        try:
            yield
        finally:
            state.stopping.set()
            forget_signals()
            if webhooks is not None:
                await webhooks.stop()
            await event_metrics.stop()
            metrics_process_exited()
            await stop_routing_timer(state.routing_timer)
            await state.transcripts.stop()
            await state.voice_call_creates.stop()
            if own_broker is not None:
                await own_broker.stop()
            if state.limiter is not None:
                await state.limiter.close()
            await database.dispose()

    app = FastAPI(
        title="Callbridge",
        version=__version__,
        summary="The Salesforce Voice Telephony Integration REST API, self-hosted.",
        lifespan=lifespan,
        docs_url=None,  # served by callbridge.ops.apidocs, with a Content-Security-Policy
        redoc_url=None,
    )
    # Routes are matched in order: the health checks first (load balancers poll them), then the telephony API.
    app.include_router(ops_router)
    # Before the VoiceCall routes: their /voiceCalls/{voiceCallId} would take /voiceCalls/voicemailGreeting.
    app.include_router(outbound_router, prefix="/telephony/v1")
    apidocs.install(app)
    app.include_router(voice_calls_router, prefix="/telephony/v1")
    app.include_router(transcripts_router, prefix="/telephony/v1")
    app.include_router(intelligence_router, prefix="/telephony/v1")
    app.include_router(routing_router, prefix="/telephony/v1")
    app.include_router(console_router)
    app.include_router(webhooks_router)
    app.include_router(outbound_console_router)
    app.include_router(console_live_router)
    app.include_router(console_pages)
    app.mount(CONSOLE_STATIC_PATH, console_static_files(), name="console-static")
    app.include_router(connect_router, prefix="/services/data")
    # The hottest telephony writes skip FastAPI's per-request machinery (callbridge.kit.fastlane).
    app.add_middleware(FastLane, routes=[*voice_call_hot_routes, *transcript_hot_routes])
    # CALLBRIDGE_FAULTS: outside the fast lane, so that its routes get the same faults as the others.
    faults = parse_faults(settings.faults)
    if faults:
        app.add_middleware(InjectFaults, plan=faults)
    app.add_middleware(ConsoleOriginCheck, allowed=settings.console_allowed_origins)
    # One body limit for every route, the fast lane included (callbridge.kit.limits).
    app.add_middleware(BodyLimit)
    app.add_middleware(PathKeys)
    app.add_middleware(ObserveRequests)

    _install_error_handlers(app)
    _install_openapi(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CallbridgeError)
    async def callbridge_error(_request: Request, exc: CallbridgeError) -> JSONResponse:
        return rendering.render(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return rendering.render(InvalidRequest.for_fields(describe(list(exc.errors()))))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        body = ErrorBody(code=code, message=str(exc.detail), errors=[])
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return rendering.unexpected(request.method, request.url.path, exc)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(TimeoutError)  # asyncpg's command_timeout
    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        return rendering.database_error(request.method, request.url.path, exc)


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
            description=app.description,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in documented_body_models():
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        app.openapi_schema = document_validation_as_400(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def serve_app() -> FastAPI:
    """The app ``callbridge serve`` runs in each worker process: logging configured first, then ``create_app``."""
    settings = get_settings()
    ops_logs.configure(settings)
    return create_app(settings, server_process=True)
