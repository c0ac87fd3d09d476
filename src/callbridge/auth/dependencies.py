"""The FastAPI dependency that protects every telephony route."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callbridge.auth.context import CallCenterContext
from callbridge.auth.service import DeferredAuthorization, authorize_deferred, authorize_token
from callbridge.auth.token import token_from_authorization
from callbridge.kit.fastlane import HotRequest
from callbridge.kit.state import AppState, app_state

# auto_error=False: the missing-token case is ours to report (401 TOKEN_MISSING, not FastAPI's 403/422),
# while the scheme still declares ``securitySchemes`` in the OpenAPI document.
bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An RS256 JWT: iss = org id, sub = call center API name, signed with a key it trusts.",
)


async def authorize(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
) -> CallCenterContext:
    """The call center the request's bearer token acts for (401 with the reason otherwise).

    ``credentials`` is there for the OpenAPI document; the header is read here so every refusal, a wrong
    scheme included, gets the same precise reason.
    """
    raw = token_from_authorization(request.headers.get("authorization"))
    state = app_state(request)
    return await authorize_token(raw, settings=state.settings, database=state.database, clock=state.clock)


async def authorize_later(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
) -> DeferredAuthorization:
    """``authorize`` without recording the token's jti: for routes whose writer records it in the request's own
    transaction (the transcript and create writers)."""
    return await _deferred(request.headers.get("authorization"), app_state(request))


async def authorize_later_hot(request: HotRequest) -> DeferredAuthorization:
    """``authorize_later`` for a fast-lane request (``callbridge.kit.fastlane``)."""
    return await _deferred(request.headers.get("authorization"), request.state)


async def _deferred(authorization: str | None, state: AppState) -> DeferredAuthorization:
    raw = token_from_authorization(authorization)
    return await authorize_deferred(raw, settings=state.settings, database=state.database, clock=state.clock)
