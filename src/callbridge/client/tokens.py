"""Signing the bearer tokens of the Telephony Integration API exactly as Salesforce's own clients do.

The Amazon Connect Lambdas call ``jwt.sign({}, key, {issuer: orgId, subject: callCenterApiName, expiresIn,
algorithm: "RS256", jwtid: uuid.v1()})``: header ``{"alg":"RS256","typ":"JWT"}``, claims ``iat, exp, iss, sub,
jti`` in that order, no ``aud``, a new token for every request. This module is the one place Callbridge signs
such tokens (``callbridge token`` and ``callbridge demo`` use it too).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.auth.certificates import MIN_KEY_BITS

ALGORITHM = "RS256"
SCRT_AUDIENCE = "https://scrt.salesforce.com"


def sign_token(
    private_key: rsa.RSAPrivateKey,
    *,
    org_id: str,
    call_center_api_name: str,
    lifetime_seconds: int = 300,
    jti: bool | str = True,
    audience: str | None = None,
    now: float | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """One RS256 token: header ``{"alg":"RS256","typ":"JWT"}``, claims ``iat, exp, iss, sub`` then ``jti``
    (a fresh uuid1 when ``jti`` is True, the given string, or none when False) and ``aud`` when given.
    ``overrides`` replace or add claims (a ``None`` value removes one).

    >>> token = sign_token(key, org_id="00D000000000001AAA", call_center_api_name="DemoCC")  # doctest: +SKIP
    """
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iat": issued,
        "exp": issued + lifetime_seconds,
        "iss": org_id,
        "sub": call_center_api_name,
    }
    if jti is True:
        claims["jti"] = str(uuid.uuid1())
    elif isinstance(jti, str):
        claims["jti"] = jti
    if audience is not None:
        claims["aud"] = audience
    if overrides:
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"typ": "JWT"})


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    """The RSA private key of an unencrypted PEM text; ``ValueError`` saying why when it is not usable."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key; RS256 needs one")
    if key.key_size < MIN_KEY_BITS:
        raise ValueError(f"a {key.key_size}-bit key; keys need at least {MIN_KEY_BITS} bits")
    return key


class TokenSigner:
    """Mints a token for every request, as the Amazon Connect Lambdas do.

    ``fresh_jti=True`` puts a new uuid1 ``jti`` in each token (the Lambdas); ``False`` leaves ``jti`` out (the
    partner demo connectors, which also use ``lifetime_seconds=4 * 3600``). ``audience`` adds an ``aud`` claim
    (Salesforce's Java transcriber sends ``https://scrt.salesforce.com``; the Lambdas send none).

    >>> signer = TokenSigner(Path("var/demo/private.key").read_text(), "00D000000000001AAA", "DemoCC")  # doctest: +SKIP
    >>> signer.token()  # doctest: +SKIP
    'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9...'
    """

    def __init__(
        self,
        private_key_pem: str | bytes,
        org_id: str,
        call_center_api_name: str,
        *,
        audience: str | None = None,
        lifetime_seconds: int = 300,
        fresh_jti: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lifetime_seconds <= 0:
            raise ValueError("lifetime_seconds must be positive")
        self._key = load_private_key(private_key_pem)
        self.org_id = org_id
        self.call_center_api_name = call_center_api_name
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self.fresh_jti = fresh_jti
        self._clock = clock

    @classmethod
    def from_file(cls, path: str | Path, org_id: str, call_center_api_name: str, **options: Any) -> TokenSigner:
        """A signer whose key is read from a PEM file (e.g. the ``<cc>-scrt-jwt-auth-private-key`` secret)."""
        return cls(Path(path).read_bytes(), org_id, call_center_api_name, **options)

    def token(self, **overrides: Any) -> str:
        """A new signed token. ``overrides`` replace or add claims (``None`` removes one): for tests and
        conformance checks that need a token that is wrong in one precise way."""
        return sign_token(
            self._key,
            org_id=self.org_id,
            call_center_api_name=self.call_center_api_name,
            lifetime_seconds=self.lifetime_seconds,
            jti=self.fresh_jti,
            audience=self.audience,
            now=self._clock(),
            overrides=overrides,
        )

    def authorization(self) -> str:
        """The ``Authorization`` header value of a new token."""
        return f"Bearer {self.token()}"
