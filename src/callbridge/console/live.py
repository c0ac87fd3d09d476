"""The push channel's endpoints: the console WebSocket ``/console/v1/stream`` and the read-only Server-Sent
Events stream of one call, ``/console/v1/calls/{voiceCallId}/events`` (for tools and ``curl``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect, WebSocketState

from callbridge.console import origin, repository
from callbridge.console.audience import Audience, audience_of
from callbridge.console.dependencies import current_agent
from callbridge.console.errors import CallNotFound, Forbidden, SessionMissing
from callbridge.console.sessions import COOKIE, SignedIn, signed_in
from callbridge.console.stream import Message, messages
from callbridge.console.watch import SessionWatch
from callbridge.errors import CallbridgeError, InvalidRequest, error_responses
from callbridge.events.schemas import StreamError
from callbridge.kit.state import AppState, app_state
from callbridge.models import VoiceCall
from callbridge.ops.metrics import CONSOLES_CONNECTED

router = APIRouter(prefix="/console/v1", tags=["Console"])

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_SERVICE_RESTART = 1012
CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_REQUEST = 4400


def _token_of(websocket: WebSocket) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (which needs a same-origin page)."""
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    if token := websocket.query_params.get("token"):
        return token, False
    return websocket.cookies.get(COOKIE), True


def _after(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # "²" is a digit to isdigit
        raise InvalidRequest.for_fields([f"after: must be a non-negative event id, not '{value[:40]}'"])
    return int(value)


async def _refuse(websocket: WebSocket, error: CallbridgeError, close_code: int) -> None:
    message = StreamError(id=0, code=error.code, message=error.message)
    await websocket.send_text(message.model_dump_json(by_alias=True))
    await websocket.close(close_code, reason=error.code)


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Typed events for an agent's or a supervisor's console (see docs/api.md, "Push channel")."""
    state = app_state(websocket)
    await websocket.accept()
    token, from_cookie = _token_of(websocket)
    try:
        # Cross-site WebSocket hijacking: a page of another site may open this socket in its visitor's browser.
        allowed = origin.allowed_origins(state.settings.console_allowed_origins)
        if refused := origin.refusal(websocket.headers, allowed, has_cookie=from_cookie, require_header=False):
            raise refused
        if not token:
            raise SessionMissing()
        after = _after(websocket.query_params.get("after"))
        async with state.database.read_session() as session:
            signed = await signed_in(session, token, state.clock.now())
            audience = await audience_of(session, signed.agent, after=after)
    except InvalidRequest as error:
        await _refuse(websocket, error, CLOSE_BAD_REQUEST)
        return
    except CallbridgeError as error:
        await _refuse(websocket, error, CLOSE_UNAUTHORIZED if error.status_code == 401 else CLOSE_POLICY)
        return
    CONSOLES_CONNECTED.inc()
    watch = SessionWatch(state, signed.token_sha256, signed.expires_at)
    try:
        await _pump(websocket, state, audience, after, watch)
    finally:
        watch.close()
        CONSOLES_CONNECTED.dec()


async def _pump(
    websocket: WebSocket, state: AppState, audience: Audience, after: int | None, watch: SessionWatch
) -> None:
    """Send until the stream ends or the client leaves, whichever comes first."""

    async def send() -> tuple[int, str]:
        async with contextlib.aclosing(messages(state, audience, after, watch=watch)) as outgoing:
            async for message in outgoing:
                await websocket.send_text(message.json)
                if message.session_ended is not None:
                    return CLOSE_UNAUTHORIZED, message.session_ended
                if message.final:
                    return (CLOSE_SERVICE_RESTART if state.stopping.is_set() else CLOSE_GOING_AWAY), ""
        return CLOSE_NORMAL, ""

    async def receive() -> None:
        # Clients have nothing to say; reading is how a disconnect is noticed while the stream is idle.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    sender = asyncio.ensure_future(send())
    receiver = asyncio.ensure_future(receive())
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done and websocket.client_state is WebSocketState.CONNECTED:
            code, reason = sender.result()
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code, reason=reason)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)


async def _followed_call(session: AsyncSession, signed: SignedIn, id_or_key: str) -> VoiceCall:
    """The call by VoiceCall id or vendorCallKey, in the agent's org; an agent must have been offered it."""
    call = await repository.find_call_of_org(session, signed.agent.org_id, id_or_key)
    if call is None:
        raise CallNotFound(id_or_key)
    if not signed.is_supervisor and not await repository.has_worked_on_conversation(
        session, signed.agent.user_id, call.conversation_id
    ):
        raise Forbidden("Only a supervisor or an agent who was offered this call may follow it.")
    return call


def _sse(message: Message) -> str:
    return f"id: {message.id}\nevent: {message.type}\ndata: {message.json}\n\n"


@router.get(
    "/calls/{voiceCallId}/events",
    summary="Follow one call's events (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "An endless event stream."},
        **error_responses(400, 401, 404),
        403: {"description": "An agent who was never offered the call."},
    },
)
async def call_events(
    request: Request,
    voiceCallId: str,
    after: str | None = Query(default=None, description="Resume after this event id."),
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID", include_in_schema=False),
    signed: SignedIn = Depends(current_agent),
) -> StreamingResponse:
    """Every event of the call (by VoiceCall id or vendorCallKey) and of its conversation, as ``text/event-stream``
    frames (``id``, ``event`` = the type, ``data`` = the JSON message). Resumes after ``?after=`` or the
    ``Last-Event-ID`` header that ``EventSource`` sends on its own when it reconnects."""
    state = app_state(request)
    resume = _after(after if after is not None else last_event_id)
    async with state.database.read_session() as session:
        call = await _followed_call(session, signed, voiceCallId)
        centers = frozenset(await repository.call_centers_of_org(session, signed.agent.org_id))
    keys = {call.id, call.conversation_id}
    audience = Audience(
        user_id="", org_id=signed.agent.org_id, is_supervisor=False, call_center_ids=centers, calls=keys
    )

    async def frames() -> AsyncIterator[str]:
        watch = SessionWatch(state, signed.token_sha256, signed.expires_at)
        try:
            yield "retry: 1000\n\n"
            async with contextlib.aclosing(messages(state, audience, resume, calls=keys, watch=watch)) as outgoing:
                async for message in outgoing:
                    yield _sse(message)
        finally:
            watch.close()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
