"""Forged tokens never pass: no algorithm but RS256, no edits after signing, no key but the call center's."""

from __future__ import annotations

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from callbridge.auth.certificates import KeyPair, new_key_pair
from tests.auth.conftest import assert_refused, b64json, forge_hs256, lambda_claims, sign, unsigned, whoami
from tests.conftest import TokenFactory


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(client: httpx2.AsyncClient, alg: str) -> None:
    """An unsigned token (alg none, in any spelling) is ALGORITHM_NOT_ALLOWED."""
    assert_refused(await whoami(client, unsigned(lambda_claims(), alg)), "ALGORITHM_NOT_ALLOWED")


async def test_missing_alg_is_refused(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A header without alg is ALGORITHM_NOT_ALLOWED."""
    _, payload, signature = make_token().split(".")
    body = assert_refused(
        await whoami(client, f"{b64json({'typ': 'JWT'})}.{payload}.{signature}"), "ALGORITHM_NOT_ALLOWED"
    )
    assert "no algorithm" in body["message"]


async def test_hs256_keyed_with_the_certificate_is_refused(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """Key confusion: HMAC keyed with the public certificate PEM is ALGORITHM_NOT_ALLOWED."""
    token = forge_hs256(lambda_claims(), key_pair.certificate_pem.encode())
    body = assert_refused(await whoami(client, token), "ALGORITHM_NOT_ALLOWED")
    assert '"HS256"' in body["message"]


async def test_hs256_keyed_with_the_public_key_is_refused(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """Key confusion with the bare SubjectPublicKeyInfo PEM is refused too."""
    certificate = serialization.load_pem_private_key(key_pair.private_key_pem.encode(), None).public_key()
    public_pem = certificate.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert_refused(await whoami(client, forge_hs256(lambda_claims(), public_pem)), "ALGORITHM_NOT_ALLOWED")


async def test_rs512_is_refused(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """Even another RSA algorithm, signed with the right key, is ALGORITHM_NOT_ALLOWED."""
    token = sign(lambda_claims(), key_pair.private_key_pem, algorithm="RS512")
    assert_refused(await whoami(client, token), "ALGORITHM_NOT_ALLOWED")


async def test_ps256_is_refused(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """RSA-PSS is not RS256."""
    token = sign(lambda_claims(), key_pair.private_key_pem, algorithm="PS256")
    assert_refused(await whoami(client, token), "ALGORITHM_NOT_ALLOWED")


async def test_es256_is_refused(client: httpx2.AsyncClient) -> None:
    """An elliptic-curve token is ALGORITHM_NOT_ALLOWED."""
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(lambda_claims(), key, algorithm="ES256")
    assert_refused(await whoami(client, token), "ALGORITHM_NOT_ALLOWED")


async def test_edited_payload_is_signature_invalid(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """Changing the claims after signing (here: a longer exp) breaks the signature."""
    header, _, signature = make_token().split(".")
    edited = b64json(lambda_claims(exp=lambda_claims()["exp"] + 3600))
    assert_refused(await whoami(client, f"{header}.{edited}.{signature}"), "SIGNATURE_INVALID")


async def test_edited_header_is_refused(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """Adding a header field after signing breaks the signature."""
    _, payload, signature = make_token().split(".")
    header = b64json({"alg": "RS256", "typ": "JWT", "kid": "x"})
    assert_refused(await whoami(client, f"{header}.{payload}.{signature}"), "SIGNATURE_INVALID")


async def test_stripped_signature_is_signature_invalid(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """An RS256 token with its signature removed does not verify."""
    header, payload, _ = make_token().split(".")
    assert_refused(await whoami(client, f"{header}.{payload}."), "SIGNATURE_INVALID")


async def test_self_made_key_is_signature_invalid(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A token signed with a key nobody registered does not verify, whatever it claims."""
    stranger = new_key_pair("stranger")
    assert_refused(await whoami(client, make_token(key_pem=stranger.private_key_pem)), "SIGNATURE_INVALID")
