"""Why a token would be accepted or refused, offline: the server's own verification against the configured
database, without recording the token's jti (``callbridge explain-token``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callbridge.auth.context import CallCenterContext
from callbridge.auth.replay import Sighting, look_up
from callbridge.auth.token import parse_token
from callbridge.auth.verify import verify_token
from callbridge.config import Settings
from callbridge.errors import Unauthorized
from callbridge.kit.db import Database

_SIGHTINGS = {
    Sighting.no_jti: "The token has no jti, so the replay memory never records it.",
    Sighting.first: "Its jti has not been seen before; the server records it on first use.",
    Sighting.same_token: "This very token was presented before, which the jti policy reuse-token allows.",
}


@dataclass(frozen=True)
class Explanation:
    header: dict[str, Any] | None  # None when the token could not even be decoded
    claims: dict[str, Any] | None
    context: CallCenterContext | None = None
    certificate_fingerprint: str | None = None
    sighting: Sighting | None = None
    error: Unauthorized | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None

    @property
    def replay_note(self) -> str | None:
        return _SIGHTINGS[self.sighting] if self.sighting is not None else None


def token_from_text(text: str) -> str:
    """A token as pasted: surrounding blanks and an ``Authorization:``/``Bearer`` prefix are dropped."""
    token = text.strip()
    if token.lower().startswith("authorization:"):
        token = token.split(":", 1)[1].strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer ") :].strip()
    return token


async def explain_token(raw: str, *, settings: Settings, database: Database, now: datetime) -> Explanation:
    """Decode the token without trusting it, then verify it exactly as the server would, reading (never
    writing) the replay memory."""
    try:
        token = parse_token(raw)
    except Unauthorized as error:
        return Explanation(header=None, claims=None, error=error)
    try:
        async with database.read_session() as session:
            verified = await verify_token(raw, settings=settings, session=session, now=now)
            sighting = await look_up(session, verified, settings, now)
    except Unauthorized as error:
        return Explanation(header=token.header, claims=token.claims, error=error)
    return Explanation(
        header=token.header,
        claims=token.claims,
        context=verified.context,
        certificate_fingerprint=verified.certificate.fingerprint_sha256,
        sighting=sighting,
    )
