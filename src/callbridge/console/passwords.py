"""Agents' passwords, stored as ``scrypt$N$r$p$salt$hash`` (stdlib scrypt, a random salt per password).

The string describes its own parameters, so they can be raised later without invalidating stored hashes.
Hashing is deliberately slow: call these from a thread in async code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
_MAX_N = 2**20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=256 * 1024 * 1024)


def hash_password(password: str, *, n: int = N) -> str:
    """A new hash with a random salt; ``n`` (the CPU/memory cost, a power of two) is recorded in it."""
    salt = secrets.token_bytes(SALT_BYTES)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, n, R, P))}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; a missing or malformed hash matches nothing (the work is
    done anyway, so a wrong username takes as long as a wrong password)."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        parameters = (int(n), int(r), int(p))
        salt_bytes, expected = base64.urlsafe_b64decode(salt), base64.urlsafe_b64decode(digest)
        if scheme != "scrypt" or not 1 < parameters[0] <= _MAX_N:
            raise ValueError(scheme)
    except ValueError:
        _scrypt(password, b"\0" * SALT_BYTES, N, R, P)
        return False
    return hmac.compare_digest(_scrypt(password, salt_bytes, *parameters), expected)
