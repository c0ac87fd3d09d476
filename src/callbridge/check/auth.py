"""Checks of authorization: the tokens real clients send are accepted; a missing, expired, forged, mistyped
or replayed token is a 401 whose ``code`` names the reason (spec §1, decisions "Authorization")."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.check.context import CheckContext
from callbridge.check.registry import check, describe, expect, expect_json, expect_response_error
from callbridge.client import SCRT_AUDIENCE, TokenSigner


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _create_with(ctx: CheckContext, token: str | None, label: str) -> tuple[int, str, dict[str, str]]:
    """Status, description and headers of a create sent with ``token`` (none when ``None``)."""
    body = ctx.create_body(ctx.key(label))
    if token is None:
        response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, authorization=False)
    else:
        response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, headers=_bearer(token))
    return response.status_code, describe(response), dict(response.headers)


async def _expect_refused(ctx: CheckContext, token: str | None, code: str, label: str) -> None:
    body = ctx.create_body(ctx.key(label))
    if token is None:
        response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, authorization=False)
    else:
        response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, headers=_bearer(token))
    expect_response_error(response, status=401, code=code)
    challenge = response.headers.get("www-authenticate", "")
    expect(challenge.lower().startswith("bearer"), f"the 401 has no 'WWW-Authenticate: Bearer ...' ({challenge!r})")


@check("server.reachable", "the server answers HTTP at the URL", gate=True)
async def server_reachable(ctx: CheckContext) -> str | None:
    response = await ctx.client.raw_request("GET", f"/voiceCalls/{ctx.key('reachable')}")
    return f"GET /telephony/v1/voiceCalls/{{id}} answered {response.status_code}"


@check(
    "auth.lambda_token",
    "a token signed as the Amazon Connect Lambdas sign theirs (RS256, iss=org, sub=call center, fresh jti, "
    "5 min) is accepted",
    gate=True,
)
async def lambda_token(ctx: CheckContext) -> str | None:
    status, answer, _ = await _create_with(ctx, ctx.signer.token(), "lambda")
    expect(status != 401, f"the configured token is refused ({answer}): check --org, --call-center and --key")
    expect(status == 200, f"expected 200, got {answer}")
    return None


@check(
    "auth.other_client_tokens",
    "tokens shaped like the demo connector's (no jti, 4 h) and the Java transcriber's (aud) are accepted",
)
async def other_client_tokens(ctx: CheckContext) -> str | None:
    now = int(time.time())
    connector = ctx.signer.token(jti=None, exp=now + 4 * 3600)
    status, answer, _ = await _create_with(ctx, connector, "connector")
    expect(status == 200, f"the demo connector's token (no jti, 4 h) got {answer}")
    transcriber = ctx.signer.token(aud=SCRT_AUDIENCE)
    status, answer, _ = await _create_with(ctx, transcriber, "transcriber")
    expect(status == 200, f"a token with aud {SCRT_AUDIENCE} got {answer}")
    return None


@check("auth.token_missing", "a request without Authorization is 401 TOKEN_MISSING with WWW-Authenticate: Bearer")
async def token_missing(ctx: CheckContext) -> str | None:
    await _expect_refused(ctx, None, "TOKEN_MISSING", "no-token")
    return None


@check("auth.token_expired", "a token whose exp passed 10 minutes ago is 401 TOKEN_EXPIRED")
async def token_expired(ctx: CheckContext) -> str | None:
    now = int(time.time())
    await _expect_refused(ctx, ctx.signer.token(iat=now - 900, exp=now - 600), "TOKEN_EXPIRED", "expired")
    return None


@check("auth.signature_invalid", "a token signed with a key the call center does not trust is 401 SIGNATURE_INVALID")
async def signature_invalid(ctx: CheckContext) -> str | None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = TokenSigner(pem, ctx.config.org_id, ctx.config.call_center_api_name, audience=ctx.config.audience)
    await _expect_refused(ctx, forged.token(), "SIGNATURE_INVALID", "forged")
    return None


@check(
    "auth.claim_invalid",
    'a token whose exp is a string ("1717895186", as a broken client sends) is 401 CLAIM_INVALID',
)
async def claim_invalid(ctx: CheckContext) -> str | None:
    await _expect_refused(ctx, ctx.signer.token(exp=str(int(time.time()) + 300)), "CLAIM_INVALID", "string-exp")
    return None


@check("auth.algorithm_not_allowed", "a token signed with HS256 instead of RS256 is 401 ALGORITHM_NOT_ALLOWED")
async def algorithm_not_allowed(ctx: CheckContext) -> str | None:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 300, "iss": ctx.config.org_id, "sub": ctx.config.call_center_api_name}
    token = jwt.encode(claims, "callbridge-check-" + "x" * 48, algorithm="HS256")
    await _expect_refused(ctx, token, "ALGORITHM_NOT_ALLOWED", "hs256")
    return None


@check(
    "auth.jti_replayed",
    "the very same token may come again, but its jti inside another token is 401 TOKEN_REPLAYED",
)
async def jti_replayed(ctx: CheckContext) -> str | None:
    jti = str(uuid.uuid1())
    now = int(time.time())
    first = ctx.signer.token(jti=jti, iat=now, exp=now + 300)
    key = ctx.key("replay")
    body = ctx.create_body(key)
    for attempt in ("first", "second"):
        response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, headers=_bearer(first))
        expect(response.status_code == 200, f"the {attempt} use of one token got {describe(response)}")
    other = ctx.signer.token(jti=jti, iat=now, exp=now + 301)
    response = await ctx.client.raw_request("POST", "/voiceCalls", body=body, headers=_bearer(other))
    expect_response_error(response, status=401, code="TOKEN_REPLAYED")
    expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    return None
