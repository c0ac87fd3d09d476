"""Salesforce-shaped record ids: a 3-character key prefix, 15 case-sensitive characters, and the
3-character case-safe suffix that makes the 18-character form."""

from __future__ import annotations

import hashlib
import secrets
import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ID_CHARS = frozenset(_BASE62)

VOICE_CALL = "0LQ"
VOICE_CALL_RECORDING = "0Lr"
CONVERSATION = "0dw"
CONVERSATION_PARTICIPANT = "0dx"
ORGANIZATION = "00D"
USER = "005"
QUEUE = "00G"
CALL_CENTER = "04v"
FLOW = "300"
CONTACT_REQUEST = "0SR"

# Characters 4-5 name the pod in real ids; Callbridge's records say "Cb" so they are easy to spot.
_POD = "Cb"


def checksum_suffix(id15: str) -> str:
    """The case-safe suffix: one character per 5-character chunk, encoding which letters are upper case."""
    suffix = []
    for chunk_start in range(0, 15, 5):
        bits = 0
        for position, char in enumerate(id15[chunk_start : chunk_start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def is_salesforce_id(value: str, prefix: str | None = None) -> bool:
    """True when ``value`` is a well-formed 15- or 18-character id (with ``prefix`` if given)."""
    if len(value) not in (15, 18) or not set(value) <= _ID_CHARS:
        return False
    if prefix is not None and not value.startswith(prefix):
        return False
    return len(value) == 15 or value[15:].upper() == checksum_suffix(value[:15])


def to_18(value: str) -> str:
    """The 18-character form of a 15- or 18-character id; the two name the same record."""
    if len(value) == 18:
        return value[:15] + value[15:].upper()
    if len(value) == 15:
        return value + checksum_suffix(value)
    raise ValueError(f"{value!r} is not a 15- or 18-character id")


def new_id(prefix: str) -> str:
    """A fresh random 18-character id with the given key prefix."""
    # One read of the OS's random source (80 bits) instead of one per character; 62**10 is about 2**59.5, so
    # the bias of the modulo is below one in a million.
    value = int.from_bytes(secrets.token_bytes(10), "big")
    body = []
    for _ in range(10):
        value, index = divmod(value, 62)
        body.append(_BASE62[index])
    return to_18(f"{prefix}{_POD}{''.join(body)}")


def stable_id(prefix: str, *parts: str) -> str:
    """An 18-character id derived from ``parts``, so the same config always yields the same id."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")
    body = []
    for _ in range(10):
        digest, index = divmod(digest, 62)
        body.append(_BASE62[index])
    return to_18(f"{prefix}{_POD}{''.join(body)}")
