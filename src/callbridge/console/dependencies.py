"""The FastAPI dependency that protects console routes: a session token as a Bearer token or a cookie."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from callbridge.console.errors import SessionMissing
from callbridge.console.sessions import COOKIE, SignedIn, signed_in
from callbridge.kit.state import app_state

console_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ConsoleSession",
    bearerFormat="opaque",
    description="The token of POST /console/v1/session (an agent's console session).",
)
console_cookie = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    scheme_name="ConsoleSessionCookie",
    description="The same token in an HttpOnly cookie, as the console web page keeps it.",
)


async def current_agent(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(console_bearer),
    cookie: str | None = Depends(console_cookie),
) -> SignedIn:
    """The signed-in agent (401 SESSION_MISSING, SESSION_INVALID or SESSION_EXPIRED otherwise)."""
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise SessionMissing()
    state = app_state(request)
    async with state.database.read_session() as session:
        return await signed_in(session, token, state.clock.now())
