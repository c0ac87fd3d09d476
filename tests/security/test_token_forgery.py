"""The token-forgery matrix: 46 kinds of forged or broken token, each presented to the real API for a call that
exists, none accepted. Only RS256, signed by a key the named call center trusts (through a current
certificate), unedited, with claims of the right types and times, opens the telephony API."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from callbridge.auth.certificates import KeyPair, new_key_pair
from callbridge.models import CallCenter
from tests.auth.conftest import b64json, b64url, forge_hs256, lambda_claims, sign, unsigned
from tests.conftest import ORG_ID, TokenFactory, seed_call_center
from tests.voice_calls.conftest import payload

CALLS = "/telephony/v1/voiceCalls"
KEY = "5b2c7a9e-3f1d-4e8a-9c61-0d2f4b7e8a13"
STRANGER = new_key_pair("stranger")
EXPIRED = new_key_pair("expired", days=1, now=datetime.now(UTC) - timedelta(days=30))


@dataclass(frozen=True)
class Keys:
    ours: KeyPair
    other: KeyPair  # trusted by OtherCC only
    make_token: TokenFactory

    @property
    def public_pem(self) -> bytes:
        private = serialization.load_pem_private_key(self.ours.private_key_pem.encode(), None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def valid(self) -> str:
        return self.make_token()


def _edit(token: str, *, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None) -> str:
    """A valid token with its header or claims replaced after signing (the signature kept)."""
    head, body, signature = token.split(".")
    return ".".join(
        [b64json(header) if header is not None else head, b64json(claims) if claims is not None else body, signature]
    )


def _flip_last_signature_byte(token: str) -> str:
    head, body, signature = token.split(".")
    raw = bytearray(jwt.utils.base64url_decode(signature))
    raw[-1] ^= 0x01
    return f"{head}.{body}.{b64url(bytes(raw))}"


def _jwk(key: KeyPair) -> dict[str, Any]:
    public = serialization.load_pem_private_key(key.private_key_pem.encode(), None).public_key()
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    return jwk


FORGERIES: dict[str, Callable[[Keys], str]] = {
    # The algorithm: only RS256.
    "alg none": lambda k: unsigned(lambda_claims(), "none"),
    "alg None": lambda k: unsigned(lambda_claims(), "None"),
    "alg NONE": lambda k: unsigned(lambda_claims(), "NONE"),
    "alg missing": lambda k: _edit(k.valid(), header={"typ": "JWT"}),
    "alg empty": lambda k: _edit(k.valid(), header={"alg": "", "typ": "JWT"}),
    "alg unknown": lambda k: _edit(k.valid(), header={"alg": "RS999", "typ": "JWT"}),
    "HS256 keyed with the certificate": lambda k: forge_hs256(lambda_claims(), k.ours.certificate_pem.encode()),
    "HS256 keyed with the public key": lambda k: forge_hs256(lambda_claims(), k.public_pem),
    "HS256 keyed with an empty secret": lambda k: forge_hs256(lambda_claims(), b""),
    "RS384 with the right key": lambda k: sign(lambda_claims(), k.ours.private_key_pem, algorithm="RS384"),
    "RS512 with the right key": lambda k: sign(lambda_claims(), k.ours.private_key_pem, algorithm="RS512"),
    "PS256 with the right key": lambda k: sign(lambda_claims(), k.ours.private_key_pem, algorithm="PS256"),
    "ES256": lambda k: jwt.encode(lambda_claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"),
    "EdDSA": lambda k: jwt.encode(lambda_claims(), ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA"),
    # The signature: over exactly these bytes, by a trusted key.
    "payload edited: later exp": lambda k: _edit(k.valid(), claims=lambda_claims(exp=lambda_claims()["exp"] + 3600)),
    "payload edited: another call center": lambda k: _edit(k.valid(), claims=lambda_claims(sub="OtherCC")),
    "payload edited: another org": lambda k: _edit(k.valid(), claims=lambda_claims(iss="00DXX000000OTHRAAA")),
    "header edited: kid added": lambda k: _edit(k.valid(), header={"alg": "RS256", "typ": "JWT", "kid": "x"}),
    "signature stripped": lambda k: k.valid().rsplit(".", 1)[0] + ".",
    "signature truncated": lambda k: k.valid()[:-20],
    "signature with one bit flipped": lambda k: _flip_last_signature_byte(k.valid()),
    "signature of another token": lambda k: ".".join(
        [*k.valid().split(".")[:2], k.make_token(sub="OtherCC", key_pem=k.other.private_key_pem).split(".")[2]]
    ),
    "signed by a stranger's key": lambda k: k.make_token(key_pem=STRANGER.private_key_pem),
    "signed by the other call center's key": lambda k: k.make_token(key_pem=k.other.private_key_pem),
    "stranger's key, unknown kid": lambda k: k.make_token(key_pem=STRANGER.private_key_pem, headers={"kid": "nope"}),
    "stranger's key named by jku": lambda k: k.make_token(
        key_pem=STRANGER.private_key_pem, headers={"jku": "https://attacker.example/jwks.json"}
    ),
    "stranger's key embedded as jwk": lambda k: k.make_token(
        key_pem=STRANGER.private_key_pem, headers={"jwk": _jwk(STRANGER)}
    ),
    "stranger's certificate embedded as x5c": lambda k: k.make_token(
        key_pem=STRANGER.private_key_pem,
        headers={"x5c": ["".join(STRANGER.certificate_pem.strip().splitlines()[1:-1])]},
    ),
    "only an expired certificate verifies it": lambda k: k.make_token(sub="ExpiredCC", key_pem=EXPIRED.private_key_pem),
    # The claims: present, of the right type, about a call center that trusts the key.
    "expired two hours ago": lambda k: k.make_token(exp=int(datetime.now(UTC).timestamp()) - 7200, iat=None),
    "exp as a string": lambda k: sign(lambda_claims(exp=str(lambda_claims()["exp"])), k.ours.private_key_pem),
    "exp as a boolean": lambda k: sign(lambda_claims(exp=True), k.ours.private_key_pem),
    "exp beyond any date": lambda k: sign(lambda_claims(exp=10**30), k.ours.private_key_pem),
    "exp missing": lambda k: sign(lambda_claims(exp=None), k.ours.private_key_pem),
    "iat in the future": lambda k: k.make_token(iat=int(datetime.now(UTC).timestamp()) + 3600, ttl=7200),
    "nbf in the future": lambda k: k.make_token(nbf=int(datetime.now(UTC).timestamp()) + 3600),
    "lifetime over 24 hours": lambda k: k.make_token(ttl=25 * 3600),
    "iss of another org": lambda k: k.make_token(iss="00DXX000000OTHRAAA"),
    "iss as a number": lambda k: sign(lambda_claims(iss=42), k.ours.private_key_pem),
    "iss missing": lambda k: sign(lambda_claims(iss=None), k.ours.private_key_pem),
    "sub as a list": lambda k: sign(lambda_claims(sub=["ConformanceCC"]), k.ours.private_key_pem),
    "sub of an unknown call center": lambda k: k.make_token(sub="NoSuchCC"),
    "sub missing": lambda k: sign(lambda_claims(sub=None), k.ours.private_key_pem),
    "aud of another service": lambda k: k.make_token(aud="https://attacker.example"),
    "aud as an object": lambda k: sign(lambda_claims(aud={"x": 1}), k.ours.private_key_pem),
    # The shape.
    "huge token (200 KB of claims edited in)": lambda k: _edit(k.valid(), claims=lambda_claims(padding="x" * 200_000)),
}

# A huge token may be refused by the header size limit before it is looked at.
SIZE_REFUSALS = {"huge token (200 KB of claims edited in)": {401, 413, 431}}


def test_the_matrix_has_46_kinds() -> None:
    """The issue's count: 46 kinds of forged token."""
    assert len(FORGERIES) == 46


@pytest.fixture
async def keys(
    database_url: str,
    call_centers: dict[str, CallCenter],
    key_pair: KeyPair,
    other_key_pair: KeyPair,
    make_token: TokenFactory,
) -> Keys:
    """The conformance call centers, and one whose only certificate has expired."""
    await seed_call_center(database_url, ORG_ID, "ExpiredCC", [EXPIRED.certificate_pem])
    return Keys(key_pair, other_key_pair, make_token)


@pytest.mark.parametrize("kind", list(FORGERIES))
async def test_forged_token_is_refused(
    client: httpx2.AsyncClient, keys: Keys, auth: Callable[..., dict[str, str]], kind: str
) -> None:
    """A forged token neither reads an existing call nor creates one: 401 with the error body, no call data."""
    created = await client.post(CALLS, json=payload("lambda_create_inbound"), headers=auth())
    assert created.status_code == 200, created.text
    forged = {"Authorization": f"Bearer {FORGERIES[kind](keys)}", "Content-Type": "application/json"}
    allowed = SIZE_REFUSALS.get(kind, {401})
    read = await client.get(f"{CALLS}/{KEY}", headers=forged)
    assert read.status_code in allowed, read.text
    assert set(read.json()) == {"code", "message", "errors"} and KEY not in read.text
    other_key = "7c3d8b0f-4e2a-4f9b-8d72-1e3a5c6f9b24"
    create = await client.post(CALLS, json=payload("lambda_create_inbound", vendorCallKey=other_key), headers=forged)
    assert create.status_code in allowed, create.text
    assert (await client.get(f"{CALLS}/{other_key}", headers=auth())).status_code == 404


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("alg none", "ALGORITHM_NOT_ALLOWED"),
        ("alg missing", "ALGORITHM_NOT_ALLOWED"),
        ("HS256 keyed with the certificate", "ALGORITHM_NOT_ALLOWED"),
        ("RS512 with the right key", "ALGORITHM_NOT_ALLOWED"),
        ("payload edited: later exp", "SIGNATURE_INVALID"),
        ("signature stripped", "SIGNATURE_INVALID"),
        ("signed by a stranger's key", "SIGNATURE_INVALID"),
        ("only an expired certificate verifies it", "CERTIFICATE_EXPIRED"),
        ("expired two hours ago", "TOKEN_EXPIRED"),
    ],
)
async def test_forgery_is_named(client: httpx2.AsyncClient, keys: Keys, kind: str, code: str) -> None:
    """The refusal names what is wrong with the token (the Bearer challenge too), for the integrator's log."""
    response = await client.get(f"{CALLS}/{KEY}", headers={"Authorization": f"Bearer {FORGERIES[kind](keys)}"})
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
