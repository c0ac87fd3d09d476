"""The ASGI layer that applies ``CALLBRIDGE_FAULTS`` (``callbridge.limits.faults``), in front of the fast lane so
that every telephony route sees the same faults.

An injected error is answered before anything of the request is read or processed: the standard error body
(code ``FAULT_INJECTED``), ``Retry-After: 1`` on a 429 or 503, and ``Callbridge-Fault`` naming the fault (a
delayed request carries the header too). When the path names a call (a VoiceCall id or vendorCallKey, or the
Connect API's conversation identifier) and the request's token is valid for the call's call center, the
call's timeline records the injected error (``fault.injected``); the token's jti is not spent, so a retry with
the same token is answered as if the fault had not happened.
"""

from __future__ import annotations

import asyncio
import random
import re
from http import HTTPStatus

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.auth.service import authorize_deferred
from callbridge.auth.token import token_from_authorization
from callbridge.errors import CallbridgeError
from callbridge.kit import rendering
from callbridge.kit.http import telephony_actor
from callbridge.kit.state import AppState
from callbridge.limits.faults import FaultPlan, FaultRule
from callbridge.ops.logs import call_ids
from callbridge.ops.metrics import count_fault
from callbridge.voice_calls import repository

log = structlog.get_logger()

HEADER = "Callbridge-Fault"
_CONVERSATION_PATH = re.compile(r"^/services/data/v[^/]+/connect/conversation/([^/]+)/")
_RETRIED = frozenset({429, 503})


class FaultInjected(CallbridgeError):
    code = "FAULT_INJECTED"

    def __init__(self, rule: FaultRule) -> None:
        status = rule.status
        try:
            phrase = f" {HTTPStatus(status).phrase}"
        except ValueError:
            phrase = ""
        super().__init__(
            f"Injected by CALLBRIDGE_FAULTS ({rule.item}): {status}{phrase}; nothing of the request was processed."
        )
        self.status_code = status  # type: ignore[misc]
        self.rule = rule

    @property
    def headers(self) -> dict[str, str]:
        headers = {HEADER: self.rule.kind}
        if self.status_code in _RETRIED:
            headers["Retry-After"] = "1"
        return headers


class InjectFaults:
    """ASGI middleware: ``plan``'s faults for the requests they select, drawn from one generator per app."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self._plan = plan
        self._random = random.Random(plan.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors, delay = self._plan.for_request(scope["method"], scope["path"])
        delayed = None
        if delay is not None and self._random.random() < delay.probability:
            count_fault("delay")
            delayed = f"delay={round(delay.delay_seconds * 1000)}ms"
            await asyncio.sleep(delay.delay_seconds)
        rule = self._draw(errors)
        if rule is not None:
            count_fault(rule.kind)
            fault = FaultInjected(rule)
            await _record(scope, fault)
            response = rendering.render(fault)
            if delayed is not None:
                response.headers[HEADER] = f"{delayed}, {rule.kind}"
            await response(scope, receive, send)
            return
        if delayed is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _marking(send, delayed))

    def _draw(self, errors: list[FaultRule]) -> FaultRule | None:
        if not errors:
            return None
        draw = self._random.random()
        cumulative = 0.0
        for rule in errors:
            cumulative += rule.probability
            if draw < cumulative:
                return rule
        return None


def _marking(send: Send, value: str) -> Send:
    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (HEADER.lower().encode(), value.encode())]}
        await send(message)

    return marked


def _call_named(path: str) -> str | None:
    named = call_ids(path)
    if named:
        return next(iter(named.values()))
    match = _CONVERSATION_PATH.match(path)
    return match.group(1) if match else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _record(scope: Scope, fault: FaultInjected) -> None:
    """``fault.injected`` in the timeline of the call the path names, when the token may see that call."""
    identifier = _call_named(scope["path"])
    if identifier is None:
        return
    state: AppState = scope["app"].state.callbridge
    try:
        raw = token_from_authorization(_header(scope, b"authorization"))
        auth = await authorize_deferred(raw, settings=state.settings, database=state.database, clock=state.clock)
    except CallbridgeError:
        return  # an unauthenticated request learns nothing and records nothing
    actor = telephony_actor(scope["method"], scope["path"], _header(scope, b"telephony-provider-name"))
    try:
        async with state.unit_of_work(actor) as uow:
            call = await repository.resolve(uow.session, auth.context.call_center_id, identifier)
            if call is None:
                return
            uow.record(
                call_center_id=call.call_center_id,
                voice_call_id=call.id,
                conversation_id=call.conversation_id,
                kind="fault.injected",
                outcome="injected",
                reason=fault.message,
                data={"fault": fault.rule.kind, "item": fault.rule.item, "status": fault.status_code},
            )
    except (DBAPIError, OSError, RedisError) as exc:  # the fault is answered all the same
        log.warning("recording an injected fault failed", path=scope["path"], error=str(exc)[:300])
