"""Verifying a token against the certificates of the call center it names: one code path for the server
and for ``callbridge explain-token``, so both give the same reason.

Order: structure, algorithm, claim shapes, call center, signature, then time claims and audience (nothing a
token says about time is believed before its signature is).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.auth.certificates import MIN_KEY_BITS, parse_pem
from callbridge.auth.context import CallCenterContext
from callbridge.auth.errors import (
    AudienceInvalid,
    CertificateExpired,
    SignatureInvalid,
    TokenExpired,
    TokenLifetimeTooLong,
    TokenMalformed,
    TokenNotYetValid,
    UnknownCallCenter,
)
from callbridge.auth.repository import CallCenterLookup, TrustedCallCenter, TrustedCertificate, find_call_center
from callbridge.auth.token import (
    ALGORITHM,
    Claims,
    UnverifiedToken,
    check_algorithm,
    check_claims,
    parse_token,
    show,
)
from callbridge.config import AuthProfile, Settings
from callbridge.errors import Unauthorized

# A JWS verifier that knows no algorithm but RS256, whatever a token's header asks for.
_JWS = jwt.PyJWS(algorithms=[ALGORITHM])


@dataclass(frozen=True)
class VerifiedToken:
    token: UnverifiedToken
    claims: Claims
    call_center: TrustedCallCenter
    certificate: TrustedCertificate

    @property
    def context(self) -> CallCenterContext:
        return CallCenterContext(
            org_id=self.call_center.org_id,
            call_center_id=self.call_center.call_center_id,
            call_center_api_name=self.call_center.api_name,
            jti=self.claims.jti,
            expires_at=datetime.fromtimestamp(self.claims.exp, UTC),
        )


async def verify_token(raw: str, *, settings: Settings, session: AsyncSession, now: datetime) -> VerifiedToken:
    """Everything but the replay check; raises the ``Unauthorized`` subclass that names the reason."""

    async def find(iss: str, sub: str) -> CallCenterLookup:
        return await find_call_center(session, iss, sub)

    return await verify_with(raw, settings=settings, find=find, now=now)


async def verify_with(
    raw: str,
    *,
    settings: Settings,
    find: Callable[[str, str], Awaitable[CallCenterLookup]],
    now: datetime,
) -> VerifiedToken:
    """``verify_token`` with the call center found by ``find(iss, sub)`` (the server's cache, or a session)."""
    token = parse_token(raw)
    check_algorithm(token.header)
    claims = check_claims(token.claims, require_audience=settings.auth_profile is AuthProfile.legacy)
    lookup = await find(claims.iss, claims.sub)
    if lookup.org_id is None:
        raise UnknownCallCenter(
            f"No organization with id {show(claims.iss)} (iss) is configured; "
            "orgs are matched on their first 15 characters."
        )
    if lookup.call_center is None:
        raise UnknownCallCenter(
            f"Organization {lookup.org_id} has no call center with API name {show(claims.sub)} (sub)."
        )
    certificate = verify_signature(token, lookup.call_center, now)
    check_times(claims, settings, now)
    check_audience(claims, settings)
    return VerifiedToken(token=token, claims=claims, call_center=lookup.call_center, certificate=certificate)


def still_valid(verified: VerifiedToken, settings: Settings, now: datetime) -> bool:
    """Whether a token verified earlier would still pass now: its times, and its certificate not expired since."""
    not_after = verified.certificate.not_after
    if not_after is not None and now > not_after:
        return False
    try:
        check_times(verified.claims, settings, now)
    except Unauthorized:
        return False
    return True


def verify_signature(token: UnverifiedToken, call_center: TrustedCallCenter, now: datetime) -> TrustedCertificate:
    """The certificate whose key verifies the signature. Several may be trusted at once (key rotation);
    expired ones and keys under ``MIN_KEY_BITS`` never verify, but are named when they would have."""
    active, expired, weak = [], [], []
    for certificate in call_center.certificates:
        if certificate.key_bits < MIN_KEY_BITS:
            weak.append(certificate)
        elif certificate.not_after is not None and now > certificate.not_after:
            expired.append(certificate)
        else:
            active.append(certificate)
    for certificate in active:
        if _verifies(token, _public_key(certificate.pem)):
            return certificate
    for certificate in expired:
        if _verifies(token, _public_key(certificate.pem)):
            expiry = certificate.not_after.isoformat() if certificate.not_after else "?"
            raise CertificateExpired(
                f"The token is signed with the key of certificate {certificate.fingerprint_sha256[:16]}..., "
                f"which expired at {expiry}; "
                f"call center {show(call_center.api_name)} needs a current certificate."
            )
    for certificate in weak:
        if _verifies_weak(token.raw, _public_key(certificate.pem)):
            raise SignatureInvalid(
                f"The token is signed with the {certificate.key_bits}-bit key of certificate "
                f"{certificate.fingerprint_sha256[:16]}..., "
                f"which is too weak to trust (at least {MIN_KEY_BITS} bits are needed)."
            )
    if not call_center.certificates:
        raise SignatureInvalid(
            f"Call center {show(call_center.api_name)} trusts no certificate, so no token can verify."
        )
    raise SignatureInvalid(
        f"The signature matches none of the {len(call_center.certificates)} certificate(s) "
        f"call center {show(call_center.api_name)} trusts."
    )


def check_times(claims: Claims, settings: Settings, now: datetime) -> None:
    """exp not past, iat and nbf not in the future, and a lifetime within the profile's maximum, each with
    ``clock_skew_seconds`` of leeway."""
    leeway = settings.clock_skew_seconds
    current = now.timestamp()
    if current - claims.exp > leeway:
        raise TokenExpired(
            f"The token expired at {_iso(claims.exp)}, {int(current - claims.exp)} s ago (leeway {leeway} s)."
        )
    for name, value in (("iat", claims.iat), ("nbf", claims.nbf)):
        if value is not None and value - current > leeway:
            raise TokenNotYetValid(
                f"The token's {name!r} claim is {_iso(value)}, {int(value - current)} s ahead of this server's clock "
                f"(leeway {leeway} s)."
            )
    start, since = (claims.iat, "iat") if claims.iat is not None else (current, "now (the token has no iat)")
    limit = settings.max_token_lifetime_seconds
    if claims.exp - start > limit + leeway:
        raise TokenLifetimeTooLong(
            f"The token's exp is {int(claims.exp - start)} s after {since}; "
            f"at most {limit} s ({_duration(limit)}) is accepted."
        )


def check_audience(claims: Claims, settings: Settings) -> None:
    """``aud`` is optional (required in the legacy profile, which ``check_claims`` enforces); when present
    it must be, or contain, the configured audience."""
    if claims.aud is None:
        return
    audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
    if settings.token_audience not in audiences:
        raise AudienceInvalid(f"The token's aud is {show(claims.aud)}; it must be {show(settings.token_audience)}.")


@functools.lru_cache(maxsize=512)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    return parse_pem(pem).public_key


# Header parameters PyJWT gives a meaning to; real clients send none of them (only alg and typ).
_PYJWT_HEADERS = frozenset({"kid", "crit", "b64"})


def _verifies(token: UnverifiedToken, key: rsa.RSAPublicKey) -> bool:
    """Whether ``key`` verifies the token's RS256 signature. The token is already split and decoded, so the
    usual header checks the signature directly, as PyJWT's RSA algorithm does; any other goes through PyJWT."""
    if _PYJWT_HEADERS.isdisjoint(token.header):
        if key.key_size < MIN_KEY_BITS:
            return False
        signing_input, _, signature = token.raw.rpartition(".")
        try:
            key.verify(
                base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
                signing_input.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return False
        return True
    return _verifies_with_pyjwt(token.raw, key)


def _verifies_with_pyjwt(raw: str, key: rsa.RSAPublicKey) -> bool:
    try:
        _JWS.decode_complete(raw, key, algorithms=[ALGORITHM], options={"enforce_minimum_key_length": True})
    except jwt.InvalidSignatureError:
        return False
    except jwt.InvalidKeyError:
        return False
    except jwt.InvalidTokenError as exc:
        raise TokenMalformed(f"The token could not be read as a signed JWT ({exc}).") from exc
    return True


def _verifies_weak(raw: str, key: rsa.RSAPublicKey) -> bool:
    """Whether a key PyJWT refuses to use would have verified the token: only to say so in the reason."""
    signing_input, _, signature = raw.rpartition(".")
    try:
        key.verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
            signing_input.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (seconds since the epoch)"


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
