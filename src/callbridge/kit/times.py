"""Parsing the time formats real clients send."""

from __future__ import annotations

from datetime import UTC, datetime

from callbridge.kit.bounds import storable_datetime


def parse_iso_datetime(value: str) -> datetime:
    """An ISO-8601 date-time (``...Z``, with or without milliseconds or an offset) as an aware UTC value.

    A value without an offset is read as UTC, as Salesforce documents these fields. ValueError when it is not
    one, or falls outside years 1..9999 once in UTC (``0001-01-01T00:00:00+01:00``).
    """
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return storable_datetime(parsed)


def isoformat_z(value: datetime) -> str:
    """UTC ISO-8601 with milliseconds and ``Z``, the form Salesforce code sends."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
