"""Reading a bearer token before anything in it is trusted: its three segments, its algorithm, and the
shape of its claims (which claims are present, and of which JSON type)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from callbridge.auth.errors import (
    AlgorithmNotAllowed,
    ClaimInvalid,
    ClaimMissing,
    TokenMalformed,
    TokenMissing,
)
from callbridge.errors import Unauthorized

ALGORITHM = "RS256"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_ORG_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SEGMENT_NAMES = ("header", "payload", "signature")


@dataclass(frozen=True)
class UnverifiedToken:
    """A token split and decoded, nothing in it checked yet."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def sha256(self) -> str:
        """What tells two tokens apart in the replay memory."""
        return hashlib.sha256(self.raw.encode()).hexdigest()


@dataclass(frozen=True)
class Claims:
    """The claims Callbridge reads, with their types checked."""

    iss: str
    sub: str
    exp: float
    iat: float | None
    nbf: float | None
    jti: str | None
    aud: str | list[str] | None


def token_from_authorization(value: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case)."""
    if not value or not value.strip():
        raise TokenMissing("The request has no Authorization header; send 'Authorization: Bearer <token>'.")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenMissing(f"The Authorization header uses the {show(scheme)} scheme; send 'Bearer <token>'.")
    token = token.strip()
    if not token:
        raise TokenMissing("The Authorization header says Bearer but carries no token.")
    return token


def parse_token(raw: str) -> UnverifiedToken:
    """Split and decode a compact JWS; anything that is not three base64url segments of which the first
    two are JSON objects is ``TOKEN_MALFORMED``."""
    segments = raw.split(".")
    if len(segments) != 3:
        raise TokenMalformed(
            f"The token has {len(segments)} dot-separated segment(s); a JWT has three (header.payload.signature)."
        )
    decoded = [_decode_segment(segment, name) for segment, name in zip(segments, _SEGMENT_NAMES, strict=True)]
    header = _json_object(decoded[0], "header")
    claims = _json_object(decoded[1], "payload")
    return UnverifiedToken(raw=raw, header=header, claims=claims)


def check_algorithm(header: dict[str, Any]) -> None:
    """Only RS256: no ``none``, no HMAC (a public key must never serve as a shared secret), no others."""
    alg = header.get("alg")
    if alg is None:
        raise AlgorithmNotAllowed("The token header names no algorithm ('alg'); only RS256 is accepted.")
    if alg != ALGORITHM:
        raise AlgorithmNotAllowed(f"The token is signed with alg {show(alg)}; only RS256 is accepted.")


def check_claims(claims: dict[str, Any], *, require_audience: bool) -> Claims:
    """The claims, typed; every problem is listed in ``errors`` and the first one names the reason."""
    problems: list[Unauthorized] = []
    required = ["iss", "sub", "exp"] + (["aud"] if require_audience else [])
    for name in required:
        if claims.get(name) is None:
            problems.append(ClaimMissing(f"The token has no {name!r} claim, which is required."))
    for name in ("iss", "sub", "jti"):
        if claims.get(name) is not None and not _is_nonempty_string(claims[name]):
            problems.append(
                ClaimInvalid(f"The {name!r} claim must be a non-empty string, not {_describe(claims[name])}.")
            )
    for name in ("exp", "iat", "nbf"):
        if claims.get(name) is not None and not _is_number(claims[name]):
            problems.append(
                ClaimInvalid(
                    f"The {name!r} claim must be a number of seconds since the epoch, not {_describe(claims[name])}."
                )
            )
    aud = claims.get("aud")
    if aud is not None and not (
        _is_nonempty_string(aud) or (isinstance(aud, list) and aud and all(_is_nonempty_string(a) for a in aud))
    ):
        problems.append(ClaimInvalid(f"The 'aud' claim must be a string or a list of strings, not {_describe(aud)}."))
    iss = claims.get("iss")
    if isinstance(iss, str) and iss.strip() and not _ORG_ID.fullmatch(iss):
        problems.append(
            ClaimInvalid(f"The 'iss' claim must be a 15- or 18-character Salesforce org id, not {show(iss)}.")
        )
    if problems:
        first = problems[0]
        raise type(first)(first.message, errors=[problem.message for problem in problems])
    return Claims(
        iss=claims["iss"],
        sub=claims["sub"],
        exp=claims["exp"],
        iat=claims.get("iat"),
        nbf=claims.get("nbf"),
        jti=claims.get("jti"),
        aud=aud,
    )


def _decode_segment(segment: str, name: str) -> bytes:
    stripped = segment.rstrip("=")
    if not _BASE64URL.fullmatch(segment) or len(stripped) % 4 == 1:
        raise TokenMalformed(f"The token's {name} segment is not valid base64url.")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenMalformed(f"The token's {name} segment is not valid base64url.") from exc


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise TokenMalformed(f"The token's {name} is not JSON.") from exc
    if not isinstance(value, dict):
        raise TokenMalformed(f"The token's {name} is JSON but not an object ({_describe(value)}).")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_nonempty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _describe(value: Any) -> str:
    """A JSON type name, with the value when it is short (claims are not secrets)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


def show(value: Any, limit: int = 60) -> str:
    """A claim value as JSON, ASCII-only and cut short: messages also travel in the WWW-Authenticate
    header, which must stay latin-1 and free of control characters."""
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
