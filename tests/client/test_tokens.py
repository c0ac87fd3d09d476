"""TokenSigner signs exactly like Salesforce's clients: RS256, typ JWT, iat/exp/iss/sub/jti, no aud."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.auth.certificates import KeyPair
from callbridge.client import SCRT_AUDIENCE, TokenSigner


def _public(key_pair: KeyPair) -> str:
    key = serialization.load_pem_private_key(key_pair.private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_lambda_shaped_token(key_pair: KeyPair) -> None:
    """Header alg RS256 + typ JWT; claims iat, exp (5 min), iss, sub, jti in the Lambdas' order; no aud."""
    signer = TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC", clock=lambda: 1_764_000_000.5)
    token = signer.token()
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    claims = jwt.decode(token, _public(key_pair), algorithms=["RS256"], options={"verify_exp": False})
    assert list(claims) == ["iat", "exp", "iss", "sub", "jti"]
    assert (claims["iat"], claims["exp"]) == (1_764_000_000, 1_764_000_300)
    assert (claims["iss"], claims["sub"]) == ("00DXX000000LIVEAAA", "LiveCC")


def test_fresh_jti_per_token_or_none(key_pair: KeyPair) -> None:
    """fresh_jti puts a new uuid1 in every token; fresh_jti=False leaves jti out (the demo connector)."""
    lambdas = TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC")
    jtis = {jwt.decode(lambdas.token(), options={"verify_signature": False})["jti"] for _ in range(3)}
    assert len(jtis) == 3
    connector = TokenSigner(
        key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC", fresh_jti=False, lifetime_seconds=4 * 3600
    )
    claims = jwt.decode(connector.token(), options={"verify_signature": False})
    assert "jti" not in claims
    assert claims["exp"] - claims["iat"] == 4 * 3600


def test_audience_and_overrides(key_pair: KeyPair) -> None:
    """audience adds aud (the Java transcriber); overrides replace or remove single claims."""
    signer = TokenSigner(key_pair.private_key_pem, "00DXX000000LIVEAAA", "LiveCC", audience=SCRT_AUDIENCE)
    assert jwt.decode(signer.token(), options={"verify_signature": False})["aud"] == SCRT_AUDIENCE
    claims = jwt.decode(signer.token(exp="1717895186", jti=None), options={"verify_signature": False})
    assert claims["exp"] == "1717895186"
    assert "jti" not in claims


def test_unusable_keys_are_refused() -> None:
    """A key that is not PEM, or an RSA key under 2048 bits, is a ValueError saying why."""
    with pytest.raises(ValueError, match="PEM"):
        TokenSigner("not a key", "00DXX000000LIVEAAA", "LiveCC")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="1024-bit"):
        TokenSigner(pem, "00DXX000000LIVEAAA", "LiveCC")
