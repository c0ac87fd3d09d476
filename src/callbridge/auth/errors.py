"""Why a token was refused: one ``Unauthorized`` subclass per reason, each with its stable ``code``.

All render as 401 with ``WWW-Authenticate: Bearer error="invalid_token"``::

    Unauthorized
    ├── TokenMissing               TOKEN_MISSING            no ``Authorization: Bearer <token>``
    ├── TokenMalformed             TOKEN_MALFORMED          not three base64url JSON segments
    ├── AlgorithmNotAllowed        ALGORITHM_NOT_ALLOWED    anything but RS256
    ├── ClaimMissing               CLAIM_MISSING            iss, sub, exp (and aud in the legacy profile)
    ├── ClaimInvalid               CLAIM_INVALID            a claim of the wrong type or shape
    ├── UnknownCallCenter          UNKNOWN_CALL_CENTER      no call center ``sub`` in org ``iss``
    ├── SignatureInvalid           SIGNATURE_INVALID        no trusted certificate verifies the signature
    ├── CertificateExpired         CERTIFICATE_EXPIRED      only an expired certificate verifies it
    ├── TokenExpired               TOKEN_EXPIRED
    ├── TokenNotYetValid           TOKEN_NOT_YET_VALID      iat or nbf in the future
    ├── TokenLifetimeTooLong       TOKEN_LIFETIME_TOO_LONG
    ├── AudienceInvalid            AUDIENCE_INVALID
    └── TokenReplayed              TOKEN_REPLAYED           a jti already seen (in another token)
"""

from __future__ import annotations

from callbridge.errors import Unauthorized


class TokenMissing(Unauthorized):
    code = "TOKEN_MISSING"


class TokenMalformed(Unauthorized):
    code = "TOKEN_MALFORMED"


class AlgorithmNotAllowed(Unauthorized):
    code = "ALGORITHM_NOT_ALLOWED"


class ClaimMissing(Unauthorized):
    code = "CLAIM_MISSING"


class ClaimInvalid(Unauthorized):
    code = "CLAIM_INVALID"


class UnknownCallCenter(Unauthorized):
    code = "UNKNOWN_CALL_CENTER"


class SignatureInvalid(Unauthorized):
    code = "SIGNATURE_INVALID"


class CertificateExpired(Unauthorized):
    code = "CERTIFICATE_EXPIRED"


class TokenExpired(Unauthorized):
    code = "TOKEN_EXPIRED"


class TokenNotYetValid(Unauthorized):
    code = "TOKEN_NOT_YET_VALID"


class TokenLifetimeTooLong(Unauthorized):
    code = "TOKEN_LIFETIME_TOO_LONG"


class AudienceInvalid(Unauthorized):
    code = "AUDIENCE_INVALID"


class TokenReplayed(Unauthorized):
    code = "TOKEN_REPLAYED"


ALL_CODES = (
    TokenMissing.code,
    TokenMalformed.code,
    AlgorithmNotAllowed.code,
    ClaimMissing.code,
    ClaimInvalid.code,
    UnknownCallCenter.code,
    SignatureInvalid.code,
    CertificateExpired.code,
    TokenExpired.code,
    TokenNotYetValid.code,
    TokenLifetimeTooLong.code,
    AudienceInvalid.code,
    TokenReplayed.code,
)
