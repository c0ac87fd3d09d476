"""Phone numbers whose ``+`` arrived as a space: a connector that puts ``+14155550177`` in a query string
unencoded has it decoded as ``" 14155550177"``. Only a value of exactly that shape gets its ``+`` back: one
leading space, then the 7 to 15 digits of an E.164 number (no leading zero). Anything else is only trimmed
(spaces around a value are not part of it)."""

from __future__ import annotations

import re
from typing import Any

_SPACE_FOR_PLUS = re.compile(r" ([1-9][0-9]{6,14})\s*")


def restored_plus(raw: Any) -> str | None:
    """``"+<digits>"`` when ``raw`` is a space followed by an E.164 number's digits, else None."""
    if not isinstance(raw, str):
        return None
    match = _SPACE_FOR_PLUS.fullmatch(raw)
    return f"+{match.group(1)}" if match else None


def phone_number(value: Any) -> Any:
    """A pydantic before-validator: the ``+`` restored, else the value trimmed."""
    restored = restored_plus(value)
    if restored is not None:
        return restored
    return value.strip() if isinstance(value, str) else value


def restored_note(field: str, raw: Any) -> str:
    """The timeline's note for a restored number."""
    return f"{field} {raw!r} arrived with a space where its '+' was (a '+' in a query string): read as +{raw.strip()}"
